"""Integer-style division with PyTorch's names and operators: remainder (`%`, the sign of the
divisor, as Python's), fmod (the sign of the dividend, as C's) and floor_divide (`//`).

    a = b q + r:  remainder: q = floor(a / b);  fmod: q = trunc(a / b)
so dr/da = 1 and dr/db = -q (q is piecewise constant); floor_divide has no gradient (as in
torch, which does not implement one), and integer division by zero is an error, as in torch.
"""
import numpy as np

from ..autograd import Function
from ._util import as_operands, tensor_cls, unbroadcast
from .elementwise import _binary


class _Remainder(Function):
    """r = a - b q;   dr/da = 1,  dr/db = -q"""
    quotient = staticmethod(np.floor)

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(invalid="ignore", divide="ignore"):  # x % 0.0 is nan, as in torch
            return cls.np_fn(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            q = tensor_cls()(cls.quotient(a._data / b._data))
        return (unbroadcast(g, a.shape) if ctx.needs_input_grad[0] else None,
                unbroadcast(-g * q, b.shape) if ctx.needs_input_grad[1] else None)


class Remainder(_Remainder):
    """r = a - b floor(a / b): the sign of b (Python's %)"""
    name = "remainder"
    np_fn = staticmethod(np.remainder)


class Fmod(_Remainder):
    """r = a - b trunc(a / b): the sign of a (C's fmod)"""
    name = "fmod"
    np_fn = staticmethod(np.fmod)
    quotient = staticmethod(np.trunc)


def _operands(name, a, b):
    a, b = as_operands(name, a, b)
    if a.dtype.kind in "iub" and np.any(b._data == 0):
        raise ZeroDivisionError(f"{name}: integer division by zero")
    return a, b


def remainder(input, other):
    return _binary(Remainder, "remainder", *_operands("remainder", input, other))


def fmod(input, other):
    return _binary(Fmod, "fmod", *_operands("fmod", input, other))


def floor_divide(input, other):
    """floor(a / b) (Python's //); no gradient."""
    a, b = _operands("floor_divide", input, other)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tensor_cls()(np.floor_divide(a._data, b._data))
