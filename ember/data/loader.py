"""`DataLoader`: batches of samples from a dataset, in order or shuffled by ember's generator,
made in the main thread or ahead of the training loop by worker threads."""
import queue
import threading
from collections.abc import Mapping, Sequence
from functools import partial
from numbers import Integral, Real

import numpy as np

from ..backend import get_default_dtype, set_thread_rng
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


def _slice_batch(arrays, key):
    return tuple(Tensor(arr[key].copy()) for arr in arrays)


def _take_batch(arrays, key):
    return tuple(Tensor(arr.take(key, axis=0)) for arr in arrays)


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_worker_args(num_workers, prefetch_factor, persistent_workers, worker_init_fn, timeout):
    """Raise, as PyTorch does, on worker options that are malformed or need num_workers > 0."""
    if not _is_int(num_workers) or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be a non-negative integer (0 loads in "
                         f"the main thread), got {num_workers!r}")
    if prefetch_factor is not None:
        if num_workers == 0:
            raise ValueError("DataLoader: prefetch_factor only applies with worker threads; set "
                             "num_workers > 0, or leave prefetch_factor=None")
        if not _is_int(prefetch_factor) or prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor must be a positive integer, got "
                             f"{prefetch_factor!r}")
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader: persistent_workers=True needs num_workers > 0")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(f"DataLoader: worker_init_fn must be callable, got "
                        f"{type(worker_init_fn).__name__}")
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or not timeout >= 0:
        raise ValueError(f"DataLoader: timeout must be a non-negative number of seconds, got "
                         f"{timeout!r}")


class DataLoader:
    """Iterate over `dataset` in batches.

    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
               generator=None, *, sampler=None, batch_sampler=None, num_workers=0,
               pin_memory=False, timeout=0, worker_init_fn=None, prefetch_factor=None,
               persistent_workers=False)

    shuffle draws a new permutation from ember's generator (or `generator`) each time iteration
    starts, so `ember.manual_seed(n)` makes every epoch reproducible and epochs differ from one
    another. drop_last drops the last batch when it is smaller than batch_size. collate_fn turns a
    list of samples into a batch (default: `default_collate`). sampler (instead of shuffle) gives
    the indices to visit, e.g. a WeightedRandomSampler; batch_sampler (instead of batch_size,
    shuffle, sampler and drop_last) gives whole batches of indices (ember.data.sampler).

    A TensorDataset (also under Subsets, e.g. from random_split) with the default collate is
    batched by one `take` per tensor: no per-sample Python loop. The batches are copies, so
    changing a batch in place never changes the dataset.

    num_workers=k > 0 prepares batches ahead of the loop in k daemon threads (not processes:
    NumPy releases the GIL, so loading and collating overlap the training step), at most
    prefetch_factor * k ahead (prefetch_factor defaults to 2), yielded in order; the threads
    share the dataset, so its __getitem__ must be safe to call from several. As in PyTorch,
    each epoch draws one base seed from ember's generator (or `generator`) after the shuffle,
    batch i is made by worker i % k, and worker w's `ember.backend.rng()` is its own generator
    seeded from (base seed, w): a dataset's random draws repeat under the same `manual_seed`
    whatever the thread timing, but differ from a num_workers=0 run. worker_init_fn(w) runs in
    worker w before it loads anything (ember.manual_seed called there seeds that worker's
    generator only, as torch.manual_seed in a worker process). An error in a worker is raised
    again at its batch, with the same type and the original chained; timeout > 0 raises
    RuntimeError when a batch takes longer (seconds). Leaving the loop early or dropping the iterator stops the workers. Threads
    start afresh each epoch: persistent_workers=True is accepted and changes nothing, and
    pin_memory is a no-op (ember runs on the CPU).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, *, sampler=None, batch_sampler=None, num_workers=0,
                 pin_memory=False, timeout=0, worker_init_fn=None, prefetch_factor=None,
                 persistent_workers=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                             "batch_size, shuffle, sampler, and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.sampler, self.batch_sampler = sampler, batch_sampler
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got "
                            f"{type(collate_fn).__name__}")
        _numpy_generator(generator)  # fail here, not at the first epoch
        _check_worker_args(num_workers, prefetch_factor, persistent_workers, worker_init_fn,
                           timeout)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.generator = generator
        self.num_workers = int(num_workers)
        self.prefetch_factor = 2 if num_workers and prefetch_factor is None else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.pin_memory = bool(pin_memory)
        self.worker_init_fn = worker_init_fn
        self.timeout = timeout

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self):
        # the order is drawn now, when the epoch starts, not at the first next()
        if self.batch_sampler is not None:
            fetch, keys = self._plan_batches([np.asarray(list(b), dtype=np.int64)
                                              for b in self.batch_sampler], self._tensor_source())
        else:
            n, order = len(self.dataset), None
            if self.sampler is not None:
                order = np.fromiter(iter(self.sampler), dtype=np.int64)
                n = len(order)
            elif self.shuffle:
                order = _numpy_generator(self.generator).permutation(n)
            fetch, keys = self._plan(n, order)
        if self.num_workers == 0:
            return (fetch(key) for key in keys)
        base_seed = int(_numpy_generator(self.generator).integers(2 ** 63))
        return _WorkerBatches(self, fetch, list(keys), base_seed)

    def _bounds(self, n):
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield start, min(start + self.batch_size, n)

    def _plan(self, n, order):
        """(fetch, keys): the epoch's batches in order as keys, and fetch(key) that makes one."""
        source = self._tensor_source()
        if source is not None and order is None and source[1] is None:  # plain slices
            return partial(_slice_batch, source[0]), (slice(a, b) for a, b in self._bounds(n))
        if order is None:
            order = np.arange(n)
        return self._plan_batches((order[a:b] for a, b in self._bounds(n)), source)

    def _plan_batches(self, batches, source):
        """(fetch, keys) for batches given as index arrays: one take per tensor of a
        TensorDataset (through a Subset's index map), else the samples through collate_fn."""
        if source is None:
            return self._fetch_samples, (b.tolist() for b in batches)
        arrays, index_map = source
        return partial(_take_batch, arrays), (b if index_map is None else index_map[b]
                                              for b in batches)

    def _tensor_source(self):
        return _tensor_source(self.dataset) if self.collate_fn is default_collate else None

    def _fetch_samples(self, indices):
        get_many = getattr(self.dataset, "__getitems__", None)
        samples = get_many(list(indices)) if get_many else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def __repr__(self):
        workers = f", num_workers={self.num_workers}" if self.num_workers else ""
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size="
                f"{self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}"
                f"{workers})")


def _worker_loop(worker_id, init_fn, seed, fetch, keys, slots, ready, stop):
    """One worker thread: with its own generator behind rng(), make its batches in order, each
    once a slot is free; an error is handed over in place of the batch and ends the worker."""
    set_thread_rng(np.random.default_rng(seed))
    try:
        if init_fn is not None:
            init_fn(worker_id)
        for key in keys:
            slots.acquire()
            if stop.is_set():
                return
            ready.put((True, fetch(key)))
    except BaseException as exc:  # anything, so the main thread never waits for a lost batch
        ready.put((False, exc))


def _reraise(exc, worker_id, batch):
    """Raise a worker's exception in the main thread: same type, its message and where it
    happened, chained to the original (whose traceback shows the worker's frames)."""
    where = f"in DataLoader worker {worker_id} while loading batch {batch}"
    try:
        err = type(exc)(f"{exc} ({where})")
    except Exception:
        err = None
    if err is None:  # a type that cannot be made from one message: raise the original itself
        raise exc
    raise err from exc


class _WorkerBatches:
    """One epoch of a DataLoader with num_workers=k: batch i is made by thread i % k, which may
    run prefetch_factor batches ahead of the consumer; batches come out in order."""

    def __init__(self, loader, fetch, keys, base_seed):
        k = loader.num_workers
        self._count, self._next = len(keys), 0
        self._k, self._timeout = k, loader.timeout
        self._stop = threading.Event()
        self._slots = [threading.Semaphore(loader.prefetch_factor) for _ in range(k)]
        self._ready = [queue.SimpleQueue() for _ in range(k)]
        for w in range(k):  # the threads hold no reference to self, so dropping it stops them
            args = (w, loader.worker_init_fn, (base_seed, w), fetch, keys[w::k], self._slots[w],
                    self._ready[w], self._stop)
            threading.Thread(target=_worker_loop, args=args, name=f"DataLoader worker {w}",
                             daemon=True).start()

    def __iter__(self):
        return self

    def __next__(self):
        if self._next >= self._count:
            self.close()
            raise StopIteration
        i, w = self._next, self._next % self._k
        try:
            ok, value = self._ready[w].get(timeout=self._timeout or None)
        except queue.Empty:
            self.close()
            raise RuntimeError(f"DataLoader: batch {i} (worker {w}) was not ready after "
                               f"timeout={self._timeout} s") from None
        self._slots[w].release()
        self._next += 1
        if not ok:
            self.close()
            _reraise(value, w, i)
        return value

    def close(self):
        """Stop the workers: each ends once its current batch, if any, is made."""
        self._next = self._count
        self._stop.set()
        for slots in self._slots:
            slots.release()

    def __del__(self):
        self.close()
