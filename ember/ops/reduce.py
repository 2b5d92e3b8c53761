"""Reductions: sum, mean, prod, max/min, amax/amin, var/std, norm, logsumexp, cumsum, cumprod,
argmax.

A reduction's backward broadcasts the gradient back over the reduced dims. Where backward needs
the result (amax, logsumexp, norm, std), forward saves the very array it returns, so the result
comes back as a graph tensor and double backward differentiates through it too.
"""
import warnings
from collections import namedtuple

import numpy as np

from ..autograd import _NO_CTX, Function
from ..backend import constant
from ._util import normalize_dim, normalize_dims, require_float, tensor_cls
from .elementwise import where

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _dims(name, dim, ndim):
    """normalize_dims, reading an empty dim list as every dim, as PyTorch does, and checking an
    int dim of a 0-d tensor too (only 0 and -1 are in range)."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    elif isinstance(dim, (int, np.integer)):
        normalize_dim(name, dim, ndim)
    return normalize_dims(name, dim, ndim)


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _reduced_shape(shape, dims, keepdim):
    return _kept_shape(shape, dims) if keepdim else tuple(
        n for i, n in enumerate(shape) if i not in dims)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _kept(t, shape, dims, keepdim):
    """A reduced tensor (the result or its gradient) with the reduced dims kept as size 1."""
    return t if keepdim else t.reshape(_kept_shape(shape, dims))


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    return ExpandBack.apply(g, shape, dims, keepdim, 1.0)


class ExpandBack(Function):
    """The backward of sum and mean as one node: y = c g, broadcast back over the reduced dims;
    dg = c * (gy summed over those dims)"""
    name = "expand_back"

    @staticmethod
    def forward(ctx, g, shape, dims, keepdim, scale):
        ctx.dims, ctx.keepdim, ctx.scale = dims, keepdim, scale
        if g.size == 1:  # the usual case, a scalar loss: a filled array beats a broadcast view
            out = np.empty(shape, dtype=g.dtype)
            out.fill(g.reshape(()) * g.dtype.type(scale))
            return out
        if not keepdim:
            g = g.reshape(_kept_shape(shape, dims))
        if scale != 1.0:
            g = np.multiply(g, constant(scale, g.dtype))
        return np.broadcast_to(g, shape)

    @staticmethod
    def backward(ctx, gg):
        out = gg.sum(ctx.dims, keepdim=ctx.keepdim)
        return out * ctx.scale if ctx.scale != 1.0 else out


class Sum(Function):
    """y = sum_i x_i;   dy/dx_i = 1"""
    name = "sum"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        return np.add.reduce(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return ExpandBack.apply(g, ctx.inputs[0].shape, ctx.dims, ctx.keepdim, 1.0)

    @staticmethod
    def array_backward(ctx, g):
        return ExpandBack.forward(_NO_CTX, g, ctx.inputs[0]._data.shape, ctx.dims, ctx.keepdim,
                                  1.0)


class Mean(Function):
    """y = (1/n) sum_i x_i;   dy/dx_i = 1/n"""
    name = "mean"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        n = _count(x.shape, dims)
        ctx.scale = 1.0 / n if n else float("nan")
        total = np.add.reduce(x, axis=dims, keepdims=keepdim)
        if n:
            return total / n  # what np.mean does, without its Python-level overhead
        with np.errstate(invalid="ignore", divide="ignore"):  # the mean of nothing is nan
            return total / n

    @staticmethod
    def backward(ctx, g):
        return ExpandBack.apply(g, ctx.inputs[0].shape, ctx.dims, ctx.keepdim, ctx.scale)

    @staticmethod
    def array_backward(ctx, g):
        return ExpandBack.forward(_NO_CTX, g, ctx.inputs[0]._data.shape, ctx.dims, ctx.keepdim,
                                  ctx.scale)


class Prod(Function):
    """y = prod_i x_i;   dy/dx_k = prod_{i != k} x_i  (= y / x_k when no x_i is 0)

    With zeros, split the product into P = prod of the nonzero entries and the zeros:
    dy/dx_k = P / x_k (or P, for a zero x_k) times the product of the zeros other than x_k. That
    product is 1 (none), the one other zero itself (kept as a variable: its value is 0 but its
    derivative is 1, so the second derivative is right), or 0 (two or more others: its value and
    first derivative are 0). So gradients and second derivatives are exact with zeros too; third
    and higher derivatives are exact only without zeros."""
    name = "prod"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        return np.prod(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dims = ctx.dims
        is_zero = x == 0
        nonzero = where(is_zero, 1.0, x)
        others = Prod.apply(nonzero, dims, True) / nonzero
        if is_zero.any():
            zeros = is_zero.sum(dims, keepdim=True)
            zero_sum = where(is_zero, x, 0.0).sum(dims, keepdim=True)  # 0, with slope 1 per zero
            other_zeros = where(is_zero,
                                where(zeros == 1, 1.0, where(zeros == 2, zero_sum - x, 0.0)),
                                where(zeros == 0, 1.0, where(zeros == 1, zero_sum, 0.0)))
            others = others * other_zeros
        return _expand_back(g, x.shape, dims, ctx.keepdim) * others


class Amax(Function):
    """y = max_i x_i;   dy/dx_i = 1/k on the k entries equal to the max, 0 elsewhere"""
    name = "amax"

    @staticmethod
    def forward(ctx, x, dims, keepdim, np_fn):
        ctx.dims, ctx.keepdim = dims, keepdim
        y = np_fn(x, axis=dims, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        hit = (x == _kept(y, x.shape, ctx.dims, ctx.keepdim)).to(g.dtype)
        share = hit / hit.sum(ctx.dims, keepdim=True)
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim) * share


class LogSumExp(Function):
    """y = m + ln sum_i e^(x_i - m)  (m = max x, so nothing overflows);
    dy/dx_i = e^(x_i - y) (the softmax)"""
    name = "logsumexp"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        m = np.max(x, axis=dims, keepdims=True) if x.size else np.zeros(
            _kept_shape(x.shape, dims), x.dtype)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            y = y.reshape(_reduced_shape(x.shape, dims, False))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        y = _kept(y, x.shape, ctx.dims, ctx.keepdim)
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim) * (x - y).exp()


class Norm(Function):
    """y = (sum_i |x_i|^p)^(1/p);   dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1)  (x_i / y for
    p = 2), and 0 where y = 0 (a zero vector) or, for p < 1, where x_i = 0, as PyTorch"""
    name = "norm"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        if p == 2:
            y = np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
        else:
            y = np.sum(np.abs(x) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        y = np.asarray(y, dtype=x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        p = ctx.p
        y = _kept(y, x.shape, ctx.dims, ctx.keepdim)
        g = _kept(g, x.shape, ctx.dims, ctx.keepdim)
        zero = y == 0
        safe_y = where(zero, 1.0, y)
        if p == 2:
            return x * where(zero, 0.0, g / safe_y)
        x_zero = x == 0
        slope = x.sign() * where(x_zero, 1.0, x.abs()) ** (p - 1)
        if p < 1:
            slope = where(x_zero, 0.0, slope)
        return slope * where(zero, 0.0, g / safe_y ** (p - 1))


class Std(Function):
    """y = sqrt(sum_i (x_i - mean)^2 / (N - c));   dy/dx_i = (x_i - mean) / ((N - c) y),
    0 where y = 0 (a constant slice), as PyTorch"""
    name = "std"

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        n = _count(x.shape, dims)
        with np.errstate(divide="ignore", invalid="ignore"):
            centered = x - np.sum(x, axis=dims, keepdims=True) / n
            y = np.sqrt(np.sum(centered * centered, axis=dims, keepdims=keepdim)
                        / np.maximum(n - correction, 0))
        y = np.asarray(y, dtype=x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        dims = ctx.dims
        y = _kept(y, x.shape, dims, ctx.keepdim)
        g = _kept(g, x.shape, dims, ctx.keepdim)
        dof = np.maximum(_count(x.shape, dims) - ctx.correction, 0)
        zero = y == 0
        scale = where(zero, 0.0, g / where(zero, 1.0, y)) / dof
        return (x - x.mean(dims, keepdim=True)) * scale


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j;   dx_j = sum_{i >= j} g_i (a reversed cumsum)"""
    name = "cumsum"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return _reversed_cumsum(g, ctx.dim)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j;   dx_k = sum_{i >= k} g_i prod_{j <= i, j != k} x_j.

    Without a graph (array_backward, O(n)): up to a slice's first zero z that is
    (reversed cumsum of g y)_k / x_k; at z, the reversed cumsum of g y' at z, y' the cumprod with
    x_z taken as 1; after z, 0. With create_graph the formula itself, written with ember ops on
    an (n, n) array per slice, so that second derivatives are exact at zeros too."""
    name = "cumprod"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        ctx.save_for_backward(x)
        return np.cumprod(x, axis=dim)

    @staticmethod
    def array_backward(ctx, g):
        (x,) = ctx.saved_arrays
        d = ctx.dim
        zero = x == 0
        zeros_so_far = np.cumsum(zero, axis=d)
        first_zero = zero & (zeros_so_far == 1)
        from_here = _reversed_cumsum_array(g * np.cumprod(x, d), d)
        from_here /= np.where(zero, 1, x)
        at_first_zero = _reversed_cumsum_array(g * np.cumprod(np.where(first_zero, 1, x), d), d)
        return np.where(zeros_so_far == 0, from_here, np.where(first_zero, at_first_zero, 0))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        T = tensor_cls()
        xs, gs = x.transpose(ctx.dim, -1), g.transpose(ctx.dim, -1)
        n = xs.shape[-1]
        # products[..., k, j] = prod_{i <= j, i != k} x_i: row k is the cumprod with x_k as 1
        products = where(T(np.eye(n, dtype=bool)), 1.0, xs.unsqueeze(-2)).cumprod(-1)
        upper = T(np.triu(np.ones((n, n), dtype=bool)))  # j >= k
        return where(upper, gs.unsqueeze(-2) * products, 0.0).sum(-1).transpose(ctx.dim, -1)


def _reversed_cumsum_array(a, dim):
    return np.flip(np.cumsum(np.flip(a, dim), dim), dim)


def _reversed_cumsum(x, dim):
    return x.flip(dim).cumsum(dim).flip(dim)


def _as_accumulator(x, dtype):
    """PyTorch's accumulating dtype: the given one, else int64 for bool and integer tensors."""
    if dtype is not None:
        return x.to(dtype)
    return x.to(np.int64) if x.dtype.kind in "bui" else x


def sum(x, dim=None, keepdim=False, dtype=None):
    x = _as_accumulator(x, dtype)
    return Sum.apply(x, _dims("sum", dim, x.ndim), keepdim)


def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    require_float("mean", x)
    return Mean.apply(x, _dims("mean", dim, x.ndim), keepdim)


def prod(x, dim=None, keepdim=False, dtype=None):
    """The product over one dim (or all of them)."""
    x = _as_accumulator(x, dtype)
    if dim is None:
        return Prod.apply(x, tuple(range(x.ndim)), False)
    dim = normalize_dim("prod", dim, x.ndim)
    return Prod.apply(x, (dim,) if x.ndim else (), keepdim)


def amax(x, dim=(), keepdim=False):
    return _extreme(x, dim, keepdim, np.max, "amax")


def amin(x, dim=(), keepdim=False):
    return _extreme(x, dim, keepdim, np.min, "amin")


def _extreme(x, dim, keepdim, np_fn, name):
    dims = _dims(name, dim, x.ndim)
    if x.numel() == 0 and len(dims) == x.ndim:
        raise RuntimeError(f"{name}: the tensor of shape {x.shape} is empty; name the dim to "
                           f"reduce, one of size > 0")
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{name}: dim {d} has size 0; there is no {name} of nothing "
                             f"(shape {x.shape})")
    return Amax.apply(x, dims, keepdim, np_fn)


def max(x, dim=None, keepdim=False):
    """max(x) -> the largest value; max(x, dim) -> (values, indices); max(a, b) -> maximum."""
    return _max_min(x, dim, keepdim, "max")


def min(x, dim=None, keepdim=False):
    return _max_min(x, dim, keepdim, "min")


def _max_min(x, dim, keepdim, name):
    T = tensor_cls()
    if isinstance(dim, T):
        from .elementwise import maximum, minimum
        return maximum(x, dim) if name == "max" else minimum(x, dim)
    np_fn = np.max if name == "max" else np.min
    if dim is None:
        return _extreme(x, None, False, np_fn, name)
    dim = normalize_dim(name, dim, x.ndim)
    if x.ndim == 0:  # one value, at index 0; values is a new node, as in PyTorch
        return ValuesIndices(x.reshape(1).reshape(()), T(np.zeros((), np.int64)))
    if x.shape[dim] == 0:
        raise IndexError(f"{name}: dim {dim} has size 0; there is no {name} to take "
                         f"(shape {x.shape})")
    idx = (argmax if name == "max" else argmin)(x, dim, keepdim=True)
    values = x.gather(dim, idx)
    if not keepdim:
        values, idx = values.squeeze(dim), idx.squeeze(dim)
    return ValuesIndices(values, idx)


def argmax(x, dim=None, keepdim=False):
    return _arg_extreme(np.argmax, "argmax", x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return _arg_extreme(np.argmin, "argmin", x, dim, keepdim)


def _arg_extreme(np_fn, name, x, dim, keepdim):
    T = tensor_cls()
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{name}: the tensor of shape {x.shape} is empty; name the dim "
                               "to reduce, one of size > 0")
        out = np.asarray(np_fn(x._data), dtype=np.int64)
        return T(out.reshape((1,) * x.ndim) if keepdim else out)
    dim = normalize_dim(name, dim, x.ndim)
    if x.ndim == 0:
        return T(np.zeros((), np.int64))
    if x.shape[dim] == 0:
        raise IndexError(f"{name}: dim {dim} has size 0; there is no {name} of nothing "
                         f"(shape {x.shape})")
    return T(np_fn(x._data, axis=dim, keepdims=keepdim).astype(np.int64))


def _var_args(name, x, dim, correction, unbiased):
    if isinstance(dim, bool):  # var(x, False): PyTorch's older (input, unbiased) form
        dim, unbiased = None, dim
    if unbiased is not None:
        correction = 1 if unbiased else 0
    require_float(name, x)
    dims = _dims(name, dim, x.ndim)
    n = _count(x.shape, dims)
    if n - correction <= 0:
        warnings.warn(f"{name}: degrees of freedom N - correction = {n} - {correction} is <= 0; "
                      "the result is inf or nan, as in PyTorch", stacklevel=3)
    return dims, n, correction


def var(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """Variance: sum (x - mean)^2 / (N - correction)."""
    dims, n, correction = _var_args("var", x, dim, correction, unbiased)
    centered = x - x.mean(dims, keepdim=True)
    return (centered * centered).sum(dims, keepdim=keepdim) / np.maximum(n - correction, 0)


def std(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """Standard deviation: sqrt(var)."""
    dims, _, correction = _var_args("std", x, dim, correction, unbiased)
    return Std.apply(x, dims, correction, keepdim)


def var_mean(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """(var, mean) over the same dims."""
    return var(x, dim, correction, keepdim, unbiased), x.mean(_var_args(
        "var_mean", x, dim, correction, unbiased)[0], keepdim=keepdim)


def std_mean(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """(std, mean) over the same dims."""
    return std(x, dim, correction, keepdim, unbiased), x.mean(_var_args(
        "std_mean", x, dim, correction, unbiased)[0], keepdim=keepdim)


def diff(x, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim, x[i + 1] - x[i] (prepend and append joined on
    first): the inverse of cumsum, up to the first element."""
    from .shape import cat
    d = normalize_dim("diff", dim, x.ndim)
    if x.ndim == 0:
        raise RuntimeError("diff: expected at least a 1-D tensor, got a 0-d tensor")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative, got {n}")
    parts = [t for t in (prepend, x, append) if t is not None]
    out = cat(parts, d) if len(parts) > 1 else x
    head = (slice(None),) * d
    for _ in range(n):
        if out.shape[d] == 0:
            break
        out = out[head + (slice(1, None),)] - out[head + (slice(None, -1),)]
    return out


def norm(x, p=2, dim=None, keepdim=False):
    """The p-norm (sum |x|^p)^(1/p); p may be 'fro', inf or -inf."""
    require_float("norm", x)
    dims = _dims("norm", dim, x.ndim)
    if p == "fro":
        p = 2
    if isinstance(p, str) or not isinstance(p, (int, float, np.number)):
        raise ValueError(f"norm: unsupported p={p!r} (expected a number, inf, -inf or 'fro')")
    if p == float("inf"):
        return x.abs().amax(dims, keepdim=keepdim)
    if p == float("-inf"):
        return x.abs().amin(dims, keepdim=keepdim)
    if p == 1:
        return x.abs().sum(dims, keepdim=keepdim)
    if p == 0:
        return (x != 0).to(x.dtype).sum(dims, keepdim=keepdim)
    return Norm.apply(x, float(p), dims, keepdim)


def logsumexp(x, dim, keepdim=False):
    require_float("logsumexp", x)
    return LogSumExp.apply(x, _dims("logsumexp", dim, x.ndim), keepdim)


def cumsum(x, dim, dtype=None):
    return _cumulative("cumsum", Cumsum, x, dim, dtype)


def cumprod(x, dim, dtype=None):
    return _cumulative("cumprod", Cumprod, x, dim, dtype)


def _cumulative(name, op, x, dim, dtype):
    dim = normalize_dim(name, dim, x.ndim)
    x = _as_accumulator(x, dtype)
    if x.ndim == 0:
        return op.apply(x.reshape(1), 0).reshape(())
    return op.apply(x, dim)
