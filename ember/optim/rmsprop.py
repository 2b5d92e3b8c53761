"""RMSprop, optionally centered, with momentum and weight decay."""
import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """g = g + wd p;  v = alpha v + (1 - alpha) g^2;
    centered: m = m + (1 - alpha)(g - m),  d = sqrt(v - m^2) + eps;  else d = sqrt(v) + eps;
    momentum: b = mu b + g / d,  p = p - lr b;  else p = p - lr g / d
    — PyTorch's update, in place."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            if group[name] < 0:
                raise ValueError(f"RMSprop: invalid {name} {group[name]} (must be >= 0)")

    def _update(self, p, g, state, group):
        # scratch arrays kept across steps: a step allocates nothing parameter-sized
        work, t1, t2 = self._scratch(p, 0), self._scratch(p, 1), self._scratch(p, 2)
        if group["maximize"]:
            g = np.negative(g, work)
        alpha, eps, wd, mu = group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if wd:
            g = np.add(g, np.multiply(p, wd, t1), work)
        v = state["square_avg"]
        v *= alpha
        np.multiply(g, 1 - alpha, t1)
        t1 *= g
        v += t1                                 # ((1 - alpha) g) g: the rounding of torch's addcmul_
        if group["centered"]:
            m = state["grad_avg"]
            np.subtract(g, m, t1)
            t1 *= 1 - alpha
            m += t1                             # torch's lerp_(g, 1 - alpha)
            denom = np.subtract(v, np.multiply(m, m, t2), t2)
            np.sqrt(denom, denom)
        else:
            denom = np.sqrt(v, t2)
        denom += eps
        step = np.divide(g, denom, t1)
        if mu > 0:
            buf = state.get("momentum_buffer")
            if buf is None:                     # momentum switched on after the first step
                buf = state["momentum_buffer"] = np.zeros_like(p)
            buf *= mu
            buf += step
            step = np.multiply(buf, group["lr"], t1)
        else:
            step *= group["lr"]
        p -= step
