"""unfold (im2col) and fold (col2im), torch.nn.functional's: a convolution is an unfold and a
matrix product,
    conv2d(x, W) = (W.reshape(O, -1) @ unfold(x, k)).reshape(N, O, H_out, W_out),
and fold is unfold's adjoint (it adds each column back to the pixels its block covers), so each
is the other's backward. Blocks are read with one strided view per kernel tap (ember/ops/pool.py).
Column c * kh * kw + i * kw + j of a block holds channel c at tap (i, j), as in torch.
"""
import numpy as np

from ..autograd import Function
from ._util import require_float
from .pool import _cropped, _padded, _padded_shape, _pair, _taps


class Unfold(Function):
    """y[n, (c, i, j), block] = x_padded[n, c, block's (i, j) tap];   dx = fold(g)"""
    name = "unfold"

    @staticmethod
    def forward(ctx, x, geom):
        ctx.geom = geom
        k, s, _, d, out = geom
        xp = _padded(x, geom, 0)
        cols = np.empty(x.shape[:2] + (k[0] * k[1],) + out, dtype=x.dtype)
        for t, sl in _taps(k, s, d, out):
            cols[:, :, t] = xp[sl]
        return cols.reshape(x.shape[0], -1, out[0] * out[1])

    @staticmethod
    def backward(ctx, g):
        return Fold.apply(g, ctx.geom, ctx.inputs[0].shape), None


class Fold(Function):
    """y = zeros(shape), each block's column added back at its taps (padding dropped);
    dcols = unfold(g)"""
    name = "fold"

    @staticmethod
    def forward(ctx, cols, geom, shape):
        ctx.geom = geom
        k, s, _, d, out = geom
        blocks = cols.reshape(shape[:2] + (k[0] * k[1],) + out)
        xp = np.zeros(_padded_shape(shape, geom), dtype=cols.dtype)
        for t, sl in _taps(k, s, d, out):
            xp[sl] += blocks[:, :, t]
        return _cropped(xp, geom, shape)

    @staticmethod
    def backward(ctx, g):
        return Unfold.apply(g, ctx.geom), None, None


def _geometry(name, spatial, kernel_size, dilation, padding, stride):
    k, d = _pair(name, "kernel_size", kernel_size), _pair(name, "dilation", dilation)
    p, s = _pair(name, "padding", padding), _pair(name, "stride", stride)
    if min(k) <= 0 or min(d) <= 0 or min(s) <= 0 or min(p) < 0:
        raise ValueError(f"{name}: kernel_size, dilation and stride must be positive and padding "
                         f"non-negative, got kernel_size={k}, dilation={d}, padding={p}, "
                         f"stride={s}")
    out = tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
                for n, kk, dd, pp, ss in zip(spatial, k, d, p, s))
    if min(out) <= 0:
        raise RuntimeError(f"{name}: a spatial size of {tuple(spatial)} with padding {p} is "
                           f"smaller than the kernel's reach (kernel_size={k}, dilation={d})")
    return k, s, p, d, out


def _batched(name, input, ndim):
    """input with its batch dim (added to an unbatched one), checked."""
    require_float(name, input)
    if input.ndim not in (ndim - 1, ndim):
        raise RuntimeError(f"{name}: expected a {ndim - 1}-D (unbatched) or {ndim}-D (batched) "
                           f"input, got shape {tuple(input.shape)}")
    return input if input.ndim == ndim else input.unsqueeze(0)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) or (C, H, W) -> (N, C * kh * kw, L) or (C * kh * kw, L): every sliding
    block of the (zero-padded) input as a column, L blocks."""
    name = "unfold"
    x = _batched(name, input, 4)
    y = Unfold.apply(x, _geometry(name, x.shape[2:], kernel_size, dilation, padding, stride))
    return y if input.ndim == 4 else y.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C * kh * kw, L) or (C * kh * kw, L) -> (N, C, *output_size) or (C, *output_size):
    each column added back over its block (overlaps add up); the adjoint of unfold."""
    name = "fold"
    cols = _batched(name, input, 3)
    size = _pair(name, "output_size", output_size)
    geom = _geometry(name, size, kernel_size, dilation, padding, stride)
    k, out = geom[0], geom[4]
    taps, blocks = k[0] * k[1], out[0] * out[1]
    if cols.shape[1] % taps:
        raise RuntimeError(f"{name}: expected size of input's dimension 1 to be divisible by "
                           f"the product of kernel_size ({taps}), but got {cols.shape[1]}")
    if cols.shape[2] != blocks:
        raise RuntimeError(f"{name}: expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {out[0]} * {out[1]} = "
                           f"{blocks}, but got {cols.shape[2]}")
    y = Fold.apply(cols, geom, (cols.shape[0], cols.shape[1] // taps) + size)
    return y if input.ndim == 3 else y.squeeze(0)
