"""Pooling by positions: adaptive_max_pool1d/2d and max_unpool1d/2d, with PyTorch's arguments.

Both work on each (H, W) plane flattened, with the flat position of a value in its plane as
max_pool2d(return_indices=True) gives it: adaptive max pool reads each bin's first maximum
(PlaneGather), max unpool writes each value back to its position in a plane of zeros
(PlaneScatter). Each one's backward is the other one:
    y = x[p, idx]            dx = zeros with g added at idx
    y = zeros, y[p, idx] = x     dx = g[p, idx]
"""
import numpy as np

from ..autograd import Function
from ._util import require_float, tensor_cls
from .pool import _no_stride, _pair


class PlaneGather(Function):
    """y[p, j] = x[p, idx[p, j]] over planes p (x (P, HW), idx (P, K));
    dx = zeros with g added at idx (a position picked twice gets both)"""
    name = "plane_gather"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx = idx
        return np.take_along_axis(x, idx, 1)

    @staticmethod
    def backward(ctx, g):
        return PlaneScatter.apply(g, ctx.idx, ctx.inputs[0].shape[1], True), None


class PlaneScatter(Function):
    """y = zeros (P, size), y[p, idx[p, j]] = x[p, j] (added up with accumulate, else written,
    as torch's max_unpool does);   dx = g[p, idx]"""
    name = "plane_scatter"

    @staticmethod
    def forward(ctx, x, idx, size, accumulate):
        ctx.idx = idx
        out = np.zeros((x.shape[0], size), dtype=x.dtype)
        if accumulate:
            rows = np.broadcast_to(np.arange(x.shape[0])[:, None], idx.shape)
            np.add.at(out, (rows, idx), x)
        else:
            np.put_along_axis(out, idx, x, 1)
        return out

    @staticmethod
    def backward(ctx, g):
        return PlaneGather.apply(g, ctx.idx), None, None, None


def _bins(n, o):
    """PyTorch's adaptive bins: [floor(i n / o), ceil((i + 1) n / o)) for i < o."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max of each of output_size bins of a (C, H, W) or (N, C, H, W) input (None keeps a
    dim); with return_indices also each max's flat position in its (H, W) plane (int64)."""
    name = "adaptive_max_pool2d"
    require_float(name, input)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{name}: expected a 3-D or 4-D input, got shape {input.shape}")
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    h, w = input.shape[-2:]
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, (h, w)))
    if len(out) != 2 or min(out) <= 0:
        raise ValueError(f"{name}: output_size must be 2 positive ints, got {output_size!r}")
    if h == 0 or w == 0:
        raise RuntimeError(f"{name}: input of shape {input.shape} has an empty spatial dim")
    planes = input._data.reshape(-1, h * w)
    idx = np.empty((planes.shape[0], out[0] * out[1]), dtype=np.int64)
    (r0, r1), (c0, c1) = _bins(h, out[0]), _bins(w, out[1])
    for i in range(out[0]):
        for j in range(out[1]):
            window = input._data[..., r0[i]:r1[i], c0[j]:c1[j]].reshape(planes.shape[0], -1)
            # first maximum (NaN counts as the maximum, as in torch), in plane coordinates
            k = np.argmax(np.where(np.isnan(window), np.inf, window), 1)
            width = c1[j] - c0[j]
            idx[:, i * out[1] + j] = (r0[i] + k // width) * w + c0[j] + k % width
    values = PlaneGather.apply(input.reshape(-1, h * w), idx)
    shape = tuple(input.shape[:-2]) + out
    values = values.reshape(shape)
    return (values, tensor_cls()(idx.reshape(shape))) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """adaptive_max_pool2d over the last dim of a (C, L) or (N, C, L) input."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d: expected a 2-D or 3-D input, got shape "
                           f"{input.shape}")
    size = output_size if isinstance(output_size, (int, np.integer)) else output_size[0]
    res = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def _unpool_size(name, input, k, s, p, output_size, dims):
    """PyTorch's output size: (n - 1) s - 2 p + k per dim, or output_size (its last dims)
    within a stride of that."""
    default = [(input.shape[-dims + d] - 1) * s[d] - 2 * p[d] + k[d] for d in range(dims)]
    if output_size is None:
        return default
    size = list(output_size)
    if len(size) == dims + 2:
        size = size[2:]
    if len(size) != dims:
        raise ValueError(f"{name}: output_size should be a sequence containing {dims} or "
                         f"{dims + 2} elements, but it has a length of '{len(size)}'")
    for d in range(dims):
        low, high = default[d] - s[d], default[d] + s[d]
        if not low < size[d] < high:
            raise ValueError(f'{name}: invalid output_size "{tuple(size)}" (dim {d} must be '
                             f"between {low} and {high})")
    return [int(n) for n in size]


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d(return_indices=True): each value of a (C, H, W) or
    (N, C, H, W) input written at its flat position in a plane of zeros."""
    return _max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding,
                       output_size, 2)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool1d(return_indices=True) on a (C, L) or (N, C, L) input."""
    return _max_unpool("max_unpool1d", input, indices, kernel_size, stride, padding,
                       output_size, 1)


def _max_unpool(name, input, indices, kernel_size, stride, padding, output_size, dims):
    require_float(name, input)
    T = tensor_cls()
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}: expected a {dims + 1}-D or {dims + 2}-D input, got shape "
                           f"{input.shape}")
    if not isinstance(indices, T) or indices.dtype != np.int64 or \
            tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{name}: indices must be an int64 tensor of the input's shape "
                           f"{tuple(input.shape)} (max_pool(return_indices=True) gives them)")
    k = _pair(name, "kernel_size", kernel_size, dims)
    s = k if _no_stride(stride) else _pair(name, "stride", stride, dims)
    p = _pair(name, "padding", padding, dims)
    size = _unpool_size(name, input, k, s, p, output_size, dims)
    plane = int(np.prod(size))
    lead = tuple(input.shape[:-dims])
    idx = indices._data.reshape(-1, int(np.prod(input.shape[-dims:])))
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        bad = idx.max() if idx.max() >= plane else idx.min()
        raise RuntimeError(f"{name}: Found an invalid max index: {bad} (output volumes are of "
                           f"size {'x'.join(map(str, size))})")
    out = PlaneScatter.apply(input.reshape(idx.shape), idx, plane, False)
    return out.reshape(lead + tuple(size))
