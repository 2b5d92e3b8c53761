"""Padding modules (torch.nn.ZeroPad2d, ConstantPad1d/2d, ReflectionPad1d/2d,
ReplicationPad1d/2d): F.pad with a fixed width and mode. `padding` is an int (every side) or
(left, right) for 1d, (left, right, top, bottom) for 2d."""
from ..ops.shape import pad
from .module import Module


class _Pad(Module):
    mode, sides = "constant", 2

    def __init__(self, padding, value=0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * self.sides
        padding = tuple(int(p) for p in padding)
        if len(padding) != self.sides:
            raise ValueError(f"{type(self).__name__}: padding must be an int or {self.sides} "
                             f"ints, got {padding}")
        self.padding, self.value = padding, value

    def forward(self, input):
        if input.ndim not in (self.sides // 2 + 1, self.sides // 2 + 2):
            raise ValueError(f"{type(self).__name__}: expected a {self.sides // 2 + 1}-D or "
                             f"{self.sides // 2 + 2}-D input, got shape {tuple(input.shape)}")
        return pad(input, self.padding, self.mode, self.value if self.mode == "constant" else None)

    def extra_repr(self):
        return f"{self.padding}"


class ConstantPad1d(_Pad):
    def __init__(self, padding, value):
        super().__init__(padding, value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    sides = 4


class ZeroPad1d(_Pad):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(_Pad):
    sides = 4

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad1d(_Pad):
    mode = "reflect"


class ReflectionPad2d(_Pad):
    mode, sides = "reflect", 4


class ReplicationPad1d(_Pad):
    mode = "replicate"


class ReplicationPad2d(_Pad):
    mode, sides = "replicate", 4
