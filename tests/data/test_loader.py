"""TensorDataset, Subset, random_split, DataLoader and default_collate."""
import threading
import time
from collections import namedtuple

import numpy as np
import pytest

import ember
from ember.data import (ConcatDataset, DataLoader, Dataset, Subset, TensorDataset,
                        default_collate, random_split)


def make_tensor_dataset(n=10):
    x = ember.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = ember.tensor(np.arange(n, dtype=np.int64))
    return TensorDataset(x, y)


class Squares(Dataset):
    """A plain Python dataset: the DataLoader's per-sample path."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i * i

    def __len__(self):
        return self.n


# ---- TensorDataset ---------------------------------------------------------------------------
def test_tensor_dataset_items_and_len():
    ds = make_tensor_dataset(10)
    assert len(ds) == 10
    x, y = ds[4]
    np.testing.assert_array_equal(x.data, [12, 13, 14])
    assert int(y) == 4


def test_tensor_dataset_accepts_numpy_without_copy():
    a = np.zeros((5, 2), np.float32)
    ds = TensorDataset(a, np.arange(5))
    assert isinstance(ds.tensors[0], ember.Tensor) and ds.tensors[0].data is a


def test_tensor_dataset_rejects_mismatched_first_dims():
    with pytest.raises(ValueError, match=r"same size in dim 0.*\(5, 2\), \(4,\)"):
        TensorDataset(ember.zeros(5, 2), ember.zeros(4))


def test_tensor_dataset_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(ember.tensor(1.0))
    with pytest.raises(TypeError, match="argument 1 must be a Tensor"):
        TensorDataset(ember.zeros(3), [1, 2, 3])


def test_dataset_base_is_abstract():
    with pytest.raises(NotImplementedError, match="Dataset must define __getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


# ---- DataLoader: order, batching, length -----------------------------------------------------
def test_batches_in_order_with_partial_last_batch():
    loader = DataLoader(make_tensor_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), np.arange(10))
    x, y = batches[0]
    assert x.dtype == np.float32 and y.dtype == np.int64 and not x.requires_grad


def test_drop_last():
    loader = DataLoader(make_tensor_dataset(10), batch_size=4, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 2
    assert all(b[0].shape == (4, 3) for b in batches)
    exact = DataLoader(make_tensor_dataset(8), batch_size=4, drop_last=True)
    assert len(exact) == len(list(exact)) == 2


def test_batch_larger_than_dataset_and_empty_dataset():
    assert [b[1].shape for b in DataLoader(make_tensor_dataset(3), batch_size=8)] == [(3,)]
    assert len(DataLoader(make_tensor_dataset(3), batch_size=8, drop_last=True)) == 0
    assert list(DataLoader(make_tensor_dataset(0), batch_size=2)) == []


def test_default_batch_size_is_one():
    batches = list(DataLoader(make_tensor_dataset(3)))
    assert len(batches) == 3 and batches[0][0].shape == (1, 3)


def labels_of_epoch(loader):
    return np.concatenate([y.data for _, y in loader])


def test_shuffle_is_a_permutation_reproducible_and_new_each_epoch():
    loader = DataLoader(make_tensor_dataset(50), batch_size=8, shuffle=True)
    ember.manual_seed(3)
    first, second = labels_of_epoch(loader), labels_of_epoch(loader)
    np.testing.assert_array_equal(np.sort(first), np.arange(50))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))
    ember.manual_seed(3)
    np.testing.assert_array_equal(labels_of_epoch(loader), first)
    np.testing.assert_array_equal(labels_of_epoch(loader), second)


def test_shuffle_keeps_features_and_labels_together():
    ember.manual_seed(0)
    for x, y in DataLoader(make_tensor_dataset(20), batch_size=6, shuffle=True):
        np.testing.assert_array_equal(x.data[:, 0], 3 * y.data)


def test_shuffle_with_own_generator_leaves_ember_generator_alone():
    ds = make_tensor_dataset(30)
    ember.manual_seed(1)
    state = ember.backend.default_generator.get_state()
    a = labels_of_epoch(DataLoader(ds, 7, shuffle=True, generator=ember.backend.Generator(5)))
    b = labels_of_epoch(DataLoader(ds, 7, shuffle=True, generator=ember.backend.Generator(5)))
    np.testing.assert_array_equal(a, b)
    assert ember.backend.default_generator.get_state() == state


def test_fast_path_matches_per_sample_path():
    ds = make_tensor_dataset(23)
    for shuffle in (False, True):
        ember.manual_seed(7)
        fast = list(DataLoader(ds, batch_size=5, shuffle=shuffle))
        ember.manual_seed(7)
        slow = list(DataLoader(ds, batch_size=5, shuffle=shuffle, collate_fn=default_collate_copy))
        assert len(fast) == len(slow) == 5
        for (xf, yf), (xs, ys) in zip(fast, slow):
            np.testing.assert_array_equal(xf.data, xs.data)
            np.testing.assert_array_equal(yf.data, ys.data)
            assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def default_collate_copy(batch):  # not `default_collate` itself, so the per-sample path runs
    return default_collate(batch)


def test_fast_path_does_not_index_samples_one_by_one(monkeypatch):
    ds = make_tensor_dataset(10)

    def no_indexing(self, index):
        raise AssertionError("a sample was indexed one by one")

    monkeypatch.setattr(ember.Tensor, "__getitem__", no_indexing)
    for shuffle in (False, True):
        assert len(list(DataLoader(Subset(ds, range(8)), batch_size=3, shuffle=shuffle))) == 3
    with pytest.raises(AssertionError, match="one by one"):  # a custom collate needs samples
        list(DataLoader(ds, batch_size=3, collate_fn=default_collate_copy))


def test_subclass_overriding_getitem_takes_the_per_sample_path():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    (x, y), = list(DataLoader(Doubled(ember.ones(3, 2), ember.zeros(3)), batch_size=3))
    np.testing.assert_array_equal(x.data, np.full((3, 2), 2.0))


def test_batches_are_copies():
    ds = make_tensor_dataset(6)
    for shuffle in (False, True):
        for x, _ in DataLoader(ds, batch_size=3, shuffle=shuffle):
            x.data[...] = -1
        assert ds.tensors[0].data.min() >= 0


def test_subset_of_tensor_dataset_uses_its_indices():
    ds = make_tensor_dataset(10)
    inner = Subset(ds, [9, 1, 5, 3])
    outer = Subset(inner, [3, 0])
    (x, y), = list(DataLoader(outer, batch_size=4))
    np.testing.assert_array_equal(y.data, [3, 9])
    np.testing.assert_array_equal(x.data[:, 0], [9, 27])


def test_generic_dataset_and_len():
    loader = DataLoader(Squares(7), batch_size=3)
    assert len(loader) == 3
    x, y = list(loader)[-1]
    assert x.shape == (1, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(y.data, [36])
    assert y.dtype == np.int64


def test_custom_collate_fn_gets_the_list_of_samples():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


def test_bad_loader_arguments():
    ds = make_tensor_dataset(4)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(ds, collate_fn=3)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ds, generator=42)


# ---- DataLoader: worker threads -------------------------------------------------------------
class Noisy(Dataset):
    """Each sample draws from ember's generator, as a random augmentation does."""

    def __getitem__(self, i):
        return ember.backend.rng().random(3).astype(np.float32), i

    def __len__(self):
        return 24


class FailsAt(Dataset):
    def __init__(self, bad, error):
        self.bad, self.error = bad, error

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error
        return i

    def __len__(self):
        return 12


class NeedsTwoArguments(Exception):
    def __init__(self, code, detail):
        super().__init__(f"code {code}: {detail}")


def live_workers(wait=2.0):
    """The DataLoader worker threads still alive once they had `wait` seconds to stop."""
    deadline = time.monotonic() + wait
    while True:
        alive = [t for t in threading.enumerate() if t.name.startswith("DataLoader worker")]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.01)


def all_batches(loader, seed):
    ember.manual_seed(seed)
    return [[np.asarray(part.data) for part in batch] for batch in loader]


def test_workers_give_the_same_batches_as_the_main_thread():
    for ds in (make_tensor_dataset(23), Subset(make_tensor_dataset(30), range(2, 25)), Squares(23)):
        main = all_batches(DataLoader(ds, batch_size=4, shuffle=True), seed=5)
        threaded = all_batches(DataLoader(ds, batch_size=4, shuffle=True, num_workers=2), seed=5)
        assert len(main) == len(threaded) == 6
        for a, b in zip(main, threaded):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y)


def test_workers_randomness_is_seeded_per_worker():
    loader = DataLoader(Noisy(), batch_size=5, shuffle=True, num_workers=2)
    first, again = all_batches(loader, seed=3), all_batches(loader, seed=3)
    other = all_batches(loader, seed=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(first[0][0], other[0][0])
    main = all_batches(DataLoader(Noisy(), batch_size=5, shuffle=True), seed=3)
    assert not np.array_equal(first[0][0], main[0][0])  # documented: workers draw their own


def test_augmentation_inside_a_dataset_is_seeded_in_workers():
    from ember.data.augment import RandomCrop

    class Cropped(Squares):
        def __getitem__(self, i):
            image = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4) + i
            return RandomCrop(2, padding=1)(image).data[0], i

    loader = DataLoader(Cropped(12), batch_size=3, num_workers=2)
    first, again = all_batches(loader, seed=8), all_batches(loader, seed=8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a[0], b[0])
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(first, all_batches(loader, 9)))


def test_worker_generator_is_thread_local():
    ember.manual_seed(0)
    main_rng = ember.backend.rng()
    seen = []
    loader = DataLoader(Squares(4), num_workers=2,
                        worker_init_fn=lambda w: seen.append(ember.backend.rng()))
    list(loader)
    assert ember.backend.rng() is main_rng
    assert len(seen) == 2 and all(g is not main_rng for g in seen) and seen[0] is not seen[1]


def test_manual_seed_in_a_worker_seeds_that_worker_only():
    """As torch.manual_seed in a worker process: the main generator is left alone, and the
    worker's draws follow the seed it was given."""
    def run(offset):
        ember.manual_seed(0)
        init = None if offset is None else (lambda w: ember.manual_seed(offset + w))
        loader = DataLoader(Noisy(), batch_size=5, num_workers=2, worker_init_fn=init)
        batches = [np.asarray(b[0].data) for b in loader]
        return batches, ember.backend.rng().random()  # the main generator, after the epoch

    first, main_draw = run(100)
    again, main_again = run(100)
    other, _ = run(200)
    _, untouched = run(None)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert main_draw == main_again == untouched
    assert not np.array_equal(first[0], other[0])


def test_worker_init_fn_runs_once_per_worker():
    ids = []
    loader = DataLoader(Squares(10), batch_size=2, num_workers=3, worker_init_fn=ids.append)
    for _ in range(2):
        ids.clear()
        assert len(list(loader)) == 5
        assert sorted(ids) == [0, 1, 2]


def test_worker_prefetch_is_bounded():
    started = []

    class Counted(Squares):
        def __getitem__(self, i):
            started.append(i)
            return super().__getitem__(i)

    loader = DataLoader(Counted(20), num_workers=2, prefetch_factor=1)
    for i, (_, y) in enumerate(loader):
        assert int(y.data[0]) == i * i
        assert len(started) <= (i + 1) + 1 * 2
    assert len(started) == 20


def test_worker_error_reaches_the_main_thread_at_its_batch():
    got = []
    with pytest.raises(ValueError, match="bad sample 7.*worker 1 .*batch 3") as info:
        for x in DataLoader(FailsAt(7, ValueError("bad sample 7")), batch_size=2, num_workers=2):
            got.append(x.data.tolist())
    assert got == [[0, 1], [2, 3], [4, 5]]
    assert isinstance(info.value.__cause__, ValueError)
    error = NeedsTwoArguments(4, "unreadable")  # cannot be rebuilt from a message: raised as is
    with pytest.raises(NeedsTwoArguments, match="code 4: unreadable") as info:
        list(DataLoader(FailsAt(0, error), num_workers=2))
    assert info.value is error
    assert live_workers() == []


def test_worker_init_fn_error_is_raised():
    def init(w):
        raise KeyError(f"no config for worker {w}")

    with pytest.raises(KeyError, match="no config for worker 0"):
        list(DataLoader(Squares(4), num_workers=2, worker_init_fn=init))


def test_leaving_the_loop_early_stops_the_workers():
    loader = DataLoader(Squares(200), batch_size=2, num_workers=3)
    for _ in loader:
        break
    assert live_workers() == []
    it = iter(loader)
    next(it)
    del it
    assert live_workers() == []


def test_worker_timeout():
    class Slow(Squares):
        def __getitem__(self, i):
            time.sleep(0.3)
            return super().__getitem__(i)

    with pytest.raises(RuntimeError, match=r"DataLoader: batch 0 .*timeout=0.02"):
        list(DataLoader(Slow(2), num_workers=1, timeout=0.02))


def test_pytorch_worker_options_are_accepted():
    ds = make_tensor_dataset(10)
    loader = DataLoader(ds, batch_size=3, num_workers=2, pin_memory=True, persistent_workers=True,
                        prefetch_factor=4, timeout=5)
    assert len(loader) == 4
    for _ in range(2):
        labels = np.concatenate([y.data for _, y in loader])
        np.testing.assert_array_equal(labels, np.arange(10))
    assert DataLoader(ds, num_workers=2).prefetch_factor == 2
    assert DataLoader(ds).prefetch_factor is None
    assert DataLoader(ds, num_workers=0, pin_memory=True, timeout=0).pin_memory
    assert "num_workers=2" in repr(loader)


def test_bad_worker_arguments():
    ds = make_tensor_dataset(4)
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="DataLoader: num_workers must be a non-negative"):
            DataLoader(ds, num_workers=bad)
    with pytest.raises(ValueError, match="DataLoader: prefetch_factor only applies"):
        DataLoader(ds, prefetch_factor=2)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="DataLoader: prefetch_factor must be a positive"):
            DataLoader(ds, num_workers=1, prefetch_factor=bad)
    with pytest.raises(ValueError, match="DataLoader: persistent_workers=True needs"):
        DataLoader(ds, persistent_workers=True)
    for bad in (-0.5, "1", None):
        with pytest.raises(ValueError, match="DataLoader: timeout must be a non-negative"):
            DataLoader(ds, num_workers=1, timeout=bad)
    with pytest.raises(TypeError, match="DataLoader: worker_init_fn must be callable"):
        DataLoader(ds, num_workers=1, worker_init_fn=3)


# ---- default_collate -----------------------------------------------------------------------
def test_collate_numbers():
    ints, floats, bools = (default_collate([1, 2]), default_collate([0.5, 1.5]),
                           default_collate([True, False]))
    assert ints.dtype == np.int64 and floats.dtype == np.float32 and bools.dtype == np.bool_
    np.testing.assert_array_equal(floats.data, [0.5, 1.5])
    assert default_collate([np.float64(1.0), np.float64(2.0)]).dtype == np.float64


def test_collate_tensors_and_arrays_keep_dtype():
    out = default_collate([ember.zeros(2, 3, dtype=ember.float64) for _ in range(4)])
    assert out.shape == (4, 2, 3) and out.dtype == np.float64
    out = default_collate([np.zeros((28, 28), np.uint8)] * 5)
    assert out.shape == (5, 28, 28) and out.dtype == np.uint8


def test_collate_tuples_lists_dicts_namedtuples_strings():
    tup = default_collate([(np.ones(2, np.float32), 1), (np.zeros(2, np.float32), 0)])
    assert isinstance(tup, tuple) and tup[0].shape == (2, 2) and tup[1].dtype == np.int64
    lst = default_collate([[1, 2.0], [3, 4.0]])
    assert isinstance(lst, list)
    np.testing.assert_array_equal(lst[0].data, [1, 3])
    d = default_collate([{"x": np.ones(3), "y": 1, "name": "a"},
                         {"x": np.zeros(3), "y": 0, "name": "b"}])
    assert set(d) == {"x", "y", "name"} and d["x"].shape == (2, 3) and d["name"] == ["a", "b"]
    nested = default_collate([{"pair": (1, 2)}, {"pair": (3, 4)}])
    np.testing.assert_array_equal(nested["pair"][1].data, [2, 4])
    Point = namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.y.dtype == np.float32


def test_collate_errors_are_clear():
    with pytest.raises(ValueError, match=r"different shapes.*sample 2 has shape \(4,\)"):
        default_collate([np.zeros(3), np.zeros(3), np.zeros(4)])
    with pytest.raises(ValueError, match="sample 1 has"):
        default_collate([{"x": 1}, {"y": 2}])
    with pytest.raises(ValueError, match="sample 0 has 2 fields but sample 1 has 3"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="got NoneType"):
        default_collate([None, None])
    with pytest.raises(ValueError, match="empty batch"):
        default_collate([])


def test_loader_collates_dict_samples():
    class Dicts(Dataset):
        def __getitem__(self, i):
            return {"x": np.full(2, i, np.float32), "y": i}

        def __len__(self):
            return 5

    batches = list(DataLoader(Dicts(), batch_size=2))
    assert [b["x"].shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    np.testing.assert_array_equal(batches[1]["y"].data, [2, 3])


# ---- Subset and random_split ---------------------------------------------------------------
def test_subset():
    ds = make_tensor_dataset(10)
    sub = Subset(ds, [7, 2, 2])
    assert len(sub) == 3
    assert int(sub[0][1]) == 7 and int(sub[2][1]) == 2
    assert [int(s[1]) for s in sub[[0, 1]]] == [7, 2]
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of 10"):
        Subset(ds, [0, 10])
    with pytest.raises(TypeError, match="integers"):
        Subset(ds, [0.5])


def test_random_split_lengths_and_disjoint():
    ds = make_tensor_dataset(10)
    parts = random_split(ds, [6, 3, 1])
    assert [len(p) for p in parts] == [6, 3, 1]
    all_indices = np.concatenate([p.indices for p in parts])
    np.testing.assert_array_equal(np.sort(all_indices), np.arange(10))


def test_random_split_fractions_like_pytorch():
    assert [len(p) for p in random_split(make_tensor_dataset(10), [0.8, 0.2])] == [8, 2]
    # floor gives 3 + 3 + 3 = 9; the remaining sample goes to the first part, as in PyTorch
    assert [len(p) for p in random_split(make_tensor_dataset(10), [1/3, 1/3, 1/3])] == [4, 3, 3]


def test_random_split_is_seeded_by_ember():
    ds = make_tensor_dataset(20)
    ember.manual_seed(11)
    a = random_split(ds, [0.5, 0.5])[0].indices
    ember.manual_seed(11)
    b = random_split(ds, [0.5, 0.5])[0].indices
    c = random_split(ds, [0.5, 0.5])[0].indices
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    g1 = random_split(ds, [10, 10], generator=ember.backend.Generator(2))[0].indices
    g2 = random_split(ds, [10, 10], generator=ember.backend.Generator(2))[0].indices
    np.testing.assert_array_equal(g1, g2)


def test_random_split_errors():
    ds = make_tensor_dataset(10)
    with pytest.raises(ValueError, match=r"sum to 9, but the dataset has 10"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [11, -1])


def test_random_split_then_loader_fast_path():
    ember.manual_seed(0)
    train, val = random_split(make_tensor_dataset(10), [0.7, 0.3])
    got = np.concatenate([y.data for _, y in DataLoader(val, batch_size=2)])
    np.testing.assert_array_equal(got, val.indices)


def test_concat_dataset_reads_each_part_in_turn_and_batches_across_them():
    a = TensorDataset(np.arange(5, dtype=np.float32), np.zeros(5, dtype=np.int64))
    b = TensorDataset(np.arange(10, 13, dtype=np.float32), np.ones(3, dtype=np.int64))
    both = ConcatDataset([a, b])
    assert len(both) == 8 and both.cumulative_sizes == [5, 8]
    assert both[4][0].item() == 4 and both[5][0].item() == 10 and both[-1][0].item() == 12
    assert len(a + b + a) == 13
    batches = [x.tolist() for x, _ in DataLoader(both, batch_size=3)]
    assert batches == [[0, 1, 2], [3, 4, 10], [11, 12]]
    with pytest.raises(IndexError, match="index 8 is out of range for 8 samples"):
        both[8]
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])
