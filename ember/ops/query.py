"""Questions about tensors, with PyTorch's names, which carry no gradient: allclose, isclose,
equal, nonzero, argsort, count_nonzero, numel, is_tensor; and the selections narrow, unbind and
masked_select, which are indexing (so gradients flow through them)."""
import numpy as np

from ._util import broadcast_shapes, normalize_dim, normalize_dims, tensor_cls
from .index import _argsort


def _arrays(name, a, b):
    T = tensor_cls()
    if not isinstance(a, T) or not isinstance(b, T):
        raise TypeError(f"{name}: expected two Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    return a._data, b._data


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other|, elementwise (a bool tensor; shapes broadcast)."""
    a, b = _arrays("isclose", input, other)
    return tensor_cls()(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose holds everywhere."""
    a, b = _arrays("allclose", input, other)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    """True when both have the same shape and the same values."""
    a, b = _arrays("equal", input, other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim
    with as_tuple=True."""
    T = tensor_cls()
    idx = np.nonzero(np.atleast_1d(input._data))
    if as_tuple:
        return tuple(T(i.astype(np.int64)) for i in idx)
    if input.ndim == 0:  # one row of no coordinates when the scalar is nonzero
        return T(np.zeros((len(idx[0]), 0), dtype=np.int64))
    return T(np.stack(idx, axis=1).astype(np.int64))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim (sort's second result; ties keep their order)."""
    T = tensor_cls()
    d = normalize_dim("argsort", dim, input.ndim)
    if input.ndim == 0:
        return T(np.asarray(0, dtype=np.int64))
    return T(_argsort(input._data, d, descending).astype(np.int64))


def count_nonzero(input, dim=None):
    """The number of nonzero elements, over everything or along dim(s) (int64)."""
    dims = None if dim is None else normalize_dims("count_nonzero", dim, input.ndim)
    return tensor_cls()(np.asarray(np.count_nonzero(input._data, axis=dims), dtype=np.int64))


def numel(input):
    return int(input._data.size)


def is_tensor(obj):
    return isinstance(obj, tensor_cls())


def narrow(input, dim, start, length):
    """input's elements start .. start + length - 1 along dim (a view, as x[..., start:start+n])."""
    d = normalize_dim("narrow", dim, input.ndim)
    size = input.shape[d]
    if start < 0:
        start += size
    if not (0 <= start <= size and 0 <= length and start + length <= size):
        raise IndexError(f"narrow: start {start} and length {length} do not fit in dim {d} of "
                         f"size {size}")
    return input[(slice(None),) * d + (slice(start, start + length),)]


def unbind(input, dim=0):
    """The slices of input along dim, as a tuple (each without that dim)."""
    d = normalize_dim("unbind", dim, input.ndim)
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def masked_select(input, mask):
    """The elements of input where mask is True, as a 1-D tensor (the two broadcast together)."""
    T = tensor_cls()
    if not isinstance(input, T):
        raise TypeError(f"masked_select: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(mask, T) or mask.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool Tensor, got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}")
    shape = broadcast_shapes("masked_select", input.shape, mask.shape)
    return input.expand(shape)[mask.expand(shape)]


def bucketize(input, boundaries, right=False, out_int32=False):
    """For each value, the index of its bucket among the sorted 1-D boundaries: i with
    boundaries[i - 1] < x <= boundaries[i] (right=True: boundaries[i - 1] <= x < boundaries[i])."""
    T = tensor_cls()
    b = boundaries._data if isinstance(boundaries, T) else np.asarray(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    x = input._data if isinstance(input, T) else np.asarray(input)
    idx = np.searchsorted(b, x, side="right" if right else "left")
    return T(np.asarray(idx, dtype=np.int32 if out_int32 else np.int64))


def searchsorted(sorted_sequence, values, out_int32=False, right=False, side=None):
    """Where each value would go into the sorted last dim of sorted_sequence (its leading dims
    matching values', or 1-D for all): the first such place, the last with right=True or
    side='right'."""
    T = tensor_cls()
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        right = side == "right"
    seq = sorted_sequence._data if isinstance(sorted_sequence, T) else np.asarray(sorted_sequence)
    vals = values._data if isinstance(values, T) else np.asarray(values)
    if seq.ndim == 0:
        raise RuntimeError("searchsorted: sorted_sequence must have at least one dim, got a "
                           "0-d tensor")
    how = "right" if right else "left"
    if seq.ndim == 1:
        idx = np.searchsorted(seq, vals, side=how)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(f"searchsorted: the leading dims of sorted_sequence "
                               f"{seq.shape} and values {vals.shape} must match")
        rows_s = seq.reshape(-1, seq.shape[-1])
        rows_v = vals.reshape(-1, vals.shape[-1])
        idx = np.stack([np.searchsorted(s_, v, side=how) for s_, v in zip(rows_s, rows_v)])
        idx = idx.reshape(vals.shape)
    return T(np.asarray(idx, dtype=np.int32 if out_int32 else np.int64))


def tril_indices(row, col, offset=0):
    """(2, N) int64: the row and column of every element on or below the offset diagonal of a
    row x col matrix, row by row."""
    return tensor_cls()(np.stack(np.tril_indices(row, offset, col)).astype(np.int64))


def triu_indices(row, col, offset=0):
    """(2, N) int64: the row and column of every element on or above the offset diagonal."""
    return tensor_cls()(np.stack(np.triu_indices(row, offset, col)).astype(np.int64))
