"""Losses. Fused into one node where users hit them constantly: binary cross-entropy from logits
and cross-entropy from logits (log-softmax and NLL together). The others compose ops (their
gradients come from the ops' own backward).

Every loss takes PyTorch's arguments in PyTorch's order, the deprecated `size_average` and
`reduce` included (they override `reduction`, as in PyTorch)."""
import math

import numpy as np

from ..autograd import _NO_CTX, Function, is_grad_enabled
from ..backend import constant, result_dtype
from ._util import broadcast_shapes, require_float, tensor_cls, unbroadcast
from .activation import _row_max, stable_sigmoid
from .elementwise import where

REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce, reduction):
    """The reduction that PyTorch's deprecated size_average / reduce flags stand for."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def _check_reduction(reduction, name, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{name}: reduction must be one of {', '.join(map(repr, allowed))}; "
                         f"got {reduction!r}")
    return reduction


def _reduce(loss, reduction, name):
    _check_reduction(reduction, name)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _require_tensors(name, input, target):
    T = tensor_cls()
    if isinstance(input, T) and isinstance(target, T):  # the usual case: no loop to pay for
        return
    for what, t in (("input", input), ("target", target)):
        if not isinstance(t, T):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")


def _check_pair(name, input, target, promote=True):
    """Same shapes; one dtype, promoted as PyTorch does (float32 with float64 gives float64),
    or the input's with promote=False (PyTorch's huber_loss)."""
    _require_tensors(name, input, target)
    require_float(name, input)
    x, t = input._data, target._data  # arrays, not Tensor properties: every loss call pays
    if x.shape != t.shape:
        raise ValueError(f"{name}: target shape {target.shape} differs from input shape "
                         f"{input.shape}")
    if t.dtype != x.dtype:
        dtype = result_dtype(x, t) if promote else x.dtype
        return input.to(dtype), target.to(dtype)
    return input, target


def _weighted(name, loss, weight, reduction, mean_over_weight):
    """PyTorch's elementwise `weight=` of the regression losses: loss * weight, and a mean that
    divides by sum(weight) (mse, l1) or by the element count (huber)."""
    _check_reduction(reduction, name)
    if weight.shape != loss.shape:
        raise ValueError(f"{name}: weight of shape {weight.shape} must have the input's shape "
                         f"{loss.shape}")
    loss = loss * weight
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction, name)


# ---- binary cross-entropy ---------------------------------------------------------------------

class BCEWithLogits(Function):
    """l = max(z, 0) - z y + ln(1 + e^-|z|)  (= -[y ln s(z) + (1-y) ln(1 - s(z))], never
    overflowing), then the mean, the sum or nothing;   dl/dz = s(z) - y,  dl/dy = -z"""
    name = "binary_cross_entropy_with_logits"

    @staticmethod
    def forward(ctx, z, y, reduction):
        ctx.save_for_backward(z, y)
        ctx.scale = 1.0 / z.size if reduction == "mean" and z.size else 1.0
        zero = constant(0, z.dtype)  # (0-d arrays: faster operands than Python numbers)
        loss = np.maximum(z, zero)  # PyTorch's formula: exact down to the tiniest losses
        loss -= z * y
        loss += np.logaddexp(zero, -np.abs(z))  # ln(1 + e^-|z|) in one ufunc
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

    @staticmethod
    def array_backward(ctx, g):
        z, y = ctx.saved_arrays
        need_z, need_y = ctx.needs_input_grad[:2]
        return (BCEWithLogitsBackward.forward(_NO_CTX, g, z, y, ctx.scale) if need_z else None,
                -g * z * ctx.scale if need_y else None, None)


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
        d *= np.multiply(g, constant(scale, g.dtype)) if scale != 1.0 else g
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


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits z: sigmoid and log in one stable node."""
    name = "binary_cross_entropy_with_logits"
    reduction = _check_reduction(legacy_reduction(size_average, reduce, reduction), name)
    input, target = _check_pair(name, input, target)
    if pos_weight is not None:
        # l = (1 - y) z + (1 + (p - 1) y) ln(1 + e^-z)
        broadcast_shapes(name, input.shape, pos_weight.shape)
        log_sig_neg = (-input).clamp(min=0.0) + (-input.abs()).exp().log1p()
        loss = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * log_sig_neg
    elif weight is None:
        return BCEWithLogits.apply(input, target, reduction)
    else:
        loss = BCEWithLogits.apply(input, target, "none")
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, name)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-[y ln p + (1 - y) ln(1 - p)] on probabilities p, logs clamped at -100 as PyTorch."""
    name = "binary_cross_entropy"
    reduction = _check_reduction(legacy_reduction(size_average, reduce, reduction), name)
    input, target = _check_pair(name, input, target)
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


# ---- cross-entropy over classes -----------------------------------------------------------------

class _Classes:
    """What the cross-entropy ops know about a batch besides the logits: the class dim, the
    reduction and its scale, the class weights, label smoothing, and for class-index targets
    the index of each item's class (0 for ignored items) and its weight (0 for ignored items)."""

    def __init__(self, shape, dim, weight, smoothing, reduction):
        self.dim, self.n, self.weight = dim, shape[dim], weight
        self.kept_shape = shape[:dim] + (1,) + shape[dim + 1:]  # an item's shape, class dim kept
        self.smoothing, self.reduction = smoothing, reduction
        self.indices = self.item_weight = self.valid = self.picks = None
        self.scale = 1.0  # the mean's 1 / denominator, for the gradient

    def set_targets(self, indices, valid, item_weight):
        self.indices, self.valid, self.item_weight = indices, valid, item_weight
        # x[picks] is each item's entry at its target class (an advanced index along dim)
        grids = list(np.indices(indices.shape, sparse=True))
        grids.insert(self.dim, indices)
        self.picks = tuple(grids)

    def weight_along_classes(self, ndim):
        """The class weights shaped to broadcast along the class dim of an ndim-d input."""
        return self.weight.reshape((-1,) + (1,) * (ndim - 1 - self.dim))

    def expand(self, a):
        """A per-item array or tensor with the class dim put back (size 1)."""
        return a.reshape(self.kept_shape)


def _log_softmax(x, dim):
    with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
        y = np.subtract(x, _row_max(x, dim), out=np.empty_like(x))
        y -= np.log(np.exp(y).sum(axis=dim, keepdims=True))
    return y


class CrossEntropy(Function):
    """Cross-entropy from logits x, log-softmax and NLL in one node. With p_i = softmax(x_i) and
    q_i item i's target distribution, class-weighted and smoothed (one-hot for a class index,
    zero for an ignored item):
        l_i = -sum_c q_ic ln p_ic,    dl_i/dx_i = p_i sum_c q_ic - q_i   (softmax - onehot),
        dl_i/dq_ic = -ln p_ic;
    then the mean (over the weights of the targets, like PyTorch), the sum or nothing."""
    name = "cross_entropy"

    @staticmethod
    def forward(ctx, x, t, cls):
        logp = _log_softmax(x, cls.dim)
        ctx.save_for_backward(x, t, logp)
        ctx.cls = cls
        eps, dim = cls.smoothing, cls.dim
        if cls.indices is None:  # class probabilities
            q = _soft_targets(t, cls)
            with np.errstate(invalid="ignore"):
                loss = -np.sum(q * logp, axis=dim)
            denominator = x.size // cls.n if cls.n else 0
        else:
            with np.errstate(invalid="ignore"):
                loss = logp[cls.picks] * -cls.item_weight
                if eps:
                    loss *= 1 - eps
                    w = logp if cls.weight is None else logp * cls.weight_along_classes(x.ndim)
                    loss -= w.sum(axis=dim) * (eps / cls.n)
            if not cls.valid.all():  # an ignored item may hold -inf logits: inf * 0 is nan
                loss = np.where(cls.valid, loss, 0).astype(x.dtype, copy=False)
            denominator = cls.item_weight.sum()
        if cls.reduction == "none":
            return loss
        total = np.add.reduce(loss, axis=None)
        if cls.reduction == "sum":
            return total
        cls.scale = 1.0 / denominator if denominator else 0.0  # nothing counted: no gradient
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.divide(total, x.dtype.type(denominator), dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, t, logp = ctx.saved_tensors
        cls = ctx.cls
        gx = (CrossEntropyBackward.apply(g, x, t, logp._data, cls) if ctx.needs_input_grad[0]
              else None)
        gt = None
        if ctx.needs_input_grad[1]:  # class probabilities: dl/dt_c = -(1 - eps) w_c ln p_c
            logp = x.log_softmax(cls.dim)  # again, so that this gradient has a graph too
            if cls.weight is not None:
                logp = logp * cls.weight_along_classes(x.ndim)
            gt = logp * _item_scale(g, cls) * -(1.0 - cls.smoothing)
        return gx, gt, None

    @staticmethod
    def array_backward(ctx, g):
        x, t, logp = ctx.saved_arrays
        cls = ctx.cls
        need_x, need_t = ctx.needs_input_grad[:2]
        gt = None
        if need_t:  # as backward: the saved log-softmax is the one it computes again
            w = logp if cls.weight is None else logp * cls.weight_along_classes(x.ndim)
            gt = w * _item_scale(g, cls) * -(1.0 - cls.smoothing)
        return (CrossEntropyBackward.forward(_NO_CTX, g, x, t, logp, cls) if need_x else None,
                gt, None)


class CrossEntropyBackward(Function):
    """The logit gradient of cross-entropy as one node: d_i = s_i (p_i Q_i - q_i), with
    Q_i = sum_c q_ic and s_i = g_i c (c = 1 / the mean's denominator, or 1);
        dd/dx_i = s_i Q_i (diag p_i - p_i p_i^T),   dd/dg_i = c (p_i Q_i - q_i),
        dd/dq_ic = s_i (p_i - e_c)  (summed with q's dependence on t)"""
    name = "cross_entropy_backward"

    @staticmethod
    def forward(ctx, g, x, t, logp, cls):
        ctx.save_for_backward(g, x, t)
        ctx.cls = cls
        dt = x.dtype.type
        d = np.exp(logp)
        s = g * dt(cls.scale)  # a scalar, or one per item without reduction
        if cls.indices is None:
            q = _soft_targets(t, cls)
            d *= q.sum(axis=cls.dim, keepdims=True)
            d -= q
            d *= cls.expand(s) if cls.reduction == "none" else s
            return d
        # class indices: q_i is sparse, so d = s p Q - s q takes one pass over d, plus a pick
        d *= cls.expand(_item_total(cls, x.dtype) * s)
        d[cls.picks] -= cls.item_weight * s * dt(1 - cls.smoothing)  # one pick per item
        if cls.smoothing:
            w = 1.0 if cls.weight is None else cls.weight_along_classes(x.ndim)
            d -= cls.expand(cls.valid * s) * (w * dt(cls.smoothing / cls.n))
        return d

    @staticmethod
    def backward(ctx, gg):
        g, x, t = ctx.saved_tensors
        cls = ctx.cls
        dim, eps = cls.dim, cls.smoothing
        T = tensor_cls()
        p = x.softmax(dim)
        u = (gg * p).sum(dim, keepdim=True)  # sum_c gg_c p_c
        w = None if cls.weight is None else T(cls.weight_along_classes(x.ndim))
        if cls.indices is None:
            q = ((1.0 - eps) * t + eps / cls.n) if eps else t
            if w is not None:
                q = q * w
            total = q.sum(dim, keepdim=True)
            gg_q = (gg * q).sum(dim, keepdim=True)  # sum_c gg_c q_c
        else:
            total = T(cls.expand(_item_total(cls, x.dtype)))
            gg_q = gg.gather(dim, T(cls.expand(cls.indices))) * T(
                cls.expand(cls.item_weight) * (1 - eps))
            if eps:
                smooth = (gg if w is None else gg * w).sum(dim, keepdim=True)
                gg_q = gg_q + smooth * T(cls.expand(cls.valid).astype(x.dtype) * (eps / cls.n))
        s = _item_scale(g, cls)
        need_g, need_x, need_t = ctx.needs_input_grad[:3]
        gg_g = None
        if need_g:
            gg_g = (total * u - gg_q) * cls.scale
            gg_g = gg_g.squeeze(dim) if cls.reduction == "none" else gg_g.sum()
        gx = s * total * p * (gg - u) if need_x else None
        gt = None
        if need_t:
            gt = s * (1.0 - eps) * (u - gg)
            if w is not None:
                gt = gt * w
        return gg_g, gx, gt, None, None


def _soft_targets(t, cls):
    """q = w_c ((1 - eps) t + eps / C): the class-weighted, smoothed target distribution."""
    dt = t.dtype.type
    q = t * dt(1 - cls.smoothing) + dt(cls.smoothing / cls.n) if cls.smoothing else t
    if cls.weight is not None:
        q = q * cls.weight_along_classes(t.ndim)
    return q


def _item_total(cls, dtype):
    """Q_i = sum_c q_ic for class-index targets: (1 - eps) w_y + eps / C sum_c w_c, or 0 for an
    ignored item."""
    total = cls.item_weight * dtype.type(1 - cls.smoothing)
    if cls.smoothing:
        all_weights = cls.n if cls.weight is None else cls.weight.sum()
        total = total + cls.valid * dtype.type(cls.smoothing / cls.n * all_weights)
    return total


def _item_scale(g, cls):
    """s_i = g_i c, shaped to broadcast along the class dim."""
    s = g * cls.scale if cls.scale != 1.0 else g
    return cls.expand(s) if cls.reduction == "none" else s


def _classes(name, input, target, weight, ignore_index, reduction, smoothing=0.0):
    """Check a (logits or log-probabilities, target) pair and describe it as a _Classes. The
    class dim is 1 ((N, C) and (N, C, d1, ...)), or 0 for one unbatched item (C,)."""
    _require_tensors(name, input, target)
    require_float(name, input)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dim: (C,), (N, C) or (N, C, d1, ...); "
                         "got a 0-d tensor")
    dim = 0 if input.ndim == 1 else 1
    n = input.shape[dim]
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {smoothing}")
    if weight is not None:
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{name}: the gradient with respect to weight is not supported "
                               "(pass a weight that does not require grad, or detach it)")
        if weight.shape != (n,):
            raise ValueError(f"{name}: weight must be a 1-D tensor with one entry per class "
                             f"({n}), got shape {weight.shape}")
        weight = weight._data.astype(input.dtype, copy=False)
    cls = _Classes(input.shape, dim, weight, float(smoothing), _check_reduction(reduction, name))
    item_shape = input.shape[:dim] + input.shape[dim + 1:]
    if target.dtype.kind == "f" and name == "cross_entropy":
        if target.shape != input.shape:
            raise ValueError(
                f"{name}: target of shape {target.shape} and dtype {target.dtype} fits neither "
                f"form: class indices need an integer tensor of shape {item_shape}, class "
                f"probabilities a float tensor of the input's shape {input.shape}")
        if ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index is not supported with class-probability "
                             "targets")
        return cls
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold class indices (an integer tensor)"
                        + (" or class probabilities (a float tensor of the input's shape)"
                           if name == "cross_entropy" else "") + f", got dtype {target.dtype}")
    if target.shape != item_shape:
        raise ValueError(f"{name}: target of class indices must have shape {item_shape} for "
                         f"input of shape {input.shape}, got {target.shape}")
    t = target._data
    valid = t != ignore_index
    indices = np.where(valid, t, 0)
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        bad = indices.max() if indices.max() >= n else indices.min()
        raise IndexError(f"{name}: target class {bad} is out of range for {n} classes "
                         f"(expected 0 to {n - 1}, or ignore_index={ignore_index})")
    item_weight = valid.astype(input.dtype)
    if weight is not None:
        item_weight *= weight[indices]
    cls.set_targets(indices, valid, item_weight)
    return cls


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy from logits: log-softmax and the negative log-likelihood in one stable node.

    input: logits (N, C), (N, C, d1, ...) or (C,); target: class indices (N,), (N, d1, ...) or ()
    (an integer tensor; items equal to ignore_index count for nothing), or class probabilities
    of the input's shape. weight: one weight per class. label_smoothing eps mixes the target
    with the uniform distribution: (1 - eps) target + eps / C. The mean divides by the summed
    weights of the counted targets (the item count without weight), as PyTorch does."""
    name = "cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _require_tensors(name, input, target)
    if target.dtype.kind == "f" and target.dtype != input.dtype and input.dtype.kind == "f":
        dtype = result_dtype(input._data, target._data)  # PyTorch promotes the pair
        input, target = input.to(dtype), target.to(dtype)
    cls = _classes(name, input, target, weight, ignore_index, reduction, label_smoothing)
    return CrossEntropy.apply(input, target, cls)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood l_i = -w_y x_i,y of log-probabilities x (log_softmax's output):
    shapes, weight, ignore_index and the mean as in cross_entropy with class indices."""
    name = "nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    cls = _classes(name, input, target, weight, ignore_index, reduction)
    T = tensor_cls()
    picked = input.gather(cls.dim, T(cls.expand(cls.indices))).squeeze(cls.dim)
    if not cls.valid.all():  # an ignored item may hold -inf: inf * 0 is nan
        picked = where(T(cls.valid), picked, 0.0)
    loss = picked * T(-cls.item_weight)
    if reduction == "mean":
        denominator = float(cls.item_weight.sum())
        return loss.sum() * (1.0 / denominator if denominator else float("nan"))
    return _reduce(loss, reduction, name)


# ---- regression and divergence ----------------------------------------------------------------

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(x - y)^2"""
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _check_pair("mse_loss", input, target)
    diff = input - target
    if weight is not None:
        return _weighted("mse_loss", diff * diff, weight, reduction, mean_over_weight=True)
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|x - y|"""
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _check_pair("l1_loss", input, target)
    if weight is not None:
        return _weighted("l1_loss", (input - target).abs(), weight, reduction,
                         mean_over_weight=True)
    return _reduce((input - target).abs(), reduction, "l1_loss")


def _huber(input, target, delta):
    """0.5 m^2 + delta (|d| - m), m = min(|d|, delta), d = x - y: the square inside delta, a
    line of slope delta outside, with no branch to select (and no 0 / 0 in the gradient)."""
    a = (input - target).abs()
    m = a.clamp(max=delta)
    return m * m * 0.5 + (a - m) * delta


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta  (d = x - y; l1 for beta = 0)"""
    name = "smooth_l1_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _check_pair(name, input, target)
    if beta < 0:
        raise ValueError(f"{name}: beta must be >= 0, got {beta}")
    if beta == 0:
        return _reduce((input - target).abs(), reduction, name)
    return _reduce(_huber(input, target, float(beta)) * (1.0 / beta), reduction, name)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)  (d = x - y)"""
    name = "huber_loss"
    input, target = _check_pair(name, input, target, promote=False)
    if delta <= 0:
        raise ValueError(f"{name}: delta must be > 0, got {delta}")
    loss = _huber(input, target, float(delta))
    if weight is not None:
        return _weighted(name, loss, weight, reduction, mean_over_weight=False)
    return _reduce(loss, reduction, name)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || input) pointwise, input given as log-probabilities:
    l = y (ln y - x)  (0 where y = 0), or e^y (y - x) with log_target.
    'batchmean' divides the sum by the batch size (the true KL per item); 'mean' by the element
    count, as PyTorch does."""
    name = "kl_div"
    reduction = _check_reduction(legacy_reduction(size_average, reduce, reduction), name,
                                 REDUCTIONS + ("batchmean",))
    input, target = _check_pair(name, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # y ln y is 0 at y = 0: take ln 1 there, so neither value nor gradient is nan
        loss = target * (where(target == 0, 1.0, target).log() - input)
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction, name)


# ---- likelihoods of counts and of Gaussians -------------------------------------------------

def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """The negative log-likelihood of counts y under a Poisson of rate r, up to ln y!:
    e^x - y x with x = ln r (log_input), else r - y ln(r + eps); full adds Stirling's
    approximation of ln y!, y ln y - y + ln(2 pi y) / 2, where y > 1."""
    name = "poisson_nll_loss"
    reduction = _check_reduction(legacy_reduction(size_average, reduce, reduction), name)
    input, target = _check_pair(name, input, target)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        y = target.detach()
        safe = where(y > 1, y, 1.0)  # (no log of 0 in the unused branch)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(y > 1, stirling, 0.0)
    return _reduce(loss, reduction, name)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """The negative log-likelihood of target under Gaussians of mean input and variance var:
    (ln var + (input - target)^2 / var) / 2 (+ ln(2 pi) / 2 with full). var has input's shape
    (one variance per value), or one dim fewer or a size-1 dim (one per sample); it is clamped
    to eps for the value only, its gradient passing through as torch's does."""
    name = "gaussian_nll_loss"
    _check_reduction(reduction, name)
    input, target = _check_pair(name, input, target)
    _require_tensors(name, input, var)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"{name}: var is of incorrect size {tuple(var.shape)} for an input "
                             f"of shape {tuple(input.shape)}")
    if (var._data < 0).any():
        raise ValueError(f"{name}: var has negative entry/entries")
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, name)
