"""Activations and the softmax family.

Each is written to stay finite where the math is: sigmoid(-1000) = 0, not a NaN from
exp(1000) / exp(1000); softmax subtracts the row max first. Exact GELU needs erf, which NumPy
lacks: it is computed here, vectorized, to a few ulp.
"""
import math

import numpy as np

from ..autograd import _NO_CTX, Function
from ..backend import constant
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
        return SigmoidBackward.apply(g, y)

    @staticmethod
    def array_backward(ctx, g):
        (y,) = ctx.saved_arrays
        return SigmoidBackward.forward(_NO_CTX, g, y)


class SigmoidBackward(Function):
    """sigmoid's backward as one node: z = g y (1 - y);   dz/dg = y (1 - y),  dz/dy = g (1 - 2y)"""
    name = "sigmoid_backward"

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        s = np.subtract(constant(1, y.dtype), y)  # (a 0-d 1: a faster operand than Python's)
        s *= y
        return g * s

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        return (SigmoidBackward.apply(gg, y) if ctx.needs_input_grad[0] else None,
                gg * g * (1.0 - 2.0 * y) if ctx.needs_input_grad[1] else None)


@np.errstate(over="ignore")  # as a decorator it costs less per call than a `with` block
def stable_sigmoid(x):
    """1 / (1 + e^-x) without overflow: e^-x may be inf, and 1 / inf = 0 is the right answer."""
    # NumPy turns a 0-d result into a scalar: out= keeps it an array (other shapes need no copy)
    e = np.negative(x) if x.ndim else np.negative(x, np.empty_like(x))
    np.exp(e, e)  # (out given by position: NumPy parses that faster than out=)
    np.add(e, constant(1, e.dtype), e)
    return np.reciprocal(e, e)


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
        return TanhBackward.apply(g, y)

    @staticmethod
    def array_backward(ctx, g):
        (y,) = ctx.saved_arrays
        return TanhBackward.forward(_NO_CTX, g, y)


class TanhBackward(Function):
    """tanh's backward as one node: z = g (1 - y^2);   dz/dg = 1 - y^2,  dz/dy = -2 g y"""
    name = "tanh_backward"

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g * np.subtract(constant(1, y.dtype), y * y)

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        return (TanhBackward.apply(gg, y) if ctx.needs_input_grad[0] else None,
                gg * g * y * -2.0 if ctx.needs_input_grad[1] else None)


class SiLU(Function):
    """y = x s, s = sigmoid(x) (swish);   dy/dx = s (1 + x (1 - s))"""
    name = "silu"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # -inf * 0 = nan at -inf, as in PyTorch
            return x * stable_sigmoid(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return g * s * (1.0 + x * (1.0 - s))


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
        return ThresholdBackward.apply(g, y)

    @staticmethod
    def array_backward(ctx, g):
        (y,) = ctx.saved_arrays
        return ThresholdBackward.forward(_NO_CTX, g, y)


class ThresholdBackward(Function):
    """relu's backward as one node: z = g where y > 0, else 0;   dz/dg = that mask, dz/dy = 0"""
    name = "threshold_backward"

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(y)
        # a multiply by the mask is ~8x faster than np.where on big activations; it differs only
        # where g is already inf/nan at a masked place (nan here, 0 in PyTorch)
        return np.multiply(g, y > 0, dtype=g.dtype)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        return ThresholdBackward.apply(gg, y), None


class LeakyReLU(Function):
    """y = x where x > 0 else a x  (= max(x, a x) for a <= 1, min(x, a x) for a > 1: two passes
    over the array, not np.where's three);   dy/dx = 1 or a"""
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        a = x.dtype.type(slope)
        # NumPy turns a 0-d result into a scalar: out= keeps it an array
        y = np.multiply(x, a) if x.ndim else np.multiply(x, a, out=np.empty_like(x))
        return (np.maximum if slope <= 1 else np.minimum)(x, y, out=y)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return LeakyReLUBackward.apply(g, x, ctx.slope), None

    @staticmethod
    def array_backward(ctx, g):
        (x,) = ctx.saved_arrays
        return LeakyReLUBackward.forward(_NO_CTX, g, x, ctx.slope), None


class LeakyReLUBackward(Function):
    """leaky_relu's backward as one node: z = g where x > 0, else a g;   dz/dg = 1 or a,
    dz/dx = 0"""
    name = "leaky_relu_backward"

    @staticmethod
    def forward(ctx, g, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        t = g.dtype.type
        factor = np.where(x > 0, t(1), t(slope))
        return np.multiply(factor, g, out=factor)

    @staticmethod
    def backward(ctx, gg):
        (x,) = ctx.saved_tensors
        return LeakyReLUBackward.apply(gg, x, ctx.slope), None, None


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


class SELU(ELU):
    """y = scale * elu(x, alpha) with PyTorch's fixed alpha and scale (self-normalizing)"""
    name = "selu"


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ---- erf and erfc, vectorized, in float64 (a few ulp; tested to 1e-15 relative) ----
#   erf, |x| < 0.75:  erf x = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))   (Taylor, 15 terms)
#   erfc, x >= 0.5:   erfc x = e^(-x^2) h(s) / (x + 1),   s = 1 - 3 / (x + 1) in [-1, 1)
#   and from those:   erf = 1 - erfc,  erfc = 1 - erf,  erf(-x) = -erf x,  erfc(-x) = 2 - erfc x
# h(s) = (x + 1) e^(x^2) erfc(x) is smooth on [-1, 1] (it tends to 1/sqrt(pi) as x -> inf), so a
# short Chebyshev series fits it; the coefficients below were computed in 50-digit arithmetic by
# interpolation at 80 Chebyshev nodes (tests/ops/test_activation.py re-derives them with mpmath).
# Both series are evaluated by Horner's rule in the power basis (the power-basis coefficients of h
# sum to 1.01 in absolute value: no cancellation).
_ERF_SERIES_BELOW = 0.75
_ERFC_TAIL_FROM = 0.5
_ERFC_CHEB = (
    0.754453266838174, -0.1833498186238203, -0.011128162109638537, 0.0037550549555210133,
    0.00057012416658588, -7.666860040754297e-05, -3.4083995807179106e-05, -1.908351942071352e-06,
    1.405038132723401e-06, 3.9807937678177153e-07, 6.16145658660129e-09, -2.3810192095576287e-08,
    -6.629093143155028e-09, -1.5638407448270364e-10, 4.412298553240472e-10,
    1.4579874502370567e-10, 1.112458133516527e-11, -8.279608611426182e-12,
    -3.738614871728611e-12, -5.854126424600659e-13, 1.2310988314799045e-13, 9.87566852947418e-14,
    2.5712473980358008e-14, 4.722297061988234e-16, -2.323835688112791e-15,
    -9.802489222669302e-16, -1.6529297685899207e-16, 3.243263399534522e-17,
    3.110812205257334e-17, 9.920233798225239e-18,
)


def _erf_coefficients():
    """(Taylor coefficients of erf x / x in x^2, power-basis coefficients of h in s), each
    highest power first, as Horner's rule takes them."""
    taylor = [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
              for n in range(15)]
    tail = np.polynomial.chebyshev.cheb2poly(_ERFC_CHEB)
    return tuple(taylor[::-1]), tuple(float(c) for c in tail[::-1])


_ERF_TAYLOR, _ERFC_POLY = _erf_coefficients()


def _horner(coefficients, t):
    """sum_k c_k t^k, coefficients highest power first; one buffer, updated in place."""
    p = np.full_like(t, coefficients[0])
    for c in coefficients[1:]:
        p *= t
        p += c
    return p


def _erf_series(x):
    """erf x for |x| < 0.75."""
    p = _horner(_ERF_TAYLOR, x * x)
    p *= x
    return p


def _erfc_tail(x):
    """erfc x for x >= 0.5, nan or inf included. x must be a scratch array: it is overwritten."""
    np.minimum(x, 30.0, out=x)  # erfc(30) is 0 in float64; keeps inf out of the split below
    w = x + 1.0
    np.reciprocal(w, out=w)
    s = w * -3.0
    s += 1.0
    h = _horner(_ERFC_POLY, s)
    h *= w
    # e^(-x^2) to full precision: x = hi + lo with hi of 26 bits, so hi^2 is exact, and
    # e^(-x^2) = e^(-hi^2) e^d, d = (hi - x)(hi + x), |d| < 6e-5: e^d = 1 + d + d^2/2 + d^3/6
    hi = (x.view(np.uint64) & np.uint64(0xFFFF_FFFF_F800_0000)).view(np.float64)
    d = hi - x
    d *= hi + x
    e_d = _horner((1 / 6, 0.5, 1.0, 1.0), d)
    np.multiply(hi, hi, out=hi)
    np.negative(hi, out=hi)
    with np.errstate(under="ignore"):
        np.exp(hi, out=hi)
    h *= hi
    h *= e_d
    return h


_ERF_BLOCK = 1 << 15  # elements per block: the temporaries stay in cache and off mmap


def _erf(x, complement=False):
    """erf (or erfc) of a float array, computed in float64 and returned in x's dtype."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    out = np.empty_like(flat)
    for start in range(0, flat.size, _ERF_BLOCK):
        block = slice(start, start + _ERF_BLOCK)
        _erf_block(flat[block], out[block], complement)
    return out.reshape(np.shape(x)).astype(x.dtype, copy=False)


def _erf_block(x, out, complement):
    # erf near 0 from its series; elsewhere from erfc's tail form, accurate however small erfc is
    near = np.abs(x) < (_ERFC_TAIL_FROM if complement else _ERF_SERIES_BELOW)
    i_near, i_far = np.flatnonzero(near), np.flatnonzero(~near)  # nan goes to the tail
    erf_near = _erf_series(x[i_near])
    out[i_near] = 1.0 - erf_near if complement else erf_near
    x_far = x[i_far]
    erfc_far = _erfc_tail(np.abs(x_far))
    if complement:
        out[i_far] = np.where(x_far < 0, 2.0 - erfc_far, erfc_far)
    else:
        out[i_far] = np.copysign(1.0 - erfc_far, x_far)


def _erfc(x):
    """erfc = 1 - erf, without the cancellation: accurate where erfc x is tiny (x up to 26)."""
    return _erf(x, complement=True)


class GELU(Function):
    """exact: y = x Phi(x), dy/dx = Phi(x) + x phi(x);
    tanh: y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)"""
    name = "gelu"

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        # x^3 = inf for huge x gives tanh u = +-1, which is right; -inf * 0 = nan at -inf, as in
        # PyTorch
        with np.errstate(over="ignore", invalid="ignore"):
            if approximate == "tanh":
                u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
                return (0.5 * x * (1 + np.tanh(u))).astype(x.dtype, copy=False)
            return (x * normal_cdf(x)).astype(x.dtype, copy=False)

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


def normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, in x's dtype: no cancellation in the left tail."""
    return 0.5 * _erfc(x * -math.sqrt(0.5))


class Phi(Function):
    """Standard normal CDF: y = (1 + erf(x / sqrt 2)) / 2;   dy/dx = e^(-x^2/2) / sqrt(2 pi)"""
    name = "normal_cdf"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.asarray(normal_cdf(x), dtype=x.dtype)

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
    """y_i = e^(x_i - m) / sum_j e^(x_j - m), m = max_j x_j;   dx = y (g - sum(g y))"""
    name = "softmax"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        with np.errstate(invalid="ignore"):  # rows with +inf or nan, and all -inf rows: nan
            e = np.subtract(x, _row_max(x, dim), out=np.empty_like(x))
            np.exp(e, out=e)
            e /= e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(ctx.dim, keepdim=True))

    @staticmethod
    def array_backward(ctx, g):
        (y,) = ctx.saved_arrays
        return y * (g - np.add.reduce(g * y, axis=ctx.dim, keepdims=True))


class LogSoftmax(Function):
    """y = x - m - ln sum_j e^(x_j - m), m = max_j x_j;   dx = g - softmax(x) sum(g)"""
    name = "log_softmax"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.subtract(x, _row_max(x, dim), out=np.empty_like(x))
            y -= np.log(np.exp(y).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.dim, keepdim=True)

    @staticmethod
    def array_backward(ctx, g):
        (y,) = ctx.saved_arrays
        return g - np.exp(y) * np.add.reduce(g, axis=ctx.dim, keepdims=True)


def _row_max(x, dim):
    """The shift that keeps e^x finite: the max along dim; 0 for an all -inf row (whose shifted
    values would be nan) or an empty tensor. A +inf or nan makes its row all nan, as in PyTorch."""
    if x.size == 0:
        return x.dtype.type(0)
    m = np.max(x, axis=dim, keepdims=True)
    return np.where(np.isneginf(m), 0, m).astype(x.dtype, copy=False)


def _float_op(fn, name, x, *args):
    require_float(name, x)
    return fn.apply(x, *args)


def sigmoid(input):
    if input._data.dtype.kind != "f":
        require_float("sigmoid", input)
    return Sigmoid.apply(input)


def tanh(input):
    if input._data.dtype.kind != "f":
        require_float("tanh", input)
    return Tanh.apply(input)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return _float_op(LeakyReLU, "leaky_relu", x, float(negative_slope))


def elu(x, alpha=1.0):
    return _float_op(ELU, "elu", x, float(alpha), 1.0)


def selu(x):
    return _float_op(SELU, "selu", x, SELU_ALPHA, SELU_SCALE)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _float_op(GELU, "gelu", x, approximate)


def silu(x):
    return _float_op(SiLU, "silu", x)


def softplus(x, beta=1.0, threshold=20.0):
    return _float_op(Softplus, "softplus", x, float(beta), float(threshold))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    return _float_op(Hardtanh, "hardtanh", x, float(min_val), float(max_val))


def softmax(x, dim=None, dtype=None):
    return _softmax_family(Softmax, "softmax", x, dim, dtype)


def log_softmax(x, dim=None, dtype=None):
    return _softmax_family(LogSoftmax, "log_softmax", x, dim, dtype)


def _softmax_family(fn, name, x, dim, dtype):
    if dim is None:  # PyTorch's legacy implicit choice, with its warning turned into a rule
        raise TypeError(f"{name}: pass dim= (the dim whose entries sum to one)")
    dim = normalize_dim(name, dim, x.ndim)
    if dtype is not None:  # PyTorch's dtype=: cast first (a float16 input summed in float32)
        x = x.to(dtype)
    require_float(name, x)
    if x.ndim == 0:
        return fn.apply(x.reshape(1), 0).reshape(())
    return fn.apply(x, dim)
