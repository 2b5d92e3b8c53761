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
(three GEMMs). reverse=True runs the same recurrence from t = T-1 down to 0.
The sigmoid gates of a step (and LSTM's g) take one exp (see _sigmoid_of_negated): no NaN.

The backward is array code (NumPy) rather than ember ops, so gradients of gradients
(create_graph=True) through these layers are not supported and say so.
"""
import numpy as np

from ..autograd import Function, is_grad_enabled
from ._util import tensor_cls


# ---- shared pieces --------------------------------------------------------------------------

def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _previous(seq, first, reverse):
    """The state each step starts from: seq (T, B, H) shifted one step back in processing
    order, with `first` (h0 or c0) at the first step."""
    prev = np.empty_like(seq)
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
    (dx_gates feeds x's projection, dh_gates the recurrent one; the same array for LSTM/RNN)."""
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

def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """Returns out (T + 1, B, H): h_t at out[t], c at the last step at out[T]; and the saved
    activations: gates (4, T, B, H) holding i, f, g, o, the cell states C and tanh(C)."""
    steps, batch, size = x.shape
    hidden = w_hh.shape[1]
    neg = np.array([-1, -1, -2, -1], dtype=x.dtype).reshape(4, 1, 1)  # see _sigmoid_of_negated
    projected = np.matmul(x.reshape(steps * batch, size), w_ih.T)
    # gate-major copy: gates[k, t] is gate k at step t, one contiguous (B, H) block (NumPy is
    # several times faster on those than on column slices of a (B, 4H) array)
    gates = np.empty((4, steps * batch, hidden), dtype=x.dtype)
    by_gate = projected.reshape(steps * batch, 4, hidden).transpose(1, 0, 2)
    bias = _bias_sum(b_ih, b_hh)
    if bias is None:
        np.copyto(gates, by_gate)
    else:
        np.add(by_gate, bias.reshape(4, 1, hidden), out=gates)
    gates = gates.reshape(4, steps, batch, hidden)
    w_hh_t = w_hh.T
    out = np.empty((steps + 1, batch, hidden), dtype=x.dtype)
    cells = np.empty((steps, batch, hidden), dtype=x.dtype)
    tanh_c = np.empty_like(cells)
    rec, ig = np.empty((batch, 4 * hidden), x.dtype), np.empty((batch, hidden), x.dtype)
    rec_by_gate = rec.reshape(batch, 4, hidden).transpose(1, 0, 2)
    h, c = h0, c0
    with np.errstate(over="ignore"):
        for t in _order(steps, reverse):
            a = gates[:, t]
            np.matmul(h, w_hh_t, out=rec)
            a += rec_by_gate
            a *= neg
            _sigmoid_of_negated(a)
            i, f, g, o = a
            g *= 2
            g -= 1
            np.multiply(f, c, out=cells[t])
            np.multiply(i, g, out=ig)
            cells[t] += ig
            np.tanh(cells[t], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=out[t])
            h, c = out[t], cells[t]
    out[steps] = c
    return out, gates, cells, tanh_c


def lstm_backward(grad, x, h0, c0, w_ih, w_hh, out, gates, cells, tanh_c, reverse, needs):
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    i, f, g, o = gates
    c_prev = _previous(cells, c0, reverse)
    # dA = [dc g i(1-i), dc c_prev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]: the factors of dc
    # and dh, for all steps at once
    factors = np.empty((4, steps, batch, hidden), dtype=x.dtype)
    for k, (gate, times, square) in enumerate(((i, g, False), (f, c_prev, False),
                                               (g, i, True), (o, tanh_c, False))):
        _derivative(gate, square, out=factors[k])
        factors[k] *= times
    dc_from_dh = _derivative(tanh_c, True, out=np.empty_like(cells))
    dc_from_dh *= o
    d_gates = np.empty((steps, batch, 4 * hidden), dtype=x.dtype)  # one GEMM per step
    d_by_gate = d_gates.reshape(steps, batch, 4, hidden).transpose(0, 2, 1, 3)
    dh, dc = np.empty((batch, hidden), x.dtype), np.empty((batch, hidden), x.dtype)
    dh_next = np.zeros((batch, hidden), dtype=x.dtype)
    dc_next = np.array(grad[steps])
    for t in _order(steps, not reverse):
        np.add(grad[t], dh_next, out=dh)
        np.multiply(dh, dc_from_dh[t], out=dc)
        dc += dc_next
        np.multiply(dc, factors[:3, t], out=d_by_gate[t, :3])
        np.multiply(dh, factors[3, t], out=d_by_gate[t, 3])
        np.multiply(dc, f[t], out=dc_next)
        np.matmul(d_gates[t], w_hh, out=dh_next)
    h_prev = _previous(out[:steps], h0, reverse)
    dx, dw_ih, dw_hh, db_ih, db_hh = _param_grads(needs, x, h_prev, d_gates, d_gates, w_ih)
    return dx, dh_next, dc_next, dw_ih, dw_hh, db_ih, db_hh


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
