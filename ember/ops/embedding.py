"""Embedding lookup: y = W[idx], a row read per index.

The weight gradient is a scatter-add of g into the rows read (a row read k times gets k
contributions):
    dW[r] = s_r * sum over i with idx_i = r of g_i,    dW[padding_idx] = 0,
with s_r = 1 / count(r) under scale_grad_by_freq and 1 otherwise. dW is linear in g, so its own
gradient is the lookup again: d(dW)/dg applied to gg is s_idx * gg[idx] (0 at padding_idx).

embedding_bag reduces the rows read per bag: a sum or mean is a scatter-add of the (weighted)
rows into their bags (its gradient reads g back per row), a max keeps each column's first
maximum (its gradient goes to that row).
"""
import numpy as np

from ..autograd import Function, bump_version, no_grad
from ._util import tensor_cls
from .index import AdvancedIndex, IndexBackward, scatter_add_flat


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


# ---- bags -----------------------------------------------------------------------------------

class BagMax(Function):
    """y[b] = the elementwise max of the rows of bag b (rows starts[b]:ends[b]; zeros for an
    empty bag; NaN ignored unless a column holds nothing else, as torch);
    drows = g[b] at each (row, column) that was its bag's first maximum"""
    name = "embedding_bag_max"

    @staticmethod
    def forward(ctx, rows, starts, ends):
        """One pass per column block for all bags (reduceat), not a loop over bags."""
        out = np.zeros((len(starts), rows.shape[1]), rows.dtype)
        arg = np.full(out.shape, -1, np.intp)
        full = ends > starts
        if full.any():
            s = starts[full]
            top = np.fmax.reduceat(rows, s, axis=0)  # NaN skipped unless all are, as torch
            bag = np.repeat(np.arange(s.size), ends[full] - s)
            at_top = (rows == top[bag]) | (np.isnan(rows) & np.isnan(top[bag]))
            first = np.where(at_top, np.arange(rows.shape[0])[:, None], rows.shape[0])
            arg[full] = np.minimum.reduceat(first, s, axis=0)
            out[full] = top
        ctx.arg = arg
        return out

    @staticmethod
    def backward(ctx, g):
        bags, cols = np.nonzero(ctx.arg >= 0)
        picked = AdvancedIndex.apply(g, (bags, cols))
        shape = (ctx.inputs[0].shape[0], g.shape[1])
        return IndexBackward.apply(picked, (ctx.arg[bags, cols], cols), shape, True), None, None


def _bags(name, idx, offsets, include_last_offset):
    """(flat indices, start and end of each bag in them)."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: if input is 2D, then offsets has to be None, as input is "
                             f"treated as a mini-batch of fixed length sequences")
        bags, size = idx.shape
        starts = np.arange(bags) * size
        return idx.reshape(-1), starts, starts + size
    if idx.ndim != 1:
        raise ValueError(f"{name}: input has to be 1D or 2D, got shape {idx.shape}")
    if offsets is None:
        raise ValueError(f"{name}: offsets has to be a 1D tensor but got None")
    off = np.asarray(offsets._data if isinstance(offsets, tensor_cls()) else offsets)
    if off.ndim != 1 or off.dtype.kind not in "iu" or off.size == 0:
        raise ValueError(f"{name}: offsets has to be a non-empty 1D integer tensor, got "
                         f"{off.tolist()}")
    if off[0] != 0:
        raise ValueError(f"{name}: offsets[0] has to be 0, i.e., the first sequence in the "
                         f"mini-batch has to start from position 0. However, got {off[0]}")
    if np.any(np.diff(off) < 0) or off[-1] > idx.size:
        raise ValueError(f"{name}: offsets must be non-decreasing and at most the input's "
                         f"length {idx.size}, got {off.tolist()}")
    if include_last_offset:
        if off[-1] != idx.size:  # (torch's kernels disagree with each other there)
            raise ValueError(f"{name}: with include_last_offset=True the last offset must be "
                             f"the input's length {idx.size} (CSR format), got {off[-1]}")
        return idx, off[:-1].astype(np.intp), off[1:].astype(np.intp)
    return idx, off.astype(np.intp), np.append(off[1:], idx.size).astype(np.intp)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """torch.nn.functional.embedding_bag: the sum, mean or max of the embeddings of each bag of
    indices, without building the (bag, index, D) array. Bags: the rows of a 2-D input, or the
    slices of a 1-D input that offsets start. Entries equal to padding_idx are left out (a mean
    divides by the others' count); an empty bag gives zeros; per_sample_weights (mode 'sum')
    scale each embedding and get gradients too."""
    name = "embedding_bag"
    T = tensor_cls()
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{name}: mode has to be one of sum, mean or max, got {mode!r}")
    idx = input._data if isinstance(input, T) else np.asarray(input)
    flat, starts, ends = _bags(name, idx, offsets, include_last_offset)
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{name}: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}')")
        if tuple(per_sample_weights.shape) != idx.shape:
            raise ValueError(f"{name}: per_sample_weights of shape "
                             f"{tuple(per_sample_weights.shape)} must have the input's shape "
                             f"{idx.shape}")
    rows = embedding(T(flat), weight, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                     sparse)
    padding_idx = checked_padding_idx(name, padding_idx, weight.shape[0])
    keep = np.ones(flat.size, bool) if padding_idx is None else flat != padding_idx
    bag = np.repeat(np.arange(len(starts)), ends - starts)
    if mode == "max":
        kept_so_far = np.concatenate([[0], np.cumsum(keep)])
        return BagMax.apply(AdvancedIndex.apply(rows, (np.flatnonzero(keep),)),
                            kept_so_far[starts], kept_so_far[ends])
    scale = keep.astype(weight.dtype)
    if mode == "mean":
        counts = np.bincount(bag, weights=keep, minlength=len(starts))
        scale /= np.maximum(counts, 1)[bag]
    scale = T(scale)
    if per_sample_weights is not None:
        scale = scale * per_sample_weights.reshape(-1)
    return IndexBackward.apply(rows * scale.unsqueeze(1), (bag,), (len(starts), weight.shape[1]),
                               True)
