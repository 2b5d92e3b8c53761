"""Normalization: batch_norm, layer_norm, group_norm, and channel dropout (dropout2d).

batch_norm and layer_norm are one fused node each. Both normalize x over some dims,
    xhat = (x - mean) / sqrt(var + eps)    (var biased),    y = w xhat + b,
and their backward is the closed form of the chain rule through mean and var:
    dx = invstd (gx - mean(gx) - xhat mean(gx xhat)),   gx = w g,   means over the normalized dims
    dw = sum(g xhat),   db = sum(g),                     sums over the dims w is broadcast along
(batch_norm's w is constant over its normalized dims, so it factors out of the means there).
Backward is written in ember ops. With create_graph on it rebuilds xhat from x in ember ops first,
so that the graph of the gradient sees how xhat depends on x and double backward is exact; without
it, it reuses the xhat that forward saved. group_norm is a reshape around the layer-norm node.
"""
import numpy as np

from ..autograd import Function, bump_version, is_grad_enabled
from ..backend import rng
from ._util import require_float, tensor_cls


def _x_hat_graph(x, dims, eps):
    """xhat and invstd rebuilt from the tensor x in ember ops (for create_graph)."""
    xc = x - x.mean(dims, keepdim=True)
    invstd = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    return xc * invstd, invstd


def _sum(t, dims):
    """t summed over dims; no dims is no sum (ember's sum(()) would sum every dim)."""
    return t.sum(dims) if dims else t


def _stats(x, dims, eps):
    """Biased mean and var over dims (kept as size 1), the centred x and 1 / sqrt(var + eps)."""
    mean = x.mean(axis=dims, keepdims=True)
    xc = np.subtract(x, mean)
    var = np.mean(np.square(xc), axis=dims, keepdims=True)
    invstd = 1.0 / np.sqrt(var + eps)
    return mean, var, xc, invstd.astype(x.dtype, copy=False)


def _affine(x_hat, w, b, shape):
    """w xhat + b with w and b viewed as `shape` (a new array: backward keeps x_hat)."""
    if w is None and b is None:
        return x_hat
    y = x_hat * w.reshape(shape) if w is not None else x_hat.copy()
    if b is not None:
        y += b.reshape(shape)
    return y


class BatchNorm(Function):
    """y = w (x - mean) / sqrt(var + eps) + b per channel (dim 1); mean and var over the batch
    and spatial dims in training (and the running stats updated in place), the running stats in
    eval.   dx, dw, db: see the module docstring (in eval dx = w invstd g)."""
    name = "batch_norm"

    @staticmethod
    def forward(ctx, x, w, b, running_mean, running_var, training, momentum, eps):
        dims = (0,) + tuple(range(2, x.ndim))
        shape = (x.shape[1],) + (1,) * (x.ndim - 2)
        if training:
            mean, var, xc, invstd = _stats(x, dims, eps)
            if running_mean is not None:
                n = x.size // x.shape[1]
                unbiased = var.reshape(-1) * (n / max(n - 1, 1))
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(-1).astype(running_mean.dtype)
                running_var *= 1 - momentum
                running_var += momentum * unbiased.astype(running_var.dtype)
        else:
            mean = running_mean.reshape(shape).astype(x.dtype, copy=False)
            invstd = (1.0 / np.sqrt(running_var.reshape(shape) + eps)).astype(x.dtype, copy=False)
            xc = np.subtract(x, mean)
        x_hat = np.multiply(xc, invstd, out=xc)
        ctx.dims, ctx.shape, ctx.training, ctx.eps = dims, shape, training, eps
        ctx.save_for_backward(x, x_hat, invstd, mean, *(() if w is None else (w,)))
        return _affine(x_hat, w, b, shape)

    @staticmethod
    def backward(ctx, g):
        """w is one number per channel, so it factors out of the channel means:
            dx = w invstd (g - sum(g) / n - xhat sum(g xhat) / n)   in training,
            dx = w invstd g                                          in eval,
        and sum(g) and sum(g xhat) are db and dw too. Five full-size array ops in all."""
        x, x_hat, invstd, mean, *w = ctx.saved_tensors
        w = w[0] if w else None
        dims, shape = ctx.dims, ctx.shape
        if is_grad_enabled():  # create_graph: xhat as a function of x, for double backward
            if ctx.training:
                x_hat, invstd = _x_hat_graph(x, dims, ctx.eps)
            else:
                x_hat = (x - mean) * invstd
        scale = invstd if w is None else invstd * w.reshape(shape)
        need_w = w is not None and ctx.needs_input_grad[1]
        sum_g = g.sum(dims, keepdim=True) if ctx.training or ctx.needs_input_grad[2] else None
        sum_gx = (g * x_hat).sum(dims, keepdim=True) if ctx.training or need_w else None
        dx = g * scale
        if ctx.training:
            n = x_hat.numel() // x_hat.shape[1]
            dx = dx - x_hat * (scale * sum_gx * (1.0 / n)) - scale * sum_g * (1.0 / n)
        dw = sum_gx.reshape(-1) if need_w else None
        db = sum_g.reshape(-1) if ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None, None, None, None


class LayerNorm(Function):
    """y = w (x - mean) / sqrt(var + eps) + b, mean and var over the last k dims, w and b of the
    shape of those dims.   dx, dw, db: see the module docstring."""
    name = "layer_norm"

    @staticmethod
    def forward(ctx, x, w, b, k, eps):
        dims = tuple(range(x.ndim - k, x.ndim))
        _, _, xc, invstd = _stats(x, dims, eps)
        x_hat = np.multiply(xc, invstd, out=xc)
        ctx.dims, ctx.lead, ctx.eps = dims, tuple(range(x.ndim - k)), eps
        ctx.save_for_backward(x, x_hat, invstd, *(() if w is None else (w,)))
        return _affine(x_hat, w, b, x.shape[x.ndim - k:])

    @staticmethod
    def backward(ctx, g):
        x, x_hat, invstd, *w = ctx.saved_tensors
        w = w[0] if w else None
        dims, lead = ctx.dims, ctx.lead
        if is_grad_enabled():  # create_graph: xhat as a function of x, for double backward
            x_hat, invstd = _x_hat_graph(x, dims, ctx.eps)
        gx = g if w is None else g * w
        dx = invstd * (gx - gx.mean(dims, keepdim=True)
                       - x_hat * (gx * x_hat).mean(dims, keepdim=True))
        dw = _sum(g * x_hat, lead) if w is not None and ctx.needs_input_grad[1] else None
        db = _sum(g, lead) if ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None


# ---- the functional forms ---------------------------------------------------------------------

def _check_param(name, what, p, shape, x):
    if p is not None and tuple(p.shape) != tuple(shape):
        raise RuntimeError(f"{name}: {what} has shape {tuple(p.shape)}, expected {tuple(shape)} "
                           f"for an input of shape {tuple(x.shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) of (N, C), (N, C, L) or (N, C, H, W). In training the batch
    statistics are used and the running stats (when given) are updated in place:
        running = (1 - momentum) running + momentum stat   (the variance unbiased, N/(N-1)).
    Otherwise the running stats are used."""
    require_float("batch_norm", input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dims (N, C, ...), got "
                         f"shape {tuple(input.shape)}")
    c = input.shape[1]
    for what, p in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_param("batch_norm", what, p, (c,), input)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be given in eval mode "
                           "(training=False)")
    if training and input.numel() // max(c, 1) <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got "
                         f"input of shape {tuple(input.shape)}")
    if momentum is None:
        raise TypeError("batch_norm: momentum must be a float (momentum=None, the cumulative "
                        "average, is BatchNorm's: it passes 1 / num_batches_tracked)")
    out = BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                          float(momentum), float(eps))
    if training:
        bump_version(*(t for t in (running_mean, running_var) if t is not None))
    return out


def _normalized_shape(name, normalized_shape, x):
    shape = ((normalized_shape,) if isinstance(normalized_shape, (int, np.integer))
             else tuple(normalized_shape))
    k = len(shape)
    if k == 0 or k > x.ndim or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"{name}: normalized_shape {shape} does not match the last dims of the "
                           f"input of shape {tuple(x.shape)}")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last len(normalized_shape) dims of each sample."""
    require_float("layer_norm", input)
    shape = _normalized_shape("layer_norm", normalized_shape, input)
    _check_param("layer_norm", "weight", weight, shape, input)
    _check_param("layer_norm", "bias", bias, shape, input)
    return LayerNorm.apply(input, weight, bias, len(shape), float(eps))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) of (N, C, *) over its own spatial dims; then w and b per
    channel. PyTorch's way: batch norm of the (1, N C, *) reshape, the running stats (when given)
    repeated per sample and averaged back after the update."""
    require_float("instance_norm", input)
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input with at least 3 dims (N, C, ...), got "
                         f"shape {tuple(input.shape)}")
    n, c = input.shape[:2]

    def per_instance(t):
        return None if t is None else t.repeat(n)

    rm, rv = per_instance(running_mean), per_instance(running_var)
    out = batch_norm(input.reshape((1, n * c) + tuple(input.shape[2:])), rm, rv,
                     per_instance(weight), per_instance(bias), use_input_stats, momentum, eps)
    if use_input_stats:
        for stats, t in ((running_mean, rm), (running_var, rv)):
            if stats is not None:
                stats._data[...] = t._data.reshape(n, c).mean(0)
                bump_version(stats)
    return out.reshape(input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the last len(normalized_shape) dims, times weight; eps None
    is the dtype's machine epsilon (PyTorch's default). A composition of ops."""
    require_float("rms_norm", input)
    shape = _normalized_shape("rms_norm", normalized_shape, input)
    _check_param("rms_norm", "weight", weight, shape, input)
    eps = float(np.finfo(input.dtype).eps) if eps is None else float(eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of (N, C, *) into num_groups groups and normalize each group of each
    sample; then w and b per channel. A reshape around the layer-norm node."""
    require_float("group_norm", input)
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input with at least 2 dims (N, C, ...), got "
                         f"shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: the {c} channels of the input of shape "
                         f"{tuple(input.shape)} cannot be split into {num_groups} groups")
    _check_param("group_norm", "weight", weight, (c,), input)
    _check_param("group_norm", "bias", bias, (c,), input)
    x = input.reshape((n, num_groups, -1))
    y = LayerNorm.apply(x, None, None, 1, float(eps)).reshape(input.shape)
    shape = (c,) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: each (sample, channel) plane of (N, C, H, W) is dropped with
    probability p and the rest are scaled by 1 / (1 - p); the identity when not training. A 3-D
    input is read as (N, C, L), as PyTorch 2.x does. The mask comes from ember's generator."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    require_float("dropout2d", input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(input.shape)} (use dropout for other shapes)")
    if not training or p == 0.0:
        return input
    dt = input.dtype
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    if p == 1.0:
        mask = np.zeros(mask_shape, dt)
    else:
        u = rng().random(mask_shape, dtype=np.float64 if dt == np.float64 else np.float32)
        mask = (u >= p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    out = input * tensor_cls()(mask)
    if inplace and not (input.requires_grad and is_grad_enabled()):
        return input.copy_(out)
    return out


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L), or of an unbatched (C, L): dropout2d's masks."""
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{tuple(input.shape)}")
    if input.ndim == 2:
        return dropout2d(input.unsqueeze(0), p, training, inplace).squeeze(0)
    return dropout2d(input, p, training, inplace)
