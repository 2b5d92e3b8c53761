"""Similarities, distances and the margin losses built on them, with PyTorch's names, arguments
and reductions: cosine_similarity, pairwise_distance, triplet_margin_loss, margin_ranking_loss,
cosine_embedding_loss, hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss,
multi_margin_loss, cdist.
Each is a composition of ember ops, so its gradients (and their gradients) come from the ops."""
import numpy as np

from ._util import tensor_cls
from .activation import softplus
from .elementwise import where
from .loss import _check_reduction, _reduce, legacy_reduction


def _tensors(name, *ts):
    T = tensor_cls()
    for t in ts:
        if not isinstance(t, T):
            raise TypeError(f"{name}: expected Tensors, got {type(t).__name__}")


def _reduction(name, size_average, reduce, reduction):
    return _check_reduction(legacy_reduction(size_average, reduce, reduction), name)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along dim (x1, x2 broadcast)."""
    _tensors("cosine_similarity", x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    _tensors("pairwise_distance", x1, x2)
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0), d the pairwise distance; with swap, d(a, n) is the
    smaller of d(a, n) and d(p, n)."""
    _tensors("triplet_margin_loss", anchor, positive, negative)
    reduction = _reduction("triplet_margin_loss", size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction, "triplet_margin_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y (x1 - x2) + margin), y = 1 where x1 should rank higher, -1 where x2 should."""
    _tensors("margin_ranking_loss", input1, input2, target)
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction)
    loss = (-target * (input1 - input2) + margin).clamp(min=0.0)
    return _reduce(loss, reduction, "margin_ranking_loss")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (cos over dim 1,
    with PyTorch's eps of 1e-12 on the squared norms)."""
    _tensors("cosine_embedding_loss", input1, input2, target)
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction)
    dim = input1.ndim - 1
    norms = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cos = (input1 * input2).sum(dim) / norms.sqrt()
    loss = where(target == 1, 1.0 - cos, 0.0) + where(target == -1,
                                                       (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1."""
    _tensors("hinge_embedding_loss", input, target)
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction)
    # PyTorch's terms: the margin one where y != 1, x itself where y != -1
    loss = where(target != 1, (margin - input).clamp(min=0.0), 0.0) + where(target != -1, input,
                                                                           0.0)
    return _reduce(loss, reduction, "hinge_embedding_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """ln(1 + e^(-y x)) for labels y in {1, -1}."""
    _tensors("soft_margin_loss", input, target)
    reduction = _reduction("soft_margin_loss", size_average, reduce, reduction)
    return _reduce(softplus(-target * input, 1.0, float("inf")), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-mean over the C classes of [y ln s(x) + (1 - y) ln s(-x)] (times weight), per sample."""
    _tensors("multilabel_soft_margin_loss", input, target)
    reduction = _reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    # -ln s(x) = softplus(-x) and -ln s(-x) = softplus(x), exact for any x
    loss = (target * softplus(-input, 1.0, float("inf"))
            + (1 - target) * softplus(input, 1.0, float("inf")))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.mean(input.ndim - 1), reduction, "multilabel_soft_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """The multi-class hinge loss (an SVM's): per sample, the sum over the classes i other than
    its class y of max(0, margin - x[y] + x[i])^p (times weight[y]), divided by the number of
    classes. input (N, C) or (C,), target class indices (N,) or ()."""
    name = "multi_margin_loss"
    T = tensor_cls()
    _tensors(name, input, target)
    reduction = _reduction(name, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"{name}: only p == 1 and p == 2 supported, got {p}")
    if input.ndim not in (1, 2) or target.ndim != input.ndim - 1 or \
            (input.ndim == 2 and target.shape[0] != input.shape[0]):
        raise ValueError(f"{name}: expected input (N, C) with target (N,), or (C,) with a 0-d "
                         f"target; got {tuple(input.shape)} and {tuple(target.shape)}")
    classes = input.shape[-1]
    y = np.asarray(target._data).reshape(-1)
    if y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() >= classes)):
        raise ValueError(f"{name}: target must hold class indices in [0, {classes}), got "
                         f"{y.tolist()}")
    x = input.reshape(-1, classes)
    rows = np.arange(x.shape[0])
    picked = x[rows, y].unsqueeze(1)
    h = (margin - picked + x).clamp(min=0.0)
    if p == 2:
        h = h * h
    others = np.ones(x.shape, dtype=bool)
    others[rows, y] = False
    h = where(T(others), h, 0.0)
    if weight is not None:
        h = h * weight[T(y)].unsqueeze(1).to(h.dtype)
    loss = h.sum(1) / classes
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction, name)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between every row of x1 (.., P, M) and every row of x2 (.., R, M):
    (.., P, R), batch dims broadcast. Where two rows coincide the distance is 0 and so is its
    gradient (as in torch), for every p."""
    name = "cdist"
    _tensors(name, x1, x2)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"{name}: X1 and X2 must have the same number of columns, as "
                           f"(.., P, M) and (.., R, M); got {tuple(x1.shape)} and "
                           f"{tuple(x2.shape)}")
    if p < 0:
        raise RuntimeError(f"{name}: only supports non-negative p values, got {p}")
    diff = (x1.unsqueeze(-2) - x2.unsqueeze(-3)).abs()
    if p == 0:
        return (diff != 0).to(x1.dtype).sum(-1)
    if p == float("inf"):
        return diff.amax(-1)
    if p == 1:
        return diff.sum(-1)
    moved = diff > 0  # (a safe base where a coordinate does not move: 0^(p-1) is inf for p < 1)
    total = where(moved, where(moved, diff, 1.0) ** p, 0.0).sum(-1)
    nonzero = total > 0
    # (total^(1/p) with a safe base where it is 0: no inf * 0 in the gradient)
    return where(nonzero, where(nonzero, total, 1.0) ** (1.0 / p), 0.0)
