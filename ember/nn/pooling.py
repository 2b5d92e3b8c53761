"""Pooling and resampling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d,
AdaptiveMaxPool1d/2d, MaxUnpool1d/2d, Unfold/Fold, Upsample, UpsamplingNearest2d/Bilinear2d,
PixelShuffle/Unshuffle (PyTorch's constructor arguments and printed form; the math is in
ember/ops/pool.py, unpool.py, unfold.py and shape.py)."""
from ..ops.pool import (_pair, adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d,
                        interpolate, max_pool1d, max_pool2d)
from ..ops.shape import pixel_shuffle, pixel_unshuffle
from ..ops.unfold import fold, unfold
from ..ops.unpool import (adaptive_max_pool1d, adaptive_max_pool2d, max_unpool1d,
                          max_unpool2d)
from .module import Module


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows of length kernel_size of (C, L) or (N, C, L) inputs."""

    def forward(self, input):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max over kernel_size windows of (C, H, W) or (N, C, H, W) inputs."""

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(Module):
    """Mean over kernel_size windows of (C, H, W) or (N, C, H, W) inputs."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _OneArgument(Module):
    """A layer that calls `fn(input, <its one argument>)`; `arg` names the argument, which the
    constructor takes by position or by name and the printed form shows."""
    arg = ""

    def __init__(self, *args, **kwargs):
        super().__init__()
        if len(args) + len(kwargs) != 1 or (kwargs and self.arg not in kwargs):
            raise TypeError(f"{type(self).__name__}() takes one argument, {self.arg}")
        setattr(self, self.arg, args[0] if args else kwargs[self.arg])

    def forward(self, input):
        return type(self).fn(input, getattr(self, self.arg))

    def extra_repr(self):
        return f"{self.arg}={getattr(self, self.arg)}"


class AdaptiveAvgPool2d(_OneArgument):
    """Average (C, H, W) or (N, C, H, W) inputs into output_size bins."""
    arg, fn = "output_size", staticmethod(adaptive_avg_pool2d)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return type(self).fn(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The max of each of output_size bins of (C, L) or (N, C, L) inputs."""
    fn = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """The max of each of output_size bins of (C, H, W) or (N, C, H, W) inputs."""
    fn = staticmethod(adaptive_max_pool2d)


class _MaxUnpoolNd(Module):
    dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, n = type(self).__name__, self.dims
        self.kernel_size = _pair(name, "kernel_size", kernel_size, n)
        self.stride = self.kernel_size if stride is None else _pair(name, "stride", stride, n)
        self.padding = _pair(name, "padding", padding, n)

    def forward(self, input, indices, output_size=None):
        return type(self).fn(input, indices, self.kernel_size, self.stride, self.padding,
                             output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The inverse of MaxPool1d(return_indices=True): values back at their positions, zeros
    elsewhere."""
    dims, fn = 1, staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """The inverse of MaxPool2d(return_indices=True): values back at their positions, zeros
    elsewhere."""
    fn = staticmethod(max_unpool2d)


class _Blocks(Module):
    """The sliding-block geometry Unfold and Fold share."""

    def __init__(self, kernel_size, dilation, padding, stride):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Unfold(_Blocks):
    """Every sliding block of (N, C, H, W) inputs as a column: (N, C * kh * kw, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)


class Fold(_Blocks):
    """Columns (N, C * kh * kw, L) added back over their blocks of an output_size image."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()


class Upsample(Module):
    """Resize the spatial dims by size or scale_factor: mode 'nearest', 'linear' (N, C, L),
    'bilinear' (N, C, H, W) with align_corners, or 'area'."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """Upsample with mode='nearest'."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode='bilinear' and align_corners=True (PyTorch's)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class AvgPool1d(Module):
    """Mean over windows of kernel_size along L of (C, L) or (N, C, L) inputs."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class AdaptiveAvgPool1d(_OneArgument):
    """Average (C, L) or (N, C, L) inputs into output_size bins along L."""
    arg, fn = "output_size", staticmethod(adaptive_avg_pool1d)


class PixelShuffle(_OneArgument):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    arg, fn = "upscale_factor", staticmethod(pixel_shuffle)


class PixelUnshuffle(_OneArgument):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    arg, fn = "downscale_factor", staticmethod(pixel_unshuffle)
