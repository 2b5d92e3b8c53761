"""Training-time augmentation on whole batches (N, C, H, W), vectorized and seeded by ember's
generator: random crops with padding and horizontal flips, applied per image in one NumPy pass.

    loader = augmented(DataLoader(train, batch_size=128, shuffle=True),
                       RandomCrop(28, padding=2), RandomHorizontalFlip())
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..backend import rng
from ..tensor import Tensor


def _batch(x, who):
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.ndim != 4:
        raise ValueError(f"{who}: expected a batch of images (N, C, H, W), got shape {arr.shape}")
    return arr


class RandomCrop:
    """Pad each image by `padding` (with `fill`), then cut a size x size window at a random
    place, a different place for every image."""

    def __init__(self, size, padding=0, fill=0.0):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding, self.fill = int(padding), fill

    def __call__(self, x):
        arr = _batch(x, "RandomCrop")
        p = self.padding
        if p:
            arr = np.pad(arr, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        n, _, h, w = arr.shape
        sh, sw = self.size
        if sh > h or sw > w:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded image "
                             f"{(h, w)}")
        top = rng().integers(0, h - sh + 1, n)
        left = rng().integers(0, w - sw + 1, n)
        windows = sliding_window_view(arr, (sh, sw), axis=(2, 3))  # (N, C, h', w', sh, sw)
        return Tensor(np.ascontiguousarray(windows[np.arange(n), :, top, left]))

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror each image left-right with probability p."""

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p

    def __call__(self, x):
        arr = _batch(x, "RandomHorizontalFlip")
        flip = rng().random(len(arr)) < self.p
        return Tensor(np.where(flip[:, None, None, None], arr[..., ::-1], arr))

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class augmented:
    """A loader whose input batches go through the given batch transforms, in order.

    The transforms run in the main thread. To run them in a DataLoader's worker threads
    (num_workers > 0), call them inside the dataset: there they draw from each worker's own
    generator, reproducibly, but not the draws a num_workers=0 run makes.
    """

    def __init__(self, loader, *transforms):
        self.loader, self.transforms = loader, transforms

    def __iter__(self):
        for x, *rest in self.loader:
            for t in self.transforms:
                x = t(x)
            yield (x, *rest)

    def __len__(self):
        return len(self.loader)
