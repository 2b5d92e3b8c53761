"""Order statistics and NaN-aware sums with PyTorch's names: quantile, nanquantile, kthvalue,
cummax, cummin, nansum, nanmean. Each picks or sums elements of its input with ember ops
(gather, where, sum), so gradients flow to the elements used.
"""
import numpy as np

from ._util import normalize_dim, tensor_cls
from .elementwise import where
from .index import topk
from .reduce import ValuesIndices


def nansum(input, dim=None, keepdim=False):
    """The sum with NaNs counted as zero (their gradient is 0)."""
    return where(input.isnan(), 0.0, input).sum(dim, keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False):
    """The mean of the non-NaN elements (NaN where there are none)."""
    count = (~input.isnan()).to(input.dtype).sum(dim, keepdim=keepdim)
    none = count == 0
    return where(none, float("nan"), nansum(input, dim, keepdim) / where(none, 1.0, count))


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    T = tensor_cls()
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{name}: interpolation must be one of linear, lower, higher, "
                         f"midpoint, nearest; got {interpolation!r}")
    qs = np.asarray(q._data if isinstance(q, T) else q, dtype=np.float64)
    if qs.ndim > 1 or (qs.size and (qs.min() < 0 or qs.max() > 1)):
        raise ValueError(f"{name}: q must be a number or a 1-D tensor with values in [0, 1], "
                         f"got {qs.tolist()}")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else normalize_dim(name, dim, input.ndim)
    if x.shape[d] == 0:
        raise RuntimeError(f"{name}: cannot compute quantiles of an empty dim")
    order = np.argsort(x._data, axis=d, kind="stable")  # NaNs sort last
    nans = np.isnan(x._data).sum(axis=d, keepdims=True)
    count = x.shape[d] - nans if ignore_nan else np.full_like(nans, x.shape[d])
    sorted_x = x.gather(d, T(order.astype(np.int64)))
    results = []
    for qq in qs.reshape(-1):
        pos = qq * np.maximum(count - 1, 0)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(count - 1, 0)).astype(np.int64)
        frac = pos - low
        if interpolation == "lower":
            high, frac = low, np.zeros_like(frac)
        elif interpolation == "higher":
            low, frac = np.ceil(pos).astype(np.int64), np.zeros_like(frac)
        elif interpolation == "nearest":
            low = np.round(pos).astype(np.int64)  # round half to even, as torch
            frac = np.zeros_like(frac)
        elif interpolation == "midpoint":
            frac = np.where(frac > 0, 0.5, 0.0)
        a, b = sorted_x.gather(d, T(low)), sorted_x.gather(d, T(high))
        value = a + (b - a) * T(frac.astype(x.dtype)) if frac.any() else a
        undefined = (count == 0) if ignore_nan else (nans > 0)
        if undefined.any():
            value = where(T(undefined), float("nan"), value)
        results.append(value if keepdim and dim is not None else value.squeeze(d))
    if qs.ndim == 0:
        out = results[0]
        return out.reshape(()) if dim is None and not keepdim else out
    from .shape import stack
    out = stack(results, 0)
    return out.reshape((len(results),)) if dim is None and not keepdim else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-quantiles (q a number or a 1-D tensor, its entries first in the result) of all
    elements or along dim, interpolating between order statistics as torch (and NumPy) do;
    NaN where the slice holds one."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile of the non-NaN elements (NaN where there are none)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices): the k-th smallest element (k from 1) along dim, the last of the k
    smallest."""
    d = normalize_dim("kthvalue", dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: k={k} is out of range for dim {d} of size {n}")
    values, idx = topk(input, k, d, largest=False)
    if input.ndim == 0:
        return ValuesIndices(values, idx)
    values, idx = values.narrow(d, k - 1, 1), idx.narrow(d, k - 1, 1)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return ValuesIndices(values, idx)


def _cumulative_extreme(name, input, dim, better):
    T = tensor_cls()
    d = normalize_dim(name, dim, input.ndim)
    if input.ndim == 0:
        return ValuesIndices(input.clone(), T(np.asarray(0, dtype=np.int64)))
    a = input._data
    running = (np.maximum if better is np.greater_equal else np.minimum).accumulate(a, axis=d)
    positions = np.arange(a.shape[d]).reshape([-1 if k == d else 1 for k in range(a.ndim)])
    # the latest position that reached the running extreme (ties: the later one, as torch);
    # a NaN stays the extreme from where it appears
    reached = better(a, running) | np.isnan(a)
    idx = np.maximum.accumulate(np.where(reached, positions, 0), axis=d).astype(np.int64)
    return ValuesIndices(input.gather(d, T(idx)), T(idx))


def cummax(input, dim):
    """(values, indices): the running maximum along dim and where it was reached."""
    return _cumulative_extreme("cummax", input, dim, np.greater_equal)


def cummin(input, dim):
    """(values, indices): the running minimum along dim and where it was reached."""
    return _cumulative_extreme("cummin", input, dim, np.less_equal)
