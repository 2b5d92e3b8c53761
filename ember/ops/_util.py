"""Helpers shared by the op families: operand preparation, dims, broadcasting gradients."""
import numpy as np

from .. import autograd
from ..backend import result_dtype


def tensor_cls():
    return autograd._Tensor


def as_operands(name, a, b):
    """Two Tensors of one dtype from Tensors or Python numbers (PyTorch's promotion rules)."""
    T = autograd._Tensor
    a_t, b_t = isinstance(a, T), isinstance(b, T)
    if a_t and b_t:
        if a._data.dtype != b._data.dtype:
            dt = result_dtype(a._data, b._data)
            a, b = a.to(dt), b.to(dt)
        return a, b
    if not (a_t or b_t):
        raise TypeError(f"{name}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    t, s = (a, b) if a_t else (b, a)
    if isinstance(s, np.generic):
        s = s.item()
    if isinstance(s, np.ndarray):
        s = T(s)
        return as_operands(name, a if a_t else s, s if a_t else b)
    if not isinstance(s, (int, float, bool)):
        raise TypeError(f"{name}: expected a Tensor or a number, got {type(s).__name__}")
    dt = result_dtype(t._data, s)
    if dt != t._data.dtype:
        t = t.to(dt)
    s = T(np.asarray(s, dtype=dt))
    return (t, s) if a_t else (s, t)


def broadcast_shapes(name, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be "
                         "broadcast together") from None


def summed_axes(grad_shape, shape):
    """How a gradient of grad_shape sums back to an input of the broadcast shape `shape`:
    (axes, keepdim). New leading dims are dropped, stretched size-1 dims kept."""
    lead = len(grad_shape) - len(shape)
    if grad_shape[lead:] == shape:  # only new leading dims (a bias): one sum drops them
        return tuple(range(lead)), False
    stretched = tuple(lead + i for i, n in enumerate(shape)
                      if n == 1 and grad_shape[lead + i] != 1)
    return tuple(range(lead)) + stretched, True


def unbroadcast(grad, shape):
    """Sum a gradient back to the shape of the input that was broadcast: d(x broadcast)/dx
    adds up every copy."""
    grad_shape = grad._data.shape
    if grad_shape == shape:
        return grad
    axes, keepdim = summed_axes(grad_shape, shape)
    grad = _reduce.Sum.apply(grad, axes, keepdim)
    return grad.reshape(shape) if keepdim and len(grad_shape) != len(shape) else grad


_FIRST_AXIS = (0,)


def unbroadcast_array(grad, shape):
    """unbroadcast for a plain array (an `array_backward`)."""
    grad_shape = grad.shape
    if grad_shape == shape:
        return grad
    if grad_shape[1:] == shape:  # a bias over a batch: the one common case, without the search
        return np.add.reduce(grad, axis=_FIRST_AXIS)
    axes, keepdim = summed_axes(grad_shape, shape)
    total = np.add.reduce(grad, axis=axes, keepdims=keepdim)
    # (a reshape only where needed: a view would make the leaf's .grad a copy of it)
    return total.reshape(shape) if keepdim and grad.ndim != len(shape) else total


def normalize_dim(name, dim, ndim):
    """A dim in [-ndim, ndim) as a non-negative int; a clear error otherwise."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dims "
                         f"(expected a dim in [{-n}, {n - 1}])")
    return int(dim) % n


def normalize_dims(name, dim, ndim):
    """None (all dims), an int or a sequence of ints -> a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (normalize_dim(name, dim, ndim),) if ndim else ()
    dims = tuple(normalize_dim(name, d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise ValueError(f"{name}: dim {tuple(dim)} names a dim twice")
    return tuple(sorted(dims)) if ndim else ()


def require_float(name, t):
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point tensor, got {t.dtype}")


from . import reduce as _reduce  # noqa: E402  (reduce imports this module first)
