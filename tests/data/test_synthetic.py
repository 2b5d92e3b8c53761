"""The synthetic sets: shapes, dtypes, seeding, class balance and geometry."""
import numpy as np
import pytest

import ember
from ember.data import DataLoader, TensorDataset, circles, spirals, two_moons, xor

SETS = {"xor": xor, "two_moons": two_moons, "circles": circles,
        "spirals2": lambda **kw: spirals(classes=2, **kw),
        "spirals3": lambda **kw: spirals(classes=3, **kw)}


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("n", [0, 1, 7, 300])
def test_shapes_dtypes_and_balance(name, n):
    ds = SETS[name](n_samples=n, noise=0.1, seed=0)
    assert isinstance(ds, TensorDataset) and len(ds) == n
    X, y = ds.tensors
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    classes = 3 if name == "spirals3" else 2
    counts = np.bincount(y.data, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    assert np.isfinite(X.data).all()


@pytest.mark.parametrize("name", SETS)
def test_int_seed_is_reproducible_and_private(name):
    ember.manual_seed(0)
    state = ember.backend.default_generator.get_state()
    a, b = SETS[name](n_samples=50, noise=0.2, seed=4), SETS[name](n_samples=50, noise=0.2, seed=4)
    c = SETS[name](n_samples=50, noise=0.2, seed=5)
    assert ember.backend.default_generator.get_state() == state
    np.testing.assert_array_equal(a.tensors[0].data, b.tensors[0].data)
    np.testing.assert_array_equal(a.tensors[1].data, b.tensors[1].data)
    assert not np.array_equal(a.tensors[0].data, c.tensors[0].data)


@pytest.mark.parametrize("name", SETS)
def test_default_seed_follows_manual_seed(name):
    ember.manual_seed(9)
    a = SETS[name](n_samples=40, noise=0.1)
    b = SETS[name](n_samples=40, noise=0.1)
    ember.manual_seed(9)
    a2 = SETS[name](n_samples=40, noise=0.1)
    np.testing.assert_array_equal(a.tensors[0].data, a2.tensors[0].data)
    assert not np.array_equal(a.tensors[0].data, b.tensors[0].data)


def test_xor_without_noise_is_the_truth_table():
    X, y = xor(n_samples=8, shuffle=False).tensors
    np.testing.assert_array_equal(X.data[:4], [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y.data, [0, 1, 1, 0] * 2)


def test_two_moons_geometry_matches_make_moons():
    X, y = two_moons(n_samples=6, shuffle=False).tensors
    t = np.linspace(0, np.pi, 3)
    np.testing.assert_allclose(X.data[:3], np.stack([np.cos(t), np.sin(t)], 1), atol=1e-6)
    np.testing.assert_allclose(X.data[3:], np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1),
                               atol=1e-6)
    np.testing.assert_array_equal(y.data, [0, 0, 0, 1, 1, 1])


def test_circles_radii():
    X, y = circles(n_samples=100, factor=0.3).tensors
    r = np.linalg.norm(X.data, axis=1)
    np.testing.assert_allclose(r[y.data == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y.data == 1], 0.3, rtol=1e-6)
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        circles(factor=1.5)


def test_spiral_arms_are_rotations():
    X, y = spirals(n_samples=30, classes=3, shuffle=False).tensors
    arms = [X.data[y.data == k] for k in range(3)]
    rot = 2 * np.pi / 3
    R = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
    np.testing.assert_allclose(arms[0] @ R.T, arms[1], atol=1e-6)
    assert np.linalg.norm(X.data, axis=1).max() == pytest.approx(1.0)


def test_noise_moves_points_by_about_its_std():
    clean = two_moons(n_samples=2000, shuffle=False).tensors[0].data
    noisy = two_moons(n_samples=2000, noise=0.1, shuffle=False, seed=1).tensors[0].data
    assert np.std(noisy - clean) == pytest.approx(0.1, rel=0.1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_samples must be a non-negative integer"):
        two_moons(n_samples=-1)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        xor(noise=-0.1)
    with pytest.raises(ValueError, match="classes must be an integer >= 2"):
        spirals(classes=1)
    with pytest.raises(ValueError, match="seed must be"):
        circles(seed="abc")


def test_synthetic_sets_feed_the_loader():
    ember.manual_seed(0)
    x, y = next(iter(DataLoader(spirals(n_samples=100, classes=3, noise=0.05), batch_size=32,
                                shuffle=True)))
    assert x.shape == (32, 2) and y.shape == (32,)
