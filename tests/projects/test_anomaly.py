"""Anomaly detection: the ROC-AUC and precision/recall metrics, and `ember anomaly train/eval`
end to end on a small slice of Fashion-MNIST."""
import itertools
import json
import os

import numpy as np
import pytest

from ember.cli import main
from ember.data import FASHION_MNIST_ROOT, FashionMNIST, write_idx
from ember.projects.anomaly import parse_classes
from ember.train.metrics import precision_recall_f1, roc_auc_score


def _auc_by_pairs(y, s):
    """P(positive scores above negative) + 1/2 P(tie), counted over every pair."""
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(6))
def test_roc_auc_equals_the_pair_count_with_and_without_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = rng.integers(0, 5, n).astype(float) if seed % 2 else rng.normal(size=n)  # ties or none
    assert roc_auc_score(y, s) == pytest.approx(_auc_by_pairs(y, s), abs=1e-12)


def test_roc_auc_known_values():
    assert roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)  # sklearn's
    assert roc_auc_score([0, 1], [1.0, 2.0]) == 1.0
    assert roc_auc_score([0, 1], [2.0, 1.0]) == 0.0
    assert roc_auc_score([0, 1, 0, 1], [3.0, 3.0, 3.0, 3.0]) == 0.5
    assert roc_auc_score(np.array([True, False, True]), np.array([5, 1, 2])) == 1.0


def test_roc_auc_errors():
    with pytest.raises(ValueError, match="roc_auc_score: needs both classes"):
        roc_auc_score([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="roc_auc_score: y_true has 2 entries but the scores 3"):
        roc_auc_score([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="only 0 and 1"):
        roc_auc_score([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        roc_auc_score([0, 1], [0.1, np.nan])


def test_precision_recall_f1():
    y = [1, 1, 1, 0, 0, 0, 0]
    p = [1, 1, 0, 1, 0, 0, 0]  # TP 2, FN 1, FP 1
    precision, recall, f1 = precision_recall_f1(y, p)
    assert (precision, recall) == (2 / 3, 2 / 3) and f1 == pytest.approx(2 / 3)
    assert precision_recall_f1([1, 0], [0, 0]) == (0.0, 0.0, 0.0)  # nothing flagged
    assert precision_recall_f1([1, 0], [1, 1]) == (0.5, 1.0, pytest.approx(2 / 3))


def test_normal_classes_are_checked():
    assert parse_classes("3, 1,1") == [1, 3]
    with pytest.raises(ValueError, match="names every class"):
        parse_classes(",".join(map(str, range(10))))
    with pytest.raises(ValueError, match=r"classes in 0\.\.9"):
        parse_classes("0,10")
    with pytest.raises(ValueError, match="comma-separated"):
        parse_classes("a,b")


needs_data = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_ROOT),
                                reason="Fashion-MNIST is not installed")


@pytest.fixture(scope="module")
def small_fmnist(tmp_path_factory):
    """The first 3,000 training and 1,000 test images of Fashion-MNIST, as IDX files."""
    folder = tmp_path_factory.mktemp("fmnist")
    for train, n, prefix in ((True, 3000, "train"), (False, 1000, "t10k")):
        split = FashionMNIST(train=train)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", split.data.data[:n])
        write_idx(folder / f"{prefix}-labels-idx1-ubyte",
                  split.targets.data[:n].astype(np.uint8))
    return str(folder)


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("model", ["dense", "conv", "vae"])
def test_train_then_eval_learns_and_detects_the_held_out_class(small_fmnist, tmp_path, capsys,
                                                               model):
    out = str(tmp_path / "run")
    assert main(["anomaly", "train", "--model", model, "--epochs", "3", "--data-dir",
                 small_fmnist, "--out", out, "--quiet"]) == 0
    for name in ("best.safetensors", "last.safetensors", "history.csv", "history.png",
                 "config.json"):
        assert os.path.exists(os.path.join(out, name)), name
    assert json.load(open(os.path.join(out, "config.json")))["normal_classes"] == \
        "0,1,2,3,4,5,6,7,9"
    rows = open(os.path.join(out, "history.csv")).read().splitlines()[1:]
    losses = [float(r.split(",")[1]) for r in rows]
    assert losses[-1] < losses[0]
    capsys.readouterr()
    assert main(["anomaly", "eval", "--run", out]) == 0
    text = capsys.readouterr().out
    assert "held-out (anomaly) classes: 8 Bag" in text
    auc = float(text.split("ROC-AUC ")[1].split()[0])
    assert auc > 0.75  # chance is 0.5
    f1 = float(text.split("F1 ")[1].split()[0])
    assert f1 > 0.2  # flagging everything would give 2 * 0.1 / 1.1 = 0.18 (10% are bags)
    assert os.path.getsize(os.path.join(out, "reconstructions.png")) > 1000
    # a given threshold overrides the percentile: 0 flags every image, so recall is 1
    assert main(["anomaly", "eval", "--checkpoint", os.path.join(out, "best.safetensors"),
                 "--threshold", "0", "--figure", str(tmp_path / "f.png")]) == 0
    text = capsys.readouterr().out
    assert "recall 1.0000" in text and "(given)" in text


def test_cli_errors_are_clear(tmp_path):
    with pytest.raises(SystemExit, match="ember anomaly train: --normal-classes names every"):
        main(["anomaly", "train", "--normal-classes", "0,1,2,3,4,5,6,7,8,9", "--out",
              str(tmp_path / "r"), "--quiet"])
    with pytest.raises(SystemExit, match="ember anomaly eval: .*no such file"):
        main(["anomaly", "eval", "--checkpoint", str(tmp_path / "none.safetensors")])
