"""Weight initialisation, in place and from ember's seeded generator (PyTorch's names and
formulas)."""
import math

import numpy as np

from ..autograd import bump_version, no_grad
from ..backend import rng


def calculate_gain(nonlinearity, param=None):
    gains = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "conv1d": 1.0, "conv2d": 1.0,
             "conv3d": 1.0, "conv_transpose1d": 1.0, "conv_transpose2d": 1.0,
             "conv_transpose3d": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in gains:
        raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")
    return gains[nonlinearity]


def _fans(t):
    if t.ndim < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with >= 2 dims, got shape "
                         f"{t.shape}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fill(t, values):
    with no_grad():
        t._data[...] = values
        bump_version(t)
    return t


def uniform_(t, a=0.0, b=1.0):
    return _fill(t, rng().uniform(a, b, t.shape))


def normal_(t, mean=0.0, std=1.0):
    return _fill(t, rng().normal(mean, std, t.shape))


def constant_(t, val):
    return _fill(t, val)


def zeros_(t):
    return _fill(t, 0)


def ones_(t):
    return _fill(t, 1)


def xavier_uniform_(t, gain=1.0):
    """U(-a, a), a = gain sqrt(6 / (fan_in + fan_out))"""
    fan_in, fan_out = _fans(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a)


def xavier_normal_(t, gain=1.0):
    """N(0, s^2), s = gain sqrt(2 / (fan_in + fan_out))"""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(t, a, mode, nonlinearity):
    fan_in, fan_out = _fans(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(t, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b), b = gain sqrt(3 / fan)"""
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, s^2), s = gain / sqrt(fan)"""
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity))


def orthogonal_(t, gain=1.0):
    """A (semi-)orthogonal matrix times gain, as PyTorch makes it: the Q of the QR
    decomposition of a standard normal (rows, cols) matrix, each column's sign set by R's
    diagonal so that Q is uniform over the orthogonal matrices (Mezzadri 2007). Dims past the
    first are flattened into columns; rows < cols gives orthonormal rows."""
    if t.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dims are supported, got "
                         f"shape {t.shape}")
    if t.numel() == 0:
        return t
    rows = t.shape[0]
    cols = t.numel() // rows
    a = rng().standard_normal((rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    d = np.sign(np.diag(r))
    q *= np.where(d == 0, 1.0, d)
    if rows < cols:
        q = q.T
    return _fill(t, (q * gain).reshape(t.shape))


def trunc_normal_(t, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Normal(mean, std) values, redrawn until all lie in [a, b] (a and b absolute, as PyTorch).
    Draws that still fall outside after 100 rounds (an interval far in the tails) are clipped."""
    values = rng().normal(mean, std, t.shape)
    for _ in range(100):
        outside = (values < a) | (values > b)
        if not outside.any():
            break
        values[outside] = rng().normal(mean, std, int(outside.sum()))
    return _fill(t, np.clip(values, a, b))


def eye_(t):
    """The identity matrix in a 2-D tensor (ones on the diagonal of a non-square one)."""
    if t.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {t.shape}")
    return _fill(t, np.eye(*t.shape))


def dirac_(t, groups=1):
    """A convolution weight (out, in, *k) that passes its input through: within each of
    `groups` groups, out channel i copies in channel i at the kernel's centre."""
    if t.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3-, 4- and 5-D tensors are supported, got shape "
                         f"{t.shape}")
    out = t.shape[0]
    if out % groups:
        raise ValueError(f"dirac_: dim 0 ({out}) must be divisible by groups ({groups})")
    per = out // groups
    values = np.zeros(t.shape)
    centre = tuple(k // 2 for k in t.shape[2:])
    for g in range(groups):
        for i in range(min(per, t.shape[1])):
            values[(g * per + i, i) + centre] = 1.0
    return _fill(t, values)
