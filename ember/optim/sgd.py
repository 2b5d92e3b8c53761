"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from ..autograd import bump_version
from ..backend import constant
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

    def step(self, closure=None):
        """One update of every parameter that has a gradient. (The base class's loop, with the
        hyper-parameters read once per group: on a tiny network the step is Python overhead.)"""
        loss = closure() if closure is not None else None
        updated = []
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            damp, nesterov, maximize = group["dampening"], group["nesterov"], group["maximize"]
            lr_c = mu_c = None  # lr and mu as 0-d arrays of the parameters' dtype
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                arr, g = p._data, grad._data
                d = self._scratch(arr)  # the step goes here: nothing is allocated per step
                if maximize:
                    g = np.negative(g, d)
                if wd:
                    g = np.add(g, np.multiply(arr, wd, self._scratch(arr, 1)), d)
                if lr_c is None or lr_c.dtype != arr.dtype:
                    lr_c, mu_c = constant(lr, arr.dtype), constant(mu, arr.dtype)
                if mu:
                    g = self._momentum(p, g, d, mu_c, damp, nesterov)
                np.multiply(g, lr_c, d)
                np.subtract(arr, d, arr)
                updated.append(p)
        bump_version(*updated)
        return loss

    def _momentum(self, p, g, d, mu, dampening, nesterov):
        """b = mu b + (1 - dampening) g (b = g at the first step); mu is a 0-d array"""
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {}
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = np.array(g, copy=True)
        else:
            np.multiply(buf, mu, buf)
            buf += np.multiply(g, 1 - dampening, self._scratch(buf, 1)) if dampening else g
        return np.add(g, np.multiply(buf, mu, self._scratch(buf, 1)), d) if nesterov else buf
