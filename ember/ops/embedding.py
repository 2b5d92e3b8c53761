"""Embedding lookup: y = W[idx], a row read per index.

The weight gradient is a scatter-add of g into the rows read (a row read k times gets k
contributions):
    dW[r] = s_r * sum over i with idx_i = r of g_i,    dW[padding_idx] = 0,
with s_r = 1 / count(r) under scale_grad_by_freq and 1 otherwise. dW is linear in g, so its own
gradient is the lookup again: d(dW)/dg applied to gg is s_idx * gg[idx] (0 at padding_idx).
"""
import numpy as np

from ..autograd import Function, bump_version, no_grad
from ._util import tensor_cls
from .index import scatter_add_flat


def _row_scale(idx, num_rows, padding_idx, scale_grad_by_freq, dtype):
    """s_r per row (None when every row has scale 1): 0 at padding_idx, 1/count under
    scale_grad_by_freq."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    scale = np.ones(num_rows, dtype=dtype)
    if scale_grad_by_freq:
        counts = np.bincount(idx.reshape(-1), minlength=num_rows)
        np.divide(scale, counts, out=scale, where=counts > 0)
    if padding_idx is not None:
        scale[padding_idx] = 0
    return scale


class Embedding(Function):
    """y = W[idx];   dW = scatter-add of g into the rows idx (see the module docstring)"""
    name = "embedding"

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.num_rows = idx, weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        return EmbeddingBackward.apply(g, idx=ctx.idx, num_rows=ctx.num_rows,
                                       padding_idx=ctx.padding_idx,
                                       scale_grad_by_freq=ctx.scale_grad_by_freq)


class EmbeddingBackward(Function):
    """dW = scatter-add of s_idx * g into zeros (num_rows, D);   d/dg of gg = s_idx * gg[idx]"""
    name = "embedding_backward"

    @staticmethod
    def forward(ctx, g, idx, num_rows, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.padding_idx, ctx.scale_grad_by_freq = idx, padding_idx, scale_grad_by_freq
        dim = g.shape[-1]
        out = np.zeros((num_rows, dim), dtype=g.dtype)
        flat = (idx.reshape(-1, 1) * dim + np.arange(dim, dtype=np.intp)).reshape(-1)
        scatter_add_flat(out, flat, g)
        scale = _row_scale(idx, num_rows, padding_idx, scale_grad_by_freq, g.dtype)
        if scale is not None:
            out *= scale[:, None]
        return out

    @staticmethod
    def backward(ctx, gg):
        scale = _row_scale(ctx.idx, gg.shape[0], ctx.padding_idx, ctx.scale_grad_by_freq,
                           gg.dtype)
        rows = Embedding.apply(gg, idx=ctx.idx, padding_idx=ctx.padding_idx,
                               scale_grad_by_freq=ctx.scale_grad_by_freq)
        if scale is None:
            return rows
        return rows * tensor_cls()(scale[ctx.idx][..., None])


def _renorm_rows(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rows read by idx whose norm_type-norm exceeds max_norm are
    scaled in place to norm max_norm (times 1 / (norm + 1e-7), as PyTorch does)."""
    rows = np.unique(idx)
    with no_grad():
        w = weight._data
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            r = rows[big]
            w[r] *= (max_norm / (norms[big] + 1e-7)).astype(w.dtype)[:, None]
            bump_version(weight)


def checked_padding_idx(name, padding_idx, num_embeddings):
    """padding_idx as a row number in [0, num_embeddings) (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{name}: padding_idx={padding_idx} must be within "
                         f"num_embeddings={num_embeddings}")
    return int(padding_idx) % num_embeddings


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """torch.nn.functional.embedding: integer indices (*) into weight (num_embeddings, D) give
    (*, D). padding_idx's row gets no gradient; max_norm renormalizes the rows read, in place."""
    name = "embedding"
    T = tensor_cls()
    if not isinstance(weight, T) or weight.ndim != 2:
        raise RuntimeError(f"{name}: weight must be a 2-D Tensor (num_embeddings, embedding_dim), "
                           f"got {getattr(weight, 'shape', type(weight).__name__)}")
    if sparse:
        raise NotImplementedError(f"{name}: sparse=True (sparse gradients) is not supported by "
                                  f"ember; use sparse=False (dense gradients)")
    idx = input._data if isinstance(input, T) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer indices (int64 or int32), got {idx.dtype}")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"{name}: index {int(bad)} is out of range for a weight with "
                         f"{num} rows (num_embeddings={num})")
    padding_idx = checked_padding_idx(name, padding_idx, num)
    idx = idx.astype(np.intp, copy=False)
    if max_norm is not None:
        _renorm_rows(weight, idx, float(max_norm), float(norm_type))
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))
