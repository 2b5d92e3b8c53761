"""The XOR exercise: one hand-derived SGD step, the command, and the defaults for seeds 0..99."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.cli import main
from ember.xor import XorConfig, solved, train_xor

ROOT = Path(__file__).resolve().parents[1]

W1 = np.array([[0.2, 0.8], [0.5, 0.3]])
W2 = np.array([[0.7], [0.9]])
B1 = np.array([0.1, 0.2])
B2 = np.array([0.3])
X = np.array([[0.5, 0.1]])
Y = np.array([[1.0]])


def hand_step(lr=0.1):
    """The textbook's update in NumPy: output delta a - y (summed BCE on logits)."""
    sig = lambda z: 1 / (1 + np.exp(-z))
    a1 = sig(X @ W1 + B1)
    a2 = sig(a1 @ W2 + B2)
    d2 = a2 - Y
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    return (W1 - lr * X.T @ d1, B1 - lr * d1.sum(0), W2 - lr * a1.T @ d2, B2 - lr * d2.sum(0))


def test_one_sgd_step_with_tensors_matches_the_hand_derivation():
    params = [ember.tensor(a, requires_grad=True) for a in (W1, B1, W2, B2)]
    w1, b1, w2, b2 = params
    z2 = (ember.tensor(X) @ w1 + b1).sigmoid() @ w2 + b2
    F.binary_cross_entropy_with_logits(z2, ember.tensor(Y), reduction="sum").backward()
    opt = ember.optim.SGD(params, lr=0.1)
    opt.step()
    for got, want in zip(params, hand_step()):
        assert got.shape == want.shape  # biases of shape (n,) stay (n,)
        np.testing.assert_allclose(got.data, want, rtol=0, atol=1e-12)


def test_one_sgd_step_with_linear_layers_matches_the_hand_derivation():
    net = nn.Sequential(nn.Linear(2, 2, dtype=ember.float64), nn.Sigmoid(),
                        nn.Linear(2, 1, dtype=ember.float64))
    net.load_state_dict({"0.weight": W1.T, "0.bias": B1, "2.weight": W2.T, "2.bias": B2})
    opt = ember.optim.SGD(net.parameters(), lr=0.1)
    F.binary_cross_entropy_with_logits(net(ember.tensor(X)), ember.tensor(Y),
                                       reduction="sum").backward()
    opt.step()
    w1, b1, w2, b2 = hand_step()
    np.testing.assert_allclose(net[0].weight.data, w1.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net[0].bias.data, b1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net[2].weight.data, w2.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net[2].bias.data, b2, rtol=0, atol=1e-12)
    assert net[0].bias.shape == (2,) and net[2].bias.shape == (1,)


def test_xor_command_prints_predictions_loss_and_verdict(capsys):
    assert main(["xor", "--epochs", "3000"]) == 0
    out = capsys.readouterr().out
    assert "0 xor 1 ->" in out and "final loss" in out and "XOR solved" in out


def test_xor_command_options(capsys):
    code = main(["xor", "--hidden", "3", "--activation", "tanh", "--loss", "mse",
                 "--optimizer", "adam", "--lr", "0.05", "--epochs", "1500", "--seed", "3"])
    out = capsys.readouterr().out
    assert "2-3-1 tanh network, mse loss, adam lr 0.05, 1500 epochs, seed 3" in out
    assert code in (0, 1)


def test_textbook_settings_get_stuck_for_some_seed(capsys):
    """Seed 5 of the textbook settings ends with two points at 0.5 (a known stuck state)."""
    assert main(["xor", "--textbook", "--seed", "5", "--epochs", "3000"]) == 1
    out = capsys.readouterr().out
    assert "2-2-1 sigmoid" in out and "textbook settings" in out and "NOT solved" in out


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "ember.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "xor" in out


def test_textbook_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "xor_textbook.py"),
                          "--epochs", "2000"], capture_output=True, text=True, check=True).stdout
    assert "XOR solved" in out and "bias shapes: (2,) (1,)" in out


def test_watch_layers_example_checks_every_layer_by_the_chain_rule():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "watch_layers.py"), "--seed", "3"],
                         capture_output=True, text=True, check=True).stdout
    assert [line.split()[:3] for line in out.splitlines() if line.startswith("backward")] == [
        ["backward", "2", "Linear"], ["backward", "1", "Sigmoid"], ["backward", "0", "Linear"]]
    assert out.count("chain rule by hand agrees: True") == 2
    assert "dL/dz at the logits is (s(z) - y) / n: True" in out


def _solves(seed):
    return solved(train_xor(XorConfig(seed=seed))[1])


@pytest.mark.slow
def test_defaults_solve_every_seed_0_to_99():
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(_solves, range(100)))
    assert [s for s, ok in enumerate(results) if not ok] == []
