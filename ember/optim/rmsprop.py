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
        if group["maximize"]:
            g = -g
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
            g = g + wd * p
        v = state["square_avg"]
        v *= alpha
        v += ((1 - alpha) * g) * g           # the rounding of torch's addcmul_
        if group["centered"]:
            m = state["grad_avg"]
            m += (1 - alpha) * (g - m)          # torch's lerp_(g, 1 - alpha)
            denom = v - m * m
            np.sqrt(denom, out=denom)
        else:
            denom = np.sqrt(v)
        denom += eps
        if mu > 0:
            buf = state.get("momentum_buffer")
            if buf is None:                     # momentum switched on after the first step
                buf = state["momentum_buffer"] = np.zeros_like(p)
            buf *= mu
            buf += g / denom
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * (g / denom)
