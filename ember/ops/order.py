"""Order statistics and sets, with PyTorch's names: median (values and indices; the gradient
goes to the element picked), unique (no gradient) and meshgrid (expanded views: gradients flow).
"""
import numpy as np

from ._util import normalize_dim, tensor_cls
from .reduce import ValuesIndices


def _median_index(a, axis):
    """The position of the lower median along axis (n odd: the middle; even: the lower of the
    two), or of the first NaN where there is one (torch's median propagates NaN)."""
    n = a.shape[axis]
    order = np.argsort(a, axis=axis, kind="stable")
    idx = np.take(order, [(n - 1) // 2], axis=axis)
    nan = np.isnan(a)
    if nan.any():
        first = np.argmax(nan, axis=axis, keepdims=True)
        idx = np.where(nan.any(axis=axis, keepdims=True), first, idx)
    return idx.astype(np.int64)


def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or (values, indices) along dim."""
    T = tensor_cls()
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("median: cannot compute the median of an empty tensor")
        flat = input.reshape(-1)
        return flat.gather(0, T(_median_index(flat._data, 0))).reshape(())
    d = normalize_dim("median", dim, input.ndim)
    if input.ndim == 0:
        return ValuesIndices(input.clone(), T(np.asarray(0, dtype=np.int64)))
    if input.shape[d] == 0:
        raise IndexError(f"median: dim {d} of shape {tuple(input.shape)} is empty")
    idx = T(_median_index(input._data, d))
    values = input.gather(d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return ValuesIndices(values, idx)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), and with return_inverse where each element went (the
    input's shape, int64), with return_counts how often each occurs; dim: distinct slices."""
    T = tensor_cls()
    a = input._data
    axis = None if dim is None else normalize_dim("unique", dim, input.ndim)
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
    out = [T(values)]
    if return_inverse:
        shape = a.shape if axis is None else (a.shape[axis],)
        out.append(T(inverse.reshape(shape).astype(np.int64)))
    if return_counts:
        out.append(T(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with indexing 'ij' the k-th output varies along dim k;
    'xy' swaps the first two dims (Cartesian, as NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    T = tensor_cls()
    for t in tensors:
        if not isinstance(t, T):
            raise TypeError(f"meshgrid: expected Tensors, got {type(t).__name__}")
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, got shape "
                               f"{tuple(t.shape)}")
    ts = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    grids = []
    for k, t in enumerate(ts):
        view = [1] * len(ts)
        view[k] = shape[k]
        grids.append(t.reshape(tuple(view)).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
