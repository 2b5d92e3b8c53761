"""`ember seqclass`: the first-token task, the classifier, the command line, and the LSTM learning
a long-range dependency that a plain RNN does not."""
import numpy as np
import pytest

from ember.cli import main
import ember
from ember.projects.seqclass import (SeqClassConfig, SequenceClassifier, chrono_init_,
                                     first_token_task, train_classifier)
from ember.tensor import Tensor


def test_first_token_task_layout_and_seeding():
    ds = first_token_task(500, length=30, vocab=7, classes=3, seed=0)
    tokens, labels = (t.data for t in ds.tensors)
    assert tokens.shape == (500, 30) and tokens.dtype == np.int64 and labels.dtype == np.int64
    np.testing.assert_array_equal(tokens[:, 0], labels)                 # the first token decides
    assert set(np.unique(labels)) == {0, 1, 2}
    assert tokens[:, 1:].min() >= 3 and tokens[:, 1:].max() <= 6          # the rest is noise
    again = first_token_task(500, length=30, vocab=7, classes=3, seed=0)
    np.testing.assert_array_equal(again.tensors[0].data, tokens)
    with pytest.raises(ValueError, match="vocab > classes"):
        first_token_task(10, vocab=2, classes=2)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_classifier_shapes(cell):
    model = SequenceClassifier(vocab=6, classes=3, cell=cell, hidden=5)
    out = model(Tensor(np.zeros((4, 9), dtype=np.int64)))
    assert out.shape == (4, 3)
    with pytest.raises(ValueError, match="cell must be one of"):
        SequenceClassifier(6, 3, cell="transformer")


def test_chrono_init_sets_forget_and_input_gate_biases():
    ember.manual_seed(0)
    lstm = ember.nn.LSTM(3, 50, num_layers=2)
    chrono_init_(lstm, 100)
    for layer in (0, 1):
        b = getattr(lstm, f"bias_ih_l{layer}").data
        forget = b[50:100]
        assert forget.min() >= 0 and forget.max() <= np.log(99) + 1e-6
        assert forget.std() > 0.5                                   # spread over time scales
        np.testing.assert_array_equal(b[:50], -forget)             # input gate = -forget gate
        np.testing.assert_array_equal(b[100:], 0)
        np.testing.assert_array_equal(getattr(lstm, f"bias_hh_l{layer}").data, 0)
    with pytest.raises(ValueError, match="length must be >= 3"):
        chrono_init_(lstm, 2)


def test_lstm_learns_a_short_dependency_fast():
    cfg = SeqClassConfig(length=20, train=640, test=200, epochs=3, lr=1e-2)
    result, history = train_classifier("lstm", cfg)
    assert history["loss"][-1] < 0.1 and result["accuracy"] > 0.95


@pytest.mark.slow
def test_at_length_200_the_lstm_solves_it_and_the_plain_rnn_does_not():
    cfg = SeqClassConfig()                               # the command's defaults: length 200
    lstm, _ = train_classifier("lstm", cfg)
    assert lstm["accuracy"] > 0.95 and lstm["loss"] < 0.2
    rnn, _ = train_classifier("rnn", cfg)                # the same budget
    # measured 0.517 with one BLAS thread and 0.683 with two (the RNN's training is chaotic
    # enough for rounding to matter): far from solved either way
    assert rnn["accuracy"] < 0.8 and rnn["loss"] > 0.4


def test_cli_prints_each_model_and_rejects_bad_options(capsys):
    assert main(["seqclass", "--length", "10", "--train", "64", "--test", "32", "--epochs", "1",
                 "--models", "lstm,gru"]) == 0
    out = capsys.readouterr().out
    assert "chance accuracy 0.500" in out
    assert "  lstm  train loss" in out and "  gru   train loss" in out
    with pytest.raises(SystemExit, match="--models takes lstm, gru, rnn"):
        main(["seqclass", "--models", "lstm,cnn"])
    with pytest.raises(SystemExit) as e:
        main(["seqclass", "--init", "zeros"])
    assert e.value.code == 2
    with pytest.raises(SystemExit, match="--vocab > --classes"):
        main(["seqclass", "--vocab", "3", "--classes", "3"])
    with pytest.raises(SystemExit, match="--length must be >= 1"):
        main(["seqclass", "--length", "0"])
