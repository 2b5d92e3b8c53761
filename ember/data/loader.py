"""`DataLoader`: batches of samples from a dataset, in order or shuffled by ember's generator."""
from collections.abc import Mapping, Sequence
from numbers import Integral

import numpy as np

from ..backend import get_default_dtype
from ..tensor import Tensor
from .dataset import Subset, TensorDataset, _numpy_generator


def default_collate(batch):
    """Stack a list of samples into a batch.

    Tensors, numpy arrays and numbers become one ember Tensor with a new first dimension (ints ->
    int64, bools -> bool, Python floats -> the default float dtype, float32 unless changed; arrays
    keep their dtype). Tuples, lists and dicts are collated field by field and keep their type;
    strings are returned as a list.
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray, np.generic)):
        arrays = [s.data if isinstance(s, Tensor) else s for s in batch]
        shapes = {np.shape(a) for a in arrays}
        if len(shapes) > 1:
            first = np.shape(arrays[0])
            k = next(k for k, a in enumerate(arrays) if np.shape(a) != first)
            raise ValueError(f"default_collate: cannot stack samples of different shapes: "
                             f"sample 0 has shape {first}, sample {k} has shape "
                             f"{np.shape(arrays[k])}")
        return Tensor(np.stack(arrays))
    if isinstance(elem, (bool, np.bool_)):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=get_default_dtype()))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        keys = list(elem)
        for k, sample in enumerate(batch):
            if not isinstance(sample, Mapping) or set(sample) != set(keys):
                got = sorted(sample) if isinstance(sample, Mapping) else type(sample).__name__
                raise ValueError(f"default_collate: sample 0 has keys {sorted(keys)} but sample "
                                 f"{k} has {got}")
        return {key: default_collate([sample[key] for sample in batch]) for key in keys}
    if isinstance(elem, Sequence):
        size = len(elem)
        for k, sample in enumerate(batch):
            if not isinstance(sample, Sequence) or len(sample) != size:
                got = len(sample) if isinstance(sample, Sequence) else type(sample).__name__
                raise ValueError(f"default_collate: sample 0 has {size} fields but sample {k} "
                                 f"has {got}")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(f"default_collate: samples must be Tensors, numpy arrays, numbers, strings "
                    f"or tuples/lists/dicts of those; got {type(elem).__name__}")


def _tensor_source(dataset):
    """(tensors, index map or None) when `dataset` is a TensorDataset, possibly under Subsets
    that do not override __getitem__; None otherwise."""
    index_map = None
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        index_map = dataset.indices if index_map is None else dataset.indices[index_map]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return tuple(t.data for t in dataset.tensors), index_map
    return None


class DataLoader:
    """Iterate over `dataset` in batches.

    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
               generator=None)

    shuffle draws a new permutation from ember's generator (or `generator`) each time iteration
    starts, so `ember.manual_seed(n)` makes every epoch reproducible and epochs differ from one
    another. drop_last drops the last batch when it is smaller than batch_size. collate_fn turns a
    list of samples into a batch (default: `default_collate`).

    A TensorDataset (also under Subsets, e.g. from random_split) with the default collate is
    batched by one `take` per tensor: no per-sample Python loop. The batches are copies, so
    changing a batch in place never changes the dataset.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got "
                            f"{type(collate_fn).__name__}")
        _numpy_generator(generator)  # fail here, not at the first epoch
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.generator = generator

    def __len__(self):
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        # the permutation is drawn now, when the epoch starts, not at the first next()
        order = _numpy_generator(self.generator).permutation(n) if self.shuffle else None
        source = None
        if self.collate_fn is default_collate:
            source = _tensor_source(self.dataset)
        if source is not None:
            return self._tensor_batches(n, order, *source)
        return self._sample_batches(n, order)

    def _bounds(self, n):
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield start, min(start + self.batch_size, n)

    def _tensor_batches(self, n, order, arrays, index_map):
        if order is None and index_map is None:
            for a, b in self._bounds(n):
                yield tuple(Tensor(arr[a:b].copy()) for arr in arrays)
            return
        if order is None:
            order = np.arange(n)
        if index_map is not None:
            order = index_map[order]
        for a, b in self._bounds(n):
            idx = order[a:b]
            yield tuple(Tensor(arr.take(idx, axis=0)) for arr in arrays)

    def _sample_batches(self, n, order):
        get_many = getattr(self.dataset, "__getitems__", None)
        for a, b in self._bounds(n):
            idx = range(a, b) if order is None else order[a:b].tolist()
            samples = get_many(list(idx)) if get_many else [self.dataset[i] for i in idx]
            yield self.collate_fn(samples)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size="
                f"{self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})")
