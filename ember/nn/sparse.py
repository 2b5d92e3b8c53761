"""Embedding: a lookup table of learned vectors, with PyTorch's arguments, init and names."""
import numpy as np

from ..backend import get_default_dtype
from ..ops.embedding import checked_padding_idx, embedding
from ..ops._util import tensor_cls
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """y = W[idx] for integer indices of any shape (*) -> (*, embedding_dim). W of shape
    (num_embeddings, embedding_dim) ~ N(0, 1) (PyTorch's init), the padding_idx row zeroed and
    left out of the gradient."""

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
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s
