"""More elementwise math with PyTorch's names: tan, sinh, cosh, asin, acos, atan, atan2, expm1,
exp2, log2, log10, reciprocal, square, erf, erfc, logaddexp, lerp, the rounding ops floor,
ceil, round, trunc, frac, and nan_to_num, logit. Each backward is written with ember ops, so it is differentiable again.
"""
import math

import numpy as np

from ..autograd import Function
from ._util import tensor_cls, unbroadcast
from .activation import _erf
from .elementwise import _binary, _float_unary, pow, where


def _unary(name, np_fn, derivative, save="x", doc=""):
    """A unary op y = np_fn(x) with dy/dx = derivative(saved), written with ember ops on the
    Tensor it saves: x (save="x") or y (save="y")."""

    def forward(ctx, x):
        y = np_fn(x)
        ctx.save_for_backward(x if save == "x" else y)
        return y

    def backward(ctx, g):
        (saved,) = ctx.saved_tensors
        return g * derivative(saved)

    cls = type(name.capitalize(), (Function,), {
        "name": name, "__doc__": doc, "forward": staticmethod(forward),
        "backward": staticmethod(backward)})
    return _float_unary(cls)


LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

tan = _unary("tan", np.tan, lambda y: 1.0 + y * y, save="y", doc="y = tan x;  dy/dx = 1 + y^2")
sinh = _unary("sinh", np.sinh, lambda x: x.cosh(), doc="y = sinh x;  dy/dx = cosh x")
cosh = _unary("cosh", np.cosh, lambda x: x.sinh(), doc="y = cosh x;  dy/dx = sinh x")
asin = _unary("asin", np.arcsin, lambda x: (1.0 - x * x).rsqrt(),
              doc="y = asin x;  dy/dx = 1 / sqrt(1 - x^2)")
acos = _unary("acos", np.arccos, lambda x: -(1.0 - x * x).rsqrt(),
              doc="y = acos x;  dy/dx = -1 / sqrt(1 - x^2)")
atan = _unary("atan", np.arctan, lambda x: 1.0 / (1.0 + x * x),
              doc="y = atan x;  dy/dx = 1 / (1 + x^2)")
expm1 = _unary("expm1", np.expm1, lambda y: y + 1.0, save="y",
               doc="y = e^x - 1 (exact near 0);  dy/dx = y + 1")
exp2 = _unary("exp2", np.exp2, lambda y: y * LN2, save="y", doc="y = 2^x;  dy/dx = y ln 2")
log2 = _unary("log2", np.log2, lambda x: 1.0 / (x * LN2), doc="y = log2 x;  dy/dx = 1/(x ln 2)")
log10 = _unary("log10", np.log10, lambda x: 1.0 / (x * LN10),
               doc="y = log10 x;  dy/dx = 1 / (x ln 10)")
reciprocal = _unary("reciprocal", np.reciprocal, lambda y: -(y * y), save="y",
                    doc="y = 1 / x;  dy/dx = -y^2")
erf = _unary("erf", _erf, lambda x: (-(x * x)).exp() * TWO_OVER_SQRT_PI,
             doc="y = erf x (float64 inside, a few ulp);  dy/dx = 2/sqrt(pi) e^(-x^2)")
erfc = _unary("erfc", lambda x: _erf(x, complement=True),
              lambda x: (-(x * x)).exp() * -TWO_OVER_SQRT_PI,
              doc="y = 1 - erf x, accurate however small;  dy/dx = -2/sqrt(pi) e^(-x^2)")


def square(x):
    """x^2 (the power op: dy/dx = 2x)."""
    return pow(x, 2)


class _Rounding(Function):
    """floor, ceil, round (half to even), trunc: piecewise constant, so the gradient is 0."""

    @staticmethod
    def forward(ctx, x, np_fn, kwargs):
        return np_fn(x, **kwargs)

    @staticmethod
    def backward(ctx, g):
        return g * 0.0, None, None


def _rounding(name, np_fn):
    cls = type(name.capitalize(), (_Rounding,), {"name": name})

    def op(x, **kwargs):
        if x.dtype.kind != "f":  # integers are already whole: PyTorch returns them as they are
            return x.clone()
        return cls.apply(x, np_fn, kwargs)
    op.__name__ = name
    op.__doc__ = f"{name}(x), elementwise; the gradient is 0 (PyTorch's)."
    return op


floor = _rounding("floor", np.floor)
ceil = _rounding("ceil", np.ceil)
trunc = _rounding("trunc", np.trunc)
_round = _rounding("round", np.round)


def round(x, decimals=0):  # (torch.round; shadows the builtin here only)
    """x rounded to `decimals` places, halves to even (as PyTorch); the gradient is 0."""
    return _round(x, decimals=decimals) if decimals else _round(x)


def frac(x):
    """x - trunc(x), with the sign of x;  d/dx = 1."""
    return x - trunc(x)


class Atan2(Function):
    """z = atan2(a, b), the angle of (b, a);  dz/da = b / (a^2 + b^2),  dz/db = -a / (a^2 + b^2)"""
    name = "atan2"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        scale = g / (a * a + b * b)
        return (unbroadcast(scale * b, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(-scale * a, b.shape) if ctx.needs_input_grad[1] else None)


def atan2(input, other):
    return _binary(Atan2, "atan2", input, other)


class LogAddExp(Function):
    """z = ln(e^a + e^b) without overflow;  dz/da = e^(a - z),  dz/db = e^(b - z)"""
    name = "logaddexp"

    @staticmethod
    def forward(ctx, a, b):
        z = np.logaddexp(a, b)
        ctx.save_for_backward(a, b, z)
        return z

    @staticmethod
    def backward(ctx, g):
        a, b, z = ctx.saved_tensors
        return (unbroadcast(g * (a - z).exp(), a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(g * (b - z).exp(), b.shape) if ctx.needs_input_grad[1] else None)


def logaddexp(input, other):
    return _binary(LogAddExp, "logaddexp", input, other)


def lerp(input, end, weight):
    """input + weight (end - input): the gradients are 1 - weight, weight and end - input."""
    return input + weight * (end - input)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced (by default by 0 and the dtype's largest and smallest
    finite values); the gradient flows where the input was finite, as in torch."""
    if input.dtype.kind != "f":
        return input.clone()
    info = np.finfo(input.dtype)
    a = input._data
    replaced = np.where(np.isnan(a), nan, np.where(a > 0, info.max if posinf is None else
                                                      posinf, info.min if neginf is None
                                                      else neginf)).astype(a.dtype)
    return where(tensor_cls()(np.isfinite(a)), input, tensor_cls()(replaced))


def logit(input, eps=None):
    """ln(p / (1 - p)), the inverse of sigmoid; with eps, p is clamped to [eps, 1 - eps] first
    (its gradient 0 outside)."""
    p = input if eps is None else input.clamp(eps, 1.0 - eps)
    return p.log() - (-p).log1p()
