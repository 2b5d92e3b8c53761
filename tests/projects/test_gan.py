"""`ember gan`: the scores' math against closed forms, and small end-to-end runs that check the
generator learned (its samples move toward the real images) and the commands' outputs."""
import os
from dataclasses import asdict

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.projects.gan import GANConfig, generate, load_generator, real_images, train_gan
from ember.projects.gan_metrics import (feature_stats, frechet_distance, inception_score,
                                        sqrtm_psd)

needs_data = pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                                reason="Fashion-MNIST is not installed")


def _random_psd(r, d):
    a = r.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_sqrtm_psd_squares_back():
    a = _random_psd(np.random.default_rng(0), 6)
    s = sqrtm_psd(a)
    np.testing.assert_allclose(s @ s, a, atol=1e-10)
    np.testing.assert_allclose(s, s.T)


def test_frechet_distance_of_commuting_covariances_has_a_closed_form():
    r = np.random.default_rng(1)
    q, _ = np.linalg.qr(r.standard_normal((5, 5)))
    a, b = r.uniform(0.1, 3, 5), r.uniform(0.1, 3, 5)
    mu1, mu2 = r.standard_normal(5), r.standard_normal(5)
    d = frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert np.isclose(d, expected, rtol=1e-9)


def test_frechet_distance_matches_scipy_sqrtm_and_is_zero_for_equal_gaussians():
    linalg = pytest.importorskip("scipy.linalg")
    r = np.random.default_rng(2)
    s1, s2 = _random_psd(r, 8), _random_psd(r, 8)
    mu1, mu2 = r.standard_normal(8), r.standard_normal(8)
    expected = (np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2)
                - 2 * np.trace(linalg.sqrtm(s1 @ s2).real))
    assert np.isclose(frechet_distance(mu1, s1, mu2, s2), expected, rtol=1e-8)
    assert abs(frechet_distance(mu1, s1, mu1, s1)) < 1e-9


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="frechet_distance: means"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="feature_stats"):
        feature_stats(np.zeros((1, 3)))


def test_inception_score_limits():
    k = 10
    assert np.isclose(inception_score(np.full((50, k), 1 / k)), 1.0)
    assert np.isclose(inception_score(np.eye(k)[np.arange(100) % k]), k)
    assert np.isclose(inception_score(np.eye(k)[np.zeros(100, int)]), 1.0)
    half = np.eye(k)[np.arange(100) % 5]  # confident but only 5 classes
    assert np.isclose(inception_score(half), 5.0)


def _pixel_frechet(images, real):
    """Frechet distance between 7x7 average-pooled images: a classifier-free check."""
    def pool(x):
        return x.reshape(len(x), 7, 4, 7, 4).mean((2, 4)).reshape(len(x), -1)
    return frechet_distance(*feature_stats(pool(real)), *feature_stats(pool(images)))


@needs_data
@pytest.mark.slow
def test_dcgan_learns_toward_the_data(tmp_path):
    cfg = GANConfig(epochs=2, width=8, batch_size=32, train_size=2560, seed=0)
    real = real_images(cfg, train=False)[:1000]
    ember.manual_seed(0)
    from ember.projects.gan import build_gan
    untrained = _pixel_frechet(generate(build_gan(cfg)[0], 1000), real)
    g, _ = train_gan(cfg, tmp_path, print_fn=lambda *a: None)
    trained = _pixel_frechet(generate(g, 1000), real)
    assert trained < 0.5 * untrained, (untrained, trained)
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint_epoch01.safetensors", "checkpoint_epoch02.safetensors", "last.safetensors",
        "samples_epoch01.png", "samples_epoch02.png"]
    g2, ckpt = load_generator(tmp_path / "last.safetensors")
    np.testing.assert_array_equal(generate(g2, 8, seed=3), generate(g, 8, seed=3))
    assert ckpt["epoch"] == 2


@needs_data
@pytest.mark.slow
def test_wgan_gp_learns_toward_the_data(tmp_path):
    cfg = GANConfig(variant="wgan-gp", epochs=2, width=8, batch_size=32, train_size=2560,
                    seed=0)
    real = real_images(cfg, train=False)[:1000]
    from ember.projects.gan import build_gan
    ember.manual_seed(0)
    untrained = _pixel_frechet(generate(build_gan(cfg)[0], 1000), real)
    g, _ = train_gan(cfg, tmp_path, print_fn=lambda *a: None)
    stats = ember.load(tmp_path / "last.safetensors")["stats"]
    # 32 generator steps at Adam(1e-4, (0, 0.9)): a slow start, but a measured one (26.7 ->
    # 23.8 here), and the critic separates real from generated (Wasserstein estimate > 0)
    assert _pixel_frechet(generate(g, 1000), real) < 0.93 * untrained
    assert stats["wasserstein"] > 0.1 and 0 < stats["penalty"] < 2


@needs_data
def test_gan_commands_train_and_sample(tmp_path):
    out = tmp_path / "run"
    assert main(["gan", "train", "--out", str(out), "--epochs", "1", "--width", "4",
                 "--batch-size", "32", "--train-size", "64"]) == 0
    assert (out / "samples_epoch01.png").exists()
    grid = tmp_path / "grid.png"
    assert main(["gan", "sample", "--checkpoint", str(out / "last.safetensors"), "--n", "10",
                 "--out", str(grid)]) == 0
    import matplotlib.image
    assert matplotlib.image.imread(grid).shape[:2] == (2 * 30 + 2, 8 * 30 + 2)
    with pytest.raises(SystemExit, match="must be >= 1"):
        main(["gan", "train", "--out", str(out), "--epochs", "0"])


@needs_data
@pytest.mark.slow
def test_gan_score_prints_the_figures_and_rejects_other_checkpoints(tmp_path, capsys):
    out = tmp_path / "run"
    train_gan(GANConfig(epochs=1, width=4, batch_size=32, train_size=64), out,
              print_fn=lambda *a: None)
    from ember.models import SimpleCNN
    from ember.run import RunConfig
    clf = tmp_path / "clf.safetensors"
    ember.manual_seed(0)
    ember.save({"config": asdict(RunConfig(model="cnn")), "model": SimpleCNN().state_dict()},
               clf)
    assert main(["gan", "score", "--checkpoint", str(out / "last.safetensors"), "--n", "20",
                 "--classifier", str(clf)]) == 0
    text = capsys.readouterr().out
    assert "IS-like" in text and "generated" in text and "real" in text
    with pytest.raises(SystemExit, match="not an `ember gan train` checkpoint"):
        main(["gan", "sample", "--checkpoint", str(clf), "--out", str(tmp_path / "g.png")])
