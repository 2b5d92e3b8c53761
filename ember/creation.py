"""Making tensors: from data, filled, ranges and random (from ember's seeded generator)."""
import numpy as np

from .backend import get_default_dtype, rng
from .ops.shape import _shape_arg
from .tensor import Tensor


def _dtype(dtype, default=None):
    if dtype is None:
        return np.dtype(default if default is not None else get_default_dtype())
    return np.dtype(dtype)


def _finish(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def _infer_array(data, dtype):
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)):
        data = [d._data if isinstance(d, Tensor) else d for d in data]
    was_array = isinstance(data, (np.ndarray, np.generic))
    arr = np.array(data, dtype=None if dtype is None else np.dtype(dtype))
    if dtype is None and not was_array:
        if arr.dtype.kind == "f":
            arr = arr.astype(get_default_dtype())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind not in "b":
            raise TypeError(f"tensor: cannot make a tensor from data of type {arr.dtype}")
    return arr


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of data (nested lists, numbers, arrays). Python floats become
    float32 and ints int64, as in PyTorch; a NumPy array keeps its dtype."""
    return _finish(_infer_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None):
    """Like tensor, but shares memory with a NumPy array when no conversion is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return Tensor(data)
    return tensor(data, dtype)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, requires_grad=False):
    return _finish(np.zeros(_shape_arg(size), _dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _finish(np.ones(_shape_arg(size), _dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _finish(np.empty(_shape_arg(size), _dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = _infer_array(fill_value, None).dtype
    return _finish(np.full(_shape_arg((size,)), fill_value, _dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else get_default_dtype()
    return _finish(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _finish(np.linspace(start, end, steps).astype(_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform on [0, 1)."""
    dt = _dtype(dtype)
    return _finish(rng().random(_shape_arg(size), dtype=np.float64).astype(dt), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal."""
    dt = _dtype(dtype)
    return _finish(rng().standard_normal(_shape_arg(size)).astype(dt), requires_grad)


def randint(low, high=None, size=(), dtype=None, requires_grad=False):
    """Integers uniform on [low, high)."""
    if high is None:
        low, high = 0, low
    dt = _dtype(dtype, np.int64)
    return _finish(rng().integers(low, high, size=tuple(size)).astype(dt), requires_grad)


def randperm(n, dtype=None):
    return Tensor(rng().permutation(n).astype(_dtype(dtype, np.int64)))


def _like(fn):
    def like(x, dtype=None, requires_grad=False, **kwargs):
        return fn(*x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, **kwargs)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    return full(x.shape, fill_value, dtype=dtype or x.dtype, requires_grad=requires_grad)


def randint_like(x, low, high=None, dtype=None):
    return randint(low, high, x.shape, dtype=dtype or x.dtype)
