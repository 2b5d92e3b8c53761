"""ember: a deep-learning framework on NumPy that shows forward and backward propagation.

    import ember
    x = ember.tensor([[0.5, 0.1]], requires_grad=True)
    loss = (x @ ember.randn(2, 2)).sigmoid().sum()
    loss.backward()
"""
import warnings

from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (bool_, float16, float32, float64, get_default_dtype, int32, int64,
                      manual_seed, set_default_dtype)
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, ones, ones_like, rand, rand_like, randint, randint_like, randn,
                       randn_like, randperm, tensor, zeros, zeros_like)
from .ops import (abs, add, amax, amin, argmax, argmin, bmm, broadcast_to, cat, chunk, clamp,
                  clone, cos, cumsum, div, dot, einsum, elu, eq, exp, flatten, flip, gather,
                  ge, gelu, gt, hardtanh, index_select, isfinite, isinf, isnan, le, leaky_relu,
                  log, log1p, log_softmax, logical_and, logical_not, logical_or, logical_xor,
                  logsumexp, lt, masked_fill, matmul, max, maximum, mean, min, minimum, mm, mul,
                  ne, neg, norm, outer, permute, pow, prod, relu, repeat, reshape, roll, rsqrt,
                  scatter_add, selu, sigmoid, sign, silu, sin, softmax, softplus, sort, split,
                  sqrt, squeeze, stack, std, sub, sum, tanh, topk, transpose, tril, triu,
                  unflatten, unsqueeze, var, where)
from .ops import (acos, allclose, argsort, asin, atan, atan2, ceil, cosh, count_nonzero, equal,
                  erf, erfc, exp2, expm1, floor, frac, is_tensor, isclose, lerp, log2, log10, logaddexp,
                  masked_select, narrow, nonzero, numel, reciprocal, round, sinh, square, tan,
                  trunc, unbind)
from .ops import (addmm, bucketize, cdist, clamp_max, clamp_min, cross, cumprod, diag,
                  diag_embed, diagonal, diff, floor_divide, fmod, index_add, logit, median,
                  meshgrid, nan_to_num, remainder, rot90, scatter, searchsorted, std_mean,
                  take_along_dim, tensordot, trace, tril_indices, triu_indices, unique, var_mean)
from .ops import cummax, cummin, kthvalue, nanmean, nanquantile, nansum, quantile
from .tensor import Tensor
from . import nn, optim  # noqa: E402  (they build on the names above)

clip = clamp
bool = bool_  # noqa: A001  (ember.bool, like torch.bool)
long = int64
double = float64
float = float32  # noqa: A001

__version__ = "0.1.0"

# NumPy warns when a ufunc overflows, divides by zero or makes a nan; PyTorch returns the inf or
# nan silently, and so do ember's ops. Only warnings raised in ember's own modules are filtered,
# and the filter goes last: a -W option, PYTHONWARNINGS or a user's warnings.simplefilter wins.
warnings.filterwarnings("ignore", r"(overflow|underflow|divide by zero|invalid value) encountered",
                        RuntimeWarning, r"ember\.", append=True)

_LAZY_MODULES = ("data", "io", "train", "models")  # loaded on first use: `import ember` stays fast


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".io", __name__), name)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
