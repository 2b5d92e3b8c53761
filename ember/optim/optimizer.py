"""`Optimizer`: parameter groups, per-parameter state, zero_grad and state_dict."""
import weakref

import numpy as np

from ..autograd import bump_version
from ..tensor import Tensor


class Optimizer:
    """Holds param_groups (dicts of 'params' and hyper-parameters) and per-parameter state.
    Subclasses implement `_update(p, grad, state, group)` on arrays, in place."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        self._scratch_arrays = {}
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise TypeError(f"{type(self).__name__}: can only optimize leaf tensors, got "
                                f"{type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: a parameter appears in two groups")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']}")

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data.fill(0)

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        states, update = self.state, self._update  # looked up once, not once per parameter
        updated = []
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                update(p._data, grad._data, state, group)
                updated.append(p)
        bump_version(*updated)
        return loss

    def _update(self, p, g, state, group):
        raise NotImplementedError

    def _scratch(self, p, k=0):
        """Scratch array k shaped like parameter array p, kept across steps, so an update
        allocates nothing. (Not part of the state: it holds no information between steps.)
        Found by p's id and checked by identity through a weak reference: an id may be reused
        once its array is gone, and comparing shapes and dtypes costs more per parameter."""
        key = id(p) + k  # array objects lie ~100 bytes apart or more: no clash for small k
        entry = self._scratch_arrays.get(key)
        if entry is None or entry[0]() is not p:
            entry = self._scratch_arrays[key] = (weakref.ref(p), np.empty_like(p))
        return entry[1]

    def state_dict(self):
        """{'state': {index: {name: array or number}}, 'param_groups': [...]}, parameters named
        by their position across groups, as PyTorch."""
        index = {}
        groups = []
        for group in self.param_groups:
            g = {k: v for k, v in group.items() if k != "params"}
            g["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                g["params"].append(index[id(p)])
            groups.append(g)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (Tensor(v.copy()) if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(groups)} groups in the "
                             f"state, {len(self.param_groups)} in the optimizer")
        params = {}
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{type(self).__name__}.load_state_dict: a group has "
                                 f"{len(saved['params'])} params in the state and "
                                 f"{len(own['params'])} in the optimizer")
            for i, p in zip(saved["params"], own["params"]):
                params[i] = p
            own.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: _load_state_value(k, v, p) for k, v in s.items()}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _load_state_value(name, value, p):
    """A copy of one saved state entry: arrays in the parameter's dtype; the step counter as a
    Python number even when a checkpoint stored it as a 0-d tensor (as PyTorch does)."""
    if isinstance(value, Tensor):
        value = value._data
    if not isinstance(value, np.ndarray):
        return value
    if name == "step" and value.size == 1:
        step = value.item()
        return int(step) if float(step).is_integer() else step
    return np.array(value, dtype=p.dtype)
