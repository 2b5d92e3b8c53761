"""Indexing: x[key], gather, scatter_add, index_select, masked_fill, sort, topk.

The gradient of a read at some positions is a scatter-add of g into zeros at the same
positions (an index read twice gets both contributions)."""
import numpy as np

from ..autograd import Function, is_grad_enabled
from ._util import normalize_dim, tensor_cls
from .elementwise import where
from .reduce import ValuesIndices


class BasicIndex(Function):
    """y = x[ints, slices, None, ...] (a view);   dx = zeros with g written at those positions"""
    name = "getitem"
    is_view = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.key = key
        return x[key]

    @staticmethod
    def backward(ctx, g):
        return IndexBackward.apply(g, ctx.key, ctx.inputs[0].shape, False)


class AdvancedIndex(Function):
    """y = x[integer arrays or masks];   dx = zeros with g added at those positions"""
    name = "getitem"

    @staticmethod
    def forward(ctx, x, key):
        ctx.key = key
        return x[key]

    @staticmethod
    def backward(ctx, g):
        return IndexBackward.apply(g, ctx.key, ctx.inputs[0].shape, True)


class IndexBackward(Function):
    """y = zeros(shape) with g placed (or added) at key;   dg = y's gradient read at key"""
    name = "index_backward"

    @staticmethod
    def forward(ctx, g, key, shape, accumulate):
        ctx.key = key
        out = np.zeros(shape, dtype=g.dtype)
        if accumulate:
            np.add.at(out, key, g)
        else:
            out[key] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return gg[ctx.key]


def _normalize_key(x, key):
    """Tensors in the key become arrays; returns (key, is_basic)."""
    T = tensor_cls()
    if not isinstance(key, tuple):
        key = (key,)
    out, basic = [], True
    for k in key:
        if isinstance(k, T):
            k = k._data
        elif isinstance(k, list):
            k = np.asarray(k)
        if isinstance(k, np.ndarray):
            if k.dtype.kind not in "biu":
                raise IndexError(f"getitem: tensors used as indices must be integer or bool, "
                                 f"got {k.dtype}")
            basic = False
        elif isinstance(k, (bool, np.bool_)):
            basic = False
        elif not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))):
            raise IndexError(f"getitem: unsupported index {k!r} of type {type(k).__name__}")
        elif isinstance(k, slice) and k.step is not None and k.step <= 0:
            raise ValueError(f"getitem: slice step must be positive, got {k.step}")
        out.append(k)
    return tuple(out), basic


def getitem(x, key):
    key, basic = _normalize_key(x, key)
    try:
        if basic:
            return BasicIndex.apply(x, key)
        return AdvancedIndex.apply(x, key)
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor of shape {x.shape})") from None


def setitem(x, key, value):
    """x[key] = value, in place. Only for tensors outside the graph (or under no_grad)."""
    T = tensor_cls()
    if x.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"setitem: cannot assign into a tensor of shape {x.shape} that requires grad (it would "
            "change values the graph depends on). Do it under ember.no_grad(), or build the new "
            "tensor out of place (ember.where, masked_fill, cat).")
    key, _ = _normalize_key(x, key)
    v = value._data if isinstance(value, T) else value
    try:
        x._data[key] = v
    except IndexError as e:
        raise IndexError(f"setitem: {e} (tensor of shape {x.shape})") from None
    except ValueError as e:
        shape = getattr(v, "shape", ())
        raise ValueError(f"setitem: cannot assign a value of shape {tuple(shape)} to x[{key}] "
                         f"of a tensor of shape {x.shape} ({e})") from None
    x._version[0] += 1


def _along_dim_index(index, dim):
    """The full index tuple that reads `index` along dim and everything else in place."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _check_index(name, x, dim, index):
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got {index.dtype}")
    if index.ndim != x.ndim:
        raise RuntimeError(f"{name}: index has {index.ndim} dims but the input has {x.ndim} "
                           f"(shapes {index.shape} and {x.shape})")
    for d in range(x.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise RuntimeError(f"{name}: index shape {index.shape} is larger than input shape "
                               f"{x.shape} in dim {d}")
    n = x.shape[dim] if x.ndim else 1
    if index.size and (index.min() < -n or index.max() >= n):
        bad = index.max() if index.max() >= n else index.min()
        raise IndexError(f"{name}: index {bad} is out of bounds for dim {dim} with size {n}")


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] (dim 0);   dx = g scatter-added at index"""
    name = "gather"

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.dim = dim
        ctx.save_for_backward(index)
        return x[_along_dim_index(index, dim)]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        x = ctx.inputs[0]
        return ScatterAdd.apply(g.new_zeros(x.shape), index, g, ctx.dim), None


class ScatterAdd(Function):
    """y = x, then y[index[i][j]][j] += src[i][j] (dim 0);   dx = g,  dsrc = g gathered at index"""
    name = "scatter_add"

    @staticmethod
    def forward(ctx, x, index, src, dim):
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = x.copy()
        if index.size:
            src = src[tuple(slice(0, n) for n in index.shape)]
            np.add.at(out, _along_dim_index(index, dim), src)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gsrc = None
        if ctx.needs_input_grad[2]:
            src = ctx.inputs[2]
            gsrc = g.gather(ctx.dim, index)
            if gsrc.shape != src.shape:  # src entries past index's shape were never added
                from .shape import pad
                widths = []
                for s, n in reversed(list(zip(src.shape, gsrc.shape))):
                    widths += [0, s - n]
                gsrc = pad(gsrc, widths)
        return g, None, gsrc


def gather(x, dim, index):
    dim = normalize_dim("gather", dim, x.ndim)
    _check_index("gather", x, dim, index._data)
    return Gather.apply(x, index, dim)


def scatter_add(x, dim, index, src):
    dim = normalize_dim("scatter_add", dim, x.ndim)
    _check_index("scatter_add", x, dim, index._data)
    if src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
        raise RuntimeError(f"scatter_add: src of shape {src.shape} must be at least as large as "
                           f"index of shape {index.shape} in every dim")
    if src.dtype != x.dtype:
        raise TypeError(f"scatter_add: src dtype {src.dtype} differs from input dtype {x.dtype}")
    return ScatterAdd.apply(x, index, src, dim)


def index_select(x, dim, index):
    d = normalize_dim("index_select", dim, x.ndim)
    idx = index._data if isinstance(index, tensor_cls()) else np.asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise TypeError(f"index_select: index must be a 1-D integer tensor, got shape "
                        f"{idx.shape} and dtype {idx.dtype}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index_select: index {idx.max() if idx.max() >= n else idx.min()} is "
                         f"out of bounds for dim {d} with size {n}")
    if x.ndim == 0:
        return x.reshape(1)[idx.reshape(-1)].reshape(idx.shape)
    return getitem(x, (slice(None),) * d + (idx.reshape(-1),))


def masked_fill(x, mask, value):
    """x with value wherever mask is True (mask broadcasts against x)."""
    T = tensor_cls()
    if not isinstance(mask, T) or mask.dtype != np.bool_:
        raise TypeError("masked_fill: mask must be a bool tensor")
    if isinstance(value, T):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-dim tensor, got "
                               f"shape {value.shape}")
        value = value.to(x.dtype)
    out = where(mask, value, x)
    if out.shape != x.shape:
        raise RuntimeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the "
                           f"input's shape {x.shape}")
    return out


def sort(x, dim=-1, descending=False, stable=False):
    T = tensor_cls()
    if x.ndim == 0:
        return ValuesIndices(x, T(np.asarray(0, dtype=np.int64)))
    d = normalize_dim("sort", dim, x.ndim)
    keys = -x._data if descending and x.dtype.kind != "b" else x._data
    if descending and x.dtype.kind == "b":
        keys = ~keys
    idx = T(np.argsort(keys, axis=d, kind="stable").astype(np.int64))
    return ValuesIndices(x.gather(d, idx), idx)


def topk(x, k, dim=-1, largest=True, sorted=True):
    T = tensor_cls()
    d = normalize_dim("topk", dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k} is out of range for dim {d} of size {n}")
    if x.ndim == 0:
        return ValuesIndices(x, T(np.asarray(0, dtype=np.int64)))
    keys = -x._data if largest else x._data
    idx = np.argsort(keys, axis=d, kind="stable")
    idx = np.take(idx, np.arange(k), axis=d).astype(np.int64)
    idx = T(idx)
    return ValuesIndices(x.gather(d, idx), idx)


