"""`Module` and `Parameter`: the containers of weights, with PyTorch's names and state_dict keys."""
from collections import OrderedDict

import numpy as np

from ..autograd import bump_version
from ..tensor import Tensor
from .hooks import ModuleHooks


class Parameter(Tensor):
    """A tensor that a Module registers as a weight (requires_grad by default)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data._data
        super().__init__(np.asarray(data), requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models: assign Parameters and Modules as attributes and they are
    found by parameters(), state_dict() and friends."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_hooks", None)  # (on the instance too: a faster lookup per call)
        # calling the module is calling forward (no hooks, no __call__ of its own): containers
        # may call forward directly, without __call__'s packing of arguments
        object.__setattr__(self, "_call_is_forward", type(self)._plain_call)

    _hooks = None  # a ModuleHooks once a hook is registered (see ember.nn.hooks)
    _plain_call = True  # no subclass on the way defines __call__ (see __init_subclass__)
    _call_is_forward = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._plain_call = cls.__call__ is Module.__call__

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if self._hooks is None:
            return self.forward(*args, **kwargs)
        return self._hooks.call(self, args, kwargs)

    # ---- hooks (PyTorch's API; see ember.nn.hooks) -------------------------------------------
    def _hook_store(self):
        if self._hooks is None:
            object.__setattr__(self, "_hooks", ModuleHooks())
            object.__setattr__(self, "_call_is_forward", False)
        return self._hooks

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) before forward; a returned value replaces args (a non-tuple is
        wrapped in one). With with_kwargs: hook(module, args, kwargs) -> None or (args, kwargs)."""
        h = self._hook_store()
        flags = (h.forward_pre_with_kwargs,) if with_kwargs else ()
        return h.add(h.forward_pre, hook, prepend, *flags)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) after forward (hook(module, args, kwargs, output) with
        with_kwargs); a returned value replaces the output. always_call: run it even when
        forward raises."""
        h = self._hook_store()
        flags = ((h.forward_with_kwargs,) if with_kwargs else ()) + (
            (h.always_call,) if always_call else ())
        return h.add(h.forward, hook, prepend, *flags)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) when the gradients of the module's outputs are known; a
        returned tuple replaces grad_output."""
        h = self._hook_store()
        return h.add(h.backward_pre, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) when the gradients of the module's positional
        inputs are known (None for those that are not tensors requiring grad); a returned tuple
        replaces grad_input."""
        h = self._hook_store()
        return h.add(h.backward, hook, prepend)

    # ---- registration -----------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 "assigning attributes")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
        elif name in params:  # a parameter's slot takes a Parameter or None, as in PyTorch
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as "
                                f"parameter {name!r} (Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as "
                                f"child module {name!r} (Module or None expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as "
                                f"buffer {name!r} (Tensor or None expected)")
            buffers[name] = value
        # also kept as a plain attribute: `self.weight` is then an ordinary (fast) lookup
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        self._non_persistent_buffers.discard(name)
        object.__delattr__(self, name)

    def _check_new_name(self, kind, name):
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: {kind} name must be a string, got "
                            f"{type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{type(self).__name__}: {kind} name must be non-empty and contain "
                           f"no '.', got {name!r}")
        if hasattr(self, name) and not any(name in d for d in (
                self._parameters, self._buffers, self._modules)):
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not a parameter (running means): saved in state_dict
        unless persistent=False, moved by to(), never trained."""
        self._check_new_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}: cannot assign {type(tensor).__name__} as "
                            f"buffer {name!r} (Tensor or None expected)")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name, param):
        self._check_new_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}: cannot assign {type(param).__name__} as "
                            f"parameter {name!r} (Parameter or None expected)")
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name, module):
        self._check_new_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: {type(module).__name__} is not a Module")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        """The module at a dotted path ("encoder.0"), '' being this one."""
        m = self
        for part in target.split(".") if target else ():
            if part not in m._modules or m._modules[part] is None:
                raise AttributeError(f"{type(m).__name__} has no submodule {part!r} "
                                     f"(looking up {target!r})")
            m = m._modules[part]
        return m

    # ---- walking the tree (PyTorch's order: depth first, each module before its children) ---
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if m in memo:
                continue
            if remove_duplicate:
                memo.add(m)
            yield name, m
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in m._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        seen = set()
        for n, m in self._modules.items():
            if m is not None and m not in seen:
                seen.add(m)
                yield n, m

    def children(self):
        return (m for _, m in self.named_children())

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                else [(prefix, self)])
        for mod_name, m in mods:
            for name, t in getattr(m, store).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mod_name}.{name}" if mod_name else name), t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # ---- modes and bulk changes -------------------------------------------------------------
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data.fill(0)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn):
        """fn(module) for every submodule, children before their parent (PyTorch's order)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """Cast floating parameters and buffers to a dtype, in place (the same Parameter objects
        stay registered, as in PyTorch). Takes to(dtype), to("cpu"), to("cpu", dtype),
        to(tensor) and the keywords device= and dtype=."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"to: unexpected arguments {', '.join(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str):
                device = a
            elif a is not None:
                dtype = a
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(f"to: ember runs on the CPU only, got device {device!r}")
        if dtype is None:
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to: expected a dtype, a device or a tensor, got {dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"to: a module casts only to a floating dtype, got {dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t._data = t._data.astype(dtype)
                bump_version(t)
                if t.grad is not None:
                    t.grad = Tensor(t.grad._data.astype(dtype))
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def cpu(self):
        return self

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, detached, in PyTorch's order (each
        module's parameters, then its buffers, then its children's; a shared module under each
        of its names)."""
        out = OrderedDict() if destination is None else destination
        for mod_name, m in self.named_modules(prefix=prefix, remove_duplicate=False):
            for store in (m._parameters, m._buffers):
                for name, t in store.items():
                    if t is None or name in m._non_persistent_buffers and store is m._buffers:
                        continue
                    out[f"{mod_name}.{name}" if mod_name else name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values in; with strict, every key must match and every shape must agree."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for k, t in own.items():
            if k in state_dict:
                v = state_dict[k]
                v = v._data if isinstance(v, Tensor) else np.asarray(v)
                if v.shape != t.shape:
                    mismatched.append(f"{k}: checkpoint {v.shape}, model {t.shape}")
        problems = []
        if mismatched:
            problems.append("shape mismatch: " + "; ".join(mismatched))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise RuntimeError(f"load_state_dict into {type(self).__name__}: " +
                               " | ".join(problems))
        for k, t in own.items():
            if k in state_dict:
                v = state_dict[k]
                v = v._data if isinstance(v, Tensor) else np.asarray(v)
                np.copyto(t._data, v.astype(t.dtype, copy=False))
                bump_version(t)
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing (PyTorch's format) --------------------------------------------------------
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_indent(repr(m))}" for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        head = self._get_name() + "("
        if len(extra_lines) == 1 and not child_lines:
            return head + extra_lines[0] + ")"
        if lines:
            return head + "\n  " + "\n  ".join(lines) + "\n)"
        return head + ")"


def _indent(text, spaces=2):
    """Indent every line but the first (a child's repr inside its parent's)."""
    return text.replace("\n", "\n" + " " * spaces)


class _IncompatibleKeys:
    def __init__(self, missing_keys, unexpected_keys):
        self.missing_keys, self.unexpected_keys = missing_keys, unexpected_keys

    def __repr__(self):
        return ("<All keys matched successfully>" if not (self.missing_keys or self.unexpected_keys)
                else f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                     f"unexpected_keys={self.unexpected_keys})")
