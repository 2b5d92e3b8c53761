"""ember's ops, one module per family, and the table that makes them Tensor methods."""
import numpy as np

from ..autograd import Function
from .activation import (elu, gelu, hardtanh, leaky_relu, log_softmax, relu, selu, sigmoid, silu,
                         softmax, softplus, tanh)
from .elementwise import (abs, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, clamp,
                          cos, div, eq, exp, ge, gt, isfinite, isinf, isnan, le, log, log1p,
                          logical_and, logical_not, logical_or, logical_xor, lt, maximum,
                          minimum, mul, ne, neg, pow, rsqrt, sign, sin, sqrt, sub, to_dtype, where)
from .division import floor_divide, fmod, remainder
from .extra_math import (acos, asin, atan, atan2, ceil, cosh, erf, erfc, exp2, expm1, floor, frac,
                         lerp, log10, log2, logaddexp, logit, nan_to_num, reciprocal, round, sinh,
                         square, tan, trunc)
from .index import (gather, getitem, index_add, index_select, masked_fill, scatter, scatter_add,
                    setitem, sort, take_along_dim, topk)
from .linalg import addmm, bmm, cross, dot, einsum, linear, matmul, mm, outer, tensordot
from .matrix import diag, diag_embed, diagonal, trace
from .order import median, meshgrid, unique
from .reduce import (amax, amin, argmax, argmin, cumprod, cumsum, diff, logsumexp, max, mean, min,
                     norm, prod, std, std_mean, sum, var, var_mean)
from .similarity import cdist
from .statistics import (cummax, cummin, kthvalue, nanmean, nanquantile, nansum, quantile)
from .query import (allclose, argsort, bucketize, count_nonzero, equal, is_tensor, isclose,
                    masked_select, narrow, nonzero, numel, searchsorted, tril_indices,
                    triu_indices, unbind)
from .shape import (broadcast_to, cat, chunk, expand, flatten, flip, matrix_transpose, pad,
                    permute, repeat, reshape, roll, rot90, _shape_arg as shape_arg, split, squeeze,
                    stack, t, transpose, tril, triu, unflatten, unsqueeze)


class Clone(Function):
    """y = a copy of x;   dx = g"""
    name = "clone"

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def clone(x):
    return Clone.apply(x)


def clamp_min(x, min):
    return clamp(x, min=min)


def clamp_max(x, max):
    return clamp(x, max=max)


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _all(x, dim=None, keepdim=False):
    return _bool_reduce(np.all, x, dim, keepdim)


def _any(x, dim=None, keepdim=False):
    return _bool_reduce(np.any, x, dim, keepdim)


def _bool_reduce(np_fn, x, dim, keepdim):
    from ._util import normalize_dims
    dims = normalize_dims(np_fn.__name__, dim, x.ndim)
    return type(x)(np_fn(x._data, axis=dims, keepdims=keepdim))


def bind_methods(T):
    """Make the ops Tensor methods and operators, with PyTorch's names."""
    methods = dict(
        __add__=add, __radd__=_reflected(add), __sub__=sub, __rsub__=_reflected(sub),
        __mul__=mul, __rmul__=_reflected(mul), __truediv__=div, __rtruediv__=_reflected(div),
        __pow__=pow, __rpow__=_reflected(pow), __matmul__=matmul,
        __rmatmul__=_reflected(matmul), __neg__=neg, __abs__=abs, __pos__=lambda x: x,
        __eq__=eq, __ne__=ne, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge,
        __and__=bitwise_and, __or__=bitwise_or, __xor__=bitwise_xor, __invert__=bitwise_not,
        __getitem__=getitem,
        add=add, sub=sub, mul=mul, div=div, pow=pow, neg=neg, abs=abs, exp=exp, log=log,
        log1p=log1p, sqrt=sqrt, rsqrt=rsqrt, sin=sin, cos=cos, tanh=tanh, sigmoid=sigmoid,
        relu=relu, sign=sign, maximum=maximum, minimum=minimum, clamp=clamp, clip=clamp,
        matmul=matmul, mm=mm, bmm=bmm, dot=dot, outer=outer,
        sum=sum, mean=mean, prod=prod, max=max, min=min, amax=amax, amin=amin, var=var, std=std,
        norm=norm, logsumexp=logsumexp, cumsum=cumsum, softmax=softmax,
        log_softmax=log_softmax, argmax=argmax, argmin=argmin, all=_all, any=_any,
        reshape=reshape, view=reshape, flatten=flatten, unflatten=unflatten,
        transpose=transpose, permute=permute, t=t, squeeze=squeeze, unsqueeze=unsqueeze,
        expand=expand, broadcast_to=broadcast_to, repeat=repeat, flip=flip, roll=roll,
        tril=tril, triu=triu, split=split, chunk=chunk, gather=gather, scatter_add=scatter_add,
        index_select=index_select, masked_fill=masked_fill, sort=sort, topk=topk,
        eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, isnan=isnan, isinf=isinf, isfinite=isfinite,
        logical_and=logical_and, logical_or=logical_or, logical_xor=logical_xor,
        logical_not=logical_not,
        square=square, reciprocal=reciprocal, expm1=expm1, exp2=exp2, log2=log2, log10=log10,
        tan=tan, sinh=sinh, cosh=cosh, asin=asin, acos=acos, atan=atan, arcsin=asin,
        arccos=acos, arctan=atan, atan2=atan2, arctan2=atan2, floor=floor, ceil=ceil,
        round=round, trunc=trunc, frac=frac, logaddexp=logaddexp, lerp=lerp, erf=erf, erfc=erfc,
        allclose=allclose, isclose=isclose, equal=equal, nonzero=nonzero, argsort=argsort,
        count_nonzero=count_nonzero, nelement=numel, narrow=narrow, unbind=unbind,
        masked_select=masked_select, where=lambda x, condition, other: where(condition, x, other),
        ndimension=lambda x: x.ndim,
        cumprod=cumprod, diagonal=diagonal, diag=diag, diag_embed=diag_embed, trace=trace,
        remainder=remainder, fmod=fmod, floor_divide=floor_divide,
        __mod__=remainder, __rmod__=_reflected(remainder), __floordiv__=floor_divide,
        __rfloordiv__=_reflected(floor_divide), median=median, unique=unique,
        addmm=addmm, nan_to_num=nan_to_num, logit=logit, clamp_min=clamp_min,
        clamp_max=clamp_max, diff=diff, index_add=index_add, take_along_dim=take_along_dim,
        scatter=scatter, rot90=rot90, cross=cross, nansum=nansum, nanmean=nanmean,
        quantile=quantile, nanquantile=nanquantile, kthvalue=kthvalue, cummax=cummax,
        cummin=cummin,
    )
    for name, fn in methods.items():
        setattr(T, name, fn)
    T.T = property(lambda x: x.permute(tuple(reversed(range(x.ndim)))) if x.ndim > 1 else x)
    T.mT = property(matrix_transpose)
    T.view_as = lambda x, other: reshape(x, other.shape)
    T.expand_as = lambda x, other: expand(x, other.shape)
    T.reshape_as = lambda x, other: reshape(x, other.shape)
