"""Module hooks, PyTorch's API: look at (or change) what goes into and out of a layer, forward
and backward.

    h = layer.register_forward_hook(lambda m, args, out: print(m, out.shape))
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: print(grad_output[0]))
    h.remove()                  # or: with layer.register_forward_hook(...): ...

Forward pre-hooks see (and may replace) the positional arguments, forward hooks the output.
Backward hooks work through two identity ops, one on the tensors going in and one on those coming
out: when backward reaches the outputs' op, the pre-hooks see grad_output (and may replace it);
when it reaches the inputs' op, the full hooks see grad_input (one entry per positional argument,
None where it is not a tensor that requires grad) and grad_output, and may replace grad_input.
Every tensor coming out of the module is made after the layer's own ops and every tensor going in
before them, so when the first of a group is reached, backward has finished everything the group
waits on: the gradients of the others are complete (`autograd.pending_grad`).
"""
import itertools
import warnings
import weakref
from collections import OrderedDict

from .. import autograd
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor


class RemovableHandle:
    """What a register_*_hook returns: `remove()` takes the hook out again (so does leaving a
    `with` block). `id` is the hook's key in the module's hook dicts."""

    _ids = itertools.count()

    def __init__(self, hooks_dict, *extra_dicts):
        self.id = next(RemovableHandle._ids)
        self._dicts = [weakref.ref(d) for d in (hooks_dict, *extra_dicts)]

    def remove(self):
        for ref in self._dicts:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _flags():
    return OrderedDict()  # the ids of hooks with an option set (an OrderedDict: weakref-able)


class ModuleHooks:
    """The hooks of one module (made on the first registration, so a module without hooks pays
    nothing per call): ordered dicts from handle id to hook, and the ids with options set."""

    def __init__(self):
        self.forward_pre, self.forward = OrderedDict(), OrderedDict()
        self.backward_pre, self.backward = OrderedDict(), OrderedDict()
        self.forward_pre_with_kwargs, self.forward_with_kwargs = _flags(), _flags()
        self.always_call = _flags()

    def add(self, hooks, hook, prepend, *flag_dicts):
        handle = RemovableHandle(hooks, *flag_dicts)
        hooks[handle.id] = hook
        for d in flag_dicts:
            d[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def call(self, module, args, kwargs):
        """module(*args, **kwargs) with the hooks around forward."""
        result, ran = None, set()
        try:
            args, kwargs = self._run_pre_hooks(module, args, kwargs)
            points = None
            if (self.backward or self.backward_pre) and is_grad_enabled():
                autograd.track_pending_grads()
                points = _HookPoints(module, self)
                args = points.wrap_inputs(args)
            result = module.forward(*args, **kwargs)
            for hid, hook in list(self.forward.items()):
                ran.add(hid)
                out = (hook(module, args, kwargs, result) if hid in self.forward_with_kwargs
                       else hook(module, args, result))
                if out is not None:
                    result = out
            return result if points is None else points.wrap_outputs(result)
        except Exception:
            self._run_always_called(module, args, kwargs, result, ran)
            raise

    def _run_pre_hooks(self, module, args, kwargs):
        for hid, hook in list(self.forward_pre.items()):
            if hid in self.forward_pre_with_kwargs:
                out = hook(module, args, kwargs)
                if out is not None:
                    if not (isinstance(out, tuple) and len(out) == 2):
                        raise RuntimeError(f"{type(module).__name__}: a forward pre-hook with "
                                           "kwargs must return None or a tuple (args, kwargs), "
                                           f"got {type(out).__name__}")
                    args, kwargs = out
            else:
                out = hook(module, args)
                if out is not None:
                    args = out if isinstance(out, tuple) else (out,)
        return args, kwargs

    def _run_always_called(self, module, args, kwargs, result, ran):
        """forward raised: the forward hooks registered with always_call=True that have not run
        yet run now (their errors become warnings; forward's error is the one raised)."""
        for hid, hook in list(self.forward.items()):
            if hid not in self.always_call or hid in ran:
                continue
            try:
                if hid in self.forward_with_kwargs:
                    hook(module, args, kwargs, result)
                else:
                    hook(module, args, result)
            except Exception as e:  # noqa: BLE001  (a warning: forward's error goes on)
                warnings.warn(f"{type(module).__name__}: a forward hook with always_call=True "
                              f"raised an error while forward's own error was being raised: {e}",
                              stacklevel=3)


class _HookPoint(Function):
    """y = x (a view), whose backward hands the gradient to a module's backward hooks."""
    name = "backward_hook"
    is_view = True

    @staticmethod
    def forward(ctx, x, points, is_output):
        ctx.points, ctx.is_output = points, is_output
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return ctx.points.reached(ctx, g), None, None

    array_backward = backward


class _HookPoints:
    """One call of a module with backward hooks: the identity ops on its inputs and outputs."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, hooks
        self.inputs, self.outputs = {}, {}  # position -> node of its identity op
        self.n_args = self.n_outputs = 0
        self.pass_grads = None  # the backward pass the state below belongs to
        self.grad_outputs = None
        self.inputs_done = False

    def wrap_inputs(self, args):
        self.n_args = len(args)
        args = list(args)
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                args[i] = _HookPoint.apply(a, self, False)
                self.inputs[i] = args[i].grad_fn
        return tuple(args)

    def wrap_outputs(self, result):
        single = isinstance(result, Tensor)
        if not single and not isinstance(result, tuple):
            warnings.warn(f"{type(self.module).__name__}: backward hooks need the module to return "
                          f"a Tensor or a tuple of Tensors, got {type(result).__name__}",
                          stacklevel=4)
            return result
        outs = [result] if single else list(result)
        self.n_outputs = len(outs)
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                outs[i] = _HookPoint.apply(o, self, True)
                self.outputs[i] = outs[i].grad_fn
        if single:
            return outs[0]
        return result._make(outs) if hasattr(result, "_make") else tuple(outs)

    def reached(self, node, g):
        """Backward reached one identity op (`node`, with gradient g): on the first of a group,
        run the hooks on the whole group's gradients; return the (maybe replaced) gradient."""
        grads, arrays = autograd.running_backward()
        if grads is not self.pass_grads:  # a new backward pass (retain_graph)
            self.pass_grads, self.grad_outputs, self.inputs_done = grads, None, False
        if node.is_output:
            if self.grad_outputs is not None:
                return g  # the group's hooks ran already; g is what they left
            go = self._gather(self.outputs, self.n_outputs, node, g, arrays)
            for hook in list(self.hooks.backward_pre.values()):
                out = hook(self.module, go)
                if out is not None:
                    go = self._checked(out, go, "backward pre-hook", "grad_output")
            self.grad_outputs = go
            if not self.inputs:  # no input requires grad: the full hooks see grad_input None
                self._run_full_hooks((None,) * self.n_args, go, no_inputs=True)
            return self._scatter(self.outputs, go, node, arrays)
        if self.inputs_done or self.grad_outputs is None:
            return g  # done already, or the gradient did not come through the module's outputs
        self.inputs_done = True  # (in a double backward it comes straight from the first one)
        gi = self._gather(self.inputs, self.n_args, node, g, arrays)
        gi = self._run_full_hooks(gi, self.grad_outputs)
        return self._scatter(self.inputs, gi, node, arrays)

    def _run_full_hooks(self, gi, go, no_inputs=False):
        name = type(self.module).__name__
        for hook in list(self.hooks.backward.values()):
            out = hook(self.module, gi, go)
            if out is None:
                continue
            if no_inputs:
                if not (isinstance(out, tuple) and all(x is None for x in out)):
                    raise RuntimeError(f"{name}: no input of this module requires grad, so its "
                                       "backward hook must return None (or only Nones)")
                continue
            gi = self._checked(out, gi, "backward hook", "grad_input")
        return gi

    def _checked(self, new, old, what, which):
        name = type(self.module).__name__
        new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        if len(new) != len(old):
            raise RuntimeError(f"{name}: a {what} returned {len(new)} {which} entries, expected "
                               f"{len(old)}")
        for k, (n, o) in enumerate(zip(new, old)):
            if n is not None and o is not None and tuple(n.shape) != tuple(o.shape):
                raise RuntimeError(f"{name}: a {what} returned {which}[{k}] of shape "
                                   f"{tuple(n.shape)}, expected {tuple(o.shape)}")
        return new

    @staticmethod
    def _gather(points, n, node, g, arrays):
        """The group's gradients as Tensors, by position (None where none arrived)."""
        out = [None] * n
        for i, p in points.items():
            gi = g if p is node else autograd.pending_grad(p)
            out[i] = None if gi is None else Tensor(gi) if arrays else gi
        return tuple(out)

    @staticmethod
    def _scatter(points, grads, node, arrays):
        """Hand the (maybe replaced) gradients back: the others' to the running backward, this
        node's as its result."""
        mine = None
        for i, p in points.items():
            gi = grads[i]
            if arrays and gi is not None:
                gi = gi._data if isinstance(gi, Tensor) else gi
            if p is node:
                mine = gi
            else:
                autograd.replace_pending_grad(p, gi)
        return mine
