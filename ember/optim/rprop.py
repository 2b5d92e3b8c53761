"""Rprop: resilient backpropagation (Riedmiller and Braun, 1993), PyTorch's variant."""
import numpy as np

from .optimizer import Optimizer


class Rprop(Optimizer):
    """Each weight has its own step size, and only the sign of its gradient moves it:
    s = s * eta_plus where g keeps the sign it had at the last step, s * eta_minus where it
    flips (and that step is skipped: g taken as 0, remembered as 0), clipped to step_sizes;
    p = p - sign(g) s.  s starts at lr.  PyTorch's update, in place (a step allocates a few
    temporaries the size of the parameter: Rprop is a full-batch method, for small problems)."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
        super().__init__(params, {"lr": lr, "etas": tuple(etas),
                                  "step_sizes": tuple(step_sizes), "maximize": maximize})

    def _check_group(self, group):
        super()._check_group(group)
        eta_minus, eta_plus = group["etas"]
        if not 0.0 < eta_minus < 1.0 < eta_plus:
            raise ValueError(f"Rprop: invalid eta values: {eta_minus}, {eta_plus} (expected "
                             f"0 < eta_minus < 1 < eta_plus)")

    def _update(self, p, g, state, group):
        work, factor = self._scratch(p, 0), self._scratch(p, 1)
        if group["maximize"]:
            g = np.negative(g, work)
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(p)
            state["step_size"] = np.full_like(p, group["lr"])
        state["step"] += 1
        eta_minus, eta_plus = group["etas"]
        low, high = group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        same = np.multiply(g, prev, factor)
        flipped = same < 0
        np.copyto(factor, np.where(same > 0, eta_plus, np.where(flipped, eta_minus, 1.0)))
        step_size *= factor
        np.clip(step_size, low, high, out=step_size)
        np.copyto(prev, g)
        prev[flipped] = 0
        p -= np.sign(prev) * step_size
