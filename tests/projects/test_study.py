"""`ember study regularization`: on a small training set the plain MLP overfits, and data
augmentation, early stopping and dropout shrink the train-test gap; the command prints the table
and writes the plot."""
import os

import pytest

from ember.cli import main
from ember.projects.study import (VARIANTS, StudyConfig, regularization_study, study_model,
                                  train_variant)

needs_data = pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                                reason="Fashion-MNIST is not installed")


def test_study_model_places_batchnorm_and_dropout_in_each_hidden_layer():
    names = [type(m).__name__ for m in study_model([8, 4], dropout=0.5, batchnorm=True)]
    assert names == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear",
                     "BatchNorm1d", "ReLU", "Dropout", "Linear"]


@needs_data
@pytest.mark.slow
def test_regularizers_shrink_the_generalization_gap():
    cfg = StudyConfig(train_size=500, epochs=30, val_size=1000,
                      variants=("none", "augment", "early_stopping", "dropout"))
    r = regularization_study(cfg)
    assert r["none"]["train_accuracy"] > 0.98  # the plain model memorises the subset
    assert r["none"]["gap"] > 0.12
    for name in ("augment", "early_stopping", "dropout"):
        assert r[name]["gap"] < r["none"]["gap"] - 0.01, (name, r[name]["gap"], r["none"]["gap"])
    assert r["early_stopping"]["epochs_run"] < cfg.epochs


def test_every_variant_trains_on_a_tiny_random_set():
    import numpy as np

    import ember
    from ember.data import TensorDataset
    r = np.random.default_rng(0)
    sets = [TensorDataset(ember.tensor(r.standard_normal((n, 1, 28, 28)).astype(np.float32)),
                          ember.tensor(r.integers(0, 10, n))) for n in (64, 32, 32)]
    cfg = StudyConfig(epochs=2, hidden="16")
    for name in VARIANTS:
        result = train_variant(cfg, name, sets)
        assert 0 <= result["test_accuracy"] <= 1 and 1 <= result["epochs_run"] <= 2
        assert np.isclose(result["gap"], result["train_accuracy"] - result["test_accuracy"])
    with pytest.raises(ValueError, match="unknown variant 'magic'"):
        train_variant(cfg, "magic", sets)


@needs_data
@pytest.mark.slow
def test_command_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    plot = tmp_path / "curves.png"
    assert main(["study", "regularization", "--train-size", "100", "--epochs", "2",
                 "--variants", "none,batchnorm", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "train acc" in out and "gap" in out
    assert out.count("\nnone ") == 1 and "\nbatchnorm " in out
    assert plot.exists() and plot.stat().st_size > 1000


def test_command_rejects_unknown_variants():
    with pytest.raises(SystemExit, match="unknown variant"):
        main(["study", "regularization", "--variants", "none,magic"])
    assert set(VARIANTS) >= {"none", "l2", "dropout", "batchnorm", "augment",
                             "label_smoothing", "early_stopping", "lr_schedule"}
