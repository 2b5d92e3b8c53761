"""RNN, LSTM, GRU and their cells against PyTorch on the same weights (loaded via state_dict):
outputs, final states and every gradient (input, initial states, parameters) for each option;
float64 gradcheck of the fused layer ops; saturated gates; dropout; clear errors."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck
from ember.ops.rnn import recurrent_layer

torch = pytest.importorskip("torch")

I, H, T, B = 4, 5, 6, 3

pytestmark = pytest.mark.usefixtures("torch_one_thread")

# (class, constructor kwargs, input shape, whether hx is given)
CONFIGS = [
    ("LSTM", {}, (T, B, I), True),
    ("LSTM", {}, (T, B, I), False),
    ("LSTM", dict(num_layers=2, bidirectional=True), (T, B, I), True),
    ("LSTM", dict(batch_first=True, num_layers=2), (B, T, I), True),
    ("LSTM", dict(bias=False, bidirectional=True), (T, I), True),  # unbatched
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True), (T, I), False),
    ("LSTM", dict(num_layers=2, dropout=0.0), (1, 1, I), True),
    ("GRU", {}, (T, B, I), True),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True), (B, T, I), True),
    ("GRU", dict(bias=False), (T, I), False),
    ("GRU", dict(num_layers=2), (T, B, I), False),
    ("RNN", {}, (T, B, I), True),
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True), (T, B, I), True),
    ("RNN", dict(bias=False, batch_first=True, nonlinearity="relu"), (B, T, I), False),
    ("RNN", dict(num_layers=2), (T, I), True),
]


def _to_torch(e_mod, t_cls, *args, **kwargs):
    t_mod = t_cls(*args, **kwargs).double()
    t_mod.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e_mod.state_dict().items()})
    return t_mod


def _pair(name, kwargs, dtype=ember.float64):
    ember.manual_seed(0)
    e_mod = getattr(nn, name)(I, H, **kwargs, dtype=dtype)
    t_mod = _to_torch(e_mod, getattr(torch.nn, name), I, H, **kwargs)
    if dtype == ember.float32:
        t_mod = t_mod.float()
    return e_mod, t_mod


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n, (c_n)]"""
    y, s = out
    return [y] + (list(s) if isinstance(s, tuple) else [s])


def _compare(e_out, t_out, e_leaves, t_leaves, rtol=1e-10, atol=1e-12):
    """Outputs, then gradients of a random weighted sum of all outputs w.r.t. every leaf."""
    e_out, t_out = _flat(e_out), _flat(t_out)
    assert [tuple(o.shape) for o in e_out] == [tuple(o.shape) for o in t_out]
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"output {k}")
    r = np.random.default_rng(1)
    weights = [r.standard_normal(tuple(t.shape)) for t in t_out]
    sum(((e * ember.tensor(w.astype(e.dtype))).sum() for e, w in zip(e_out, weights))).backward()
    sum(((t * torch.tensor(w, dtype=t.dtype)).sum() for t, w in zip(t_out, weights))).backward()
    for name, e in e_leaves.items():
        np.testing.assert_allclose(e.grad.numpy(), t_leaves[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)


def _leaves(arrays):
    e = {k: ember.tensor(a, requires_grad=True) for k, a in arrays.items()}
    t = {k: torch.tensor(a, requires_grad=True) for k, a in arrays.items()}
    return e, t


@pytest.mark.parametrize("name,kwargs,shape,with_hx", CONFIGS,
                         ids=[f"{n}-{k}-{len(s)}d-hx{h}" for n, k, s, h in CONFIGS])
def test_layer_matches_torch(name, kwargs, shape, with_hx):
    e_mod, t_mod = _pair(name, kwargs)
    assert repr(e_mod) == repr(t_mod)
    assert [(k, tuple(v.shape)) for k, v in e_mod.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t_mod.state_dict().items()]
    r = np.random.default_rng(0)
    arrays = {"x": r.standard_normal(shape)}
    states = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
    state_shape = (states, H) if len(shape) == 2 else (states, shape[0 if kwargs.get(
        "batch_first") else 1], H)
    if with_hx:
        arrays["h0"] = r.standard_normal(state_shape)
        if name == "LSTM":
            arrays["c0"] = r.standard_normal(state_shape)
    e_in, t_in = _leaves(arrays)
    if not with_hx:
        e_hx = t_hx = None
    elif name == "LSTM":
        e_hx, t_hx = (e_in["h0"], e_in["c0"]), (t_in["h0"], t_in["c0"])
    else:
        e_hx, t_hx = e_in["h0"], t_in["h0"]
    e_out, t_out = e_mod(e_in["x"], e_hx), t_mod(t_in["x"], t_hx)
    e_in.update(e_mod.named_parameters())
    t_in.update(t_mod.named_parameters())
    _compare(e_out, t_out, e_in, t_in)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_float32_matches_torch(name):
    """The float32 path (exp-based sigmoid/tanh) against PyTorch's float32 kernels."""
    e_mod, t_mod = _pair(name, dict(num_layers=2, bidirectional=True), ember.float32)
    x = np.random.default_rng(0).standard_normal((12, 4, I)).astype(np.float32)
    e_in, t_in = _leaves({"x": x})
    e_out, t_out = e_mod(e_in["x"]), t_mod(t_in["x"])
    assert e_out[0].dtype == np.float32
    e_in.update(e_mod.named_parameters())
    t_in.update(t_mod.named_parameters())
    _compare(e_out, t_out, e_in, t_in, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_saturated_gates_match_torch(name, dtype):
    """Pre-activations of +-1000: exact limits, no overflow warning, no NaN."""
    e_mod, t_mod = _pair(name, {}, ember.float64)
    x = np.random.default_rng(0).standard_normal((T, B, I)) * 1000
    e_mod.to(dtype)
    t_mod.to(torch.float32 if dtype == np.float32 else torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e_in, t_in = _leaves({"x": x.astype(dtype)})
        e_out, t_out = e_mod(e_in["x"]), t_mod(t_in["x"])
        e_in.update(e_mod.named_parameters())
        t_in.update(t_mod.named_parameters())
        _compare(e_out, t_out, e_in, t_in, rtol=1e-4, atol=1e-5)
    assert all(np.isfinite(p.grad.numpy()).all() for p in e_mod.parameters())


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_op_gradcheck(mode, reverse, bias):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * 3
    r = np.random.default_rng(2)

    def t(*shape):
        return ember.tensor(r.standard_normal(shape) * 0.8, requires_grad=True)

    x, h0, w_ih, w_hh = t(4, 2, 3), t(2, 3), t(gates, 3), t(gates, 3)
    c0 = t(2, 3) if mode == "LSTM" else None
    b_ih, b_hh = (t(gates), t(gates)) if bias else (None, None)
    inputs = [a for a in (x, h0, c0, w_ih, w_hh, b_ih, b_hh) if a is not None]

    def fn(*args):
        it = iter(args)
        xx, hh = next(it), next(it)
        cc = next(it) if mode == "LSTM" else None
        wi, wh = next(it), next(it)
        bi, bh = (next(it), next(it)) if bias else (None, None)
        return recurrent_layer(mode, xx, hh, cc, wi, wh, bi, bh, reverse=reverse)

    assert gradcheck(fn, inputs)


def test_module_gradcheck_two_layers_bidirectional():
    ember.manual_seed(3)
    m = nn.LSTM(2, 2, num_layers=2, bidirectional=True, batch_first=True, dtype=ember.float64)
    r = np.random.default_rng(3)
    x = ember.tensor(r.standard_normal((2, 3, 2)), requires_grad=True)
    h0 = ember.tensor(r.standard_normal((4, 2, 2)), requires_grad=True)
    c0 = ember.tensor(r.standard_normal((4, 2, 2)), requires_grad=True)

    def fn(x, h0, c0, *params):
        y, (h, c) = m(x, (h0, c0))
        return y, h, c

    assert gradcheck(fn, [x, h0, c0, *m.parameters()])


CELLS = [("LSTMCell", {}), ("LSTMCell", dict(bias=False)), ("GRUCell", {}),
         ("GRUCell", dict(bias=False)), ("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu"))]


@pytest.mark.parametrize("name,kwargs", CELLS, ids=[f"{n}-{k}" for n, k in CELLS])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_cell_matches_torch(name, kwargs, batched, with_hx):
    ember.manual_seed(0)
    e_mod = getattr(nn, name)(I, H, **kwargs, dtype=ember.float64)
    t_mod = _to_torch(e_mod, getattr(torch.nn, name), I, H, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    r = np.random.default_rng(0)
    lead = (B,) if batched else ()
    arrays = {"x": r.standard_normal(lead + (I,))}
    if with_hx:
        arrays["h"] = r.standard_normal(lead + (H,))
        if name == "LSTMCell":
            arrays["c"] = r.standard_normal(lead + (H,))
    e_in, t_in = _leaves(arrays)
    if not with_hx:
        e_hx = t_hx = None
    elif name == "LSTMCell":
        e_hx, t_hx = (e_in["h"], e_in["c"]), (t_in["h"], t_in["c"])
    else:
        e_hx, t_hx = e_in["h"], t_in["h"]
    e_out, t_out = e_mod(e_in["x"], e_hx), t_mod(t_in["x"], t_hx)
    if name != "LSTMCell":
        e_out, t_out = (e_out,), (t_out,)
    e_in.update(e_mod.named_parameters())
    t_in.update(t_mod.named_parameters())
    _compare((e_out[0], tuple(e_out[1:])), (t_out[0], tuple(t_out[1:])), e_in, t_in)


def test_dropout_between_layers():
    """p=1 zeroes the second layer's input in training (as in torch), eval skips dropout, and
    masks follow ember.manual_seed."""
    e_mod, t_mod = _pair("LSTM", dict(num_layers=2, dropout=1.0))
    x = np.random.default_rng(0).standard_normal((T, B, I))
    e_in, t_in = _leaves({"x": x})
    _compare(e_mod(e_in["x"]), t_mod(t_in["x"]), e_in, t_in)
    e_mod.eval()
    t_mod.eval()
    np.testing.assert_allclose(e_mod(ember.tensor(x))[0].detach().numpy(),
                               t_mod(torch.tensor(x))[0].detach().numpy(), rtol=1e-10)
    ember.manual_seed(0)
    m = nn.GRU(I, H, num_layers=3, dropout=0.5)
    xe = ember.tensor(x.astype(np.float32))
    outs = []
    for seed in (5, 5, 6):
        ember.manual_seed(seed)
        outs.append(m(xe)[0].detach().numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.allclose(outs[0], outs[2])
    m.eval()
    np.testing.assert_array_equal(m(xe)[0].detach().numpy(), m(xe)[0].detach().numpy())


def test_state_dict_round_trip_with_torch():
    t_mod = torch.nn.GRU(I, H, num_layers=2, bidirectional=True)
    e_mod = nn.GRU(I, H, num_layers=2, bidirectional=True)
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                           for k, v in t_mod.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)
    np.testing.assert_allclose(e_mod(ember.tensor(x))[0].detach().numpy(),
                               t_mod(torch.tensor(x))[0].detach().numpy(), rtol=1e-4,
                               atol=1e-6)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"])
def test_default_init_is_uniform_in_inverse_sqrt_hidden(name):
    ember.manual_seed(0)
    m = getattr(nn, name)(3, 16)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    bound = 1 / math.sqrt(16)
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert abs(values.mean()) < 0.1 * bound


def test_double_backward_says_unsupported():
    m = nn.LSTM(2, 3, dtype=ember.float64)
    x = ember.tensor(np.ones((2, 1, 2)), requires_grad=True)
    (gx,) = ember.autograd.grad(m(x)[0].sum(), [x])
    assert gx.shape == x.shape
    with pytest.raises(RuntimeError, match="lstm: gradients of gradients"):
        ember.autograd.grad(m(x)[0].sum(), [x], create_graph=True)


def test_weight_modified_in_place_after_forward_is_an_error():
    m = nn.GRU(2, 3)
    y, _ = m(ember.tensor(np.ones((2, 1, 2), np.float32)))
    with ember.no_grad():
        m.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="gru: .*modified by an in-place operation"):
        y.sum().backward()


def test_flatten_parameters_and_no_grad_inference():
    m = nn.LSTM(I, H, num_layers=2)
    m.flatten_parameters()
    with ember.no_grad():
        y, (h, c) = m(ember.tensor(np.ones((T, B, I), np.float32)))
    assert y.shape == (T, B, H) and h.shape == c.shape == (2, B, H)
    assert not y.requires_grad


ERRORS = [
    (lambda: nn.LSTM(I, H)(ember.tensor(np.ones((T, B, I + 1), np.float32))), RuntimeError,
     r"LSTM: input.size\(-1\) must be equal to input_size. Expected 4, got 5"),
    (lambda: nn.GRU(I, H)(ember.tensor(np.ones((1, T, B, I), np.float32))), ValueError,
     "GRU: expected a 2-D .unbatched. or 3-D .batched. input, got 4-D"),
    (lambda: nn.RNN(I, H)(ember.tensor(np.ones(I, np.float32))), ValueError,
     "RNN: expected a 2-D"),
    (lambda: nn.LSTM(I, H)(ember.tensor(np.ones((0, B, I), np.float32))), RuntimeError,
     "LSTM: expected a sequence length larger than 0"),
    (lambda: nn.GRU(I, H, num_layers=2)(ember.tensor(np.ones((T, B, I), np.float32)),
                                        ember.tensor(np.zeros((1, B, H), np.float32))),
     RuntimeError, r"GRU: expected hidden size \(2, 3, 5\) for h_0 .* got \(1, 3, 5\)"),
    (lambda: nn.LSTM(I, H)(ember.tensor(np.ones((T, B, I), np.float32)),
                           ember.tensor(np.zeros((1, B, H), np.float32))),
     TypeError, r"LSTM: hx must be a tuple \(h_0, c_0\)"),
    (lambda: nn.LSTM(I, H)(ember.tensor(np.ones((T, B, I), np.float32)),
                           (ember.tensor(np.zeros((1, B, H), np.float32)),
                            ember.tensor(np.zeros((1, B + 1, H), np.float32)))),
     RuntimeError, r"LSTM: expected hidden size \(1, 3, 5\) for c_0"),
    (lambda: nn.RNN(I, H)(ember.tensor(np.ones((T, I), np.float32)),
                          ember.tensor(np.zeros((1, 1, H), np.float32))),
     RuntimeError, "RNN: for unbatched 2-D input, h_0 should also be 2-D but got 3-D"),
    (lambda: nn.GRU(I, H)(ember.tensor(np.ones((T, B, I)))), TypeError,
     "GRU: input is float64 but the layer's weights are float32"),
    (lambda: nn.LSTM(I, H, proj_size=2), NotImplementedError, "LSTM: proj_size=2"),
    (lambda: nn.RNN(I, H, nonlinearity="sigmoid"), ValueError, "RNN: unknown nonlinearity"),
    (lambda: nn.GRU(I, H, dropout=1.5), ValueError, "GRU: dropout should be a number in range"),
    (lambda: nn.LSTM(I, 0), ValueError, "LSTM: hidden_size must be a positive integer"),
    (lambda: nn.LSTMCell(I, H)(ember.tensor(np.ones((2, B, I), np.float32))), ValueError,
     "LSTMCell: expected input to be 1-D or 2-D, got 3-D"),
    (lambda: nn.GRUCell(I, H)(ember.tensor(np.ones((B, I + 2), np.float32))), RuntimeError,
     "GRUCell: input has inconsistent input_size: got 6, expected 4"),
    (lambda: nn.RNNCell(I, H)(ember.tensor(np.ones((B, I), np.float32)),
                              ember.tensor(np.zeros((B + 1, H), np.float32))),
     RuntimeError, r"RNNCell: hidden state of shape \(4, 5\) does not match the expected "
                   r"\(3, 5\)"),
    (lambda: nn.LSTMCell(I, H)(ember.tensor(np.ones((B, I), np.float32)),
                               ember.tensor(np.zeros((B, H), np.float32))),
     TypeError, r"LSTMCell: hx must be a tuple \(h, c\)"),
]


@pytest.mark.parametrize("make,exc,match", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(I, H, dropout=0.3)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_backward_twice_with_retain_graph_doubles_the_gradients(name):
    """backward must not change what forward saved."""
    m = getattr(nn, name)(3, 4, dtype=ember.float64)
    x = ember.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)), requires_grad=True)
    y = m(x)[0]
    loss = (y * y).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy(), m.weight_hh_l0.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(m.weight_hh_l0.grad.numpy(), 2 * first[1], rtol=1e-12)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_learns_to_continue_a_periodic_sequence(name):
    """Embedding -> recurrent layer -> Linear with Adam: next-symbol loss on a period-5 sequence
    (which needs memory of more than the current symbol) falls near zero."""
    ember.manual_seed(0)
    seq = np.array([0, 1, 2, 1, 3] * 8)
    x, y = ember.tensor(seq[None, :-1]), ember.tensor(seq[1:])
    embed, rnn, head = nn.Embedding(4, 8), getattr(nn, name)(8, 16, batch_first=True), \
        nn.Linear(16, 4)
    params = [*embed.parameters(), *rnn.parameters(), *head.parameters()]
    opt = ember.optim.Adam(params, lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(head(rnn(embed(x))[0])[0], y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
