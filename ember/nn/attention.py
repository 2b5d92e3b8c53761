"""Attention with PyTorch's API: F.scaled_dot_product_attention and nn.MultiheadAttention
(arguments, masks, shapes, parameter names and init as in torch).

    attention(Q, K, V) = softmax(Q K^T / sqrt(d) + M) V

M is added to the scores before the softmax: a float mask as it is, a bool mask as 0 where a
query may attend to a key and -inf where it may not. (The two APIs read bool masks oppositely,
as in torch: scaled_dot_product_attention's True means "attend", MultiheadAttention's
key_padding_mask and attn_mask True mean "ignore".) A query that may attend to no key gets NaN,
as in torch. Everything is written with ember ops, so autograd gives the backward.
"""
import math

import numpy as np

from ..backend import get_default_dtype
from ..ops import cat, where
from ..ops._util import tensor_cls
from . import init
from .functional import dropout as _dropout
from .functional import linear, softmax
from .layers import Linear
from .module import Module, Parameter


def _additive(mask, dtype, ignore_when_true, name):
    """A mask as the float added to the scores: bool masks -> 0 / -inf."""
    T = tensor_cls()
    if not isinstance(mask, T):
        raise TypeError(f"{name}: masks must be Tensors, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        blocked = mask if ignore_when_true else ~mask
        return where(blocked, -math.inf, T(np.zeros((), dtype)))
    if mask.dtype.kind != "f":
        raise TypeError(f"{name}: masks must be bool or floating point, got {mask.dtype}")
    return mask.to(dtype)


def causal_mask(rows, cols, dtype):
    """0 on and below the diagonal, -inf above it: query i sees keys 0..i."""
    return tensor_cls()(np.triu(np.full((rows, cols), -np.inf, dtype=dtype), 1))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T scale + M) V over the last two dims, batch dims broadcast; Q (..., L, E),
    K (..., S, E), V (..., S, Ev). scale defaults to 1/sqrt(E); attn_mask bool (True: attend) or
    float (added); is_causal masks keys after each query; dropout_p drops attention weights
    (always, as in torch: pass 0 in eval); enable_gqa lets K, V have fewer heads (dim -3) that
    groups of query heads share."""
    name = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"{name}: query, key and value need at least 2 dims, got shapes "
                           f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{name}: query (..., L, E), key (..., S, E) and value (..., S, Ev) "
                           f"do not fit: {tuple(query.shape)}, {tuple(key.shape)}, "
                           f"{tuple(value.shape)}")
    if attn_mask is not None and is_causal:
        raise RuntimeError(f"{name}: pass either attn_mask or is_causal, not both")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        if groups * key.shape[-3] != query.shape[-3]:
            raise RuntimeError(f"{name}: {query.shape[-3]} query heads cannot share "
                               f"{key.shape[-3]} key heads")
        key = _repeat_heads(key, groups)
        value = _repeat_heads(value, groups)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.mT) * scale
    if is_causal:
        scores = scores + causal_mask(query.shape[-2], key.shape[-2], scores.dtype)
    elif attn_mask is not None:
        scores = scores + _additive(attn_mask, scores.dtype, False, name)
    weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = _dropout(weights, dropout_p, True)
    return weights @ value


def _repeat_heads(x, groups):
    """(..., H, S, E) -> (..., H * groups, S, E), each head repeated groups times in a row."""
    shape = tuple(x.shape)
    x = x.unsqueeze(-3).expand(shape[:-2] + (groups,) + shape[-2:])
    return x.reshape(shape[:-3] + (shape[-3] * groups,) + shape[-2:])


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017): per head h,
        head_h = softmax(Q_h K_h^T / sqrt(d) + M) V_h,  Q_h = query W_q,h^T + b_q,h (K, V alike)
    and the heads concatenated through out_proj. Parameters as torch's: in_proj_weight
    (3E, E) and in_proj_bias (3E,) (q, k, v stacked), or q_proj_weight, k_proj_weight,
    v_proj_weight when kdim or vdim differ from embed_dim; out_proj (a Linear); bias_k, bias_v
    with add_bias_kv. Init: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/v."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if device not in (None, "cpu"):
            raise ValueError(f"MultiheadAttention: ember runs on the CPU, got device={device!r}")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise AssertionError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                                 f"by num_heads ({num_heads})")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        dt = dtype or get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dt))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dt))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dt))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dt))
        self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dt)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dt))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                  self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def _projections(self):
        """(W_q, W_k, W_v) and (b_q, b_k, b_v) (Nones without bias)."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        biases = (None,) * 3 if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return weights, biases

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """query (L, N, E) ((N, L, E) with batch_first, (L, E) unbatched), key (S, N, kdim),
        value (S, N, vdim); key_padding_mask (N, S) and attn_mask (L, S) or (N*heads, L, S),
        bool (True: ignore) or float (added). Returns (output like query, weights (N, L, S)
        averaged over heads, or (N, heads, L, S), or None without need_weights)."""
        name = "MultiheadAttention"
        T = tensor_cls()
        for what, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, T):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise RuntimeError(f"{name}: query, key and value must all be 3-D (batched) or 2-D "
                               f"(unbatched), got shapes {tuple(query.shape)}, "
                               f"{tuple(key.shape)}, {tuple(value.shape)}")
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{name}: Need attn_mask if specifying the is_causal hint "
                               f"(nn.Transformer.generate_square_subsequent_mask makes one)")
        batched = query.ndim == 3
        if batched and self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if not batched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        tgt_len, bsz, embed = query.shape
        src_len = key.shape[0]
        for what, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if t.shape[-1] != size:
                raise RuntimeError(f"{name}: expected {what} with {size} features, got shape "
                                   f"{tuple(t.shape)}")
        if key.shape[:2] != value.shape[:2] or key.shape[1] != bsz:
            raise RuntimeError(f"{name}: key {tuple(key.shape)} and value {tuple(value.shape)} "
                               f"must have the same length and the query's batch size {bsz}")
        (w_q, w_k, w_v), (b_q, b_k, b_v) = self._projections()
        q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
        mask = self._mask(attn_mask, key_padding_mask, tgt_len, src_len, bsz, q.dtype)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, bsz, embed)], 0)
            v = cat([v, self.bias_v.expand(1, bsz, embed)], 0)
            mask = None if mask is None else _pad_last(mask)
        heads, hd = self.num_heads, self.head_dim
        q, k, v = (t.reshape(t.shape[0], bsz * heads, hd).transpose(0, 1) for t in (q, k, v))
        if self.add_zero_attn:
            zeros = T(np.zeros((bsz * heads, 1, hd), q.dtype))
            k, v = cat([k, zeros], 1), cat([v, zeros], 1)
            mask = None if mask is None else _pad_last(mask)
        scores = (q * math.sqrt(1.0 / hd)) @ k.mT
        if mask is not None:
            scores = scores + mask
        weights = softmax(scores, -1)
        if self.dropout > 0 and self.training:
            weights = _dropout(weights, self.dropout, True)
        out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed)
        out = self.out_proj(out).reshape(tgt_len, bsz, embed)
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.reshape(bsz, heads, tgt_len, weights.shape[-1])
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights if batched else weights.squeeze(0))

    def _mask(self, attn_mask, key_padding_mask, tgt_len, src_len, bsz, dtype):
        """attn_mask and key_padding_mask merged into one additive mask that broadcasts against
        the scores (N * heads, L, S), or None."""
        name = "MultiheadAttention"
        mask = None
        if attn_mask is not None:
            mask = _additive(attn_mask, dtype, True, name)
            expected = ((tgt_len, src_len), (bsz * self.num_heads, tgt_len, src_len))
            if tuple(mask.shape) not in expected:
                raise RuntimeError(f"{name}: attn_mask should be of shape {expected[0]} or "
                                   f"{expected[1]}, got {tuple(mask.shape)}")
            if mask.ndim == 2:
                mask = mask.unsqueeze(0)
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (bsz, src_len):
                raise RuntimeError(f"{name}: expected key_padding_mask of shape "
                                   f"{(bsz, src_len)}, got {tuple(key_padding_mask.shape)}")
            padding = _additive(key_padding_mask, dtype, True, name)
            padding = padding.reshape(bsz, 1, 1, src_len).expand(
                bsz, self.num_heads, 1, src_len).reshape(bsz * self.num_heads, 1, src_len)
            mask = padding if mask is None else mask + padding
        return mask


def _pad_last(mask):
    """One more column (key) of zeros on the additive mask: the added key is never masked."""
    extra = tensor_cls()(np.zeros(tuple(mask.shape[:-1]) + (1,), mask.dtype))
    return cat([mask, extra], -1)
