"""`Tensor`: an array, its gradient, and the op that made it."""
import numpy as np

from . import autograd
from .autograd import is_grad_enabled


class Tensor:
    """A NumPy array with autograd.

    data: the array;  grad: a Tensor of the same shape, filled by backward();
    requires_grad: whether ops on it are recorded;  grad_fn: the op that made it (None for leaves).
    """

    __slots__ = ("_data", "_requires_grad", "grad_fn", "grad", "_version", "_hooks", "__weakref__")
    __array_ufunc__ = None  # numpy defers to ember's reflected operators: 2.0 * t is a Tensor
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad=False, _grad_fn=None):
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        self._data = data
        self._requires_grad = requires_grad
        self.grad_fn = _grad_fn
        self.grad = None
        self._version = [0, 0]  # [count, clock at the last change]: see autograd.bump_version
        self._hooks = None
        if requires_grad and data.dtype.kind not in "fc":
            self._requires_grad = False
            raise RuntimeError(f"requires_grad: only floating-point tensors can require "
                               f"gradients, got dtype {data.dtype}")

    # ---- the array and its facts ------------------------------------------------------------
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        value = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = value

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad on a non-leaf tensor "
                               "(use detach())")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad_: only floating-point tensors can require "
                               f"gradients, got dtype {self._data.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return "cpu"

    def size(self, dim=None):
        if dim is None:
            return self._data.shape
        from .ops._util import normalize_dim
        return self._data.shape[normalize_dim("size", dim, self.ndim)]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    def element_size(self):
        return self._data.itemsize

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # ---- leaving ember ----------------------------------------------------------------------
    def numpy(self):
        if self._requires_grad:
            raise RuntimeError("numpy: the tensor requires grad; call tensor.detach().numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item: a tensor with {self._data.size} elements cannot be "
                               "converted to a Python number")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self._data.size} "
                               "elements is ambiguous (use .any() or .all())")
        return bool(self._data.reshape(()))

    # ---- the graph --------------------------------------------------------------------------
    def detach(self):
        """The same data (shared), cut from the graph."""
        out = Tensor(self._data)
        out._version = self._version
        return out

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's .grad (PyTorch's semantics: gradients add
        up across backward calls until zero_grad). A non-scalar needs `gradient`."""
        g = autograd._seed_grad(self, gradient, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            inputs = autograd._as_tuple(inputs)
            grads = autograd.run_backward((self,), (g,), retain_graph, create_graph, inputs)
            for t, gi in zip(inputs, grads):
                if gi is not None:
                    # (without create_graph grad() hands out arrays of their own)
                    autograd._accumulate_into_leaf(t, gi, create_graph, owned=not create_graph)
            return
        autograd.run_backward((self,), (g,), retain_graph, create_graph)

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
            hooks = self.grad_fn.hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep .grad on a non-leaf tensor too."""
        if self.grad_fn is None:
            return

        def keep(g):
            self.grad = g.detach() if self.grad is None else self.grad + g.detach()

        self.register_hook(keep)

    # ---- in place ---------------------------------------------------------------------------
    def _check_inplace(self, name):
        if self._requires_grad and is_grad_enabled():
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad cannot be modified in place while "
                    "the graph is recorded (wrap the update in ember.no_grad())")
            raise RuntimeError(
                f"{name}: in-place ops on a tensor that is part of the graph are not supported; "
                "use the out-of-place form (x = x + y)")

    def _inplace(self, name, op, other):
        self._check_inplace(name)
        result = op(self, other)._data
        try:
            np.copyto(self._data, result, casting="same_kind")
        except TypeError:
            raise TypeError(f"{name}: the result has dtype {result.dtype}, which cannot be stored "
                            f"in place in a tensor of dtype {self.dtype}") from None
        except ValueError:
            raise RuntimeError(f"{name}: the result has shape {result.shape}, which does not fit "
                               f"in place into shape {self.shape}") from None
        autograd.bump_version(self)
        return self

    def _augmented(self, op, other, name):
        """x op= y: in place when x is outside the graph, else the out-of-place result."""
        if self._requires_grad and is_grad_enabled() and self.grad_fn is not None:
            return op(self, other)
        return self._inplace(name, op, other)

    def __iadd__(self, other):
        return self._augmented(_ops.add, other, "add_")

    def __isub__(self, other):
        return self._augmented(_ops.sub, other, "sub_")

    def __imul__(self, other):
        return self._augmented(_ops.mul, other, "mul_")

    def __itruediv__(self, other):
        return self._augmented(_ops.div, other, "div_")

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda a, b: _ops.add(a, b, alpha=alpha), other)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda a, b: _ops.sub(a, b, alpha=alpha), other)

    def mul_(self, other):
        return self._inplace("mul_", _ops.mul, other)

    def div_(self, other):
        return self._inplace("div_", _ops.div, other)

    def pow_(self, exponent):
        return self._inplace("pow_", _ops.pow, exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda a, _: _ops.clamp(a, min, max), None)

    def copy_(self, src):
        return self._inplace("copy_", lambda a, b: b if isinstance(b, Tensor) else Tensor(b), src)

    def fill_(self, value):
        self._check_inplace("fill_")
        self._data.fill(value.item() if isinstance(value, Tensor) else value)
        autograd.bump_version(self)
        return self

    def zero_(self):
        return self.fill_(0)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda a, m: _ops.masked_fill(a, m, value), mask)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        """In place: scatter(self, dim, index, src or value) (e.g. one-hot rows:
        zeros(n, C).scatter_(1, labels.unsqueeze(1), 1.0))."""
        return self._inplace("scatter_", lambda a, i: _ops.scatter(a, dim, i, src, value,
                                                                   reduce), index)

    def scatter_add_(self, dim, index, src):
        return self._inplace("scatter_add_", lambda a, i: _ops.scatter_add(a, dim, i, src), index)

    def uniform_(self, a=0.0, b=1.0):
        from .backend import rng
        self._check_inplace("uniform_")
        self._data[...] = rng().uniform(a, b, self.shape)
        autograd.bump_version(self)
        return self

    def normal_(self, mean=0.0, std=1.0):
        from .backend import rng
        self._check_inplace("normal_")
        self._data[...] = rng().normal(mean, std, self.shape)
        autograd.bump_version(self)
        return self

    def __setitem__(self, key, value):
        _ops.setitem(self, key, value)

    # ---- conversions ------------------------------------------------------------------------
    def to(self, dtype=None, *args, **kwargs):
        if isinstance(dtype, str) and dtype == "cpu":
            dtype = kwargs.get("dtype")
        if isinstance(dtype, Tensor):
            dtype = dtype.dtype
        if dtype is None:
            return self
        return _ops.to_dtype(self, dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def clone(self):
        return _ops.clone(self)

    def contiguous(self):
        return self if self._data.flags.c_contiguous else _ops.clone(self)

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim (NumPy's byte strides / itemsize);
        a view shares its base's memory, so a transpose permutes the strides, as in torch."""
        steps = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return steps
        from .ops._util import normalize_dim
        return steps[normalize_dim("stride", dim, self.ndim)]

    def data_ptr(self):
        """The address of the first element."""
        return self._data.__array_interface__["data"][0]

    def cpu(self):
        return self

    def new_zeros(self, *shape):
        return Tensor(np.zeros(_ops.shape_arg(shape), dtype=self.dtype))

    def new_ones(self, *shape):
        return Tensor(np.ones(_ops.shape_arg(shape), dtype=self.dtype))

    def new_full(self, shape, value):
        return Tensor(np.full(tuple(shape), value, dtype=self.dtype))

    def new_tensor(self, data):
        return Tensor(np.array(data, dtype=self.dtype))

    # ---- printing ---------------------------------------------------------------------------
    def __repr__(self):
        from .printing import tensor_repr
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()


class _HookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


autograd._Tensor = Tensor

from . import ops as _ops  # noqa: E402  (ops build Tensors, so they load after the class)

_ops.bind_methods(Tensor)


def _inplace_unary(name):
    """x.name_(): x.name() written back into x (outside the graph, as the other in-place ops)."""
    def method(self):
        return self._inplace(name + "_", lambda a, _: getattr(a, name)(), None)
    method.__name__ = name + "_"
    return method


for _name in ("abs", "neg", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "sigmoid", "tanh",
              "relu", "floor", "ceil", "round", "trunc", "frac", "reciprocal", "square", "sign",
              "expm1", "log1p", "erf"):
    setattr(Tensor, _name + "_", _inplace_unary(_name))
