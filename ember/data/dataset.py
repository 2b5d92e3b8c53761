"""Datasets: the indexable collections a `DataLoader` batches, and ways to split them."""
import math
from numbers import Integral, Real

import numpy as np

from ..backend import Generator, rng
from ..creation import as_tensor
from ..tensor import Tensor


class Dataset:
    """A collection of samples: `dataset[i]` gives sample i and `len(dataset)` their number.

    Subclasses define both; the DataLoader draws indices 0..len-1 and collates the samples.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Tensors sharing their first dimension: sample i is `(t[i] for t in tensors)`.

    NumPy arrays are accepted and wrapped without a copy. A DataLoader with the default collate
    batches a TensorDataset by one fancy index per tensor, with no per-sample Python loop.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        converted = []
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                if not isinstance(t, np.ndarray):
                    raise TypeError(f"TensorDataset: argument {k} must be a Tensor or a numpy "
                                    f"array, got {type(t).__name__}")
                t = as_tensor(t)
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {k} is a 0-d tensor; every tensor "
                                 f"needs a first (sample) dimension")
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if any(s != sizes[0] for s in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in converted)
            raise ValueError(f"TensorDataset: all tensors must have the same size in dim 0 "
                             f"(the sample dimension), got shapes {shapes}")
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def __repr__(self):
        shapes = ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in self.tensors)
        return f"TensorDataset({shapes})"


class ConcatDataset(Dataset):
    """Datasets one after another: index i reads the dataset whose range holds it
    (`cumulative_sizes` are the ends of the ranges). `a + b` makes one too."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        sizes = []
        for k, d in enumerate(self.datasets):
            try:
                sizes.append(len(d))
            except (TypeError, NotImplementedError):
                raise TypeError(f"ConcatDataset: dataset {k} ({type(d).__name__}) has no "
                                f"length") from None
        self.cumulative_sizes = np.cumsum(sizes).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        index %= n
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(f"Subset: indices must be a 1-d sequence of integers, got an array "
                            f"of shape {indices.shape} and dtype {indices.dtype}")
        indices = indices.astype(np.int64, copy=False)
        try:
            n = len(dataset)
        except (TypeError, NotImplementedError):
            n = None
        if n is not None and indices.size and (indices.min() < -n or indices.max() >= n):
            bad = indices[(indices < -n) | (indices >= n)][0]
            raise IndexError(f"Subset: index {bad} is out of range for a dataset of {n} samples")
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(self.indices[i])] for i in index]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def __repr__(self):
        return f"Subset({len(self)} of {type(self.dataset).__name__})"


def _numpy_generator(generator):
    """ember's generator (the default, reset by ember.manual_seed), an ember Generator or a
    numpy Generator."""
    if generator is None:
        return rng()
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"expected generator=None, an ember Generator or a numpy Generator, got "
                    f"{type(generator).__name__}")


def _split_lengths(n, lengths):
    """Integer lengths summing to n, or fractions summing to 1 (the remainder of floor(n * f)
    goes one sample at a time to the first parts, as in PyTorch)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, Integral) for x in lengths):
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
        if sum(lengths) != n:
            raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}, but the "
                             f"dataset has {n} samples")
        return [int(x) for x in lengths]
    if not all(isinstance(x, Real) for x in lengths):
        raise TypeError(f"random_split: lengths must be ints or fractions, got {lengths}")
    if any(x < 0 or x > 1 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions must lie in [0, 1] and sum to 1, got {lengths} "
                         f"(sum {sum(lengths)})")
    counts = [int(math.floor(n * f)) for f in lengths]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths.

    lengths: ints summing to len(dataset), or fractions summing to 1 (e.g. [0.8, 0.2]).
    generator: None uses ember's generator, so `ember.manual_seed(n)` fixes the split.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = _numpy_generator(generator).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
