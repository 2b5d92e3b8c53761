"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """d = g + wd p;  b = mu b + (1 - dampening) d  (b = d at the first step);
    d = d + mu b (Nesterov) or b;  p = p - lr d   — PyTorch's update, in place."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 maximize=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) "
                             "must be >= 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, g, state, group):
        d = self._scratch(p)  # the step goes here: no array is allocated per step
        wd, mu = group["weight_decay"], group["momentum"]
        if group["maximize"]:
            g = np.negative(g, out=d)
        if wd:
            g = np.add(g, np.multiply(p, wd, out=self._scratch(p, 1)), out=d)
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mu
                if group["dampening"]:
                    buf += np.multiply(g, 1 - group["dampening"], out=self._scratch(p, 1))
                else:
                    buf += g
            if group["nesterov"]:
                g = np.add(g, np.multiply(buf, mu, out=self._scratch(p, 1)), out=d)
            else:
                g = buf
        p -= np.multiply(g, group["lr"], out=d)
