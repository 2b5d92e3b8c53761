"""The fused LSTM kernels (ember.ops.rnn.lstm_forward / lstm_backward) against a plain
step-by-step NumPy LSTM in float64: outputs and all seven gradients, both directions, with and
without bias, batch or hidden size 1 (the transposed layout's edge cases), both ways of scaling
the gates (in the weights for long sequences, per step for a step or two), saturated gates, and
inputs left unchanged."""
import warnings

import numpy as np
import pytest

from ember.ops.rnn import lstm_backward, lstm_forward

NEEDS = (True,) * 7


def _sigmoid(a):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def _reference(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, grad):
    """h_t, c_T and the gradients of sum(grad[:T] * h) + sum(grad[T] * c_T), one step at a time."""
    steps, hidden = x.shape[0], h0.shape[1]
    order = list(range(steps))[::-1] if reverse else list(range(steps))
    b = 0 if b_ih is None else b_ih + b_hh
    h, c, saved, hs = h0, c0, {}, np.empty((steps,) + h0.shape)
    for t in order:
        a = x[t] @ w_ih.T + h @ w_hh.T + b
        i, f, o = (_sigmoid(a[:, k * hidden:(k + 1) * hidden]) for k in (0, 1, 3))
        g = np.tanh(a[:, 2 * hidden:3 * hidden])
        saved[t] = (h, c, i, f, g, o)
        c = f * c + i * g
        h = hs[t] = o * np.tanh(c)
    dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
    db = np.zeros(4 * hidden)
    dh, dc = np.zeros_like(h0), grad[steps].copy()
    for t in reversed(order):
        h_prev, c_prev, i, f, g, o = saved[t]
        c_t = f * c_prev + i * g
        dh = dh + grad[t]
        dc = dc + dh * o * (1 - np.tanh(c_t) ** 2)
        da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                             dc * i * (1 - g * g), dh * np.tanh(c_t) * o * (1 - o)], axis=1)
        dx[t] = da @ w_ih
        dw_ih += da.T @ x[t]
        dw_hh += da.T @ h_prev
        db += da.sum(0)
        dh, dc = da @ w_hh, dc * f
    out = np.concatenate([hs, c[None]])
    return out, (dx, dh, dc, dw_ih, dw_hh, db, db)


def _case(steps, batch, size, hidden, bias, dtype=np.float64, seed=0, spread=1.0):
    r = np.random.default_rng(seed)
    k = spread / np.sqrt(hidden)
    w = [r.uniform(-k, k, s).astype(dtype) for s in
         ((4 * hidden, size), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,))]
    x = r.standard_normal((steps, batch, size)).astype(dtype)
    h0, c0 = (r.standard_normal((batch, hidden)).astype(dtype) for _ in range(2))
    grad = r.standard_normal((steps + 1, batch, hidden)).astype(dtype)
    b_ih, b_hh = (w[2], w[3]) if bias else (None, None)
    return x, h0, c0, w[0], w[1], b_ih, b_hh, grad


def _run(args, reverse):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, grad = args
    out, *saved = lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    grads = lstm_backward(grad, x, h0, c0, w_ih, w_hh, out, *saved, reverse, NEEDS)
    return out, grads


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("steps,batch,size,hidden,bias", [
    (5, 3, 4, 6, True), (5, 3, 4, 6, False), (4, 1, 3, 1, True), (3, 2, 1, 1, False),
    # few steps of a small batch: bias and gate scale per step instead of in the weights
    (1, 1, 2, 3, True), (2, 2, 4, 9, True), (1, 2, 3, 8, False)])
def test_matches_stepwise_reference_float64(steps, batch, size, hidden, bias, reverse):
    args = _case(steps, batch, size, hidden, bias)
    out, grads = _run(args, reverse)
    ref_out, ref_grads = _reference(*args[:-1], reverse, args[-1])
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    names = ("dx", "dh0", "dc0", "dW_ih", "dW_hh", "db_ih", "db_hh")
    for name, got, want in zip(names, grads, ref_grads):
        if not bias and name.startswith("db"):
            continue
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("reverse", [False, True])
def test_float32_at_the_benchmark_shape(reverse):
    """hidden 256, batch 32 (the char-model bench): float32 within float32 rounding of float64."""
    args = _case(12, 32, 64, 256, True, dtype=np.float32)
    out, grads = _run(args, reverse)
    ref_out, ref_grads = _run([None if a is None else a.astype(np.float64) for a in args],
                              reverse)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    np.testing.assert_allclose(out, ref_out, rtol=1e-4, atol=1e-5)
    for got, want in zip(grads, ref_grads):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_gates_give_no_nan(dtype):
    """Pre-activations of +-1e4: exp overflows to inf inside the gates, the result is exact."""
    args = _case(4, 3, 2, 5, True, dtype=dtype, spread=1e4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning may escape either
        out, grads = _run(args, False)
    assert np.isfinite(out).all() and all(np.isfinite(g).all() for g in grads)
    ref_out, _ = _reference(*[None if a is None else a.astype(np.float64)
                              for a in args[:-1]], False, args[-1])
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-6)


def test_inputs_are_left_unchanged():
    """The saved activations and the incoming gradient are read, never written (backward may
    run twice with retain_graph); batch 1 makes several transposes contiguous views."""
    args = _case(3, 1, 2, 4, True)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, grad = args
    out, *saved = lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, False)
    before = [a.copy() for a in (*args, out, *saved)]
    first = lstm_backward(grad, x, h0, c0, w_ih, w_hh, out, *saved, False, NEEDS)
    second = lstm_backward(grad, x, h0, c0, w_ih, w_hh, out, *saved, False, NEEDS)
    for a, b in zip((*args, out, *saved), before):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_only_the_needed_gradients():
    args = _case(3, 2, 2, 3, True)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, grad = args
    out, *saved = lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, False)
    needs = (False, True, True, False, False, False, False)
    grads = lstm_backward(grad, x, h0, c0, w_ih, w_hh, out, *saved, False, needs)
    assert [g is None for g in grads] == [True, False, False, True, True, True, True]
    full = lstm_backward(grad, x, h0, c0, w_ih, w_hh, out, *saved, False, NEEDS)
    np.testing.assert_array_equal(grads[1], full[1])
