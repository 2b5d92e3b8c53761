"""Data: datasets, the DataLoader that batches them, file readers and synthetic sets.

    from ember.data import DataLoader, FashionMNIST
    train = FashionMNIST(train=True).as_tensor_dataset(flatten=True, normalize=True)
    for x, y in DataLoader(train, batch_size=128, shuffle=True):
        ...   # x: (128, 784) float32, y: (128,) int64
"""
from . import transforms
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .idx import read_idx, write_idx
from .loader import DataLoader, default_collate
from .mnist import FASHION_MNIST_ROOT, MNIST, FashionMNIST
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .synthetic import circles, spirals, two_moons, xor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader", "default_collate",
           "read_idx", "write_idx", "MNIST", "FashionMNIST", "FASHION_MNIST_ROOT", "transforms",
           "xor", "two_moons", "circles", "spirals", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]
