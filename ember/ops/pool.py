"""Pooling and upsampling: max pool, average pool, adaptive average pool, nearest interpolation.

Every window op here reads its input through strided views, one per kernel tap: for tap (i, j)
the view xp[..., i*d :: s, j*d :: s] holds that tap's input element for every window at once,
so a kxk pool is k*k whole-array operations, never a loop over batch, channels or pixels.
Output size per spatial dim (PyTorch's rule):
    out = floor_or_ceil((n + 2p - d(k-1) - 1) / s) + 1,  and in ceil mode the last window must
    start inside the input or its left padding.
"""
import math

import numpy as np

from ..autograd import Function, Node
from ._util import require_float, tensor_cls


# ---- window geometry ---------------------------------------------------------------------------

def _pair(name, what, v, n=2):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(v)
    if len(v) == 1:
        return (int(v[0]),) * n
    if len(v) != n or not all(isinstance(a, (int, np.integer)) for a in v):
        raise TypeError(f"{name}: {what} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(a) for a in v)


def _no_stride(stride):
    """PyTorch's stride default: None (or an empty list) means stride = kernel_size."""
    return stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)


def _out_size(n, k, s, p, d, ceil_mode):
    num = n + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _geometry(name, x, kernel_size, stride, padding, dilation, ceil_mode, max_pad):
    """(k, s, p, d, out) per spatial dim, checked as PyTorch checks them."""
    if x.ndim not in (3, 4):
        raise RuntimeError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                           f"shape {x.shape}")
    k = _pair(name, "kernel_size", kernel_size)
    s = k if _no_stride(stride) else _pair(name, "stride", stride)
    p = _pair(name, "padding", padding)
    d = _pair(name, "dilation", dilation)
    if min(k) <= 0 or min(s) <= 0 or min(d) <= 0:
        raise RuntimeError(f"{name}: kernel_size, stride and dilation must be positive, got "
                           f"kernel_size={k}, stride={s}, dilation={d}")
    for kk, pp, dd in zip(k, p, d):
        if pp < 0 or pp > max_pad(kk, dd) / 2:
            raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, "
                               f"but got pad={pp}, kernel_size={kk} and dilation={dd}")
    spatial = x.shape[-2:]
    out = tuple(_out_size(n, kk, ss, pp, dd, ceil_mode)
                for n, kk, ss, pp, dd in zip(spatial, k, s, p, d))
    if min(out) < 1:
        raise RuntimeError(f"{name}: input of shape {x.shape} is too small for kernel_size={k}, "
                           f"stride={s}, padding={p}, dilation={d} (output size {out})")
    return k, s, p, d, out


def _padded_shape(shape, geom):
    """The shape of an input padded on the left by p and on the right to the extent the windows
    reach (or its own size, if that is larger)."""
    k, s, p, d, out = geom
    return tuple(shape[:-2]) + tuple(max((o - 1) * ss + dd * (kk - 1) + 1, pp + n)
                                     for n, o, kk, ss, dd, pp in zip(shape[-2:], out, k, s, d, p))


def _padded(x, geom, fill):
    """x padded (see _padded_shape) with `fill`; x itself where no padding is needed."""
    p, padded = geom[2], _padded_shape(x.shape, geom)
    if padded == x.shape:
        return x
    H, W = x.shape[-2:]
    xp = np.full(padded, fill, dtype=x.dtype)
    xp[..., p[0]:p[0] + H, p[1]:p[1] + W] = x
    return xp


def _cropped(xp, geom, shape):
    """The inverse of _padded: the input-sized part of a padded array, contiguous."""
    p, (H, W) = geom[2], shape[-2:]
    if xp.shape == tuple(shape):
        return xp
    return np.ascontiguousarray(xp[..., p[0]:p[0] + H, p[1]:p[1] + W])


def _taps(k, s, d, out):
    """For each kernel tap (i, j): its number and the slices of the padded input it reads."""
    for i in range(k[0]):
        for j in range(k[1]):
            yield (i * k[1] + j,
                   (Ellipsis,
                    slice(i * d[0], i * d[0] + (out[0] - 1) * s[0] + 1, s[0]),
                    slice(j * d[1], j * d[1] + (out[1] - 1) * s[1] + 1, s[1])))


# ---- max pool ----------------------------------------------------------------------------------

class MaxPool2d(Function):
    """y = max over each window of x (padding counts as -inf);   dx = g placed at the argmax
    (ties: the first tap; NaN wins, as in PyTorch)"""
    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, geom, keep=None):
        k, s, p, d, out = geom
        xp = _padded(x, geom, -np.inf)
        views = [xp[sl] for _, sl in _taps(k, s, d, out)]
        if np.isnan(np.sum(x)):  # a NaN (or inf - inf) somewhere: the careful path
            best, arg = _max_with_nan(views)
        else:
            best = views[0].copy()
            for v in views[1:]:
                np.maximum(best, v, out=best)
            if keep is None and not isinstance(ctx, Node):  # no graph, no indices asked for
                return best
            # the first tap holding the max = the number of taps before it that do not
            arg = np.zeros(best.shape, dtype=np.uint8 if len(views) < 256 else np.int32)
            before = np.ones(best.shape, dtype=bool)
            for v in views[:-1]:
                np.logical_and(before, v != best, out=before)
                np.add(arg, before, out=arg, casting="unsafe")
        ctx.geom, ctx.arg = geom, arg
        if keep is not None:  # the argmax tap -> its flat position in its (H, W) plane
            W = x.shape[-1]
            rows = (np.arange(out[0]) * s[0] - p[0])[:, None]
            cols = (np.arange(out[1]) * s[1] - p[1])[None, :]
            ti, tj = np.divmod(arg.astype(np.int64), k[1])
            keep.append((rows + ti * d[0]) * W + cols + tj * d[1])
        return best

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        return MaxPoolScatter.apply(g, ctx.arg, ctx.geom, x.shape), None, None


def _max_with_nan(views):
    """Max and first argmax over the taps, where NaN beats everything and a later NaN beats an
    earlier one (PyTorch's `val > max || isnan(val)`)."""
    best = views[0].copy()
    arg = np.zeros(best.shape, dtype=np.uint8 if len(views) < 256 else np.int32)
    for t, v in enumerate(views[1:], 1):
        take = (v > best) | np.isnan(v)
        best[take] = v[take]
        arg[take] = t
    return best, arg


class MaxPoolScatter(Function):
    """y = zeros(input shape), then g added at each window's argmax (max pool's backward);
    dg = gg read at each window's argmax (MaxPoolGather; the two are each other's adjoint)"""
    name = "max_pool_backward"

    @staticmethod
    def forward(ctx, g, arg, geom, shape):
        ctx.arg, ctx.geom = arg, geom
        k, s, _, d, out = geom
        gp = np.zeros(_padded_shape(shape, geom), g.dtype)
        overlap = any(ss < dd * (kk - 1) + 1 for kk, ss, dd in zip(k, s, d))
        for t, sl in _taps(k, s, d, out):
            if overlap:  # one input can be the max of several windows: add up
                gp[sl] += (arg == t) * g
            else:  # each input is in one window at most: write
                np.multiply(arg == t, g, out=gp[sl])
        return _cropped(gp, geom, shape)

    @staticmethod
    def backward(ctx, gg):
        return MaxPoolGather.apply(gg, ctx.arg, ctx.geom), None, None, None


class MaxPoolGather(Function):
    """y = x read at each window's argmax tap;   dx = y's gradient scattered back there"""
    name = "max_pool_gather"

    @staticmethod
    def forward(ctx, x, arg, geom):
        ctx.arg, ctx.geom = arg, geom
        k, s, _, d, out = geom
        xp = _padded(x, geom, 0)
        y = np.zeros(arg.shape, dtype=x.dtype)
        for t, sl in _taps(k, s, d, out):
            y += (arg == t) * xp[sl]
        return y

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        return MaxPoolScatter.apply(g, ctx.arg, ctx.geom, x.shape), None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kxk windows of a (C, H, W) or (N, C, H, W) input; with return_indices also the
    flat position of each max in its (H, W) plane (int64)."""
    require_float("max_pool2d", input)
    geom = _geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     lambda k, d: d * (k - 1) + 1)
    if not return_indices:
        return MaxPool2d.apply(input, geom)
    keep = []
    out = MaxPool2d.apply(input, geom, keep)
    return out, tensor_cls()(keep[0])


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of length k of a (C, L) or (N, C, L) input (a max_pool2d of height 1)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got "
                           f"shape {input.shape}")
    one = lambda name, v: _pair("max_pool1d", name, v, 1)[0]  # noqa: E731
    k = one("kernel_size", kernel_size)
    s = k if _no_stride(stride) else one("stride", stride)
    res = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, one("padding", padding)),
                     (1, one("dilation", dilation)), ceil_mode, return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


# ---- average pool ------------------------------------------------------------------------------

def _avg_divisors(shape, geom, ceil_mode, count_include_pad, divisor_override, dtype):
    """1 / (number of elements averaged) for each output position (PyTorch's rule: a window is
    clipped to the padded input; without count_include_pad, to the input itself)."""
    if divisor_override:
        return np.asarray(1.0 / divisor_override, dtype=dtype)
    k, s, p, d, out = geom
    pad = (0, 0) if not count_include_pad else p
    if all((o - 1) * ss - pp + kk <= n + q and (q or not pp)  # every window is whole
           for n, kk, ss, pp, o, q in zip(shape[-2:], k, s, p, out, pad)):
        return np.asarray(1.0 / (k[0] * k[1]), dtype=dtype)
    sizes = []
    for n, kk, ss, pp, o in zip(shape[-2:], k, s, p, out):
        start = np.arange(o) * ss - pp
        end = np.minimum(start + kk, n + pp)
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(np.minimum(end, n) - np.maximum(start, 0))
    return (1.0 / (sizes[0][:, None] * sizes[1][None, :])).astype(dtype)


class AvgPool2d(Function):
    """y = (sum of x over each window) / divisor;   dx = g / divisor spread back over each
    window (AvgPoolScatter; the two are each other's adjoint)"""
    name = "avg_pool2d"

    @staticmethod
    def forward(ctx, x, geom, inv_div):
        ctx.geom, ctx.inv_div = geom, inv_div
        k, s, _, d, out = geom
        xp = _padded(x, geom, 0)
        total = None
        for _, sl in _taps(k, s, d, out):
            total = xp[sl].copy() if total is None else np.add(total, xp[sl], out=total)
        total *= inv_div
        return total

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        return AvgPoolScatter.apply(g, ctx.geom, ctx.inv_div, x.shape), None, None


class AvgPoolScatter(Function):
    """y = g / divisor added into every input position of its window (avg pool's backward);
    dg = avg_pool2d(gg)"""
    name = "avg_pool_backward"

    @staticmethod
    def forward(ctx, g, geom, inv_div, shape):
        ctx.geom, ctx.inv_div = geom, inv_div
        k, s, _, d, out = geom
        gp = np.zeros(_padded_shape(shape, geom), g.dtype)
        gs = g * inv_div
        for _, sl in _taps(k, s, d, out):
            gp[sl] += gs
        return _cropped(gp, geom, shape)

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.apply(gg, ctx.geom, ctx.inv_div), None, None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kxk windows of a (C, H, W) or (N, C, H, W) input; zero padding counts in the
    mean when count_include_pad."""
    require_float("avg_pool2d", input)
    geom = _geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode,
                     lambda k, d: k)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    inv_div = _avg_divisors(input.shape, geom, ceil_mode, count_include_pad, divisor_override,
                            input.dtype)
    return AvgPool2d.apply(input, geom, inv_div)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True):
    """Mean over windows of k along the last dim of (C, L) or (N, C, L): avg_pool2d on (.., 1, L)."""
    def flat(v):  # k or (k,) -> (1, k): the height of the (.., 1, L) view is one
        return (1, v if isinstance(v, (int, np.integer)) else v[0])

    y = avg_pool2d(input.unsqueeze(-2), flat(kernel_size),
                   None if stride is None else flat(stride), (0, flat(padding)[1]), ceil_mode,
                   count_include_pad)
    return y.squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Average (C, L) or (N, C, L) into output_size bins along L."""
    size = output_size if isinstance(output_size, (int, np.integer)) else output_size[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


# ---- adaptive average pool ---------------------------------------------------------------------

def _adaptive_matrix(n, o, dtype):
    """A (o, n) with A[i, start:end] = 1 / (end - start), start = floor(i n / o),
    end = ceil((i + 1) n / o): A @ v averages v over each of o bins."""
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    cols = np.arange(n)
    inside = (cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _sandwich(x, left, right):
    """left @ x @ right^T over the last two dims of x, as two plain 2-D GEMMs (one batched
    matmul of many tiny matrices is far slower)."""
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    ow, oh = right.shape[0], left.shape[0]
    n = int(np.prod(lead))
    if oh == ow == 1:  # one output per plane (global pooling): one weighted sum, a GEMV
        weights = np.outer(left[0], right[0]).reshape(h * w)
        return (np.ascontiguousarray(x).reshape(n, h * w) @ weights).reshape(lead + (1, 1))
    if h == w == 1:  # its backward: one broadcast product
        return x * np.outer(left[:, 0], right[:, 0])
    y = np.ascontiguousarray(x).reshape(n * h, w) @ right.T  # (lead h, ow)
    y = y.reshape(n, h, ow).transpose(0, 2, 1).reshape(n * ow, h) @ left.T  # (lead ow, oh)
    return np.ascontiguousarray(y.reshape(n, ow, oh).transpose(0, 2, 1)).reshape(
        lead + (oh, ow))


class AdaptiveAvgPool2d(Function):
    """y = A_h x A_w^T (A: the bin-averaging matrices);   dx = A_h^T g A_w
    (its `adjoint`, AdaptiveAvgPoolScatter; the two are each other's adjoint)"""
    name = "adaptive_avg_pool2d"

    @staticmethod
    def forward(ctx, x, a_h, a_w):
        ctx.a_h, ctx.a_w = a_h, a_w
        return _sandwich(x, a_h, a_w)

    @staticmethod
    def backward(ctx, g):
        return ctx.fn.adjoint.apply(g, ctx.a_h, ctx.a_w), None, None


class AdaptiveAvgPoolScatter(Function):
    """y = A_h^T g A_w (adaptive avg pool's backward);   dg = A_h gg A_w^T"""
    name = "adaptive_avg_pool_backward"

    @staticmethod
    def forward(ctx, g, a_h, a_w):
        ctx.a_h, ctx.a_w = a_h, a_w
        return _sandwich(g, a_h.T, a_w.T)

    backward = AdaptiveAvgPool2d.backward


AdaptiveAvgPool2d.adjoint, AdaptiveAvgPoolScatter.adjoint = AdaptiveAvgPoolScatter, AdaptiveAvgPool2d


class UpsampleLinear(AdaptiveAvgPool2d):
    """Linear / bilinear interpolation: y = A_h x A_w^T with the interpolation matrices (each row
    has 1 - t and t at the two nearest sources);   dx = A_h^T g A_w"""
    name = "upsample_linear"


class UpsampleLinearScatter(AdaptiveAvgPoolScatter):
    """Linear interpolation's backward: y = A_h^T g A_w;   dg = A_h gg A_w^T"""
    name = "upsample_linear_backward"


UpsampleLinear.adjoint, UpsampleLinearScatter.adjoint = UpsampleLinearScatter, UpsampleLinear


def adaptive_avg_pool2d(input, output_size):
    """Average a (C, H, W) or (N, C, H, W) input into output_size bins (None keeps that dim)."""
    require_float("adaptive_avg_pool2d", input)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape "
                           f"{input.shape}")
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, input.shape[-2:]))
    if len(out) != 2 or min(out) < 0:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be 2 non-negative ints, got "
                         f"{output_size!r}")
    if min(input.shape[-2:]) == 0:
        raise RuntimeError(f"adaptive_avg_pool2d: input of shape {input.shape} has an empty "
                           "spatial dim")
    a_h = _adaptive_matrix(input.shape[-2], out[0], input.dtype)
    a_w = _adaptive_matrix(input.shape[-1], out[1], input.dtype)
    return AdaptiveAvgPool2d.apply(input, a_h, a_w)


# ---- nearest upsampling ------------------------------------------------------------------------

def _nearest_index(n, o, scale):
    """PyTorch's nearest source index: min(floor(i * scale), n - 1), scale = 1 / scale_factor
    when given, else n / o (in float32, as PyTorch computes it)."""
    if o == n:
        return np.arange(o)
    s = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(o)
    return np.minimum(np.floor(np.arange(o, dtype=np.float32) * s).astype(np.intp), n - 1)


class UpsampleNearest(Function):
    """y[..., i, j] = x[..., src_h[i], src_w[j]];   dx = g summed over the outputs that read
    each input (one one-hot matmul per spatial dim)"""
    name = "upsample_nearest"

    @staticmethod
    def forward(ctx, x, sources):
        ctx.sources = sources
        y = x
        nd = len(sources)
        for axis, src in zip(range(x.ndim - nd, x.ndim), sources):
            y = np.take(y, src, axis=axis)
        return y

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        T = tensor_cls()
        nd = len(ctx.sources)
        for axis, (n, src) in zip(range(x.ndim - nd, x.ndim), zip(x.shape[-nd:], ctx.sources)):
            onehot = np.zeros((len(src), n), dtype=g.dtype)
            onehot[np.arange(len(src)), src] = 1
            g = (g.transpose(axis, -1) @ T(onehot)).transpose(axis, -1)
        return g, None


def _linear_matrix(n, o, scale, align_corners, dtype):
    """A (o, n): row i holds 1 - t at floor(s) and t at floor(s) + 1 (clamped to n - 1), where s
    is PyTorch's source coordinate: i (n - 1) / (o - 1) with align_corners, else
    max((i + 0.5) r - 0.5, 0), r = 1 / scale_factor when given, else n / o."""
    i = np.arange(o, dtype=np.float64)
    if align_corners:
        src = i * ((n - 1) / (o - 1)) if o > 1 else np.zeros(o)
    else:
        r = 1.0 / scale if scale else n / o
        src = np.maximum((i + 0.5) * r - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.intp), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    t = src - lo
    a = np.zeros((o, n))
    np.add.at(a, (np.arange(o), lo), 1.0 - t)
    np.add.at(a, (np.arange(o), hi), t)
    return a.astype(dtype)


_LINEAR_MODES = {"linear": 3, "bilinear": 4}  # mode: the input's ndim


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input:
    mode 'nearest' (any of them), 'linear' (N, C, L), 'bilinear' (N, C, H, W) with PyTorch's
    align_corners, or 'area' (adaptive average pooling; 3-D and 4-D)."""
    if mode not in ("nearest", "area", *_LINEAR_MODES):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented in ember "
                                  "(nearest, linear, bilinear, area)")
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if mode in _LINEAR_MODES and input.ndim != _LINEAR_MODES[mode]:
        raise NotImplementedError(f"interpolate: got a {input.ndim}-D input, but mode {mode!r} "
                                  f"needs a {_LINEAR_MODES[mode]}-D one")
    if mode == "area" and input.ndim not in (3, 4):
        raise NotImplementedError(f"interpolate: mode 'area' needs a 3-D or 4-D input, got "
                                  f"shape {input.shape}")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: expected a 3-D, 4-D or 5-D input, got shape "
                                  f"{input.shape}")
    nd = input.ndim - 2
    spatial = input.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(sizes) != nd:
            raise ValueError(f"interpolate: input of shape {input.shape} has {nd} spatial "
                             f"dims, but size={size!r} names {len(sizes)}")
        scales = (None,) * nd
    else:
        scales = (tuple(float(f) for f in scale_factor)
                  if isinstance(scale_factor, (tuple, list)) else (float(scale_factor),) * nd)
        if len(scales) != nd:
            raise ValueError(f"interpolate: input of shape {input.shape} has {nd} spatial "
                             f"dims, but scale_factor={scale_factor!r} names {len(scales)}")
        sizes = tuple(math.floor(n * f) for n, f in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if min(sizes) <= 0:
        raise ValueError(f"interpolate: output size {sizes} must be positive (input shape "
                         f"{input.shape})")
    if mode == "area":
        if nd == 1:
            return adaptive_avg_pool2d(input.unsqueeze(2), (1, sizes[0])).squeeze(2)
        return adaptive_avg_pool2d(input, sizes)
    if mode in _LINEAR_MODES:
        require_float("interpolate", input)
        mats = [_linear_matrix(n, o, f, align_corners, input.dtype)
                for n, o, f in zip(spatial, sizes, scales)]
        if nd == 1:
            return UpsampleLinear.apply(input.unsqueeze(2), np.ones((1, 1), input.dtype),
                                        mats[0]).squeeze(2)
        return UpsampleLinear.apply(input, *mats)
    sources = tuple(_nearest_index(n, o, f) for n, o, f in zip(spatial, sizes, scales))
    return UpsampleNearest.apply(input, sources)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "nearest")
