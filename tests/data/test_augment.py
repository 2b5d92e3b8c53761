"""Batch augmentation: crops and flips per image, vectorized and seeded."""
import numpy as np
import pytest

import ember
from ember.data import DataLoader, TensorDataset
from ember.data.augment import RandomCrop, RandomHorizontalFlip, augmented


def images(n=8):
    return ember.tensor(np.arange(n * 2 * 5 * 5, dtype=np.float32).reshape(n, 2, 5, 5))


def test_random_crop_takes_a_window_of_the_padded_image():
    x = images()
    ember.manual_seed(0)
    out = RandomCrop(5, padding=2)(x).data
    padded = np.pad(x.data, ((0, 0), (0, 0), (2, 2), (2, 2)))
    assert out.shape == (8, 2, 5, 5)
    for i in range(8):  # each image is some 5x5 window of its own padded image
        found = any(np.array_equal(out[i], padded[i, :, a:a + 5, b:b + 5])
                    for a in range(5) for b in range(5))
        assert found
    ember.manual_seed(0)
    np.testing.assert_array_equal(RandomCrop(5, padding=2)(x).data, out)  # seeded


def test_crops_differ_between_images():
    ember.manual_seed(1)
    x = ember.tensor(np.ones((64, 1, 4, 4), np.float32))
    out = RandomCrop(4, padding=2)(x).data
    assert len({out[i].tobytes() for i in range(64)}) > 5


def test_horizontal_flip():
    x = images()
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(x).data, x.data[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(x).data, x.data)
    ember.manual_seed(3)
    out = RandomHorizontalFlip(0.5)(x).data
    flipped = [np.array_equal(out[i], x.data[i, ..., ::-1]) for i in range(8)]
    kept = [np.array_equal(out[i], x.data[i]) for i in range(8)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_augmented_loader_and_errors():
    ds = TensorDataset(images(10), ember.arange(10))
    loader = augmented(DataLoader(ds, batch_size=4), RandomCrop(5, padding=1),
                       RandomHorizontalFlip())
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape for b in batches][0] == (4, 2, 5, 5)
    assert batches[-1][1].tolist() == [8, 9]
    with pytest.raises(ValueError, match="RandomCrop: expected a batch of images"):
        RandomCrop(3)(ember.ones(3, 3))
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(9)(images())
