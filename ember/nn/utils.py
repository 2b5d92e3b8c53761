"""Gradient clipping, in place, with PyTorch's names and semantics."""
import math

import numpy as np

from ..autograd import bump_version
from ..backend import get_default_dtype
from ..tensor import Tensor


def _grads(name, parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected tensors (parameters), got {type(p).__name__}")
        if p.grad is not None:
            grads.append(p.grad)
    return grads


def _vector_norm(a, p):
    """||a||_p of the flattened array, in its dtype: max|a| for inf, min|a| for -inf,
    the count of non-zeros for 0, (sum |a|^p)^(1/p) otherwise."""
    if a.size == 0:
        return a.dtype.type(0)
    if p == math.inf:
        return np.abs(a).max()
    if p == -math.inf:
        return np.abs(a).min()
    if p == 0:
        return a.dtype.type(np.count_nonzero(a))
    if p == 1:
        return np.abs(a).sum()
    if p == 2:
        a = a.ravel()
        return np.sqrt(np.dot(a, a))
    return (np.abs(a) ** p).sum() ** (1.0 / p)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients by min(1, max_norm / (total + 1e-6)), where total is the p-norm of
    all gradients seen as one vector (p = norm_type; 'inf' for the largest |g|).
    Returns total as a tensor."""
    grads = _grads("clip_grad_norm_", parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.array(0.0, dtype=get_default_dtype()))
    with np.errstate(over="ignore", invalid="ignore"):   # inf/nan norms are reported, below
        norms = [_vector_norm(g._data, norm_type) for g in grads]
        total = _vector_norm(np.array(norms), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is non-finite ({total}), so it cannot be clipped; pass "
                           "error_if_nonfinite=False to scale by it anyway")
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0).astype(total.dtype)
    if coef != 1.0:                     # multiplying by exactly 1 changes nothing: skip it
        with np.errstate(invalid="ignore"):             # inf * 0 = nan, as in PyTorch
            for g in grads:
                g._data *= coef
                bump_version(g)
    return Tensor(np.asarray(total))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for g in _grads("clip_grad_value_", parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        bump_version(g)
