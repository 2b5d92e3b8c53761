"""Diagonals: diagonal, diag, diag_embed and trace, with PyTorch's arguments.

diagonal(x, offset, dim1, dim2) takes the elements x[..., i, i + offset] of the two dims (the
diagonal becomes the last dim); placing values on a diagonal of zeros is its adjoint, so each
op's backward is the other one:
    y = diagonal(x)         dx = zeros of x's shape with g on that diagonal
    y = zeros with x on a diagonal (diag_embed, diag of a vector)      dx = diagonal(g)
"""
import numpy as np

from ..autograd import Function
from ._util import normalize_dim, tensor_cls


def _diagonal_positions(shape, offset, dim1, dim2):
    """The row and column indices of the diagonal (in dims dim1, dim2 of shape)."""
    rows, cols = shape[dim1], shape[dim2]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    i = np.arange(n)
    return i - min(offset, 0), i + max(offset, 0)


class Diagonal(Function):
    """y = x[..., i, i + offset] over dims dim1, dim2 (the diagonal as y's last dim);
    dx = zeros with g on that diagonal"""
    name = "diagonal"

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (x.shape, offset, dim1, dim2)
        return np.diagonal(x, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, g):
        return DiagonalScatter.apply(g, *ctx.args)


class DiagonalScatter(Function):
    """y = zeros(shape) with x on the diagonal of dims dim1, dim2 (x's last dim runs along it);
    dx = diagonal(g)"""
    name = "diagonal_scatter"

    @staticmethod
    def forward(ctx, x, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        out = np.zeros(shape, dtype=x.dtype)
        rows, cols = _diagonal_positions(shape, offset, dim1, dim2)
        np.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return Diagonal.apply(g, *ctx.args), None, None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims dim1, dim2 (offset > 0 above the main one, < 0 below), as the last
    dim of the result."""
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dims, got shape "
                           f"{tuple(input.shape)}")
    d1 = normalize_dim("diagonal", dim1, input.ndim)
    d2 = normalize_dim("diagonal", dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dim ({dim1}, {dim2})")
    return Diagonal.apply(input, int(offset), d1, d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor with input's last dim on the diagonal of two new dims dim1, dim2 (of size
    n + |offset|), zeros elsewhere."""
    if input.ndim < 1:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dim, got a 0-d tensor")
    ndim = input.ndim + 1
    d1 = normalize_dim("diag_embed", dim1, ndim)
    d2 = normalize_dim("diag_embed", dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 cannot be the same dim ({dim1}, {dim2})")
    size = input.shape[-1] + abs(int(offset))
    shape = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, size)
    return DiagonalScatter.apply(input, tuple(shape), int(offset), d1, d2)


def diag(input, diagonal=0):
    """A 1-D input: the square matrix with it on the given diagonal. A 2-D input: that
    diagonal of it (1-D)."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def trace(input):
    """The sum of the main diagonal of a matrix."""
    if not isinstance(input, tensor_cls()) or input.ndim != 2:
        shape = tuple(input.shape) if isinstance(input, tensor_cls()) else type(input).__name__
        raise RuntimeError(f"trace: expected a matrix (2-D tensor), got {shape}")
    return Diagonal.apply(input, 0, 0, 1).sum()
