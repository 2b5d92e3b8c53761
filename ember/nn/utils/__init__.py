"""nn.utils with PyTorch's names and semantics: gradient clipping (in place), weight_norm and
remove_weight_norm, spectral_norm and remove_spectral_norm, parameters_to_vector and
vector_to_parameters; `rnn` holds
the variable-length sequence tools (pad_sequence, pack_padded_sequence, ...)."""
import math

import numpy as np

from ...autograd import bump_version
from ...backend import get_default_dtype
from ...tensor import Tensor
from . import rnn  # noqa: F401  (nn.utils.rnn, as in torch)


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


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor (gradients flow back to them)."""
    from ...ops.shape import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D `vec` into the parameters, in place (no gradient)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{getattr(vec, 'shape', type(vec).__name__)}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements, the "
                         f"parameters {total}")
    start = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[start:start + n].reshape(p.shape)
        bump_version(p)
        start += n


def _norm_except_dim(v, dim):
    """||v||_2 over every dim but `dim` (kept, the others of size 1); over all of v for None."""
    if dim is None:
        return v.norm()
    dims = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return v.norm(2, dims, keepdim=True) if dims else v.abs()


class _WeightNorm:
    """The forward pre-hook of weight_norm: weight = g v / ||v|| (norm over all dims but dim)."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, args):
        object.__setattr__(module, self.name, self.compute(module))


def _find_hook(module, kind, name):
    """(id, hook) of the forward pre-hook of type `kind` that reparametrizes module.<name>, or
    (None, None)."""
    hooks = module._hooks.forward_pre if module._hooks else {}
    for hid, hook in hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return hid, hook
    return None, None


def weight_norm(module, name="weight", dim=0):
    """Reparametrize module.<name> as g v / ||v|| (Salimans and Kingma 2016): parameters
    <name>_g (the norms, over all dims but `dim`; dim=None: one norm) and <name>_v (the
    direction); the weight is recomputed before every forward. PyTorch's
    torch.nn.utils.weight_norm, with its parameter names."""
    from ..module import Parameter
    if _find_hook(module, _WeightNorm, name)[1] is not None:
        raise RuntimeError(f"weight_norm: {type(module).__name__}.{name} already has weight norm")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    hook = _WeightNorm(name, dim)
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    object.__setattr__(module, name, hook.compute(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module, name="weight"):
    """Fold g v / ||v|| back into one parameter <name> and drop the hook."""
    from ..module import Parameter
    hid, hook = _find_hook(module, _WeightNorm, name)
    if hook is None:
        raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in "
                         f"{type(module).__name__}")
    weight = hook.compute(module).detach()
    del module._hooks.forward_pre[hid]
    object.__delattr__(module, name)
    delattr(module, name + "_g")
    delattr(module, name + "_v")
    module.register_parameter(name, Parameter(weight))
    return module


def _unit(x, eps):
    """x / max(||x||, eps) for a 1-D array."""
    return x / max(float(np.sqrt(np.dot(x, x))), eps)


class _SpectralNorm:
    """The forward pre-hook of spectral_norm: weight = W / sigma(W), sigma estimated by power
    iteration on the persistent vectors u, v (updated in training mode only, without gradient)."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, w):
        """W with dim first, flattened to (size of dim, everything else)."""
        if self.dim != 0:
            w = w.permute((self.dim,) + tuple(d for d in range(w.ndim) if d != self.dim))
        return w.reshape(w.shape[0], -1)

    def compute(self, module, power_iteration):
        w = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.matrix(w)
        if power_iteration and self.n > 0:
            m = mat._data
            for _ in range(self.n):
                v._data[...] = _unit(m.T @ u._data, self.eps)
                u._data[...] = _unit(m @ v._data, self.eps)
            bump_version(u, v)
        sigma = (u.detach() * (mat @ v.detach())).sum()
        return w / sigma

    def __call__(self, module, args):
        object.__setattr__(module, self.name, self.compute(module, module.training))


def remove_spectral_norm(module, name="weight"):
    """Fold W / sigma(W) (sigma from the current u, v: no power iteration) back into one
    parameter <name>, and drop the hook, <name>_orig, <name>_u and <name>_v."""
    from ..module import Parameter
    hid, hook = _find_hook(module, _SpectralNorm, name)
    if hook is None:
        raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in "
                         f"{type(module).__name__}")
    weight = hook.compute(module, False).detach()
    del module._hooks.forward_pre[hid]
    object.__delattr__(module, name)
    for suffix in ("_orig", "_u", "_v"):
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight))
    return module


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize module.<name> as W / sigma(W), sigma the largest singular value of W (dim
    first, the rest flattened), estimated by power iteration on buffers <name>_u and <name>_v
    that start as random unit vectors (Miyato et al. 2018); W is kept as <name>_orig. The
    iteration runs before each forward in training mode. PyTorch's torch.nn.utils.spectral_norm,
    with its names; dim=None is 1 for ConvTranspose layers, else 0."""
    from ...backend import rng
    from ..conv import _ConvTransposeNd
    from ..module import Parameter
    if _find_hook(module, _SpectralNorm, name)[1] is not None:
        raise RuntimeError(f"spectral_norm: {type(module).__name__}.{name} already has spectral "
                           "norm")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if n_power_iterations <= 0:
        raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                         f"{n_power_iterations}")
    if dim is None:
        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    hook = _SpectralNorm(name, n_power_iterations, dim, eps)
    h, w = hook.matrix(weight).shape
    dtype = weight.dtype
    u = _unit(rng().standard_normal(h), eps).astype(dtype)
    v = _unit(rng().standard_normal(w), eps).astype(dtype)
    delattr(module, name)
    module.register_parameter(name + "_orig", Parameter(weight.detach()))
    module.register_buffer(name + "_u", Tensor(u))
    module.register_buffer(name + "_v", Tensor(v))
    object.__setattr__(module, name, weight.detach())
    module.register_forward_pre_hook(hook)
    return module
