"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, with PyTorch's
parameters, init and printed form."""
import math

import numpy as np

from ..backend import get_default_dtype
from ..ops import pad as _pad
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from . import init
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(name, what, v, n):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"{name}: {what} must be an int or a tuple of {n} ints, got {v}")
    return v


class _ConvNd(Module):
    """What the convolution layers share: checks, parameters, init and extra_repr. weight has
    shape (out, in/groups, *kernel) (transposed: (in, out/groups, *kernel)). PyTorch's init:
    W ~ kaiming_uniform(a=sqrt(5)), b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""

    _dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        name, n = type(self).__name__, self._dims
        if device not in (None, "cpu"):
            raise ValueError(f"{name}: ember runs on the CPU, got device={device!r}")
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} must be divisible by "
                             f"groups={groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels={out_channels} must be divisible by "
                             f"groups={groups}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(name, "kernel_size", kernel_size, n)
        self.stride = _ntuple(name, "stride", stride, n)
        self.dilation = _ntuple(name, "dilation", dilation, n)
        self.output_padding = _ntuple(name, "output_padding", output_padding, n)
        self.groups, self.padding_mode = groups, padding_mode
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding = padding
            widths = []
            for k, d in zip(reversed(self.kernel_size), reversed(self.dilation)):
                total = d * (k - 1) if padding == "same" else 0
                widths += [total // 2, total - total // 2]
        else:
            self.padding = _ntuple(name, "padding", padding, n)
            widths = [p for p in reversed(self.padding) for _ in range(2)]
        self._reversed_padding_repeated_twice = tuple(widths)
        dt = dtype or get_default_dtype()
        shape = ((in_channels, out_channels // groups) if self.transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dt))
        self.bias = Parameter(np.empty(out_channels, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def _padded_input(self, x):
        """For padding_mode other than 'zeros': pad first, then convolve without padding."""
        return _pad(x, self._reversed_padding_repeated_twice, self.padding_mode)

    def _convolve(self, conv, x):
        """conv (conv1d or conv2d) of x with this layer's weight, bias and geometry."""
        if self.padding_mode != "zeros":
            return conv(self._padded_input(x), self.weight, self.bias, self.stride, 0,
                        self.dilation, self.groups)
        return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """y = conv1d(x, W) + b over (N, C_in, L) -> (N, C_out, L_out)."""

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        return self._convolve(conv1d, input)


class Conv2d(_ConvNd):
    """y = conv2d(x, W) + b over (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        return self._convolve(conv2d, input)


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolutions share: the output_padding (or output_size) and fn, the
    functional form they call."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding_mode is supported, got '
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that gives output_size (PyTorch's forward(x, output_size))."""
        if output_size is None:
            return self.output_padding
        name, dims = type(self).__name__, self._dims
        output_size = tuple(int(s) for s in output_size)[-dims:]
        if len(output_size) != dims:
            raise ValueError(f"{name}: output_size must have {dims} or more entries, got "
                             f"{output_size}")
        result = []
        for d in range(dims):
            n, s, p = input.shape[-dims + d], self.stride[d], self.padding[d]
            smallest = ((n - 1) * s - 2 * p + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not smallest <= output_size[d] < smallest + s:
                raise ValueError(f"{name}: requested an output size of {output_size}, "
                                 f"but valid sizes of dim {d} range from {smallest} to "
                                 f"{smallest + s - 1} for an input of shape {input.shape}")
            result.append(output_size[d] - smallest)
        return tuple(result)

    def forward(self, input, output_size=None):
        return type(self).fn(input, self.weight, self.bias, self.stride, self.padding,
                             self._output_padding(input, output_size), self.groups,
                             self.dilation)



class ConvTranspose1d(_ConvTransposeNd):
    """y = conv_transpose1d(x, W) + b, the adjoint of Conv1d plus a bias; weight of shape
    (C_in, C_out/groups, k)."""

    _dims = 1
    fn = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """y = conv_transpose2d(x, W) + b, the adjoint of Conv2d (its input gradient) plus a bias;
    weight of shape (C_in, C_out/groups, kh, kw)."""

    fn = staticmethod(conv_transpose2d)
