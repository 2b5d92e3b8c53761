"""Embedding and EmbeddingBag: lookup tables of learned vectors, with PyTorch's arguments, init
and names."""
import numpy as np

from ..backend import get_default_dtype
from ..ops.embedding import checked_padding_idx, embedding, embedding_bag
from ..ops._util import tensor_cls
from . import init
from .module import Module, Parameter


class _Lookup(Module):
    """The table both layers read: weight (num_embeddings, embedding_dim) ~ N(0, 1) (PyTorch's
    init), the padding_idx row zeroed; or a given _weight."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if device not in (None, "cpu"):
            raise ValueError(f"{name}: ember runs on the CPU, got device={device!r}")
        if sparse:
            raise NotImplementedError(f"{name}: sparse=True (sparse gradients) is not supported "
                                      f"by ember; use sparse=False (dense gradients)")
        padding_idx = checked_padding_idx(name, padding_idx, num_embeddings)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim),
                                             dtype=dtype or get_default_dtype()),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            data = _weight._data if isinstance(_weight, tensor_cls()) else np.asarray(_weight)
            if data.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"{name}: _weight of shape {data.shape} does not match "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(np.array(data, dtype=dtype or data.dtype),
                                    requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def _norm_options(self):
        """max_norm, norm_type and scale_grad_by_freq where not the defaults, for extra_repr."""
        s = "" if self.max_norm is None else f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s + (", scale_grad_by_freq=True" if self.scale_grad_by_freq else "")

    def _padding_option(self):
        return "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"


class Embedding(_Lookup):
    """y = W[idx] for integer indices of any shape (*) -> (*, embedding_dim). W of shape
    (num_embeddings, embedding_dim) ~ N(0, 1) (PyTorch's init), the padding_idx row zeroed and
    left out of the gradient."""

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding a copy of the 2-D `embeddings`; freeze=True keeps it fixed
        (weight.requires_grad False)."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        return (f"{self.num_embeddings}, {self.embedding_dim}{self._padding_option()}"
                f"{self._norm_options()}")


class EmbeddingBag(_Lookup):
    """The sum, mean or max of the embeddings of each bag of indices (the rows of a 2-D input,
    or the slices of a 1-D input that offsets start), without the (bag, index, D) array; weight
    and init as Embedding's. Entries equal to padding_idx are left out of their bag."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got "
                             f"{mode!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, _weight, device=device, dtype=dtype)
        self.mode, self.include_last_offset = mode, include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding a copy of the 2-D `embeddings` (fixed with freeze=True)."""
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        bag = cls(*embeddings.shape, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag

    def extra_repr(self):
        return (f"{self.num_embeddings}, {self.embedding_dim}{self._norm_options()}, "
                f"mode='{self.mode}'{self._padding_option()}")
