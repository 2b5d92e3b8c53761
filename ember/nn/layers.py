"""Basic layers and containers: Linear, Identity, Flatten, Unflatten, Dropout, Sequential,
ModuleList, ModuleDict."""
import math
import operator
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ..backend import get_default_dtype
from ..ops import flatten, linear, unflatten
from . import init
from .functional import dropout
from .module import Module, Parameter, _indent


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features). PyTorch's init:
    W, b ~ U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dt = dtype or get_default_dtype()
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        self.bias = Parameter(np.empty(out_features, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x; takes (and ignores) any arguments, as PyTorch's does."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim into unflattened_size (a tuple of ints)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(n, int) for n in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x):
        return unflatten(x, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Zero each element with probability p while training and scale the rest by 1 / (1 - p)
    (inverted dropout); the identity in eval mode. Masks come from ember's generator, so
    ember.manual_seed(n) reproduces them."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: modules kept under the keys "0", "1", ..."""

    def _key(self, i):
        """The key of the module at int position i (negative counts from the end)."""
        n = len(self._modules)
        i = operator.index(i)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for {n} modules")
        return list(self._modules)[i % n]

    def _renumber(self, modules):
        for key in list(self._modules):
            delattr(self, key)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, i, module):
        setattr(self, self._key(i), module)

    def __delitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            del mods[i]
        else:
            del mods[list(self._modules).index(self._key(i))]
        self._renumber(mods)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        n = len(mods)
        if not -n <= index <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range for "
                             f"{n} modules")
        mods.insert(index, module)
        self._renumber(mods)
        return self

    def pop(self, i=-1):
        m = self[i]
        del self[i]
        return m

    def __iadd__(self, modules):
        return self.extend(modules)


class Sequential(_ModuleSequence):
    """Modules applied in order; built from modules or an OrderedDict of named modules."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m.forward(x) if m._call_is_forward else m(x)  # the same; the first is cheaper
        return x

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(OrderedDict(list(self._modules.items())[i]))
        return self._modules[self._key(i)]


class ModuleList(_ModuleSequence):
    """A list of modules, registered (their parameters are the owner's); no forward of its
    own."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ModuleList(list(self._modules.values())[i])
        return self._modules[self._key(i)]

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def __repr__(self):
        """PyTorch's form: a run of identical modules prints once, as (i-j): n x module."""
        if not self._modules:
            return "ModuleList()"
        runs = []  # [first index, last index, repr]
        for i, m in enumerate(self._modules.values()):
            r = repr(m)
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [_indent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}")
                 for a, b, r in runs]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class _MemberDict(Module):
    """The dict protocol over one of the module's registries (`_store`: its modules or its
    parameters), in insertion order; `__setitem__` registers."""

    _store, _kind = "_modules", "module"

    def __init__(self, members=None):
        super().__init__()
        if members is not None:
            self.update(members)

    def _members(self):
        return self.__dict__[self._store]

    def __getitem__(self, key):
        return self._members()[key]

    def __delitem__(self, key):
        if key not in self._members():
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._members())

    def __iter__(self):
        return iter(self._members())

    def __contains__(self, key):
        return key in self._members()

    def keys(self):
        return self._members().keys()

    def items(self):
        return self._members().items()

    def values(self):
        return self._members().values()

    def clear(self):
        for key in list(self._members()):
            delattr(self, key)

    def pop(self, key):
        m = self[key]
        del self[key]
        return m

    def update(self, members):
        """Add (or replace) members from a mapping or an iterable of (name, member) pairs."""
        name = type(self).__name__
        if isinstance(members, (Mapping, _MemberDict)):
            pairs = members.items()
        else:
            pairs = []
            for j, pair in enumerate(members):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(f"{name}.update: element {j} must be a (name, {self._kind}) "
                                     f"pair, got {pair!r}")
                pairs.append(pair)
        for key, m in pairs:
            self[key] = m


class ModuleDict(_MemberDict):
    """An ordered dict of modules, registered (their parameters are the owner's)."""

    def __setitem__(self, key, module):
        self.add_module(key, module)


class ParameterList(Module):
    """A list of Parameters, registered as "0", "1", ... (they are the owner's parameters)."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _key(self, i):
        n = len(self._parameters)
        if not -n <= i < n:
            raise IndexError(f"ParameterList: index {i} is out of range for {n} parameters")
        return str(i % n)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList(list(self._parameters.values())[i])
        return self._parameters[self._key(i)]

    def __setitem__(self, i, value):
        self.register_parameter(self._key(i), _as_parameter(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return _parameters_repr(self)


class ParameterDict(_MemberDict):
    """An ordered dict of Parameters, registered under their keys."""

    _store, _kind = "_parameters", "parameter"

    def __setitem__(self, key, value):
        if key in self._parameters:
            del self[key]
        self.register_parameter(key, _as_parameter(value))

    def extra_repr(self):
        return _parameters_repr(self)


def _as_parameter(value):
    """PyTorch wraps a plain tensor given to a parameter container into a Parameter."""
    from ..tensor import Tensor
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.detach())
    raise TypeError(f"expected a Parameter or a Tensor, got {type(value).__name__}")


def _parameters_repr(container):
    return "\n".join(f"({k}): Parameter containing: [ember.{p.dtype} of size "
                     f"{'x'.join(map(str, p.shape))}]" for k, p in container._parameters.items())
