"""Losses fused into one node where users hit them constantly: binary cross-entropy from logits.
The others compose ops (their gradients come from the ops' own backward)."""
import numpy as np

from ..autograd import Function
from ._util import broadcast_shapes, require_float, unbroadcast
from .activation import stable_sigmoid


def _check_reduction(reduction, name):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")
    return reduction


def _reduce(loss, reduction, name):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_pair(name, input, target):
    require_float(name, input)
    if input.shape != target.shape:
        raise ValueError(f"{name}: target shape {target.shape} differs from input shape "
                         f"{input.shape}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return target


class BCEWithLogits(Function):
    """l = max(z, 0) - z y + ln(1 + e^-|z|)  (= -[y ln s(z) + (1-y) ln(1 - s(z))], never
    overflowing), then the mean, the sum or nothing;   dl/dz = s(z) - y,  dl/dy = -z"""
    name = "binary_cross_entropy_with_logits"

    @staticmethod
    def forward(ctx, z, y, reduction):
        ctx.save_for_backward(z, y)
        ctx.scale = 1.0 / z.size if reduction == "mean" and z.size else 1.0
        loss = np.maximum(z, 0) - z * y  # PyTorch's formula: exact down to the tiniest losses
        loss += np.logaddexp(z.dtype.type(0), -np.abs(z))  # ln(1 + e^-|z|) in one ufunc
        if reduction == "none":
            return loss
        total = np.add.reduce(loss, axis=None)
        return total / z.size if reduction == "mean" else total

    @staticmethod
    def backward(ctx, g):
        z, y = ctx.saved_tensors
        return (BCEWithLogitsBackward.apply(g, z, y, ctx.scale) if ctx.needs_input_grad[0]
                else None,
                -g * z * ctx.scale if ctx.needs_input_grad[1] else None, None)


class BCEWithLogitsBackward(Function):
    """The logit gradient of BCE as one node: d = c g (s(z) - y), g the loss's gradient (a
    scalar after a mean or a sum, c = 1/n for the mean);
    dd/dg = c (s(z) - y) (summed to g's shape),  dd/dz = c g s(z) (1 - s(z)),  dd/dy = -c g"""
    name = "bce_with_logits_backward"

    @staticmethod
    def forward(ctx, g, z, y, scale):
        ctx.save_for_backward(g, z, y)
        ctx.scale = scale
        d = stable_sigmoid(z)
        d -= y
        d *= g * g.dtype.type(scale) if scale != 1.0 else g
        return d

    @staticmethod
    def backward(ctx, gg):
        g, z, y = ctx.saved_tensors
        need_g, need_z, need_y = ctx.needs_input_grad[:3]
        c = ctx.scale
        s = z.sigmoid() if need_g or need_z else None
        return (unbroadcast(gg * (s - y) * c, g.shape) if need_g else None,
                gg * g * s * (1.0 - s) * c if need_z else None,
                -gg * g * c if need_y else None, None)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy on logits z: sigmoid and log in one stable node."""
    name = "binary_cross_entropy_with_logits"
    target = _check_pair(name, input, target)
    if pos_weight is not None:
        # l = (1 - y) z + (1 + (p - 1) y) ln(1 + e^-z)
        broadcast_shapes(name, input.shape, pos_weight.shape)
        log_sig_neg = (-input).clamp(min=0.0) + (-input.abs()).exp().log1p()
        loss = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * log_sig_neg
    elif weight is None:
        return BCEWithLogits.apply(input, target, _check_reduction(reduction, name))
    else:
        loss = BCEWithLogits.apply(input, target, "none")
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, name)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-[y ln p + (1 - y) ln(1 - p)] on probabilities p, logs clamped at -100 as PyTorch."""
    name = "binary_cross_entropy"
    target = _check_pair(name, input, target)
    d = input._data
    if d.size and (d.min() < 0 or d.max() > 1):
        raise ValueError(f"{name}: input must hold probabilities in [0, 1]; got values in "
                         f"[{d.min():.4g}, {d.max():.4g}] (use binary_cross_entropy_with_logits "
                         "for logits)")
    log_p = input.log().clamp(min=-100.0)
    log_q = (1.0 - input).log().clamp(min=-100.0)
    loss = -(target * log_p + (1.0 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, name)


def mse_loss(input, target, reduction="mean"):
    """(x - y)^2"""
    target = _check_pair("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """|x - y|"""
    target = _check_pair("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction, "l1_loss")
