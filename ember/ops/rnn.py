"""Recurrent layers: one fused node per (layer, direction) of an LSTM, GRU or Elman RNN, with
PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n) and equations.

Forward, over a time-major input x (T, B, I):
    X = x W_ih^T + b          one GEMM for every time step at once, then per step t
    A_t = X_t + h_{t-1} W_hh^T                    one GEMM for all gates of the whole batch
    LSTM:  i, f, o = sigmoid(A), g = tanh(A),  c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
    GRU:   r, z = sigmoid(X + h W_hh^T + b_hh),  n = tanh(X_n + r (h W_hn^T + b_hn)),
           h_t = (1 - z) n + z h_{t-1}
    RNN:   h_t = tanh(A_t) or relu(A_t)
Backward is backpropagation through time on the saved gates: per step, the pre-activation
gradients dA_t of all gates in one array, and dh_{t-1} = dA_t W_hh (+ the direct paths
f dc_t for LSTM, z dh_t for GRU) as one GEMM; then, over all steps at once,
    dx = dA W_ih,  dW_ih = dA^T x,  dW_hh = dA_h^T h_prev,  db = sum of dA
(three GEMMs; LSTM's dW_ih, dW_hh and db are one). reverse=True runs the same recurrence from
t = T-1 down to 0. The sigmoid gates of a step (and LSTM's g) take one exp: no NaN.
LSTM's time loop works on transposed states (H, B) (see the LSTM section).

The backward is array code (NumPy) rather than ember ops, so gradients of gradients
(create_graph=True) through these layers are not supported and say so.
"""
import numpy as np

from ..autograd import Function, is_grad_enabled
from ._util import tensor_cls


# ---- shared pieces --------------------------------------------------------------------------

def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _previous(seq, first, reverse, prev=None):
    """The state each step starts from: seq (T, B, H) shifted one step back in processing
    order, with `first` (h0 or c0) at the first step (into `prev` if given)."""
    prev = np.empty_like(seq) if prev is None else prev
    if reverse:
        prev[:-1] = seq[1:]
        prev[-1] = first
    else:
        prev[1:] = seq[:-1]
        prev[0] = first
    return prev


def _project(x, w_ih, bias):
    """x W_ih^T + bias for all steps in one GEMM: (T, B, I) -> (T, B, G)."""
    steps, batch, size = x.shape
    out = np.matmul(x.reshape(steps * batch, size), w_ih.T)
    if bias is not None:
        out += bias
    return out.reshape(steps, batch, -1)


def _bias_sum(b_ih, b_hh):
    if b_ih is None or b_hh is None:
        return b_ih if b_hh is None else b_hh
    return b_ih + b_hh


def _sigmoid_of_negated(a):
    """a holds -x (or -2x for a tanh gate); a becomes sigmoid(x) = 1 / (1 + e^-x), in place.
    One exp, add and reciprocal for all gates of a step (a tanh gate then takes
    tanh(x) = 2 sigmoid(2x) - 1): about half the time of NumPy's sigmoid-by-tanh, and exact at
    the limits (e^-x = inf for x << 0 gives 0, never NaN; the overflow warning is silenced)."""
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def _derivative(y, square, out):
    """out = 1 - y^2 (tanh's derivative) if square else y (1 - y) (sigmoid's), in place."""
    if square:
        np.multiply(y, y, out=out)
        np.subtract(1, out, out=out)
    else:
        np.subtract(1, y, out=out)
        out *= y
    return out


def _param_grads(needs, x, h_prev, dx_gates, dh_gates, w_ih):
    """dx, dW_ih, dW_hh, db_ih, db_hh from the pre-activation gradients of all steps
    (dx_gates feeds x's projection, dh_gates the recurrent one; the same array for RNN)."""
    steps, batch, size = x.shape
    gx = dx_gates.reshape(steps * batch, -1)
    gh = dh_gates.reshape(steps * batch, -1)
    dx = np.matmul(gx, w_ih).reshape(x.shape) if needs[0] else None
    dw_ih = np.matmul(gx.T, x.reshape(steps * batch, size)) if needs[3] else None
    dw_hh = (np.matmul(gh.T, h_prev.reshape(steps * batch, -1)) if needs[4] else None)
    db_ih = gx.sum(0) if needs[5] or (needs[6] and gh is gx) else None
    db_hh = (db_ih.copy() if gh is gx else gh.sum(0)) if needs[6] else None
    return dx, dw_ih, dw_hh, db_ih, db_hh


class _Recurrent(Function):
    """What the three layer ops share: inputs (x, h0, c0, W_ih, W_hh, b_ih, b_hh), c0 None
    except for LSTM; backward returns the seven gradients as Tensors."""

    @classmethod
    def _grads(cls, ctx, arrays):
        if is_grad_enabled():
            raise RuntimeError(f"{cls.name}: gradients of gradients (create_graph=True) are not "
                               f"supported through ember's fused recurrent layers")
        T = tensor_cls()
        return tuple(None if a is None or not need else T(a)
                     for a, need in zip(arrays, ctx.needs_input_grad))


# ---- LSTM -----------------------------------------------------------------------------------
# The time loop runs on transposed states h^T, c^T (H, B) and a step's pre-activations A^T
# (4H, B), gate k in rows kH..(k+1)H: a contiguous block for every per-gate ufunc, and the
# recurrent GEMMs W_hh h^T, W_hh^T dA^T in the orientation OpenBLAS runs faster than h W_hh^T,
# dA W_hh (hidden 256, batch 32, medians: 1.1x and 1.0x on one thread, 1.6x and 1.4x on two).
# A step's pre-activations are scaled per gate, -A for the sigmoid gates and -2A for g (in the
# weights or per step); then one exp, add and divide make all four gates:
# sigmoid(x) = 1 / (1 + e^-x), tanh(x) = 2 / (1 + e^-2x) - 1 (e^-x = inf gives 0, never NaN).

_LSTM_SCALE = (-1, -1, -2, -1)  # i, f, g, o
_LSTM_NUMERATOR = (1, 1, 2, 1)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """Returns out (T + 1, B, H): h_t at out[t], c at the last step at out[T]; and the saved
    activations, transposed: gates (T, 4H, B) holding i, f, g, o, the cell states C and tanh(C)
    (T, H, B)."""
    steps, batch, size = x.shape
    hidden = w_hh.shape[1]
    dtype = x.dtype
    scale = np.array(_LSTM_SCALE, dtype).reshape(4, 1, 1)
    bias = _bias_sum(b_ih, b_hh)
    if 2 * steps * batch >= hidden + size:
        # enough steps to repay scaled copies of the weights (exact: by -1, -2): the GEMMs then
        # give the scaled pre-activations, X_t^T = W_ih x_t^T + b for all steps in one batched
        # GEMM with b as a last column of W_ih against a row of ones under x_t^T
        width = size + (bias is not None)
        w_x = np.empty((4, hidden, width), dtype)
        np.multiply(w_ih.reshape(4, hidden, size), scale, out=w_x[..., :size])
        x_t = np.empty((steps, width, batch), dtype)
        x_t[:, :size] = x.transpose(0, 2, 1)
        if bias is not None:
            np.multiply(bias.reshape(4, hidden, 1), scale, out=w_x[..., size:])
            x_t[:, size] = 1
        gates = np.matmul(w_x.reshape(4 * hidden, width), x_t)
        w_rec = (w_hh.reshape(4, hidden, hidden) * scale).reshape(4 * hidden, hidden)
        bias = scale = None
    else:  # a step or two of a small batch (sampling): bias and scale per step
        gates = np.matmul(w_ih, x.transpose(0, 2, 1))
        w_rec = w_hh
        bias = None if bias is None else bias.reshape(-1, 1)
    numerator = np.array(_LSTM_NUMERATOR, dtype).reshape(4, 1, 1)
    h_seq = np.empty((steps, hidden, batch), dtype)
    cells, tanh_c = np.empty_like(h_seq), np.empty_like(h_seq)
    rec, ig = np.empty((4 * hidden, batch), dtype), np.empty((hidden, batch), dtype)
    h, c = h0.T, c0.T
    with np.errstate(over="ignore"):
        for t in _order(steps, reverse):
            a = gates[t]
            np.matmul(w_rec, h, out=rec)
            a += rec
            if bias is not None:
                a += bias
            a = a.reshape(4, hidden, batch)
            if scale is not None:
                a *= scale
            np.exp(a, out=a)
            a += 1
            np.divide(numerator, a, out=a)
            i, f, g, o = a
            g -= 1
            c_new, tc, h = cells[t], tanh_c[t], h_seq[t]
            np.multiply(f, c, out=c_new)
            np.multiply(i, g, out=ig)
            c_new += ig
            np.tanh(c_new, out=tc)
            np.multiply(o, tc, out=h)
            c = c_new
    out = np.empty((steps + 1, batch, hidden), dtype)
    out[:steps] = h_seq.transpose(0, 2, 1)
    out[steps] = c.T
    return out, gates, cells, tanh_c


def lstm_backward(grad, x, h0, c0, w_ih, w_hh, out, gates, cells, tanh_c, reverse, needs):
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    dtype = x.dtype
    i, f, g, o = gates.reshape(steps, 4, hidden, batch).transpose(1, 0, 2, 3)
    c_prev = _previous(cells, c0.T, reverse)
    # dA = [dc g i(1-i), dc c_prev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]: the factors of dc
    # and dh, for all steps at once
    factors = np.empty((steps, 4, hidden, batch), dtype)
    for k, (gate, times, square) in enumerate(((i, g, False), (f, c_prev, False),
                                               (g, i, True), (o, tanh_c, False))):
        _derivative(gate, square, out=factors[:, k])
        factors[:, k] *= times
    dc_from_dh = _derivative(tanh_c, True, out=c_prev)  # c_prev's buffer, now free
    dc_from_dh *= o
    grad_h = np.empty_like(cells)
    np.copyto(grad_h, grad[:steps].transpose(0, 2, 1))
    dh, dc = np.empty((hidden, batch), dtype), np.empty((hidden, batch), dtype)
    dh_next = np.zeros((hidden, batch), dtype)
    dc_next = np.array(grad[steps].T, order="C")
    w_back = w_hh.T
    # each step's dA^T (4H, B) goes to column t of d_gates (4H, T, B), one matrix for the weight
    # gradients; its rows of B values move as single items (a void view): several times faster
    # than NumPy's element-wise strided copy
    d = np.empty((4 * hidden, batch), dtype)
    d_gates = np.empty((4 * hidden, steps, batch), dtype)
    row = np.dtype((np.void, batch * d.itemsize))
    d_rows, d_gates_rows = d.view(row)[:, 0], d_gates.view(row)[..., 0]
    d_by_gate = d.reshape(4, hidden, batch)
    for t in _order(steps, not reverse):
        np.add(grad_h[t], dh_next, out=dh)
        np.multiply(dh, dc_from_dh[t], out=dc)
        dc += dc_next
        np.multiply(dc, factors[t, :3], out=d_by_gate[:3])
        np.multiply(dh, factors[t, 3], out=d_by_gate[3])
        np.multiply(dc, f[t], out=dc_next)
        np.matmul(w_back, d, out=dh_next)
        d_gates_rows[:, t] = d_rows
    d_gates = d_gates.reshape(4 * hidden, steps * batch)
    dx = np.matmul(d_gates.T, w_ih).reshape(x.shape) if needs[0] else None
    dw_ih, dw_hh, db_ih, db_hh = _lstm_weight_grads(needs, x, h0, out, d_gates, reverse)
    return (dx, np.array(dh_next.T, order="C"), np.array(dc_next.T, order="C"), dw_ih, dw_hh,
            db_ih, db_hh)


def _lstm_weight_grads(needs, x, h0, out, d_gates, reverse):
    """dW_ih, dW_hh, db_ih, db_hh in one GEMM: dA^T (4H, T B) [x | 1 | h_prev] (T B, I + 1 + H)
    (one GEMM runs the skinny dW_ih = dA^T x faster than alone; the column of ones gives db)."""
    steps, batch, size = x.shape
    if not any(needs[3:]):
        return None, None, None, None
    inputs = np.empty((steps, batch, size + 1 + out.shape[2]), x.dtype)
    inputs[..., :size] = x
    inputs[..., size] = 1
    _previous(out[:steps], h0, reverse, prev=inputs[..., size + 1:])
    grads = np.matmul(d_gates, inputs.reshape(steps * batch, -1))
    dw_ih = np.ascontiguousarray(grads[:, :size]) if needs[3] else None
    dw_hh = np.ascontiguousarray(grads[:, size + 1:]) if needs[4] else None
    db_ih = grads[:, size].copy() if needs[5] or needs[6] else None
    db_hh = db_ih.copy() if needs[6] else None
    return dw_ih, dw_hh, db_ih, db_hh


class LSTMLayer(_Recurrent):
    """One direction of one LSTM layer over the whole sequence (see the module docstring).
    Output (T + 1, B, H): the hidden states, then the last cell state."""
    name = "lstm"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        out, gates, cells, tanh_c = lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, out, gates, cells, tanh_c)
        return out

    @staticmethod
    def backward(ctx, g):
        arrays = [t._data for t in ctx.saved_tensors]
        return LSTMLayer._grads(ctx, lstm_backward(g._data, *arrays, ctx.reverse,
                                                   ctx.needs_input_grad))


# ---- GRU ------------------------------------------------------------------------------------

def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """Returns out (T, B, H) and the saved activations: gates (T, B, 3H) holding r, z, n and
    hn = h W_hn^T + b_hn (T, B, H)."""
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    # b_hn stays inside r (W_hn h + b_hn): only b_hr and b_hz join the projection
    b_rz = None if b_hh is None else np.concatenate([b_hh[:2 * hidden],
                                                     np.zeros_like(b_hh[:hidden])])
    bias = _bias_sum(b_ih, b_rz)
    gates = _project(x, w_ih, bias)
    w_hh_t = w_hh.T
    out = np.empty((steps, batch, hidden), dtype=x.dtype)
    hn_all = np.empty_like(out)
    rec, tmp = np.empty((batch, 3 * hidden), x.dtype), np.empty((batch, hidden), x.dtype)
    h = h0
    with np.errstate(over="ignore"):
        for t in _order(steps, reverse):
            a = gates[t]
            rz, n = a[:, :2 * hidden], a[:, 2 * hidden:]
            np.matmul(h, w_hh_t, out=rec)
            rz += rec[:, :2 * hidden]
            np.negative(rz, out=rz)
            _sigmoid_of_negated(rz)
            r, z = rz[:, :hidden], rz[:, hidden:]
            hn = hn_all[t]
            if b_hh is not None:
                np.add(rec[:, 2 * hidden:], b_hh[2 * hidden:], out=hn)
            else:
                hn[...] = rec[:, 2 * hidden:]
            np.multiply(r, hn, out=tmp)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(h, n, out=tmp)
            tmp *= z
            np.add(n, tmp, out=out[t])
            h = out[t]
    return out, gates, hn_all


def gru_backward(grad, x, h0, w_ih, w_hh, out, gates, hn_all, reverse, needs):
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    r, z, n = (gates[..., k * hidden:(k + 1) * hidden] for k in range(3))
    h_prev = _previous(out, h0, reverse)
    # factors of dh giving dA_n and dA_z, and of dA_n giving dA_r, for all steps at once
    dn_from_dh = _derivative(n, True, out=np.empty_like(out))
    dn_from_dh *= 1 - z
    dz_from_dh = _derivative(z, False, out=np.empty_like(out))
    dz_from_dh *= h_prev - n
    dr_from_dn = _derivative(r, False, out=np.empty_like(out))
    dr_from_dn *= hn_all
    dx_gates = np.empty((steps, batch, 3 * hidden), dtype=x.dtype)
    dh_gates = np.empty_like(dx_gates)
    dh = np.empty((batch, hidden), x.dtype)
    dh_next = np.zeros((batch, hidden), dtype=x.dtype)
    for t in _order(steps, not reverse):
        np.add(grad[t], dh_next, out=dh)
        gx, gh = dx_gates[t], dh_gates[t]
        dn = gx[:, 2 * hidden:]
        np.multiply(dh, dn_from_dh[t], out=dn)
        np.multiply(dh, dz_from_dh[t], out=gx[:, hidden:2 * hidden])
        np.multiply(dn, dr_from_dn[t], out=gx[:, :hidden])
        gh[:, :2 * hidden] = gx[:, :2 * hidden]
        np.multiply(dn, r[t], out=gh[:, 2 * hidden:])
        np.matmul(gh, w_hh, out=dh_next)
        np.multiply(dh, z[t], out=dh)
        dh_next += dh
    dx, dw_ih, dw_hh, db_ih, db_hh = _param_grads(needs, x, h_prev, dx_gates, dh_gates, w_ih)
    return dx, dh_next, None, dw_ih, dw_hh, db_ih, db_hh


class GRULayer(_Recurrent):
    """One direction of one GRU layer over the whole sequence (see the module docstring).
    Output (T, B, H): the hidden states."""
    name = "gru"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        out, gates, hn_all = gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, w_ih, w_hh, out, gates, hn_all)
        return out

    @staticmethod
    def backward(ctx, g):
        arrays = [t._data for t in ctx.saved_tensors]
        return GRULayer._grads(ctx, gru_backward(g._data, *arrays, ctx.reverse,
                                                 ctx.needs_input_grad))


# ---- Elman RNN ------------------------------------------------------------------------------

def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, relu):
    """Returns out (T, B, H), the hidden states h_t = act(x_t W_ih^T + h_{t-1} W_hh^T + b)."""
    out = _project(x, w_ih, _bias_sum(b_ih, b_hh))
    rec = np.empty(out.shape[1:], dtype=x.dtype)
    w_hh_t = w_hh.T
    h = h0
    for t in _order(x.shape[0], reverse):
        np.matmul(h, w_hh_t, out=rec)
        out[t] += rec
        if relu:
            np.maximum(out[t], 0, out=out[t])
        else:
            np.tanh(out[t], out=out[t])
        h = out[t]
    return out


def rnn_backward(grad, x, h0, w_ih, w_hh, out, reverse, relu, needs):
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    d_act = (out > 0).astype(x.dtype) if relu else 1 - out * out
    d_gates = np.empty_like(out)
    dh_next = np.zeros((batch, hidden), dtype=x.dtype)
    for t in _order(steps, not reverse):
        np.add(grad[t], dh_next, out=d_gates[t])
        d_gates[t] *= d_act[t]
        np.matmul(d_gates[t], w_hh, out=dh_next)
    h_prev = _previous(out, h0, reverse)
    dx, dw_ih, dw_hh, db_ih, db_hh = _param_grads(needs, x, h_prev, d_gates, d_gates, w_ih)
    return dx, dh_next, None, dw_ih, dw_hh, db_ih, db_hh


class RNNLayer(_Recurrent):
    """One direction of one Elman RNN layer (tanh or relu) over the whole sequence.
    Output (T, B, H): the hidden states."""
    name = "rnn"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, relu):
        out = rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, relu)
        ctx.reverse, ctx.relu = reverse, relu
        ctx.save_for_backward(x, h0, w_ih, w_hh, out)
        return out

    @staticmethod
    def backward(ctx, g):
        arrays = [t._data for t in ctx.saved_tensors]
        return RNNLayer._grads(ctx, rnn_backward(g._data, *arrays, ctx.reverse, ctx.relu,
                                                 ctx.needs_input_grad))


# ---- the public function --------------------------------------------------------------------

_LAYERS = {"LSTM": (LSTMLayer, 4), "GRU": (GRULayer, 3), "RNN_TANH": (RNNLayer, 1),
           "RNN_RELU": (RNNLayer, 1)}


def recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """One direction of one layer over a time-major sequence x (T, B, I) from states h0 (and c0
    for LSTM) of shape (B, H); mode is 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'. Returns
    (output (T, B, H), h_n) or, for LSTM, (output, h_n, c_n). The caller checks shapes."""
    fn, _ = _LAYERS[mode]
    x = x.contiguous()
    kwargs = {"reverse": bool(reverse)}
    if fn is RNNLayer:
        kwargs["relu"] = mode == "RNN_RELU"
    out = fn.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, **kwargs)
    steps = x.shape[0]
    last = 0 if reverse else steps - 1
    if mode == "LSTM":
        return out[:steps], out[last], out[steps]
    return out, out[last]


def gate_count(mode):
    """Gates per hidden unit: 4 (LSTM), 3 (GRU), 1 (RNN)."""
    return _LAYERS[mode][1]
