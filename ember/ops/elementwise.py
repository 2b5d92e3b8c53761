"""Elementwise arithmetic and math: + - * / **, neg, abs, exp, log, sqrt, trig, max/min, clamp,
where, casts, comparisons and logical ops.

Binary ops broadcast; each input's gradient is summed back to its own shape (`unbroadcast`).
"""
import numpy as np

from ..autograd import _NO_CTX, Function
from ._util import (as_operands, broadcast_shapes, tensor_cls, unbroadcast,
                    unbroadcast_array)


def _binary(fn, name, a, b):
    a, b = as_operands(name, a, b)
    try:
        return fn.apply(a, b)
    except ValueError:
        broadcast_shapes(name, a.shape, b.shape)  # the clear error, when that was the cause
        raise


class Add(Function):
    """z = a + b;   dz/da = 1, dz/db = 1"""
    name = "add"

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        return (unbroadcast(g, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(g, b.shape) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def array_backward(ctx, g):
        a, b = ctx.inputs
        return (unbroadcast_array(g, a._data.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast_array(g, b._data.shape) if ctx.needs_input_grad[1] else None)


class Sub(Function):
    """z = a - b;   dz/da = 1, dz/db = -1"""
    name = "sub"

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        return (unbroadcast(g, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(-g, b.shape) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def array_backward(ctx, g):
        a, b = ctx.inputs
        return (unbroadcast_array(g, a._data.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast_array(-g, b._data.shape) if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;   dz/da = b, dz/db = a"""
    name = "mul"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (unbroadcast(g * b, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(g * a, b.shape) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def array_backward(ctx, g):
        a, b = ctx.saved_arrays
        return (unbroadcast_array(g * b, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast_array(g * a, b.shape) if ctx.needs_input_grad[1] else None)


class Div(Function):
    """z = a / b;   dz/da = 1 / b, dz/db = -a / b^2"""
    name = "div"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (unbroadcast(g / b, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def array_backward(ctx, g):
        a, b = ctx.saved_arrays
        return (unbroadcast_array(g / b, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast_array(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None)


class Pow(Function):
    """z = a ** b;   dz/da = b a^(b-1),  dz/db = z log a  (taken as 0 where a = 0)"""
    name = "pow"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.power(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g * b * a ** (b - 1), a.shape)
        if ctx.needs_input_grad[1]:
            safe_log = where(a == 0, 0.0, a).log()
            gb = unbroadcast(g * a ** b * safe_log, b.shape)
        return ga, gb

    @staticmethod
    def array_backward(ctx, g):
        a, b = ctx.saved_arrays
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast_array(g * b * Pow.forward(_NO_CTX, a, b - 1), a.shape)
        if ctx.needs_input_grad[1]:
            safe_log = Log.forward(_NO_CTX, np.where(a == 0, a.dtype.type(0), a))
            gb = unbroadcast_array(g * Pow.forward(_NO_CTX, a, b) * safe_log, b.shape)
        return ga, gb


class PowScalar(Function):
    """z = x ** p for a number p;   dz/dx = p x^(p-1)"""
    name = "pow"

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        if p == 2:
            return x * x
        return np.power(x, p, dtype=x.dtype) if x.dtype.kind == "f" else np.power(x, p)

    @staticmethod
    def backward(ctx, g):
        return _pow_scalar_grad(g, *ctx.saved_tensors, ctx.p)

    @staticmethod
    def array_backward(ctx, g):
        return _pow_scalar_grad(g, *ctx.saved_arrays, ctx.p)


def _pow_scalar_grad(g, x, p):
    """g p x^(p-1), the same expression on Tensors (differentiable) and on arrays"""
    if p == 2:
        return g * x * 2.0
    return g * p * x ** (p - 1)


class Neg(Function):
    """z = -x;   dz/dx = -1"""
    name = "neg"

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, g):
        return -g

    @staticmethod
    def array_backward(ctx, g):
        return Neg.forward(_NO_CTX, g)


class Abs(Function):
    """z = |x|;   dz/dx = sign(x)  (0 at 0, as PyTorch)"""
    name = "abs"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sign(x)


class Exp(Function):
    """z = e^x;   dz/dx = z"""
    name = "exp"

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # e^1000 = inf, as PyTorch, without a warning
            y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def array_backward(ctx, g):
        (y,) = ctx.saved_arrays
        return g * y


class Log(Function):
    """z = ln x;   dz/dx = 1 / x"""
    name = "log"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x

    @staticmethod
    def array_backward(ctx, g):
        (x,) = ctx.saved_arrays
        return g / x


class Log1p(Function):
    """z = ln(1 + x);   dz/dx = 1 / (1 + x)"""
    name = "log1p"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x + 1.0)


class Sqrt(Function):
    """z = sqrt(x);   dz/dx = 1 / (2 z)"""
    name = "sqrt"

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (y * 2.0)


class Rsqrt(Function):
    """z = 1 / sqrt(x);   dz/dx = -z^3 / 2"""
    name = "rsqrt"

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.reciprocal(np.sqrt(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * y * y * -0.5


class Sin(Function):
    """z = sin x;   dz/dx = cos x"""
    name = "sin"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Function):
    """z = cos x;   dz/dx = -sin x"""
    name = "cos"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * x.sin()


class Maximum(Function):
    """z = max(a, b);   the gradient goes to the larger input (split in half on ties)"""
    name = "maximum"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share_a = (a > b).to(g.dtype) + (a == b).to(g.dtype) * 0.5
        return (unbroadcast(g * share_a, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(g * (1.0 - share_a), b.shape) if ctx.needs_input_grad[1] else None)


class Minimum(Function):
    """z = min(a, b);   the gradient goes to the smaller input (split in half on ties)"""
    name = "minimum"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share_a = (a < b).to(g.dtype) + (a == b).to(g.dtype) * 0.5
        return (unbroadcast(g * share_a, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(g * (1.0 - share_a), b.shape) if ctx.needs_input_grad[1] else None)


class Clamp(Function):
    """z = min(max(x, lo), hi);   dz/dx = 1 where lo <= x <= hi, else 0"""
    name = "clamp"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inside = x >= ctx.lo if ctx.lo is not None else None
        if ctx.hi is not None:
            below = x <= ctx.hi
            inside = below if inside is None else inside & below
        return where(inside, g, 0.0)


class Where(Function):
    """z = a where cond else b;   dz/da = cond, dz/db = not cond"""
    name = "where"

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        _, a, b = ctx.inputs
        return (None,
                unbroadcast(where(cond, g, 0.0), a.shape) if ctx.needs_input_grad[1] else None,
                unbroadcast(where(cond, 0.0, g), b.shape) if ctx.needs_input_grad[2] else None)


class Cast(Function):
    """z = x as another dtype;   dz/dx = 1 (cast back)"""
    name = "to"

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        return g.to(x.dtype)

    @staticmethod
    def array_backward(ctx, g):
        return g.astype(ctx.inputs[0]._data.dtype, copy=False)


def add(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    return _binary(Add, "add", a, b)


def sub(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    return _binary(Sub, "sub", a, b)


def mul(a, b):
    return _binary(Mul, "mul", a, b)


def div(a, b):
    a, b = as_operands("div", a, b)
    if a.dtype.kind != "f":  # true division, as PyTorch: int / int -> float
        from ..backend import get_default_dtype
        a, b = a.to(get_default_dtype()), b.to(get_default_dtype())
    return _binary(Div, "div", a, b)


def pow(a, b):
    T = tensor_cls()
    if isinstance(a, T) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if a.dtype.kind != "f" and isinstance(b, float):
            from ..backend import get_default_dtype
            a = a.to(get_default_dtype())
        return PowScalar.apply(a, b)
    return _binary(Pow, "pow", a, b)


def neg(x):
    return Neg.apply(x)


def abs(x):
    return Abs.apply(x)


def _float_unary(fn):
    def op(x):
        if x.dtype.kind != "f":
            from ..backend import get_default_dtype
            x = x.to(get_default_dtype())
        return fn.apply(x)
    op.__name__ = fn.name
    op.__doc__ = fn.__doc__
    return op


exp = _float_unary(Exp)
log = _float_unary(Log)
log1p = _float_unary(Log1p)
sqrt = _float_unary(Sqrt)
rsqrt = _float_unary(Rsqrt)
sin = _float_unary(Sin)
cos = _float_unary(Cos)


def maximum(a, b):
    return _binary(Maximum, "maximum", a, b)


def minimum(a, b):
    return _binary(Minimum, "minimum", a, b)


def clamp(x, min=None, max=None):
    """Clamp into [min, max]; bounds may be numbers or tensors (then maximum/minimum)."""
    T = tensor_cls()
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, T) or isinstance(max, T):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp.apply(x, min, max)


def where(cond, a, b):
    T = tensor_cls()
    if not isinstance(cond, T):
        cond = T(np.asarray(cond, dtype=bool))
    elif cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    if not isinstance(a, T) or not isinstance(b, T) or a.dtype != b.dtype:
        a, b = as_operands("where", a, b)
    broadcast_shapes("where", cond.shape, a.shape, b.shape)
    return Where.apply(cond, a, b)


def to_dtype(x, dtype):
    dtype = np.dtype(dtype)
    if x._data.dtype == dtype:
        return x
    return Cast.apply(x, dtype)


# ---- no gradient: comparisons, logical ops, tests ----------------------------------------

def _no_grad_binary(np_fn, name):
    def op(a, b):
        a, b = as_operands(name, a, b)
        if a.shape != b.shape:
            broadcast_shapes(name, a.shape, b.shape)
        return tensor_cls()(np_fn(a._data, b._data))
    op.__name__ = name
    return op


eq = _no_grad_binary(np.equal, "eq")
ne = _no_grad_binary(np.not_equal, "ne")
lt = _no_grad_binary(np.less, "lt")
le = _no_grad_binary(np.less_equal, "le")
gt = _no_grad_binary(np.greater, "gt")
ge = _no_grad_binary(np.greater_equal, "ge")


def _logical(np_fn, name):
    def op(a, b):
        T = tensor_cls()
        a = a._data if isinstance(a, T) else np.asarray(a)
        b = b._data if isinstance(b, T) else np.asarray(b)
        broadcast_shapes(name, a.shape, b.shape)
        if a.dtype == np.bool_ and b.dtype == np.bool_:
            return T(np_fn(a, b))
        return T(np_fn(a != 0, b != 0))
    op.__name__ = name
    return op


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def logical_not(x):
    return tensor_cls()(np.logical_not(x._data))


def _bitwise(np_fn, name):
    def op(a, b):
        a, b = as_operands(name, a, b)
        if a.dtype.kind == "f":
            raise TypeError(f"{name}: expected bool or integer tensors, got {a.dtype}")
        broadcast_shapes(name, a.shape, b.shape)
        return tensor_cls()(np_fn(a._data, b._data))
    op.__name__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(x):
    if x.dtype.kind == "f":
        raise TypeError(f"bitwise_not: expected a bool or integer tensor, got {x.dtype}")
    return tensor_cls()(np.invert(x._data))


def isnan(x):
    return tensor_cls()(np.isnan(x._data))


def isinf(x):
    return tensor_cls()(np.isinf(x._data))


def isfinite(x):
    return tensor_cls()(np.isfinite(x._data))


def sign(x):
    """sign(x) in {-1, 0, 1}; no gradient flows through it (its derivative is 0 almost everywhere)."""
    return tensor_cls()(np.sign(x._data))
