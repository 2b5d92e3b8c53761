"""Shape ops: reshape/view, permute/transpose, squeeze/unsqueeze, expand, repeat, flip, roll,
tril/triu, cat/stack/split and pad. Forward moves data (most are views); backward moves the
gradient back the same way."""
import numpy as np

from ..autograd import Function
from ._util import normalize_dim, normalize_dims, tensor_cls, unbroadcast


class Reshape(Function):
    """y = x viewed with a new shape;   dx = g viewed with x's shape"""
    name = "reshape"
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.inputs[0].shape)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    known = 1
    unknown = [i for i, n in enumerate(shape) if n == -1]
    for n in shape:
        if n != -1:
            if n < 0:
                raise RuntimeError(f"reshape: invalid size {n} in shape {shape}")
            known *= n
    size = x.numel()
    if len(unknown) > 1 or (unknown and (known == 0 or size % known)) or (
            not unknown and known != size):
        raise RuntimeError(f"reshape: shape {shape} is invalid for a tensor of shape {x.shape} "
                           f"({size} elements)")
    if unknown:
        shape = tuple(size // known if n == -1 else n for n in shape)
    return Reshape.apply(x, shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s = normalize_dim("flatten", start_dim, x.ndim)
    e = normalize_dim("flatten", end_dim, x.ndim)
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, x.shape[:s] + (-1 if x.numel() else int(np.prod(x.shape[s:e + 1])),)
                   + x.shape[e + 1:])


def unflatten(x, dim, sizes):
    d = normalize_dim("unflatten", dim, x.ndim)
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


class Permute(Function):
    """y = x with its dims reordered;   dx = g with the inverse order"""
    name = "permute"
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.dims)))


def permute(x, *dims):
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: {len(dims)} dims given for a tensor with {x.ndim} dims")
    norm = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
    if sorted(norm) != list(range(x.ndim)):
        raise RuntimeError(f"permute: {dims} is not a permutation of the dims of shape {x.shape}")
    if norm == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, norm)


def transpose(x, dim0, dim1):
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    d0 = normalize_dim("transpose", dim0, x.ndim)
    d1 = normalize_dim("transpose", dim1, x.ndim)
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, dims)


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dims, got shape {x.shape}; use mT or "
                           "permute")
    return transpose(x, 0, -1) if x.ndim == 2 else x


def matrix_transpose(x):
    if x.ndim < 2:
        raise RuntimeError(f"mT: expects a tensor with >= 2 dims, got shape {x.shape}")
    return transpose(x, -2, -1)


def squeeze(x, dim=None):
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = normalize_dims("squeeze", dim, x.ndim)
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x, dim):
    d = normalize_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


class Expand(Function):
    """y = x broadcast to a larger shape (a view);   dx = g summed over the copies"""
    name = "expand"
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.inputs[0].shape)


def expand(x, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand: {len(sizes)} sizes given for a tensor with {x.ndim} dims")
    lead = len(sizes) - x.ndim
    shape = []
    for i, n in enumerate(sizes):
        have = x.shape[i - lead] if i >= lead else None
        if n == -1:
            if have is None:
                raise RuntimeError(f"expand: -1 is not allowed for the new leading dim {i}")
            n = have
        elif have is not None and have != 1 and have != n:
            raise RuntimeError(f"expand: the size of dim {i - lead} is {have} and cannot be "
                               f"expanded to {n} (shape {x.shape} to {sizes})")
        shape.append(n)
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return Expand.apply(x, shape)


def broadcast_to(x, shape):
    return expand(x, tuple(shape))


class Repeat(Function):
    """y = x tiled reps times along each dim;   dx = g summed over the tiles"""
    name = "repeat"

    @staticmethod
    def forward(ctx, x, reps):
        ctx.reps = reps
        return np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps)

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        base = (1,) * (len(ctx.reps) - x.ndim) + x.shape
        split = []
        for r, n in zip(ctx.reps, base):
            split += [r, n]
        tiles = g.reshape(split).sum(tuple(range(0, 2 * len(base), 2)))
        return tiles.reshape(x.shape)


def repeat(x, *reps):
    reps = _shape_arg(reps)
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: {len(reps)} repeats given for a tensor with {x.ndim} dims "
                           "(need at least one per dim)")
    return Repeat.apply(x, reps)


class Flip(Function):
    """y = x reversed along dims;   dx = g reversed the same way"""
    name = "flip"
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dims)


def flip(x, dims):
    if isinstance(dims, int):
        dims = (dims,)
    return Flip.apply(x, normalize_dims("flip", dims, x.ndim))


class Roll(Function):
    """y = x shifted cyclically;   dx = g shifted back"""
    name = "roll"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return g.roll(back, ctx.dims)


def roll(x, shifts, dims=None):
    if dims is None:
        return Roll.apply(x.flatten(), shifts, None).reshape(x.shape)
    if isinstance(dims, int):
        dims = (dims,)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = tuple(normalize_dim("roll", d, x.ndim) for d in dims)
    shifts = tuple(shifts)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    return Roll.apply(x, shifts, dims)


class Triangle(Function):
    """y = the lower (tril) or upper (triu) triangle of x;   dx = the same triangle of g"""
    name = "tril"

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        return Triangle.apply(g, ctx.diagonal, ctx.upper)


def tril(x, diagonal=0):
    if x.ndim < 2:
        raise RuntimeError(f"tril: expects a tensor with >= 2 dims, got shape {x.shape}")
    return Triangle.apply(x, int(diagonal), False)


def triu(x, diagonal=0):
    if x.ndim < 2:
        raise RuntimeError(f"triu: expects a tensor with >= 2 dims, got shape {x.shape}")
    return Triangle.apply(x, int(diagonal), True)


class Cat(Function):
    """y = [x_1, x_2, ...] joined along dim;   dx_k = the slice of g that x_k became"""
    name = "cat"

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        lead = (slice(None),) * ctx.dim
        for x, needed in zip(ctx.inputs, ctx.needs_input_grad):
            n = x.shape[ctx.dim]
            grads.append(g[lead + (slice(start, start + n),)] if needed else None)
            start += n
        return tuple(grads)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    if ref.ndim == 0:
        raise RuntimeError("cat: zero-dim tensors cannot be concatenated (use stack)")
    d = normalize_dim("cat", dim, ref.ndim)
    dtype = ref.dtype
    for i, x in enumerate(tensors):
        if x.ndim != ref.ndim or x.shape[:d] + x.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]:
            raise RuntimeError(f"cat: tensor {i} has shape {x.shape}, which does not match shape "
                               f"{ref.shape} of tensor 0 outside dim {d}")
        if x.dtype != dtype:
            from ..backend import result_dtype
            dtype = result_dtype(np.empty(0, dtype), np.empty(0, x.dtype))
    tensors = [x.to(dtype) for x in tensors]
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, x in enumerate(tensors):
        if x.shape != tensors[0].shape:
            raise RuntimeError(f"stack: tensor {i} has shape {x.shape}, tensor 0 has shape "
                               f"{tensors[0].shape}; stack needs equal shapes")
    d = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([x.unsqueeze(d) for x in tensors], d)


def split(x, split_size_or_sections, dim=0):
    d = normalize_dim("split", dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split: sections {sizes} sum to {sum(sizes)}, but dim {d} has "
                               f"size {n}")
    lead = (slice(None),) * d
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[normalize_dim("chunk", dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


class ConstantPad(Function):
    """y = x surrounded by a constant;   dx = the centre of g"""
    name = "pad"

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[tuple(slice(a, g.shape[i] - b) for i, (a, b) in enumerate(ctx.widths))]


_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x, pad, mode="constant", value=0.0):
    """torch.nn.functional.pad: `pad` lists (left, right) widths from the last dim backwards."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding {pad} must have an even length of at most 2 * {x.ndim}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        if any(a < 0 or b < 0 for a, b in widths):
            starts = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, x.shape))
            x = x[starts]
            widths = [(max(a, 0), max(b, 0)) for a, b in widths]
        return ConstantPad.apply(x, tuple(widths), value)
    if mode not in _NP_PAD_MODE:
        raise ValueError(f"pad: mode must be constant, reflect, replicate or circular, got "
                       f"{mode!r}")
    T = tensor_cls()
    out = x
    for d, (a, b) in enumerate(widths):
        if a == b == 0:
            continue
        n = x.shape[d]
        if a < 0 or b < 0:
            raise ValueError(f"pad: negative padding is only supported in constant mode")
        if mode == "reflect" and (a >= n or b >= n):
            raise ValueError(f"pad: reflect padding ({a}, {b}) must be smaller than the size "
                             f"{n} of dim {d}")
        if mode == "circular" and (a > n or b > n):
            raise ValueError(f"pad: circular padding ({a}, {b}) must be at most the size {n} of "
                             f"dim {d}")
        if n == 0:
            raise ValueError(f"pad: cannot {mode}-pad dim {d} of size 0")
        source = np.pad(np.arange(n), (a, b), mode=_NP_PAD_MODE[mode])
        out = out.index_select(d, T(source))
    return out
