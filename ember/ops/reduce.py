"""Reductions: sum, mean, prod, max/min, amax/amin, var/std, norm, logsumexp, cumsum, argmax."""
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ._util import normalize_dim, normalize_dims, require_float, tensor_cls
from .elementwise import where

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    if not keepdim:
        g = g.reshape(_kept_shape(shape, dims))
    return g.expand(shape)


class Sum(Function):
    """y = sum_i x_i;   dy/dx_i = 1"""
    name = "sum"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        return np.sum(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim)


class Prod(Function):
    """y = prod_i x_i;   dy/dx_i = prod_{j != i} x_j  (exact with zeros too)"""
    name = "prod"

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.save_for_backward(x)
        ctx.dim, ctx.keepdim = dim, keepdim
        return np.prod(x, axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dims = tuple(range(x.ndim)) if ctx.dim is None else (ctx.dim,)
        is_zero = x == 0
        nonzero = where(is_zero, 1.0, x)
        p = nonzero.prod(ctx.dim, keepdim=True) if ctx.dim is not None else \
            nonzero.prod().reshape(_kept_shape(x.shape, dims))
        zeros = is_zero.to(x.dtype).sum(dims, keepdim=True)
        others = where(zeros == 0, p / nonzero, where(is_zero & (zeros == 1), p, 0.0))
        keepdim = ctx.keepdim and ctx.dim is not None
        return _expand_back(g, x.shape, dims, keepdim) * others


class Amax(Function):
    """y = max_i x_i;   dy/dx_i = 1/k on the k entries equal to the max, 0 elsewhere"""
    name = "amax"

    @staticmethod
    def forward(ctx, x, dims, keepdim, np_fn):
        ctx.dims, ctx.keepdim = dims, keepdim
        y = np_fn(x, axis=dims, keepdims=True)
        ctx.save_for_backward(x, y)
        return y if keepdim else y.reshape([n for i, n in enumerate(x.shape) if i not in dims])

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        hit = (x == y).to(g.dtype)
        share = hit / hit.sum(ctx.dims, keepdim=True)
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim) * share


class LogSumExp(Function):
    """y = m + ln sum_i e^(x_i - m);   dy/dx_i = e^(x_i - y) (the softmax)"""
    name = "logsumexp"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        m = np.max(x, axis=dims, keepdims=True) if x.size else np.zeros(
            _kept_shape(x.shape, dims), x.dtype)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        return y if keepdim else y.reshape([n for i, n in enumerate(x.shape) if i not in dims])

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim) * (x - y).exp()


class Norm2(Function):
    """y = sqrt(sum x_i^2);   dy/dx_i = x_i / y  (0 where y = 0, as PyTorch)"""
    name = "norm"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        y = np.sqrt(np.sum(x * x, axis=dims, keepdims=True))
        ctx.save_for_backward(x, y)
        return y if keepdim else y.reshape([n for i, n in enumerate(x.shape) if i not in dims])

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        scale = where(y == 0, 0.0, 1.0 / where(y == 0, 1.0, y))
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim) * x * scale


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j;   dx_j = sum_{i >= j} g_i (a reversed cumsum)"""
    name = "cumsum"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim)


def sum(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "bui":
        x = x.to(np.int64)
    dims = normalize_dims("sum", dim, x.ndim)
    return Sum.apply(x, dims, keepdim)


def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    require_float("mean", x)
    dims = normalize_dims("mean", dim, x.ndim)
    n = int(np.prod([x.shape[d] for d in dims])) if dims else 1
    return Sum.apply(x, dims, keepdim) / n if n else Sum.apply(x, dims, keepdim) * np.nan


def prod(x, dim=None, keepdim=False):
    if dim is not None:
        dim = normalize_dim("prod", dim, x.ndim)
    return Prod.apply(x, dim, keepdim)


def amax(x, dim=None, keepdim=False):
    return _extreme(x, dim, keepdim, np.max, "amax")


def amin(x, dim=None, keepdim=False):
    return _extreme(x, dim, keepdim, np.min, "amin")


def _extreme(x, dim, keepdim, np_fn, name):
    if x.numel() == 0:
        raise RuntimeError(f"{name}: the tensor is empty; there is no max or min to take")
    dims = normalize_dims(name, dim, x.ndim)
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
    if x.shape and x.shape[dim] == 0:
        raise IndexError(f"{name}: dim {dim} has size 0; there is no {name} to take")
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
    if x.numel() == 0:
        raise RuntimeError(f"{name}: the tensor is empty")
    if dim is None:
        out = np.asarray(np_fn(x._data), dtype=np.int64)
        return T(out.reshape((1,) * x.ndim) if keepdim else out)
    dim = normalize_dim(name, dim, x.ndim)
    if x.ndim == 0:
        return T(np.asarray(0, dtype=np.int64))
    return T(np_fn(x._data, axis=dim, keepdims=keepdim).astype(np.int64))


def var(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """Variance: sum (x - mean)^2 / (N - correction)."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    require_float("var", x)
    dims = normalize_dims("var", dim, x.ndim)
    n = int(np.prod([x.shape[d] for d in dims])) if dims else 1
    centered = x - x.mean(dims, keepdim=True)
    return (centered * centered).sum(dims, keepdim=keepdim) / np.maximum(n - correction, 0)


def std(x, dim=None, correction=1, keepdim=False, unbiased=None):
    return var(x, dim, correction, keepdim, unbiased).sqrt()


def norm(x, p=2, dim=None, keepdim=False):
    """The p-norm (sum |x|^p)^(1/p); p may be 'fro', inf or -inf."""
    require_float("norm", x)
    dims = normalize_dims("norm", dim, x.ndim)
    if p in (2, "fro"):
        return Norm2.apply(x, dims, keepdim)
    if p == float("inf"):
        return x.abs().amax(dims, keepdim=keepdim)
    if p == float("-inf"):
        return x.abs().amin(dims, keepdim=keepdim)
    if p == 1:
        return x.abs().sum(dims, keepdim=keepdim)
    if p == 0:
        return (x != 0).to(x.dtype).sum(dims, keepdim=keepdim)
    if not isinstance(p, (int, float)):
        raise ValueError(f"norm: unsupported p={p!r}")
    return (x.abs() ** p).sum(dims, keepdim=keepdim) ** (1.0 / p)


def logsumexp(x, dim, keepdim=False):
    require_float("logsumexp", x)
    dims = normalize_dims("logsumexp", dim, x.ndim)
    return LogSumExp.apply(x, dims, keepdim)


def cumsum(x, dim):
    if x.ndim == 0:
        return x.reshape(1).cumsum(0).reshape(())
    return Cumsum.apply(x, normalize_dim("cumsum", dim, x.ndim))
