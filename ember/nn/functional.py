"""torch.nn.functional's names, calling ember's ops.

The activations that ember's ops do not hold as one node are short compositions of them here
(relu6, hardswish, mish, ...): their gradients, and gradients of gradients, come from the ops.

`inplace=True` writes the result into the input when the input is outside the graph; inside the
graph, where ember has no in-place autograd, the result is returned as a new tensor (the rule of
`x += y` in ember): use the returned value, as PyTorch code does.
"""
import numpy as np

from .. import ops
from ..autograd import is_grad_enabled
from ..backend import rng
from ..ops import linear  # noqa: F401  (re-exported)
from ..ops._util import normalize_dim, require_float, tensor_cls
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                        cross_entropy, gaussian_nll_loss, huber_loss, kl_div, l1_loss,
                        mse_loss, nll_loss, poisson_nll_loss, smooth_l1_loss)
from ..ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d,  # noqa: F401
                        avg_pool2d, interpolate, max_pool1d, max_pool2d, upsample,
                        upsample_nearest)
from ..ops.norm import (batch_norm, dropout1d, dropout2d, group_norm,  # noqa: F401
                        instance_norm, layer_norm, rms_norm)
from ..ops.shape import pixel_shuffle, pixel_unshuffle  # noqa: F401
from ..ops.unpool import (adaptive_max_pool1d, adaptive_max_pool2d, max_unpool1d,  # noqa: F401
                          max_unpool2d)
from ..ops.unfold import fold, unfold  # noqa: F401
from ..ops.similarity import (cosine_embedding_loss, cosine_similarity,  # noqa: F401
                              hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
                              multilabel_soft_margin_loss, pairwise_distance, soft_margin_loss,
                              triplet_margin_loss)

__all__ = [
    # activations
    "celu", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "leaky_relu", "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6", "rrelu", "selu",
    "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold",
    # layers and helpers
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "dropout", "embedding",
    "embedding_bag", "fold", "linear", "normalize", "one_hot", "pad", "unfold",
    # losses
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cross_entropy", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div",
    "l1_loss", "margin_ranking_loss", "mse_loss", "multi_margin_loss",
    "multilabel_soft_margin_loss", "nll_loss", "poisson_nll_loss", "smooth_l1_loss",
    "soft_margin_loss", "triplet_margin_loss",
    # distances
    "cosine_similarity", "pairwise_distance",
    # pooling and upsampling
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "avg_pool1d", "avg_pool2d", "interpolate", "max_pool1d", "max_pool2d", "max_unpool1d",
    "max_unpool2d", "pixel_shuffle", "pixel_unshuffle", "upsample", "upsample_nearest",
    # normalization
    "batch_norm", "dropout1d", "dropout2d", "group_norm", "instance_norm", "layer_norm",
    "rms_norm",
    # attention
    "scaled_dot_product_attention",
]


def _result(x, y, inplace):
    """torch's inplace=True: x takes the result when x is outside the graph; otherwise the
    result is a new tensor (see the module docstring)."""
    if inplace and not (x.requires_grad and is_grad_enabled()):
        return x.copy_(y)
    return y


# ---- activations ------------------------------------------------------------------------------

sigmoid = ops.sigmoid  # the op itself: a wrapper would be one more call per layer
tanh = ops.tanh


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return ops.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return ops.log_softmax(input, dim, dtype)


def relu(input, inplace=False):
    return _result(input, ops.relu(input), inplace)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)"""
    return _result(input, ops.hardtanh(input, 0.0, 6.0), inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _result(input, ops.leaky_relu(input, negative_slope), inplace)


def elu(input, alpha=1.0, inplace=False):
    return _result(input, ops.elu(input, alpha), inplace)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, a (e^(x/a) - 1)) = a elu(x / a)"""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _result(input, ops.elu(input * (1.0 / alpha), 1.0) * alpha, inplace)


def selu(input, inplace=False):
    return _result(input, ops.selu(input), inplace)


def gelu(input, approximate="none"):
    return ops.gelu(input, approximate)


def silu(input, inplace=False):
    return _result(input, ops.silu(input), inplace)


def mish(input, inplace=False):
    """x tanh(softplus(x))"""
    return _result(input, input * ops.softplus(input).tanh(), inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _result(input, ops.hardtanh(input, min_val, max_val), inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6"""
    return _result(input, ops.hardtanh(input + 3.0, 0.0, 6.0) / 6.0, inplace)


def hardswish(input, inplace=False):
    """x relu6(x + 3) / 6"""
    return _result(input, input * ops.hardtanh(input + 3.0, 0.0, 6.0) / 6.0, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    return ops.softplus(input, beta, threshold)


def logsigmoid(input):
    """ln sigmoid(x) = -softplus(-x) (softplus without its linear cut-off, so exact for any x);
    d/dx = sigmoid(-x)"""
    return -ops.softplus(-input, 1.0, float("inf"))


def softsign(input):
    """x / (1 + |x|)"""
    return input / (input.abs() + 1.0)


def tanhshrink(input):
    """x - tanh(x)"""
    return input - input.tanh()


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value"""
    return _result(input, ops.where(input > threshold, input, value), inplace)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0"""
    return ops.where(input.abs() > lambd, input, 0.0)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else 0  (= x - clamp(x, -lambd, lambd))"""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be >= 0, got {lambd}")
    return input - input.clamp(-lambd, lambd)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: slopes ~ U(lower, upper) for negative inputs while training
    (from ember's seeded generator), their mean (lower + upper) / 2 otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    require_float("rrelu", input)
    slopes = rng().uniform(lower, upper, input.shape).astype(input.dtype)
    out = ops.where(input >= 0, input, input * tensor_cls()(slopes))
    return _result(input, out, inplace)


def prelu(input, weight):
    """x where x > 0, else a x; a has one entry, or one per channel (dim 1)"""
    if weight.ndim != 1 and weight.numel() != 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {weight.shape}")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1  # below 2 dims: no channel dim
        if n != channels:
            raise ValueError(f"prelu: weight has {n} entries but the input of shape "
                             f"{input.shape} has {channels} channels")
        if input.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return ops.where(input > 0, input, input * weight)


def glu(input, dim=-1):
    """a sigmoid(b), a and b the two halves of the input along dim"""
    if input.ndim == 0:
        raise RuntimeError("glu: does not support 0-d tensors")
    d = normalize_dim("glu", dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"glu: the halved dim must have an even size, but dim {dim} of the "
                           f"input of shape {input.shape} has size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x)"""
    return ops.softmax(-input, dim, dtype)


# ---- layers and helpers -----------------------------------------------------------------------

def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: each element is zeroed with probability p and the rest are scaled by
    1 / (1 - p), so the expected value is unchanged; the identity when not training. The mask
    comes from ember's generator: ember.manual_seed(n) reproduces it.
    dy/dx = mask / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    require_float("dropout", input)
    if not training or p == 0.0:
        return input
    dt = input.dtype
    if p == 1.0:
        mask = np.zeros(input.shape, dt)
    else:
        u = rng().random(input.shape, dtype=np.float64 if dt == np.float64 else np.float32)
        mask = (u >= p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    return _result(input, input * tensor_cls()(mask), inplace)


def pad(input, pad, mode="constant", value=None):
    return ops.pad(input, pad, mode, value)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p along dim, eps)"""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def one_hot(tensor, num_classes=-1):
    """Class indices (...,) -> int64 one-hot vectors (..., num_classes); num_classes=-1 takes
    the largest index + 1."""
    T = tensor_cls()
    if not isinstance(tensor, T) or tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got "
                        f"{tensor.dtype if isinstance(tensor, T) else type(tensor).__name__}")
    idx = tensor._data
    if idx.size and idx.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {idx.min()}")
    if num_classes == -1:
        if not idx.size:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor "
                             "(pass num_classes)")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.max() >= num_classes:
        raise ValueError(f"one_hot: class value {idx.max()} is not smaller than num_classes="
                         f"{num_classes}")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return T(out)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """The sum, mean or max of the embeddings of each bag (torch.nn.functional.embedding_bag)."""
    from ..ops.embedding import embedding_bag as _embedding_bag
    return _embedding_bag(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode,
                          sparse, per_sample_weights, include_last_offset, padding_idx)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """y = weight[input]: integer indices (*) -> (*, embedding_dim); padding_idx's row gets no
    gradient; max_norm renormalizes the rows read, in place (torch.nn.functional.embedding)."""
    from ..ops.embedding import embedding as _embedding
    return _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                      sparse)


# defined with nn.MultiheadAttention, which builds on the functions above
from .attention import scaled_dot_product_attention  # noqa: E402
