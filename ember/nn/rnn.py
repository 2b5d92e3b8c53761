"""Recurrent layers RNN, LSTM, GRU and their one-step cells, with PyTorch's arguments, shapes,
gate order, init and parameter names (state dicts load into torch.nn.LSTM and back).

Each (layer, direction) runs as one fused node (ember.ops.rnn): the input projection of all
time steps is one GEMM, each step is one GEMM for all gates of the whole batch, and backward
is backpropagation through time on the saved gates.
"""
import math
import warnings

import numpy as np

from ..backend import get_default_dtype
from ..ops import cat, stack
from ..ops._util import tensor_cls
from ..ops.index import AdvancedIndex
from ..ops.rnn import gate_count, recurrent_layer
from . import init
from .functional import dropout as _dropout
from .module import Module, Parameter
from .utils.rnn import PackedSequence, packed_positions, pad_packed_sequence


def _float_input(name, input, dtype):
    T = tensor_cls()
    if not isinstance(input, T):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype != dtype:
        raise TypeError(f"{name}: input is {input.dtype} but the layer's weights are {dtype}; "
                        f"convert one of them (input.to({dtype}) or layer.to({input.dtype}))")


def _zeros(shape, dtype):
    return tensor_cls()(np.zeros(shape, dtype=dtype))


def _runs(batch_sizes):
    """A packed batch's time steps as runs (t0, t1, n): steps t0..t1-1 all have the first n
    (sorted) sequences active (batch_sizes never grows)."""
    sizes = np.asarray(batch_sizes)
    starts = np.flatnonzero(np.diff(sizes, prepend=-1))
    ends = np.append(starts[1:], sizes.size)
    return [(int(a), int(b), int(sizes[a])) for a, b in zip(starts, ends)]


def _packed_direction(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, runs):
    """One direction of one layer over a padded, sorted batch x (T, B, I) of variable-length
    sequences: one fused layer op per run of steps with the same active sequences (the first n),
    the others' states carried unchanged past it. Forward, a finished sequence keeps its last
    state; in reverse (runs from the last), a sequence starts from h0 at its own last step.
    Returns (output (T, B, H), zeros where a sequence has no step, h_n[, c_n])."""
    batch = x.shape[1]
    states = [h0] if c0 is None else [h0, c0]
    pieces = []
    for t0, t1, n in (reversed(runs) if reverse else runs):
        active = [s[:n] for s in states] + [None] * (c0 is None)
        y, *last = recurrent_layer(mode, x[t0:t1, :n], *active, w_ih, w_hh, b_ih, b_hh,
                                   reverse=reverse)
        if n < batch:
            y = cat([y, _zeros((t1 - t0, batch - n, y.shape[2]), y.dtype)], 1)
            last = [cat([new, s[n:]], 0) for new, s in zip(last, states)]
        states = last
        pieces.append(y)
    if reverse:
        pieces.reverse()
    return (pieces[0] if len(pieces) == 1 else cat(pieces, 0), *states)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the stack of layers and directions, the parameters
    weight_ih_l{k}[_reverse] (G*H, I_k), weight_hh_l{k} (G*H, H), bias_ih_l{k}, bias_hh_l{k}
    (G*H,) with G gates, all ~ U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's init)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        if device not in (None, "cpu"):
            raise ValueError(f"{name}: ember runs on the CPU, got device={device!r}")
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size={proj_size} (LSTM with projections) "
                                      f"is not supported by ember; use proj_size=0")
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent "
                          f"layer, so non-zero dropout expects num_layers greater than 1, but "
                          f"got dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for what, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = 0
        dt = dtype or get_default_dtype()
        gates = gate_count(mode) * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * directions
            for d in range(directions):
                sfx = f"l{layer}" + ("_reverse" if d else "")
                setattr(self, f"weight_ih_{sfx}", Parameter(np.empty((gates, in_size), dt)))
                setattr(self, f"weight_hh_{sfx}", Parameter(np.empty((gates, hidden_size), dt)))
                if bias:
                    setattr(self, f"bias_ih_{sfx}", Parameter(np.empty(gates, dt)))
                    setattr(self, f"bias_hh_{sfx}", Parameter(np.empty(gates, dt)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """PyTorch compacts cuDNN weights here; ember's weights need nothing: a no-op."""

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def _weights(self, layer, d):
        sfx = f"l{layer}" + ("_reverse" if d else "")
        return (getattr(self, f"weight_ih_{sfx}"), getattr(self, f"weight_hh_{sfx}"),
                getattr(self, f"bias_ih_{sfx}", None), getattr(self, f"bias_hh_{sfx}", None))

    def _initial_states(self, hx, batched, batch, dtype):
        """hx as a tuple of (L*D, B, H) tensors (h0, and c0 for LSTM); zeros when None."""
        name, lstm = type(self).__name__, self.mode == "LSTM"
        expected = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            return tuple(_zeros(expected, dtype) for _ in range(2 if lstm else 1))
        T = tensor_cls()
        if lstm:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2
                    and all(isinstance(h, T) for h in hx)):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of Tensors, got "
                                f"{type(hx).__name__}")
            states = tuple(hx)
        else:
            if not isinstance(hx, T):
                raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
            states = (hx,)
        want = 3 if batched else 2
        for which, h in zip(("h_0", "c_0"), states):
            if h.ndim != want:
                raise RuntimeError(f"{name}: for {'batched 3' if batched else 'unbatched 2'}-D "
                                   f"input, {which} should also be {want}-D but got "
                                   f"{h.ndim}-D of shape {h.shape}")
        if not batched:
            states = tuple(h.unsqueeze(1) for h in states)
        for which, h in zip(("h_0", "c_0"), states):
            if h.shape != expected:
                raise RuntimeError(f"{name}: expected hidden size {expected} for {which} "
                                   f"(num_layers * num_directions, batch, hidden_size), got "
                                   f"{tuple(h.shape)}")
            if h.dtype != dtype:
                raise TypeError(f"{name}: {which} is {h.dtype} but the input is {dtype}")
        return states

    def forward(self, input, hx=None):
        """input (T, B, I) ((B, T, I) with batch_first, (T, I) unbatched) or a PackedSequence;
        hx (L*D, B, H) ((h_0, c_0) for LSTM). Returns (output (T, B, D*H), h_n) or
        (output, (h_n, c_n)); output is a PackedSequence where input was one."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = type(self).__name__
        self._check_input(input, (2, 3), "a 2-D (unbatched) or 3-D (batched) input")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise RuntimeError(f"{name}: expected a sequence length larger than 0, got input "
                               f"of shape {input.shape}")
        states = self._initial_states(hx, batched, x.shape[1], x.dtype)
        x, finals = self._layers(x, states, None)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if not batched:
            x = x.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return (x, tuple(finals)) if self.mode == "LSTM" else (x, finals[0])

    def _forward_packed(self, packed, hx):
        """A packed batch: sequence b runs over its own steps only, so h_n (and c_n) is its state
        after its last step, and the reverse direction starts from its own last step. hx and h_n
        are in the batch's original order (permuted by sorted_indices, unsorted_indices)."""
        self._check_input(packed.data, (2,), "a packed input with 2-D data (steps, input_size)")
        sizes = packed.batch_sizes._data
        states = self._initial_states(hx, True, int(sizes[0]), packed.data.dtype)
        if hx is not None and packed.sorted_indices is not None:
            states = tuple(s.index_select(1, packed.sorted_indices) for s in states)
        x, _ = pad_packed_sequence(PackedSequence(packed.data, packed.batch_sizes))
        x, finals = self._layers(x, states, _runs(sizes))
        data = AdvancedIndex.apply(x, packed_positions(sizes))
        output = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                packed.unsorted_indices)
        if packed.unsorted_indices is not None:
            finals = [f.index_select(1, packed.unsorted_indices) for f in finals]
        return (output, tuple(finals)) if self.mode == "LSTM" else (output, finals[0])

    def _check_input(self, input, ndims, expected):
        name = type(self).__name__
        _float_input(name, input, self.weight_ih_l0.dtype)
        if input.ndim not in ndims:
            raise ValueError(f"{name}: expected {expected}, got {input.ndim}-D of shape "
                             f"{input.shape}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]} (input shape "
                               f"{input.shape})")

    def _layers(self, x, states, runs):
        """Every layer and direction over the time-major x (T, B, I) from states ((L*D, B, H)
        tensors); runs as in _packed_direction, or None for full-length sequences.
        Returns the last layer's output (T, B, D*H) and the final states stacked (L*D, B, H)."""
        lstm = self.mode == "LSTM"
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                h0, c0 = states[0][k], states[1][k] if lstm else None
                args = (self.mode, x, h0, c0, *self._weights(layer, d))
                y, *last = (recurrent_layer(*args, reverse=bool(d)) if runs is None else
                            _packed_direction(*args, reverse=bool(d), runs=runs))
                outputs.append(y)
                for store, s in zip(finals, last):
                    store.append(s)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, [stack(f, 0) for f in finals]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or "
                             f"'relu')")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM with gates i, f, g, o (rows of W in that order): c_t = f c_{t-1} + i g,
    h_t = o tanh(c_t), with i, f, o = sigmoid(.) and g = tanh(.) of x W_ih^T + b_ih + h W_hh^T
    + b_hh."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """GRU with gates r, z, n: r, z = sigmoid(x W_i^T + b_i + h W_h^T + b_h),
    n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),  h_t = (1 - z) n + z h_{t-1}."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ---- cells: one time step -------------------------------------------------------------------

class RNNCellBase(Module):
    """weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh (G*H,), all
    ~ U(-1/sqrt(H), 1/sqrt(H)); one step is the fused layer op over a sequence of length 1."""

    def __init__(self, mode, input_size, hidden_size, bias, device, dtype):
        super().__init__()
        name = type(self).__name__
        if device not in (None, "cpu"):
            raise ValueError(f"{name}: ember runs on the CPU, got device={device!r}")
        self.mode = mode
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dt = dtype or get_default_dtype()
        gates = gate_count(mode) * hidden_size
        self.weight_ih = Parameter(np.empty((gates, input_size), dt))
        self.weight_hh = Parameter(np.empty((gates, hidden_size), dt))
        if bias:
            self.bias_ih = Parameter(np.empty(gates, dt))
            self.bias_hh = Parameter(np.empty(gates, dt))
        else:
            self.bias_ih = self.bias_hh = None
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def forward(self, input, hx=None):
        """input (B, I) or (I,); hx (B, H) or (H,) ((h, c) for LSTMCell). Returns h' (or
        (h', c')) of hx's shape."""
        name, lstm = type(self).__name__, self.mode == "LSTM"
        _float_input(name, input, self.weight_ih.dtype)
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1-D or 2-D, got {input.ndim}-D of "
                             f"shape {input.shape}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]}, expected {self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            states = tuple(_zeros(shape, x.dtype) for _ in range(2 if lstm else 1))
        else:
            T = tensor_cls()
            states = tuple(hx) if lstm and isinstance(hx, (tuple, list)) else (hx,)
            if len(states) != (2 if lstm else 1) or not all(isinstance(h, T) for h in states):
                raise TypeError(f"{name}: hx must be " + ("a tuple (h, c) of Tensors" if lstm
                                                          else "a Tensor"))
            if not batched:
                states = tuple(h.unsqueeze(0) if h.ndim == 1 else h for h in states)
            for h in states:
                if h.shape != shape:
                    raise RuntimeError(f"{name}: hidden state of shape "
                                       f"{tuple(h.shape)} does not match the expected "
                                       f"{shape if batched else shape[1:]} for input of shape "
                                       f"{input.shape}")
                if h.dtype != x.dtype:
                    raise TypeError(f"{name}: hidden state is {h.dtype} but the input is "
                                    f"{x.dtype}")
        c0 = states[1] if lstm else None
        _, *last = recurrent_layer(self.mode, x.unsqueeze(0), states[0], c0, self.weight_ih,
                                   self.weight_hh, self.bias_ih, self.bias_hh)
        if not batched:
            last = [s.squeeze(0) for s in last]
        return tuple(last) if lstm else last[0]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (expected 'tanh' "
                             f"or 'relu')")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from x and (h, c), gates i, f, g, o as in LSTM."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)


class GRUCell(RNNCellBase):
    """One GRU step: h' from x and h, gates r, z, n as in GRU."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)
