"""Per-sample transforms for image datasets, as torchvision.transforms spells them.

    transform = Compose([ToTensor(), Normalize((0.2860,), (0.3530,)), Flatten()])
    image, label = FashionMNIST(transform=transform)[0]   # image: (784,) float32 Tensor
"""
import numpy as np

from ..backend import get_default_dtype
from ..tensor import Tensor


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got "
                                f"{type(t).__name__}")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor:
    """A (H, W) or (H, W, C) image array -> a (C, H, W) Tensor.

    uint8 pixels are scaled to float32 in [0, 1] (x / 255); other dtypes become the default
    float dtype unscaled, as torchvision does.
    """

    def __call__(self, image):
        if isinstance(image, Tensor):
            image = image.data
        if not isinstance(image, np.ndarray):
            raise TypeError(f"ToTensor: expected a numpy image array, got {type(image).__name__}")
        if image.ndim == 2:
            image = image[None]
        elif image.ndim == 3:
            image = image.transpose(2, 0, 1)
        else:
            raise ValueError(f"ToTensor: expected an image of shape (H, W) or (H, W, C), got "
                             f"shape {image.shape}")
        dtype = get_default_dtype()
        if image.dtype == np.uint8:
            out = np.empty(image.shape, dtype=dtype)
            np.divide(image, dtype.type(255), out=out, dtype=dtype)
            return Tensor(out)
        return Tensor(np.ascontiguousarray(image, dtype=dtype))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean) / std per channel, on a (..., C, H, W) Tensor; a single mean and std apply
    to every element of a tensor of any shape."""

    def __init__(self, mean, std, inplace=False):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"Normalize: mean and std must be numbers or sequences of numbers, "
                             f"got shapes {self.mean.shape} and {self.std.shape}")
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(f"Normalize: mean has {len(self.mean)} channels but std has "
                             f"{len(self.std)}")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be nonzero, got {self.std.tolist()}")
        self.inplace = inplace

    def __call__(self, x):
        array = x.data if isinstance(x, Tensor) else np.asarray(x)
        if array.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a floating-point tensor (apply ToTensor "
                            f"first), got dtype {array.dtype}")
        channels = max(len(self.mean), len(self.std))
        mean, std = self.mean.astype(array.dtype), self.std.astype(array.dtype)
        if channels > 1:
            if array.ndim < 3 or array.shape[-3] != channels:
                raise ValueError(f"Normalize: {channels} channel means need a (..., C, H, W) "
                                 f"tensor with C = {channels}, got shape {array.shape}")
            mean, std = mean[:, None, None], std[:, None, None]
        if self.inplace and isinstance(x, Tensor):
            np.subtract(array, mean, out=array)
            np.divide(array, std, out=array)
            return x
        return Tensor((array - mean) / std)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Flatten:
    """Flatten dims start_dim..end_dim of a sample into one (default: the whole sample, so a
    (1, 28, 28) image becomes (784,))."""

    def __init__(self, start_dim=0, end_dim=-1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def __call__(self, x):
        array = x.data if isinstance(x, Tensor) else np.asarray(x)
        nd = max(array.ndim, 1)
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not 0 <= start <= end < nd:
            raise ValueError(f"Flatten: dims {self.start_dim}..{self.end_dim} are out of range "
                             f"for shape {array.shape}")
        shape = array.shape[:start] + (-1,) + array.shape[end + 1:]
        return Tensor(array.reshape(shape))

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self):
        return f"Lambda({getattr(self.fn, '__name__', self.fn)!r})"
