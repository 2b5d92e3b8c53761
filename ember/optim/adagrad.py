"""Adagrad with learning-rate decay and weight decay."""
import numpy as np

from .optimizer import Optimizer


class Adagrad(Optimizer):
    """g = g + wd p;  s = s + g^2;  p = p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
    — PyTorch's update, in place.  s starts at initial_accumulator_value."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))
        # like PyTorch, the state exists from the start (so state_dict lists every parameter)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p._data, self.state.setdefault(p, {}), group)

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            if group[name] < 0:
                raise ValueError(f"Adagrad: invalid {name} {group[name]} (must be >= 0)")

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = 0
        state["sum"] = np.full_like(p, group["initial_accumulator_value"])

    def _update(self, p, g, state, group):
        # scratch arrays kept across steps: a step allocates nothing parameter-sized
        work, t1, t2 = self._scratch(p, 0), self._scratch(p, 1), self._scratch(p, 2)
        if group["maximize"]:
            g = np.negative(g, work)
        if not state:
            self._init_state(p, state, group)
        state["step"] += 1
        if group["weight_decay"]:
            g = np.add(g, np.multiply(p, group["weight_decay"], t1), work)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += np.multiply(g, g, t1)
        std = np.sqrt(s, t2)
        std += group["eps"]
        step = np.divide(g, std, t1)
        step *= clr
        p -= step
