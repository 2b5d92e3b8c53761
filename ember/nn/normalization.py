"""Normalization layers: BatchNorm1d/2d, InstanceNorm1d/2d, LayerNorm, GroupNorm, RMSNorm, and
Dropout1d/2d, with PyTorch's arguments, init, buffers (state_dict keys) and repr."""
import numpy as np

from ..autograd import bump_version
from ..backend import get_default_dtype
from ..ops.norm import (batch_norm, dropout1d, dropout2d, group_norm, instance_norm, layer_norm,
                        rms_norm)
from ..tensor import Tensor
from .module import Module, Parameter


def _reset_affine(m):
    """PyTorch's init of a normalization layer: weight 1, bias 0."""
    for p, v in ((m.weight, 1), (m.bias, 0)):
        if p is not None:
            p._data.fill(v)
            bump_version(p)


class _BatchNorm(Module):
    """Normalize each channel with the batch's mean and (biased) variance while training, and
    keep running estimates (the variance unbiased) for eval mode:
        running = (1 - momentum) running + momentum batch_stat,
    or the cumulative average of all batches seen when momentum is None."""

    dims = ()  # the input ranks the layer takes

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = dtype or get_default_dtype()
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            self.register_parameter("bias", Parameter(np.zeros(num_features, dtype=dt))
                                    if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            for t, v in ((self.running_mean, 0), (self.running_var, 1),
                         (self.num_batches_tracked, 0)):
                t._data.fill(v)
                bump_version(t)

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input(self, x):
        name = type(self).__name__
        if x.ndim not in self.dims:
            ranks = " or ".join(f"{d}D" for d in self.dims)
            raise ValueError(f"{name}: expected {ranks} input, got {x.ndim}D input of shape "
                             f"{tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input with {self.num_features} channels (dim 1), "
                             f"got {x.shape[1]} channels in input of shape {tuple(x.shape)}")

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            bump_version(self.num_batches_tracked)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if keep else None,
                          self.running_var if keep else None, self.weight, self.bias,
                          use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L)."""
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W)."""
    dims = (4,)


class _InstanceNorm(_BatchNorm):
    """Normalize each (sample, channel) over its own spatial dims; PyTorch's defaults: no affine,
    no running stats. With track_running_stats the running stats are kept as in batch norm (the
    average over the batch's instances) and used in eval mode. Unbatched inputs (C, *) work."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        name = type(self).__name__
        if x.ndim not in self.dims:
            raise ValueError(f"{name}: expected {self.dims[0]}D (unbatched) or {self.dims[1]}D "
                             f"input, got {x.ndim}D input of shape {tuple(x.shape)}")
        unbatched = x.ndim == self.dims[0]
        if unbatched:
            x = x.unsqueeze(0)
        if (self.affine or self.track_running_stats) and x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input with {self.num_features} channels, got "
                             f"shape {tuple(x.shape)}")
        y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats,
                          0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    dims = (3, 4)


class LayerNorm(Module):
    """Normalize each sample over its last dims (normalized_shape); w = 1, b = 0 at init."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = dtype or get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, x):
        k = len(self.normalized_shape)
        if x.ndim < k or tuple(x.shape[x.ndim - k:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm: expected input whose last dims are "
                             f"{self.normalized_shape}, got shape {tuple(x.shape)}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the last dims (normalized_shape), times a weight (1 at
    init); eps None is the input dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape,
                                            dtype=dtype or get_default_dtype()))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight._data.fill(1)
            bump_version(self.weight)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalize each group of num_channels // num_groups channels of each sample; then a weight
    and bias per channel (1 and 0 at init)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None,
                 *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups, num_channels, eps, affine)
        dt = dtype or get_default_dtype()
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            self.register_parameter("bias", Parameter(np.zeros(num_channels, dtype=dt))
                                    if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input (N, {self.num_channels}, *) with "
                             f"{self.num_channels} channels, got shape {tuple(x.shape)}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class Dropout2d(Module):
    """Zero whole channels with probability p while training and scale the rest by 1 / (1 - p);
    the identity in eval mode. Masks come from ember's generator."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return dropout2d(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout2d):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability p while training."""

    def forward(self, x):
        return dropout1d(x, self.p, self.training, self.inplace)
