"""Samplers and the DataLoader's sampler= and batch_sampler=, with PyTorch's rules."""
import numpy as np
import pytest

import ember
from ember.data import (BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler,
                        SubsetRandomSampler, TensorDataset, WeightedRandomSampler)


def dataset(n=10):
    return TensorDataset(ember.arange(n), ember.arange(n) * 2)


class Plain(Dataset):
    """Not a TensorDataset: batches go through collate."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return ember.tensor(float(i))


def firsts(loader):
    return [b[0].tolist() if isinstance(b, (list, tuple)) else b.tolist() for b in loader]


def test_sequential_and_random_samplers():
    ds = dataset()
    assert list(SequentialSampler(ds)) == list(range(10)) and len(SequentialSampler(ds)) == 10
    ember.manual_seed(0)
    a = list(RandomSampler(ds))
    assert sorted(a) == list(range(10)) and a != list(range(10))
    ember.manual_seed(0)
    assert list(RandomSampler(ds)) == a                     # repeatable under manual_seed
    long = list(RandomSampler(ds, num_samples=25))          # whole permutations, then a part
    assert len(long) == 25 and sorted(long[:10]) == sorted(long[10:20]) == list(range(10))
    drawn = list(RandomSampler(ds, replacement=True, num_samples=200))
    assert len(drawn) == 200 and set(drawn) == set(range(10))
    gen = np.random.default_rng(5)
    assert len(list(RandomSampler(ds, generator=gen))) == 10


def test_subset_and_weighted_samplers():
    ember.manual_seed(1)
    sub = SubsetRandomSampler([3, 5, 7])
    assert sorted(sub) == [3, 5, 7] and len(sub) == 3
    w = np.array([0.0, 1.0, 3.0])
    draws = np.array(list(WeightedRandomSampler(w, 4000)))
    assert (draws != 0).all()
    assert abs((draws == 2).mean() - 0.75) < 0.03           # in proportion to the weights
    once = list(WeightedRandomSampler(ember.tensor([1.0, 2.0, 3.0, 0.0]), 3, replacement=False))
    assert sorted(once) == [0, 1, 2]


def test_batch_sampler_and_loader_lengths():
    ds = dataset(10)
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=False)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(bs) == 3
    assert len(BatchSampler(SequentialSampler(ds), 4, drop_last=True)) == 2
    loader = DataLoader(ds, batch_sampler=bs)
    assert len(loader) == 3 and firsts(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b[1].tolist() for b in loader][-1] == [16, 18]
    sub = DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler([1, 2, 3]), drop_last=True)
    assert len(sub) == 1 and len(firsts(sub)) == 1


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("make", [dataset, Plain])
def test_loader_visits_what_the_sampler_gives(make, workers):
    ds = make()
    ember.manual_seed(3)
    order = list(RandomSampler(ds, replacement=True, num_samples=9))
    ember.manual_seed(3)
    loader = DataLoader(ds, batch_size=4, sampler=RandomSampler(ds, replacement=True,
                                                                num_samples=9),
                        num_workers=workers)
    got = [i for batch in firsts(loader) for i in batch]
    assert got == order and len(loader) == 3
    batches = DataLoader(ds, batch_sampler=[[2, 0], [1]], num_workers=workers)
    assert firsts(batches) == [[2, 0], [1]]


def test_sampler_errors_follow_pytorch():
    ds = dataset()
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="WeightedRandomSampler: weights must be"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement from 2"):
        WeightedRandomSampler([1.0, 1.0, 0.0], 3, replacement=False)
    with pytest.raises(ValueError, match="RandomSampler: num_samples should be a positive"):
        RandomSampler(ds, num_samples=0)
    with pytest.raises(ValueError, match="BatchSampler: batch_size should be a positive"):
        BatchSampler(SequentialSampler(ds), 0, False)
