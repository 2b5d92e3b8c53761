"""Adam's relatives, with PyTorch's algorithms, defaults and state names: Adamax, NAdam, RAdam,
and Adadelta. Each updates the parameter arrays in place through kept scratch arrays; `lerp` and
`addcmul` are computed in torch's order, so trajectories match PyTorch's to rounding."""
import math

import numpy as np

from .optimizer import Optimizer


class _Adaptive(Optimizer):
    """Shared: the checks of betas/eps/weight_decay, maximize, and L2 or decoupled decay."""

    def _check_group(self, group):
        super()._check_group(group)
        name = type(self).__name__
        betas = group.get("betas")
        if betas is not None and not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{name}: betas must be in [0, 1), got {betas}")
        for key in ("eps", "weight_decay", "rho", "momentum_decay"):
            if key in group and group[key] < 0:
                raise ValueError(f"{name}: invalid {key} {group[key]} (must be >= 0)")

    def _gradient(self, p, g, group, work, tmp):
        """g negated for maximize, plus wd p (L2) unless the decay is decoupled (then p shrinks
        by lr wd here)."""
        if group["maximize"]:
            g = np.negative(g, out=work)
        wd = group["weight_decay"]
        if wd:
            if group.get("decoupled_weight_decay"):
                p *= 1 - group["lr"] * wd
            else:
                g = np.add(g, np.multiply(p, wd, out=tmp), out=work)
        return g

    @staticmethod
    def _lerp(avg, g, w, tmp):
        """avg += w (g - avg): torch's lerp_ for w < 0.5 (its other branch for w >= 0.5)."""
        np.subtract(g, avg, out=tmp)
        if w < 0.5:
            tmp *= w
            avg += tmp
        else:
            tmp *= 1 - w
            np.subtract(g, tmp, out=avg)

    @staticmethod
    def _addcmul_square(avg, decay, g, tmp):
        """avg = decay avg + ((1 - decay) g) g (torch's mul_ then addcmul_)."""
        avg *= decay
        np.multiply(g, 1 - decay, out=tmp)
        tmp *= g
        avg += tmp


class Adamax(_Adaptive):
    """m = lerp(m, g, 1 - b1);  u = max(b2 u, |g| + eps);  p = p - lr / (1 - b1^t) m / u."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def _update(self, p, g, state, group):
        work, tmp = self._scratch(p, 0), self._scratch(p, 1)
        (b1, b2), eps = group["betas"], group["eps"]
        if not state:
            state["step"], state["exp_avg"], state["exp_inf"] = 0, np.zeros_like(p), np.zeros_like(p)
        state["step"] += 1
        g = self._gradient(p, g, group, work, tmp)
        m, u = state["exp_avg"], state["exp_inf"]
        self._lerp(m, g, 1 - b1, tmp)
        u *= b2
        np.abs(g, out=tmp)
        tmp += eps
        np.maximum(u, tmp, out=u)
        step = np.divide(m, u, out=work)
        step *= group["lr"] / (1 - b1 ** state["step"])
        p -= step


class NAdam(_Adaptive):
    """Adam with Nesterov momentum (Dozat): mu_t = b1 (1 - 0.96^(t psi) / 2) with psi the
    momentum_decay;  p = p - lr (1 - mu_t) / (1 - prod mu) g / d - lr mu_(t+1) /
    (1 - prod mu * mu_(t+1)) m / d,  d = sqrt(v / (1 - b2^t)) + eps. The running product of mu
    is kept in float32, as PyTorch keeps it (a float32 scalar tensor) with the default dtype."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, p, g, state, group):
        work, tmp, denom = self._scratch(p, 0), self._scratch(p, 1), self._scratch(p, 2)
        lr, (b1, b2), eps, psi = group["lr"], group["betas"], group["eps"], group["momentum_decay"]
        if not state:
            state["step"], state["mu_product"] = 0, np.float32(1.0)
            state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(p), np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        g = self._gradient(p, g, group, work, tmp)
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] = np.float32(state["mu_product"] * np.float32(mu))
        product = float(state["mu_product"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        self._lerp(m, g, 1 - b1, tmp)
        self._addcmul_square(v, b2, g, tmp)
        np.divide(v, 1 - b2 ** t, out=denom)
        np.sqrt(denom, out=denom)
        denom += eps
        for arr, value in ((g, lr * (1.0 - mu) / (1.0 - product)),
                           (m, lr * mu_next / (1.0 - product * mu_next))):
            np.divide(arr, denom, out=tmp)
            tmp *= value
            p -= tmp


class RAdam(_Adaptive):
    """Rectified Adam: while the variance of the adaptive step is intractable (rho_t <= 5) a
    plain momentum step p = p - lr m / (1 - b1^t); after, Adam's step times the rectification
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, p, g, state, group):
        work, tmp, step = self._scratch(p, 0), self._scratch(p, 1), self._scratch(p, 2)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            state["step"] = 0
            state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(p), np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        g = self._gradient(p, g, group, work, tmp)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        self._lerp(m, g, 1 - b1, tmp)
        self._addcmul_square(v, b2, g, tmp)
        correction2 = 1 - b2 ** t
        np.divide(m, 1 - b1 ** t, out=step)
        step *= lr
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2 ** t) / correction2
        if rho_t > 5.0:
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(correction2 ** 0.5, tmp, out=tmp)
            step *= tmp
            step *= math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                              / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        p -= step


class Adadelta(_Adaptive):
    """v = rho v + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(v + eps) g;
    u = rho u + (1 - rho) d^2;  p = p - lr d."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
        if not 0 <= rho <= 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, g, state, group):
        work, tmp, delta = self._scratch(p, 0), self._scratch(p, 1), self._scratch(p, 2)
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"], state["acc_delta"] = np.zeros_like(p), np.zeros_like(p)
        state["step"] += 1
        g = self._gradient(p, g, group, work, tmp)
        v, u = state["square_avg"], state["acc_delta"]
        self._addcmul_square(v, rho, g, tmp)
        np.add(v, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.add(u, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= tmp
        delta *= g
        self._addcmul_square(u, rho, delta, tmp)
        delta *= group["lr"]
        p -= delta
