"""Activations and the softmax family.

Each is written to stay finite where the math is: sigmoid(-1000) = 0, not a NaN from
exp(1000) / exp(1000); softmax subtracts the row max first.
"""
import math

import numpy as np

from ..autograd import Function
from ._util import normalize_dim, require_float
from .elementwise import where


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);   dy/dx = y (1 - y)"""
    name = "sigmoid"

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1.0 - y)


def stable_sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^-x may be inf, and 1 / inf = 0 is the right answer."""
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1.0
    return np.reciprocal(e, out=e)


class Tanh(Function):
    """y = tanh x;   dy/dx = 1 - y^2"""
    name = "tanh"

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1.0 - y * y)


class ReLU(Function):
    """y = max(x, 0);   dy/dx = 1 where x > 0, else 0"""
    name = "relu"

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y > 0)


class LeakyReLU(Function):
    """y = x where x > 0 else a x;   dy/dx = 1 or a"""
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x > 0, x, x * x.dtype.type(slope))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(x > 0, g, g * ctx.slope)


class ELU(Function):
    """y = x where x > 0 else a (e^x - 1);   dy/dx = 1 or a e^x"""
    name = "elu"

    @staticmethod
    def forward(ctx, x, alpha, scale):
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale = alpha, scale
        neg = np.expm1(np.minimum(x, 0)) * x.dtype.type(alpha)
        return (np.where(x > 0, x, neg) * x.dtype.type(scale)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s, a = ctx.scale, ctx.alpha
        neg_slope = x.clamp(max=0.0).exp() * (a * s)
        return g * where(x > 0, s, neg_slope)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _erf(x):
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)


class GELU(Function):
    """exact: y = x Phi(x), dy/dx = Phi(x) + x phi(x);
    tanh: y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)"""
    name = "gelu"

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
            return (0.5 * x * (1 + np.tanh(u))).astype(x.dtype, copy=False)
        return (0.5 * x * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = ((x + x ** 3 * 0.044715) * k).tanh()
            return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 0.134145 * x * x))
        cdf = Phi.apply(x)
        pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)


class Phi(Function):
    """Standard normal CDF: y = (1 + erf(x / sqrt 2)) / 2;   dy/dx = e^(-x^2/2) / sqrt(2 pi)"""
    name = "normal_cdf"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (0.5 * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))


class Softplus(Function):
    """y = ln(1 + e^(b x)) / b (x itself where b x > threshold);   dy/dx = sigmoid(b x)"""
    name = "softplus"

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        z = x * x.dtype.type(beta)
        soft = (np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0)) / x.dtype.type(beta)
        return np.where(z > threshold, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        z = x * ctx.beta
        return where(z > ctx.threshold, g, g * z.sigmoid())


class Hardtanh(Function):
    """y = clamp(x, lo, hi);   dy/dx = 1 where lo < x < hi, else 0"""
    name = "hardtanh"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where((x > ctx.lo) & (x < ctx.hi), g, 0.0)


class Softmax(Function):
    """y_i = e^(x_i - m) / sum_j e^(x_j - m);   dx = y (g - sum(g y))"""
    name = "softmax"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        m = np.max(x, axis=dim, keepdims=True) if x.size else 0
        e = np.exp(x - np.where(np.isfinite(m), m, 0))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x);   dx = g - softmax(x) sum(g)"""
    name = "log_softmax"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        m = np.max(x, axis=dim, keepdims=True) if x.size else 0
        shifted = x - np.where(np.isfinite(m), m, 0)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.dim, keepdim=True)


def _float_op(fn, name, x, *args):
    require_float(name, x)
    return fn.apply(x, *args)


def sigmoid(x):
    return _float_op(Sigmoid, "sigmoid", x)


def tanh(x):
    return _float_op(Tanh, "tanh", x)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return _float_op(LeakyReLU, "leaky_relu", x, float(negative_slope))


def elu(x, alpha=1.0):
    return _float_op(ELU, "elu", x, float(alpha), 1.0)


def selu(x):
    return _float_op(ELU, "selu", x, SELU_ALPHA, SELU_SCALE)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _float_op(GELU, "gelu", x, approximate)


def silu(x):
    """y = x sigmoid(x) (swish);   dy/dx = s (1 + x (1 - s))"""
    require_float("silu", x)
    return x * x.sigmoid()


def softplus(x, beta=1.0, threshold=20.0):
    return _float_op(Softplus, "softplus", x, float(beta), float(threshold))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    return _float_op(Hardtanh, "hardtanh", x, float(min_val), float(max_val))


def softmax(x, dim=None):
    return _softmax_family(Softmax, "softmax", x, dim)


def log_softmax(x, dim=None):
    return _softmax_family(LogSoftmax, "log_softmax", x, dim)


def _softmax_family(fn, name, x, dim):
    require_float(name, x)
    if dim is None:  # PyTorch's legacy implicit choice, with its warning turned into a rule
        raise TypeError(f"{name}: pass dim= (the dim whose entries sum to one)")
    if x.ndim == 0:
        return fn.apply(x.reshape(1), 0).reshape(())
    return fn.apply(x, normalize_dim(name, dim, x.ndim))
