"""fit/evaluate/predict, callbacks, the NaN guard, plots, and runs that resume bit for bit."""
import csv
import os

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.data import DataLoader, two_moons
from ember.run import RunConfig, train_command
from ember.train import (Callback, CSVLogger, EarlyStopping, ModelCheckpoint, NonFiniteError,
                         accuracy, confusion_matrix, evaluate, fit, plot_history, predict)


def moons_loaders(n=400):
    train = two_moons(n, noise=0.1, seed=1)
    val = two_moons(n // 4, noise=0.1, seed=2)
    return DataLoader(train, batch_size=32, shuffle=True), DataLoader(val, batch_size=100)


def small_model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))


def test_fit_learns_and_records_history(capsys):
    train, val = moons_loaders()
    model = small_model()
    opt = ember.optim.Adam(model.parameters(), lr=0.02)
    history = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs=8)
    h = history.history
    assert set(h) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert len(history) == 8 and h["loss"][-1] < h["loss"][0] / 2
    assert h["val_accuracy"][-1] > 0.95  # a trivial baseline gets 0.5
    out = capsys.readouterr().out
    assert "epoch 8/8" in out and "val_accuracy" in out


def test_evaluate_and_predict_leave_the_mode_alone():
    train, val = moons_loaders()
    model = small_model()
    model.train()
    result = evaluate(model, nn.CrossEntropyLoss(), val)
    assert model.training and 0 <= result["accuracy"] <= 1 and result["loss"] > 0
    out = predict(model, val)
    assert out.shape == (100, 2) and not out.requires_grad


def test_metrics():
    logits = ember.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, ember.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    assert accuracy(ember.tensor([[1.5], [-2.0]]), ember.tensor([[1.0], [1.0]])) == 0.5
    np.testing.assert_array_equal(confusion_matrix([0, 1, 1], [0, 1, 0], 2), [[1, 1], [0, 1]])


def test_early_stopping_restores_the_best_weights():
    train, val = moons_loaders()
    model = small_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.0)  # nothing improves after epoch 1
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs=20, callbacks=[stopper],
                  verbose=False)
    assert len(history) == 3 and stopper.stopped_epoch == 3


def test_checkpoints_and_csv(tmp_path):
    train, val = moons_loaders()
    model = small_model()
    opt = ember.optim.Adam(model.parameters(), lr=0.02)
    ckpt = ModelCheckpoint(str(tmp_path), monitor="val_accuracy")
    log = CSVLogger(str(tmp_path / "history.csv"))
    fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs=3, callbacks=[ckpt, log],
        verbose=False)
    assert os.path.exists(ckpt.last_path) and os.path.exists(ckpt.best_path)
    restored = small_model()
    restored.load_state_dict(ember.load(ckpt.last_path)["model"])
    x = ember.randn(5, 2)
    np.testing.assert_array_equal(restored(x).data, model(x).data)
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3] and "val_loss" in rows[0]


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # the blow-up is the point
def test_nan_guard_names_step_loss_and_parameter():
    train, _ = moons_loaders()
    model = small_model()
    opt = ember.optim.SGD(model.parameters(), lr=1e30)
    with pytest.raises(NonFiniteError, match=r"step \d+: the loss is (nan|inf).*'\d\.(weight|bias)'"):
        fit(model, nn.CrossEntropyLoss(), opt, train, epochs=5, verbose=False)


def test_plot_history_writes_a_png(tmp_path):
    train, val = moons_loaders()
    model = small_model()
    history = fit(model, nn.CrossEntropyLoss(), ember.optim.Adam(model.parameters()), train, val,
                  epochs=2, verbose=False)
    path = plot_history(history, str(tmp_path / "h.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def _cfg(epochs):
    return RunConfig.for_dataset("moons", epochs=epochs, samples=600, hidden="16",
                                 schedule="onecycle", dropout=0.1)


class StopAfter(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, state):
        state.stop = state.epoch >= self.epoch


def test_resumed_run_matches_the_uninterrupted_run_bit_for_bit(tmp_path):
    from ember.run import Run
    quiet = lambda *a, **k: None  # noqa: E731
    straight, _ = train_command(_cfg(4), str(tmp_path / "a"), verbose=False, print_fn=quiet)
    Run(_cfg(4), str(tmp_path / "b")).fit(verbose=False, callbacks=[StopAfter(2)])
    resumed, _ = train_command(_cfg(4), str(tmp_path / "b"), resume=True, verbose=False,
                               print_fn=quiet)
    assert straight.history["loss"] == resumed.history["loss"]
    assert straight.history["val_loss"] == resumed.history["val_loss"]
    for (k, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)


def test_interrupt_saves_a_checkpoint_that_resumes(tmp_path):
    class Interrupt(Callback):
        def on_batch_end(self, state):
            if state.epoch == 2 and state.step % 5 == 0:
                raise KeyboardInterrupt

    from ember.run import Run
    run = Run(_cfg(3), str(tmp_path))
    run_callbacks = [Interrupt()]
    with pytest.raises(KeyboardInterrupt):
        from ember.train import ModelCheckpoint as MC
        fit(run.model, run.loss_fn, run.optimizer, run.train_loader, run.val_loader, epochs=3,
            scheduler=run.scheduler, history=run.history, verbose=False,
            callbacks=[MC(str(tmp_path), checkpoint_fn=run.checkpoint)] + run_callbacks)
    ckpt = ember.load(str(tmp_path / "last.safetensors"))
    assert ckpt["epoch"] == 1 and ckpt["step"] > 0
    resumed, _ = train_command(_cfg(3), str(tmp_path), resume=True, verbose=False,
                               print_fn=lambda *a, **k: None)
    assert [r["epoch"] for r in resumed.history.epochs] == [1, 2, 3]
    straight, _ = train_command(_cfg(3), str(tmp_path / "straight"), verbose=False,
                                print_fn=lambda *a, **k: None)
    assert resumed.history["loss"] == straight.history["loss"]


def test_plot_history_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    train, val = moons_loaders()
    model = small_model()
    history = fit(model, nn.CrossEntropyLoss(), ember.optim.Adam(model.parameters()), train, val,
                  epochs=1, verbose=False)
    with pytest.raises(ImportError, match=r"pip install 'ember\[plot\]'"):
        plot_history(history, str(tmp_path / "h.png"))
