"""Shape ops: reshape/view, permute/transpose, squeeze/unsqueeze, expand, repeat, flip, roll,
tril/triu, cat/stack/split and pad. Forward moves data (most are views); backward moves the
gradient back the same way."""
import numpy as np

from ..autograd import Function
from ..backend import result_dtype
from ._util import normalize_dim, normalize_dims, tensor_cls, unbroadcast, unbroadcast_array


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

    @staticmethod
    def array_backward(ctx, g):
        return g.reshape(ctx.inputs[0]._data.shape)


class ReshapeCopy(Reshape):
    """Reshape where the strides allow no view (a transposed input): the result is a copy, so
    it has its own version counter, as in PyTorch's reshape."""
    is_view = False


def _reshapes_to_view(a, shape):
    if a.flags.c_contiguous:
        return True
    try:
        np.reshape(a, shape, copy=False)
    except ValueError:
        return False
    except TypeError:  # NumPy < 2.1 has no copy=: assume a view (the safe side for versions)
        return True
    return True


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
    if shape == x.shape:
        return x
    return (Reshape if _reshapes_to_view(x._data, shape) else ReshapeCopy).apply(x, shape)


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
    sizes = tuple(int(n) for n in sizes)
    known = int(np.prod([n for n in sizes if n != -1]))
    n = x.shape[d] if x.ndim else 1
    if sizes.count(-1) > 1 or (-1 in sizes and (known == 0 or n % known)) or (
            -1 not in sizes and known != n):
        raise RuntimeError(f"unflatten: sizes {sizes} do not multiply up to the size {n} of dim "
                           f"{d} (shape {x.shape})")
    sizes = tuple(n // known if s == -1 else s for s in sizes)  # reshape can't when x is empty
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


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

    @staticmethod
    def array_backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.dims))


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

    @staticmethod
    def array_backward(ctx, g):
        return unbroadcast_array(g, ctx.inputs[0]._data.shape)


def expand(x, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand: {len(sizes)} sizes given for a tensor with {x.ndim} dims")
    lead = len(sizes) - x.ndim
    shape = []
    for i, n in enumerate(sizes):
        have = x.shape[i - lead] if i >= lead else None
        if n < -1:
            raise RuntimeError(f"expand: invalid size {n} for dim {i} (sizes {sizes})")
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
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {reps}")
    return Repeat.apply(x, reps)


class Flip(Function):
    """y = x reversed along dims (a copy, as in PyTorch);   dx = g reversed the same way"""
    name = "flip"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

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
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(map(int, shifts))
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one number, got {shifts}")
        return Roll.apply(x.flatten(), shifts[0], None).reshape(x.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if x.ndim == 0:
        raise IndexError(f"roll: dims {dims} given for a 0-dim tensor (use dims=None)")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    dims = tuple(normalize_dim("roll", d, x.ndim) for d in dims)
    return Roll.apply(x, shifts, dims)


class Tril(Function):
    """y_ij = x_ij if j - i <= diagonal else 0 (last two dims);   dx = tril(g)"""
    name = "tril"

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        return Tril.apply(g, ctx.diagonal)


class Triu(Function):
    """y_ij = x_ij if j - i >= diagonal else 0 (last two dims);   dx = triu(g)"""
    name = "triu"

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return np.triu(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        return Triu.apply(g, ctx.diagonal)


def tril(x, diagonal=0):
    if x.ndim < 2:
        raise RuntimeError(f"tril: expects a tensor with >= 2 dims, got shape {x.shape}")
    return Tril.apply(x, int(diagonal))


def triu(x, diagonal=0):
    if x.ndim < 2:
        raise RuntimeError(f"triu: expects a tensor with >= 2 dims, got shape {x.shape}")
    return Triu.apply(x, int(diagonal))


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
    T = tensor_cls()
    for i, x in enumerate(tensors):
        if not isinstance(x, T):
            raise TypeError(f"cat: expected a sequence of Tensors, got {type(x).__name__} at "
                            f"position {i}")
        if x.ndim == 0:
            raise RuntimeError(f"cat: zero-dim tensor at position {i} cannot be concatenated "
                               "(use stack)")
    dtype = tensors[0].dtype
    for x in tensors[1:]:
        if x.dtype != dtype:
            dtype = result_dtype(np.empty(0, dtype), np.empty(0, x.dtype))
    # PyTorch's legacy rule: a 1-D empty tensor joins anything (x = cat([x, y]) from tensor([]))
    kept = ([(i, x) for i, x in enumerate(tensors) if x.shape != (0,)]
            or list(enumerate(tensors)))
    i0, ref = kept[0]
    d = normalize_dim("cat", dim, ref.ndim)
    for i, x in kept:
        if x.ndim != ref.ndim or x.shape[:d] + x.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]:
            raise RuntimeError(f"cat: tensor {i} has shape {x.shape}, which does not match shape "
                               f"{ref.shape} of tensor {i0} outside dim {d}")
    return Cat.apply(*[x.to(dtype) for _, x in kept], dim=d)


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
    if x.ndim == 0:
        raise RuntimeError("split: expects a tensor with at least 1 dim, got a 0-dim tensor")
    d = normalize_dim("split", dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n):
            raise ValueError(f"split: split_size must be positive, got {size} for dim {d} of "
                             f"size {n}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise ValueError(f"split: sections {sizes} must be non-negative")
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
    if x.ndim == 0:
        raise RuntimeError("chunk: expects a tensor with at least 1 dim, got a 0-dim tensor")
    n = x.shape[normalize_dim("chunk", dim, x.ndim)]
    if n == 0:  # PyTorch: `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


class ConstantPad(Function):
    """y = x surrounded by a constant;   dx = the centre of g"""
    name = "pad"

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        if not widths:  # a 0-dim tensor
            return x.copy()
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
    if mode not in ("constant",) + tuple(_NP_PAD_MODE):
        raise ValueError(f"pad: mode must be constant, reflect, replicate or circular, got "
                         f"{mode!r}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode in ("constant", "circular") and any(a < 0 or b < 0 for a, b in widths):
        for d, ((a, b), n) in enumerate(zip(widths, x.shape)):
            if max(-a, 0) + max(-b, 0) > n:
                raise ValueError(f"pad: negative padding ({a}, {b}) crops more than the size {n} "
                                 f"of dim {d}")
        x = x[tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, x.shape))]
        widths = [(max(a, 0), max(b, 0)) for a, b in widths]
    if mode == "constant":
        return ConstantPad.apply(x, tuple(widths), 0.0 if value is None else value)
    T = tensor_cls()
    out = x
    for d, (a, b) in enumerate(widths):
        if a == b == 0:
            continue
        n = x.shape[d]
        if a < 0 or b < 0:
            raise ValueError(f"pad: negative padding is only supported in constant and "
                             f"circular modes, got ({a}, {b}) in {mode} mode")
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


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block."""
    r = int(upscale_factor)
    if input.ndim < 3 or r < 1 or input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle: expected an input of at least 3 dims whose channels "
                           f"divide by upscale_factor^2 = {r * r}, got shape {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    k = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): pixel_shuffle undone."""
    r = int(downscale_factor)
    if input.ndim < 3 or r < 1 or input.shape[-2] % r or input.shape[-1] % r:
        raise RuntimeError(f"pixel_unshuffle: expected an input of at least 3 dims whose height "
                           f"and width divide by downscale_factor = {r}, got shape "
                           f"{tuple(input.shape)}")
    *lead, c, hr, wr = input.shape
    k = len(lead)
    x = input.reshape(tuple(lead) + (c, hr // r, r, wr // r, r))
    x = x.permute(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return x.reshape(tuple(lead) + (c * r * r, hr // r, wr // r))


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims, from the first towards the second."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 dims, got {len(dims)}")
    d0, d1 = (normalize_dim("rot90", d, input.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: the two dims must differ, got {tuple(dims)}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip((d0, d1))
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()
