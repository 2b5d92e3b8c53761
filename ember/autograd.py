"""Reverse-mode autodiff: `Function` (forward on arrays, backward in ember ops), the graph walk,
grad-mode switches and `gradcheck`.

Every op call that needs a gradient leaves one `Node` behind: the op's context. It remembers the
op, the inputs it came from and what backward needs. `backward` walks the nodes in reverse
topological order and applies the chain rule
    dL/dx = sum over uses u of x:  (du/dx)^T dL/du
Nodes are numbered as they are made, and every use of a tensor is made after the tensor: taking
the pending node with the highest number first (a heap) is a reverse topological order, found
without a separate walk of the graph (and without recursion: a 100,000-op chain is fine).
With create_graph off, the gradients flow between nodes as plain arrays: an op with an
`array_backward` computes its input gradients on arrays (no Tensor, no node per step of the
backward), the others get their gradient as a Tensor, as with create_graph on.
"""
import functools
import heapq
import itertools
import threading

import numpy as np

_Tensor = None  # set by ember.tensor: Function.apply wraps its results in it


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled():
    return _grad_mode.enabled


class set_grad_enabled:
    """Turn graph recording on or off; a context manager and a decorator."""

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self.prev

    def __call__(self, fn):
        mode = self.mode
        _grad_mode.enabled = self.prev  # used as a decorator: undo the switch made by __init__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class _GradModeSwitch:
    mode = True  # the grad mode inside; None leaves it as it is

    def __enter__(self):
        self.prev = _grad_mode.enabled
        if self.mode is not None:
            _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self.prev

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(_grad_mode.enabled if mode is None else mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeSwitch):
    """Record no graph inside: `with ember.no_grad():` or `@ember.no_grad()`."""

    mode = False


class enable_grad(_GradModeSwitch):
    """Record the graph again inside a `no_grad` block."""

    mode = True


class inference_mode(_GradModeSwitch):
    """`torch.inference_mode`: here the same as `no_grad` (ember has no separate inference
    tensors). inference_mode(False) changes nothing. Works as `@inference_mode()` and as
    `@inference_mode` on a function."""

    def __new__(cls, mode=True):
        if callable(mode):  # used bare as a decorator
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = False if mode else None


class _NoGradContext:
    """The context forward gets when no graph is recorded: it keeps nothing."""

    __slots__ = ()

    # a str method, not a Python no-op: it takes any positional arguments and keeps none, and
    # costs no Python call (a measurable cost per op on tiny arrays)
    save_for_backward = "".format

    def __setattr__(self, name, value):
        pass


_NO_CTX = _NoGradContext()


_node_numbers = itertools.count()

# In-place modifications of any tensor so far. A tensor's version box is [count, when]: count
# is PyTorch's version counter, `when` the clock at its last in-place modification. A node
# notes the clock when it is made; if the clock has not moved by its backward, nothing it
# saved can have changed, and the per-array checks are skipped.
_clock = [0]


def bump_version(*tensors):
    """Record an in-place modification of each tensor (one tick of the clock for all)."""
    _clock[0] = when = _clock[0] + 1
    for t in tensors:
        box = t._version
        box[0] += 1
        box[1] = when


class Node:
    """One recorded op call: the op's context and a node of the graph.

    forward stores what backward needs with `save_for_backward(*arrays)` (inputs, the output or
    intermediates) or as plain attributes for small non-array facts (shapes, dims).
    """

    __slots__ = ("fn", "inputs", "needs_input_grad", "seq", "_stamp", "_to_save", "_freed",
                 "hooks", "output", "__dict__")

    def __init__(self, fn, args, needs_input_grad):
        self.seq = next(_node_numbers)  # creation order: see the module's docstring
        self._stamp = _clock[0]
        self.fn = fn
        self.inputs = args
        self.needs_input_grad = needs_input_grad
        self._to_save = None
        self._freed = False
        self.hooks = None
        # self.output: (version box, id of the array) of the op's output, set by apply

    @property
    def name(self):
        return self.fn.name

    def save_for_backward(self, *arrays):
        self._to_save = arrays

    def _sources(self):
        """What each saved array is: (None, box) the op's output, (tensor, box) an input, or
        (False, None) a constant. Found by identity, when backward asks (never on the fast
        path of `saved_arrays`)."""
        box, out_id = self.output
        inputs, found = self.inputs, []
        T = _Tensor
        for arr in self._to_save:
            if id(arr) == out_id:
                found.append((None, box))
                continue
            for t in inputs:
                if isinstance(t, T) and t._data is arr:
                    found.append((t, t._version))
                    break
            else:
                found.append((False, None))
        return found

    def _check_unmodified(self, sources):
        """Raise if a saved tensor was modified in place after this node saved it."""
        stamp = self._stamp
        for arr, (_, box) in zip(self._to_save, sources):
            if box is not None and box[1] > stamp:
                self._raise_modified(np.shape(arr), box[0])

    @property
    def saved_tensors(self):
        if self._freed:
            self._raise_freed()
        if self._to_save is None:
            return ()
        sources = self._sources()
        if _clock[0] != self._stamp:
            self._check_unmodified(sources)
        out = []
        for arr, (src, box) in zip(self._to_save, sources):
            if src is None:  # the op's own output: rebuilt, pointing back at this node
                t = _Tensor(arr, True, self)  # (requires_grad, grad_fn)
                t._version = box
            elif src is False:
                t = _Tensor(arr)
            else:
                t = src
            out.append(t)
        return tuple(out)

    @property
    def saved_arrays(self):
        """The saved arrays themselves, for `array_backward`: the same checks as saved_tensors,
        no Tensor built."""
        if self._freed:
            self._raise_freed()
        saved = self._to_save
        if saved is None:
            return ()
        if _clock[0] != self._stamp:
            self._check_unmodified(self._sources())
        return saved

    def _raise_freed(self):
        raise RuntimeError(
            f"{self.fn.name}: trying to backward through the graph a second time; its saved "
            "arrays were freed after the first backward. Pass retain_graph=True to the first "
            "backward() if you need to call it twice.")

    def _raise_modified(self, shape, now):
        raise RuntimeError(
            f"{self.fn.name}: a tensor of shape {tuple(shape)} that backward needs was modified by "
            f"an in-place operation after it was saved (it is now at version {now}). Clone it "
            "before modifying it, or modify a copy.")

    def __repr__(self):
        return f"<{self.fn.name}Backward>"


class Function:
    """An op: `forward(ctx, *arrays)` returns an array; `backward(ctx, grad)` returns one gradient
    (a Tensor or None) per input, written with ember ops so it is differentiable too.

    Optionally `array_backward(ctx, grad)`: the same gradients from and to plain arrays (reading
    `ctx.saved_arrays`), used when no graph of the backward is wanted. It must never modify
    `grad` in place (other inputs' gradients may be that very array)."""

    name = "op"
    is_view = False  # output shares the input's memory: it shares its version counter too
    array_backward = None

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        T = _Tensor
        arrays, needs = [], []
        for a in args:  # one loop, not two comprehensions: on tiny arrays this is the cost
            if isinstance(a, T):
                arrays.append(a._data)
                needs.append(a._requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        if True in needs and _grad_mode.enabled:
            ctx = Node(cls, args, tuple(needs))
            raw_out = cls.forward(ctx, *arrays, **kwargs)
            out = T(raw_out)
            out._requires_grad = True
            out.grad_fn = ctx
            if cls.is_view:
                out._version = args[0]._version
            data = out._data
            ctx.output = (out._version, id(data))
            if data is not raw_out and ctx._to_save is not None:  # NumPy gave a 0-d result as
                ctx._to_save = tuple(data if a is raw_out else a for a in ctx._to_save)  # a scalar
            return out
        out = T(cls.forward(_NO_CTX, *arrays, **kwargs))
        if cls.is_view:
            out._version = args[0]._version
        return out


class _RunningBackward(threading.local):
    state = (None, True)  # the running backward's gradients waiting at nodes, and whether they
    #                       are arrays (else Tensors)


_running = _RunningBackward()
_track_pending = False  # whether backward publishes its waiting gradients (set by module hooks)


def track_pending_grads():
    """From now on, every backward publishes its waiting gradients (for `pending_grad`)."""
    global _track_pending
    _track_pending = True


def running_backward():
    """(gradients waiting per node, whether they are arrays) of the backward now running."""
    return _running.state


def pending_grad(node):
    """The gradient waiting at `node` in the running backward, or None. Complete only once no
    node made after it can still pass it one (module backward hooks rely on this)."""
    return _running.state[0].get(node)


def replace_pending_grad(node, g):
    """Replace the gradient waiting at `node` (a node with none waiting is left alone)."""
    grads = _running.state[0]
    if node in grads:
        grads[node] = g


def _accumulate(store, key, g):
    prev = store.get(key)
    store[key] = g if prev is None else prev + g


def _raise_bad_grad(node, i, g):
    raise RuntimeError(
        f"{node.fn.name}: backward returned a gradient of shape {g.shape} for input {i} of "
        f"shape {node.inputs[i].shape} (a bug in the op)")


def run_backward(tensors, grads, retain_graph=False, create_graph=False, inputs=None):
    """Backpropagate from `tensors` (each seeded with its grad). With `inputs` given, return their
    gradients instead of accumulating into `.grad` (the `ember.autograd.grad` form).

    Without create_graph the gradients are arrays until they reach the leaves."""
    arrays = not create_graph
    node_grads, leaf_grads = {}, {}  # gradients waiting: per node (its output's), per leaf
    heap = []  # the nodes in node_grads, as (-seq, node): the newest pops first
    for t, g in zip(tensors, grads):
        if not t._requires_grad:
            raise RuntimeError(
                "backward: the tensor does not require grad and has no grad_fn (nothing in its "
                "history requires grad, or it was computed under no_grad)")
        if arrays:
            g = g._data
        fn = t.grad_fn
        if fn is None:
            _accumulate(leaf_grads, t, g)
        else:
            if fn not in node_grads:
                heap.append((-fn.seq, fn))
            _accumulate(node_grads, fn, g)
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    wanted = {} if inputs is None else {t.grad_fn: None for t in inputs if t.grad_fn is not None}
    previous_mode = _grad_mode.enabled
    _grad_mode.enabled = create_graph
    track = _track_pending
    if track:
        outer = _running.state  # a hook may run a backward of its own
        _running.state = (node_grads, arrays)
    T = _Tensor
    try:
        while heap:
            node = pop(heap)[1]
            g = node_grads.pop(node)
            if node.hooks:
                g = _run_hooks(node.hooks, g, arrays)
            if node in wanted:
                wanted[node] = g
            fn = node.fn
            if node._freed:
                node._raise_freed()
            if not arrays:
                result = fn.backward(node, g)
            elif fn.array_backward is not None:
                result = fn.array_backward(node, g)
            else:
                result = _arrays_of(fn.backward(node, T(g)))
            if type(result) is not tuple:
                result = (result,)
            needs, xs = node.needs_input_grad, node.inputs
            for i, gi in enumerate(result):
                if gi is None or not needs[i]:
                    continue
                x = xs[i]
                if gi.shape != x._data.shape:
                    _raise_bad_grad(node, i, gi)
                fn = x.grad_fn
                if fn is None:
                    prev = leaf_grads.get(x)
                    leaf_grads[x] = gi if prev is None else prev + gi
                else:
                    prev = node_grads.get(fn)
                    if prev is None:
                        node_grads[fn] = gi
                        push(heap, (-fn.seq, fn))
                    else:
                        node_grads[fn] = prev + gi
            if not retain_graph:
                node._to_save = None
                node._freed = True
    finally:
        _grad_mode.enabled = previous_mode
        if track:
            _running.state = outer
    taken = {id(g._data) for g in grads}  # arrays a result may not own: the seeds, or taken
    if inputs is not None:
        found = [leaf_grads.get(t) if t.grad_fn is None else wanted.get(t.grad_fn)
                 for t in inputs]
        return tuple(_owned(g, taken) for g in found) if arrays else tuple(found)
    for leaf, g in leaf_grads.items():
        arr = g if arrays else g._data
        key = id(arr)
        owned = arr.base is None and key not in taken and arr.flags.writeable
        taken.add(key)
        if arrays:
            _accumulate_array_into_leaf(leaf, arr, owned)
        else:
            _accumulate_into_leaf(leaf, g, True)
    return None


def _owned(arr, taken):
    """A gradient handed to the caller as a Tensor of its own: a copy where the array is a view
    (a broadcast one is read-only), another result, or a seed."""
    if arr is None:
        return None
    if arr.base is not None or id(arr) in taken or not arr.flags.writeable:
        arr = np.array(arr, copy=True)
    taken.add(id(arr))
    return _Tensor(arr)


def _arrays_of(result):
    """A Tensor-mode backward's result as arrays (None stays None)."""
    if type(result) is not tuple:
        return None if result is None else result._data
    return tuple(None if g is None else g._data for g in result)


def _run_hooks(hooks, g, arrays=False):
    """Each hook gets the gradient as a Tensor; one it returns replaces it."""
    if arrays:
        return _run_hooks(hooks, _Tensor(g))._data
    for hook in hooks:
        new = hook(g)
        if new is not None:
            g = new
    return g


def _accumulate_into_leaf(leaf, g, create_graph, owned=False):
    """Add the Tensor g to leaf.grad: recorded in the graph with create_graph, else as arrays
    (see _accumulate_array_into_leaf)."""
    if not create_graph:
        _accumulate_array_into_leaf(leaf, g._data, owned)
        return
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g)
    if g._data.dtype != leaf._data.dtype:
        g = g.to(leaf._data.dtype)
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def _accumulate_array_into_leaf(leaf, arr, owned):
    """PyTorch's rule: a leaf's .grad is the sum of the gradients of every backward since the
    last zero_grad, here taken in place. `owned`: arr is a fresh result no one else holds, so it
    becomes .grad without a copy."""
    if leaf._hooks:
        arr = _run_hooks(leaf._hooks, _Tensor(arr))._data
        owned = False
    if arr.dtype != leaf._data.dtype:
        arr = arr.astype(leaf._data.dtype)
        owned = True
    grad = leaf.grad
    if grad is None:
        leaf.grad = _Tensor(arr if owned else np.array(arr, copy=True))
    elif grad._requires_grad:  # a graph-carrying .grad from an earlier create_graph backward
        leaf.grad = grad + _Tensor(arr)
    else:
        np.add(grad._data, arr, out=grad._data)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned (not accumulated into .grad)."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grads = [_seed_grad(o, g, "grad") for o, g in zip(outputs, _as_tuple(grad_outputs))]
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs)
    for t, g in zip(inputs, result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: an input of shape {t.shape} was not used in the graph of the outputs "
                "(pass allow_unused=True to get None for it)")
    return result


def _as_tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _seed_grad(t, gradient, who):
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implicitly created only for scalar outputs; this output has "
                f"shape {t.shape}. Pass gradient= (a tensor of that shape).")
        seed = np.empty(t._data.shape, dtype=t._data.dtype)
        seed.fill(1)
        return _Tensor(seed)
    if not isinstance(gradient, _Tensor):
        gradient = _Tensor(np.asarray(gradient, dtype=t.dtype))
    if gradient.shape != t.shape:
        raise RuntimeError(
            f"{who}: gradient has shape {gradient.shape} but the output has shape {t.shape}")
    return gradient


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare backward's gradients with float64 central differences (f(x+eps) - f(x-eps)) / 2eps.

    `inputs` are tensors (those with requires_grad are checked); `fn` returns a tensor or a tuple.
    Each output is reduced with fixed random weights, so every element of the Jacobian counts.
    On failure the report names the input, the worst element, both values and their gap.
    """
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, _Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {x.dtype}; gradcheck needs float64 inputs")
    probe = _as_tuple(fn(*inputs))
    weights = [np.random.default_rng(i).standard_normal(o.shape) for i, o in enumerate(probe)]

    def scalar_out():  # with grad mode as the caller has it: fn may itself call grad()
        outs = _as_tuple(fn(*inputs))
        return sum(float(np.sum(o._data.astype(np.float64) * w)) for o, w in zip(outs, weights))

    outs = _as_tuple(fn(*inputs))
    checked = [x for x in inputs if isinstance(x, _Tensor) and x.requires_grad]
    total = None
    for o, w in zip(outs, weights):
        if o.requires_grad:
            term = (o * _Tensor(w)).sum()
            total = term if total is None else total + term
    analytic = (grad(total, checked, allow_unused=True) if total is not None
                else [None] * len(checked))
    for idx, (x, ga) in enumerate(zip(checked, analytic)):
        ga = np.zeros(x.shape) if ga is None else ga._data
        gn = np.zeros(x.shape)
        flat = x._data.reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            fp = scalar_out()
            flat[k] = orig - eps
            fm = scalar_out()
            flat[k] = orig
            gn.reshape(-1)[k] = (fp - fm) / (2 * eps)
        bad = np.abs(ga - gn) > atol + rtol * np.abs(gn)
        if bad.any():
            worst = np.unravel_index(np.argmax(np.abs(ga - gn) - rtol * np.abs(gn)), gn.shape)
            msg = (f"gradcheck: input {idx} (shape {x.shape}) mismatch at index {tuple(map(int, worst))}: "
                   f"backward gives {ga[worst]:.10g}, finite differences give {gn[worst]:.10g} "
                   f"(gap {abs(ga[worst] - gn[worst]):.3g}; {int(bad.sum())} of {gn.size} "
                   f"elements outside atol={atol}, rtol={rtol})")
            if raise_exception:
                raise AssertionError(msg)
            return False
    return True
