"""Measuring generated images with a Fashion-MNIST classifier (`ember gan score`).

With an accuracy-trained CNN c (an `ember train --model cnn` checkpoint), p(y|x) its softmax and
phi(x) its penultimate-layer features (the input of its last Linear):

- Inception-score-like: IS = exp(E_x KL(p(y|x) || p(y))), p(y) = E_x p(y|x); from 1 (every image
  alike or unrecognisable) to 10 (each image confidently one class, all classes equally often).
  Reported with the mean max-confidence E_x max_y p(y|x) and the class spread (predicted-class
  counts).
- Frechet distance (FID-like): with (mu_r, S_r) and (mu_g, S_g) the mean and covariance of phi over
  real test images and generated images,
  d^2 = ||mu_r - mu_g||^2 + tr(S_r + S_g - 2 (S_r^1/2 S_g S_r^1/2)^1/2);
  the matrix square roots come from symmetric eigendecompositions (NumPy only).

The real-data reference: the same figures for real training images (against the test set).
"""
import os

import numpy as np

from ..autograd import no_grad
from ..creation import tensor as as_tensor
from ..data import FashionMNIST
from ..io import load
from ..nn import Linear, Sequential

DEFAULT_CLASSIFIER = os.path.join("runs", "gan-classifier", "best.safetensors")
# the classifier `ember gan score` trains when none is given: the course's CNN, 2 epochs, no label
# smoothing (smoothing would cap the confidences the score is built on)
CLASSIFIER_RECIPE = dict(model="cnn", epochs=2, label_smoothing=0.0)


def sqrtm_psd(a):
    """The symmetric square root of a symmetric positive semi-definite matrix: V diag(sqrt(w)) V^T
    from a = V diag(w) V^T (eigenvalues below 0, from rounding, are taken as 0)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, s1, mu2, s2):
    """||mu1 - mu2||^2 + tr(s1 + s2 - 2 (s1^1/2 s2 s1^1/2)^1/2), the squared 2-Wasserstein
    distance between N(mu1, s1) and N(mu2, s2)."""
    mu1, mu2, s1, s2 = (np.asarray(a, np.float64) for a in (mu1, mu2, s1, s2))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"frechet_distance: means {mu1.shape}, {mu2.shape} and covariances "
                         f"{s1.shape}, {s2.shape} do not match")
    r1 = sqrtm_psd(s1)
    cross = sqrtm_psd(r1 @ s2 @ r1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(cross))


def feature_stats(features):
    """Mean and covariance (unbiased) of features (N, D)."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"feature_stats: expected (N >= 2, D) features, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def inception_score(probs):
    """exp(E_x KL(p(y|x) || p(y))) of class probabilities (N, K)."""
    p = np.asarray(probs, np.float64)
    py = p.mean(0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(p > 0, p * (np.log(p) - np.log(py)), 0.0).sum(1)
    return float(np.exp(kl.mean()))


def load_classifier(path):
    """An `ember train` checkpoint's model in eval mode (a Sequential ending in Linear)."""
    from ..run import RunConfig, build_model
    ckpt = load(path)
    if "config" not in ckpt or "model" not in ckpt:
        raise ValueError(f"{path} is not an `ember train` checkpoint (no config/model)")
    cfg = RunConfig(**ckpt["config"])
    if cfg.dataset != "fashion-mnist":
        raise ValueError(f"{path}: the classifier must be trained on fashion-mnist, not "
                         f"{cfg.dataset}")
    model = build_model(cfg, (1, 28, 28) if cfg.model != "mlp" else (784,), 10)
    model.load_state_dict(ckpt["model"])
    if not isinstance(model, Sequential) or not isinstance(model[-1], Linear):
        raise ValueError(f"{path}: the classifier must be a Sequential ending in Linear (its "
                         f"input is the feature used for the Frechet distance)")
    return model.eval()


def train_classifier(path, data_dir=None, print_fn=print):
    """Train the default scoring classifier (CLASSIFIER_RECIPE) into path's folder."""
    from ..run import RunConfig, train_command
    cfg = RunConfig.for_dataset("fashion-mnist", data_dir=data_dir, **CLASSIFIER_RECIPE)
    print_fn(f"no classifier at {path}: training one ({CLASSIFIER_RECIPE}), once")
    train_command(cfg, os.path.dirname(path), verbose=False, print_fn=print_fn)
    return path


def classify(model, images, batch=500):
    """(penultimate features (N, D), class probabilities (N, K)) for images (N, 1, 28, 28) in
    [-1, 1], normalised as the classifier was trained (Fashion-MNIST's mean and std)."""
    x = (((images + 1) / 2 - FashionMNIST.mean) / FashionMNIST.std).astype(np.float32)
    body, head = model[:-1], model[-1]
    feats, probs = [], []
    with no_grad():
        for i in range(0, len(x), batch):
            f = body(as_tensor(x[i:i + batch]))
            logits = head(f).data.astype(np.float64)
            e = np.exp(logits - logits.max(1, keepdims=True))
            feats.append(f.data)
            probs.append(e / e.sum(1, keepdims=True))
    return np.concatenate(feats), np.concatenate(probs)


def image_scores(model, images, real_stats):
    """The figures for images (N, 1, 28, 28) in [-1, 1] against the real statistics."""
    feats, probs = classify(model, images)
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    return {"inception_score": inception_score(probs),
            "max_confidence": float(probs.max(1).mean()),
            "class_counts": counts.tolist(),
            "classes_covered": int((counts >= 0.02 * len(images)).sum()),
            "frechet_distance": frechet_distance(*real_stats, *feature_stats(feats))}


def real_reference(classifier, n=1000, seed=0, data_dir=None):
    """(feature statistics of the 10,000 test images, figures for n real training images against
    them): what generated images are compared with, and the best they can hope for."""
    from .gan import GANConfig, real_images
    cfg = GANConfig(seed=seed, data_dir=data_dir, train_size=n)
    test_feats, _ = classify(classifier, real_images(cfg, train=False))
    real_stats = feature_stats(test_feats)
    return real_stats, image_scores(classifier, real_images(cfg), real_stats)


def score_generator(g, classifier, n=1000, seed=0, data_dir=None, reference=None):
    """{'generated': figures for n samples, 'real': the same for n real training images}, both
    against the features of the 10,000 test images (reference: real_reference's result, to
    reuse)."""
    from .gan import generate
    real_stats, real = reference or real_reference(classifier, n, seed, data_dir)
    return {"generated": image_scores(classifier, generate(g, n, seed=seed), real_stats),
            "real": real}


def format_scores(scores):
    lines = [f"{'':10s} {'IS-like':>8s} {'max conf':>9s} {'classes>=2%':>12s} {'Frechet':>9s}"
             "  class counts"]
    for name in ("generated", "real"):
        s = scores[name]
        lines.append(f"{name:10s} {s['inception_score']:8.3f} {s['max_confidence']:9.3f} "
                     f"{s['classes_covered']:12d} {s['frechet_distance']:9.3f}  "
                     f"{' '.join(str(c) for c in s['class_counts'])}")
    return "\n".join(lines)


def score_command(checkpoints, classifier_path=DEFAULT_CLASSIFIER, n=1000, seed=0,
                  data_dir=None, print_fn=print):
    """`ember gan score`: print the figures of each checkpoint's generator (a path or a list of
    paths); returns a list of score_generator results."""
    from .gan import load_generator
    if n < 2:
        raise ValueError(f"--n must be >= 2, got {n}")
    paths = [checkpoints] if isinstance(checkpoints, (str, os.PathLike)) else list(checkpoints)
    generators = [load_generator(p) for p in paths]
    if not os.path.exists(classifier_path):
        if classifier_path != DEFAULT_CLASSIFIER:
            raise FileNotFoundError(f"no classifier checkpoint at {classifier_path}")
        train_classifier(classifier_path, data_dir, print_fn)
    classifier = load_classifier(classifier_path)
    reference = real_reference(classifier, n, seed, data_dir)
    results = []
    for path, (g, ckpt) in zip(paths, generators):
        scores = score_generator(g, classifier, n, seed, data_dir, reference)
        print_fn(f"{path} (epoch {ckpt['epoch']}, {ckpt['config']['variant']}): {n} samples, "
                 f"classifier {classifier_path}; Frechet distance to the 10,000 test images' "
                 "features")
        print_fn(format_scores(scores))
        results.append(scores)
    return results
