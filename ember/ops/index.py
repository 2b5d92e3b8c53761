"""Indexing: x[key], gather, scatter_add, index_select, masked_fill, sort, topk.

The gradient of a read at some positions is a scatter-add of g into zeros at the same
positions (an index read twice gets both contributions)."""
import numpy as np

from ..autograd import Function, bump_version, is_grad_enabled
from ._util import broadcast_shapes, normalize_dim, tensor_cls
from .elementwise import where
from .reduce import ValuesIndices


class BasicIndex(Function):
    """y = x[ints, slices, None, ...] (a view);   dx = zeros with g written at those positions"""
    name = "getitem"
    is_view = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.key = key
        out = x[key]
        if not isinstance(out, np.ndarray):  # NumPy gives a scalar copy for x[i, j]: keep a view
            out = x[key + (Ellipsis,)]
        return out

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
        ctx.key, ctx.accumulate = key, accumulate
        out = np.zeros(shape, dtype=g.dtype)
        if accumulate:
            scatter_add_flat(out, _flat_positions(shape, key), g)
        else:
            out[key] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return (AdvancedIndex if ctx.accumulate else BasicIndex).apply(gg, ctx.key)


def scatter_add_flat(out, flat, values):
    """out.ravel()[flat] += values, adding every repeat of a position (out is C-contiguous).

    np.add.at on one flat axis takes NumPy's fast path: ~4x faster than np.add.at with a
    multi-dim key, and it sums in out's dtype, in order, as PyTorch's index_put does."""
    if flat.size:
        np.add.at(out.reshape(-1), flat.reshape(-1), np.ascontiguousarray(values).reshape(-1))
    return out


def _flat_positions(shape, key):
    """For each element of x[key], its position in x.ravel(), in x[key]'s (C) order.

    Trailing dims the key leaves whole (x[idx] of an embedding table) are one block:
    position = row * block + arange(block). The rows come from one broadcast (zero-stride)
    coordinate view per indexed dim, so the cost is the size of x[key], not of x."""
    while key and (key[-1] is Ellipsis or (isinstance(key[-1], slice) and key[-1] == slice(None))):
        key = key[:-1]
    if any(k is Ellipsis for k in key):
        lead = len(shape)
    else:
        lead = sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1
                   for k in key if k is not None and not isinstance(k, (bool, np.bool_)))
    rows_shape, block = shape[:lead], int(np.prod(shape[lead:]))
    rows = np.array(np.broadcast_to(np.intp(0), rows_shape)[key], dtype=np.intp)
    stride = block
    for d in reversed(range(lead)):
        coord = (np.arange(shape[d], dtype=np.intp) * stride).reshape((-1,) + (1,) * (lead - d - 1))
        rows += np.broadcast_to(coord, rows_shape)[key]
        stride *= shape[d]
    if block == 1 and lead == len(shape):
        return rows
    return rows[..., None] + np.arange(block, dtype=np.intp)


def _normalize_key(x, key):
    """Tensors in the key become arrays (0-dim integer ones become ints, as in PyTorch);
    returns (key, is_basic): is_basic when it holds no arrays and no bools."""
    T = tensor_cls()
    if not isinstance(key, tuple):
        key = (key,)
    out, basic = [], True
    for k in key:
        if isinstance(k, T):
            k = k._data
        elif isinstance(k, list):
            k = np.asarray(k) if k else np.zeros(0, dtype=np.int64)
        if isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu":
            k = int(k)
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


def _split_key(key):
    """PyTorch applies ints (with slices, None, ...) first and the index arrays to the result;
    NumPy treats ints beside arrays as arrays, which moves dims when a slice separates them
    (x[1, :, idx]). Returns (basic key, advanced key) for the PyTorch order, or None when
    NumPy's order is already the same (no ints beside the arrays)."""
    has_int = any(isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))
                  for k in key)
    has_array = any(isinstance(k, np.ndarray) for k in key)
    if not (has_int and has_array):
        return None
    basic, adv = [], []
    for k in key:
        if isinstance(k, np.ndarray):
            basic += [slice(None)] * (k.ndim if k.dtype == np.bool_ else 1)
            adv.append(k)
        elif isinstance(k, (bool, np.bool_)):
            basic.append(None)
            adv.append(slice(None))
        elif isinstance(k, (int, np.integer)):
            basic.append(k)
        elif k is Ellipsis:
            basic.append(k)
            adv.append(k)
        else:  # a slice or None: the dim is there after the basic step
            basic.append(k)
            adv.append(slice(None))
    return tuple(basic), tuple(adv)


def getitem(x, key):
    key, basic = _normalize_key(x, key)
    try:
        if basic:
            return BasicIndex.apply(x, key)
        parts = _split_key(key)
        if parts is not None:
            return AdvancedIndex.apply(BasicIndex.apply(x, parts[0]), parts[1])
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
    if isinstance(value, T) and value.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"setitem: the assigned value of shape {value.shape} requires grad, but assignment "
            "records no graph, so its gradient would be lost. Build the result out of place "
            "(ember.where, masked_fill, cat), or assign value.detach().")
    if not x._data.flags.writeable:
        raise RuntimeError(f"setitem: the tensor of shape {x.shape} is a read-only view (from "
                           "expand or broadcast_to); clone() it first")
    key, _ = _normalize_key(x, key)
    v = value._data if isinstance(value, T) else value
    target = x._data
    parts = _split_key(key)
    try:
        if parts is not None:  # the basic step is a view, so assigning into it writes into x
            target, key = target[parts[0]], parts[1]
        target[key] = v
    except IndexError as e:
        raise IndexError(f"setitem: {e} (tensor of shape {x.shape})") from None
    except ValueError as e:
        shape = getattr(v, "shape", ())
        raise ValueError(f"setitem: cannot assign a value of shape {tuple(shape)} to x[{key}] "
                         f"of a tensor of shape {x.shape} ({e})") from None
    bump_version(x)


def _along_dim_index(index, dim):
    """The full index tuple that reads `index` along dim and everything else in place."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _along_dim_flat(index, dim, shape):
    """Positions in x.ravel() of the elements that _along_dim_index(index, dim) names."""
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    flat = np.multiply(index, strides[dim], dtype=np.intp)
    for d, grid in enumerate(np.indices(index.shape, sparse=True)):
        if d != dim:
            flat += grid * strides[d]
    return flat


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
    if index.size and (index.min() < 0 or index.max() >= n):
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
        out = np.array(x, order="C")
        src = src[tuple(slice(0, n) for n in index.shape)]
        return scatter_add_flat(out, _along_dim_flat(index, dim, x.shape), src)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gsrc = _src_grad(g, index, ctx.dim, ctx.inputs[2].shape) if ctx.needs_input_grad[2] \
            else None
        return g, None, gsrc


def _src_grad(g, index, dim, src_shape):
    """A scatter's gradient for src: g read at index, zeros for the src entries past index's
    shape (they were never written)."""
    gsrc = g.gather(dim, index)
    if gsrc.shape != tuple(src_shape):
        from .shape import pad
        gsrc = pad(gsrc, [w for s, n in zip(reversed(src_shape), reversed(gsrc.shape))
                          for w in (0, s - n)])
    return gsrc


def gather(x, dim, index):
    dim = normalize_dim("gather", dim, x.ndim)
    _check_index("gather", x, dim, index._data)
    if x.ndim == 0:
        return Gather.apply(x.reshape(1), index.reshape(1), 0).reshape(())
    return Gather.apply(x, index, dim)


class Scatter(Function):
    """y = x, then y[index[i][j]][j] = src[i][j] (dim 0; where index repeats, one write wins);
    dx = g with the written positions zeroed,  dsrc = g gathered at index"""
    name = "scatter"

    @staticmethod
    def forward(ctx, x, index, src, dim):
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = np.array(x, order="C")
        flat = _along_dim_flat(index, dim, x.shape)
        out.reshape(-1)[flat.reshape(-1)] = src[tuple(slice(0, n) for n in index.shape)].reshape(-1)
        return out

    @staticmethod
    def backward(ctx, g):
        from .elementwise import where
        (index,) = ctx.saved_tensors
        x = ctx.inputs[0]
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            written = np.zeros(x.shape, dtype=bool)
            written.reshape(-1)[_along_dim_flat(index._data, ctx.dim, x.shape).reshape(-1)] = True
            gx = where(tensor_cls()(written), 0.0, g)
        if ctx.needs_input_grad[2]:
            gsrc = _src_grad(g, index, ctx.dim, ctx.inputs[2].shape)
        return gx, None, gsrc, None


def scatter(x, dim, index, src=None, value=None, reduce=None):
    """x with src[i][j] (or the number value) written at x[index[i][j]][j] (dim 0); reduce="add"
    adds instead (scatter_add). Gradients flow to x (where not overwritten) and to src."""
    T = tensor_cls()
    if reduce == "add":
        if not isinstance(src, T):
            src = T(np.full(index.shape, src if value is None else value, dtype=x.dtype))
        return scatter_add(x, dim, index, src)
    if reduce is not None:
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported (use None or "
                                  "'add', or scatter_reduce's forms through other ops)")
    if not isinstance(src, T):
        fill = src if value is None else value
        if fill is None:
            raise TypeError("scatter: expected src (a Tensor) or value (a number)")
        src = T(np.full(index.shape, fill, dtype=x.dtype))
    dim = normalize_dim("scatter", dim, x.ndim)
    _check_index("scatter", x, dim, index._data)
    _check_src("scatter", x, index, src)
    if x.ndim == 0:
        return Scatter.apply(x.reshape(1), index.reshape(1), src.reshape(1), 0).reshape(())
    return Scatter.apply(x, index, src, dim)


def scatter_add(x, dim, index, src):
    dim = normalize_dim("scatter_add", dim, x.ndim)
    _check_index("scatter_add", x, dim, index._data)
    if x.ndim == 0:
        if src.ndim != 0:
            raise RuntimeError(f"scatter_add: src of shape {src.shape} must be 0-dim like the "
                               "input")
        return scatter_add(x.reshape(1), 0, index.reshape(1), src.reshape(1)).reshape(())
    _check_src("scatter_add", x, index, src)
    return ScatterAdd.apply(x, index, src, dim)


def _check_src(name, x, index, src):
    if src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
        raise RuntimeError(f"{name}: src of shape {src.shape} must be at least as large as "
                           f"index of shape {index.shape} in every dim")
    if src.dtype != x.dtype:
        raise TypeError(f"{name}: src dtype {src.dtype} differs from input dtype {x.dtype}")


def index_select(x, dim, index):
    d = normalize_dim("index_select", dim, x.ndim)
    idx = index._data if isinstance(index, tensor_cls()) else np.asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise TypeError(f"index_select: index must be a 1-D integer tensor, got shape "
                        f"{idx.shape} and dtype {idx.dtype}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index_select: index {idx.max() if idx.max() >= n else idx.min()} is "
                         f"out of bounds for dim {d} with size {n}")
    if x.ndim == 0:
        return AdvancedIndex.apply(x.reshape(1), (idx.reshape(-1),)).reshape(())
    return AdvancedIndex.apply(x, (slice(None),) * d + (idx.reshape(-1),))


def masked_fill(x, mask, value):
    """x with value wherever mask is True; mask and x broadcast together, and value is cast to
    x's dtype (PyTorch's rules)."""
    T = tensor_cls()
    if not isinstance(mask, T) or mask.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got "
                        f"{mask.dtype if isinstance(mask, T) else type(mask).__name__}")
    broadcast_shapes("masked_fill", mask.shape, x.shape)
    if isinstance(value, T):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-dim tensor, got "
                               f"shape {value.shape}")
        value = value.to(x.dtype)
    else:
        value = T(np.asarray(value).astype(x.dtype))
    return where(mask, value, x)


def _argsort(a, d, descending):
    """Stable argsort along d. Descending sorts the reversed array and reverses the result, so
    ties keep their order and NaN comes first, as in PyTorch (negating would wrap unsigned
    ints and put NaN last)."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    r = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return a.shape[d] - 1 - np.flip(r, d)


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along dim; ties keep their order (always stable)."""
    T = tensor_cls()
    d = normalize_dim("sort", dim, x.ndim)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), T(np.asarray(0, dtype=np.int64)))
    idx = T(_argsort(x._data, d, descending).astype(np.int64))
    return ValuesIndices(x.gather(d, idx), idx)


def topk(x, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) along dim, as (values, indices), in sorted order."""
    T = tensor_cls()
    d = normalize_dim("topk", dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k} is out of range for dim {d} of size {n}")
    if x.ndim == 0:
        return ValuesIndices(x.clone(), T(np.asarray(0, dtype=np.int64)))
    idx = np.take(_argsort(x._data, d, largest), np.arange(k), axis=d)
    idx = T(idx.astype(np.int64))
    return ValuesIndices(x.gather(d, idx), idx)


def index_add(x, dim, index, source, alpha=1):
    """x with alpha source[..., i, ...] added at x[..., index[i], ...] along dim (repeats add
    up); gradients flow to x and source."""
    T = tensor_cls()
    d = normalize_dim("index_add", dim, x.ndim)
    idx = index._data if isinstance(index, T) else np.asarray(index)
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or source.ndim != x.ndim or \
            source.shape[d] != idx.size:
        raise RuntimeError(f"index_add: index must be 1-D integers with one entry per slice of "
                           f"source along dim {d}; got index {tuple(idx.shape)}, source "
                           f"{tuple(source.shape)}, input {tuple(x.shape)}")
    shape = [1] * x.ndim
    shape[d] = idx.size
    full = np.broadcast_to(idx.reshape(shape), source.shape).astype(np.int64)
    return scatter_add(x, d, T(np.ascontiguousarray(full)), source if alpha == 1 else
                       source * alpha)


def take_along_dim(input, indices, dim=None):
    """input's values at indices along dim (both broadcast in the other dims), or at flat
    positions with dim=None; gradients flow to input."""
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    d = normalize_dim("take_along_dim", dim, input.ndim)
    if indices.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of "
                           f"dimensions, got {input.ndim} and {indices.ndim}")
    in_shape, idx_shape = list(input.shape), list(indices.shape)
    for k in range(input.ndim):
        if k != d:
            size = max(in_shape[k], idx_shape[k])
            in_shape[k] = idx_shape[k] = size
    return input.expand(tuple(in_shape)).gather(d, indices.expand(tuple(idx_shape)))
