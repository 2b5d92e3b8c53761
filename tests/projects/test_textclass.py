"""`ember textclass`: the topic split, the word vocabulary, padded batches, the three classifiers
and the command, on a small fortune directory written here and on the real package."""
import os

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.projects.corpus import FORTUNES_DIR
from ember.projects.textclass import (
    PAD,
    UNKNOWN,
    TextClassConfig,
    TopicClassifier,
    TopicData,
    WordVocab,
    padded_batches,
    topic_split,
    train_topic_classifier,
    words,
)

CATS = ["The cat sat on the mat", "A cat and a kitten purr", "Cats chase mice all day long",
        "My cat sleeps", "The kitten plays with the cat"] * 4
CARS = ["The car needs fuel", "A fast car on the road", "Engines and wheels make a car",
        "My car is red", "The truck and the car race"] * 4


@pytest.fixture
def fortunes_dir(tmp_path):
    """Two topics with distinct words, and the .dat file a real package has beside each."""
    for name, texts in (("cats", CATS), ("cars", CARS)):
        (tmp_path / name).write_text("\n%\n".join(texts) + "\n%\n")
        (tmp_path / f"{name}.dat").write_bytes(b"\x00\x01")
    return str(tmp_path)


def test_words_and_vocabulary():
    assert words("Don't PANIC: 42 towels!") == ["don't", "panic", "42", "towels"]
    vocab = WordVocab(["a b b c", "b c d"], min_count=2)
    assert vocab.itos == ["<pad>", "<unk>", "b", "c"]              # by count, then alphabetically
    np.testing.assert_array_equal(vocab.encode("b a c zz b", max_words=4), [2, UNKNOWN, 3, UNKNOWN])
    np.testing.assert_array_equal(vocab.encode("!!!", max_words=4), [UNKNOWN])
    assert len(vocab) == 4 and PAD == 0


def test_topic_split_is_stratified_and_seeded(fortunes_dir):
    (train_x, train_y), (test_x, test_y) = topic_split(("cats", "cars"), fortunes_dir, 0.2, seed=0)
    assert len(test_x) == 8 and len(train_x) == 32                 # 4 of each topic's 20 held out
    assert sorted(np.bincount(test_y)) == [4, 4]
    assert all(t in CATS for t, y in zip(train_x, train_y) if y == 0)
    assert not set(test_x) - set(CATS + CARS)
    again = topic_split(("cats", "cars"), fortunes_dir, 0.2, seed=0)
    assert again[1][0] == test_x
    with pytest.raises(FileNotFoundError, match="no fortune file dogs"):
        topic_split(("cats", "dogs"), fortunes_dir)
    with pytest.raises(ValueError, match="at least 2 topics"):
        topic_split(("cats",), fortunes_dir)


def test_padded_batches_pad_with_zeros_and_keep_lengths():
    seqs = [np.array([5, 6, 7]), np.array([8]), np.array([9, 10])]
    (tokens, lengths, y), = padded_batches(seqs, [0, 1, 0], batch_size=8)
    np.testing.assert_array_equal(tokens.numpy(), [[5, 6, 7], [8, 0, 0], [9, 10, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])
    assert y.tolist() == [0, 1, 0] and tokens.dtype == ember.int64


def test_packed_classifier_ignores_the_padding_and_padded_does_not():
    """The same text alone or beside a longer one: the packed LSTM and the bag of embeddings give
    the same logits; the padded LSTM reads the padding and changes its answer."""
    text = np.array([4, 5, 6])
    for mode, same in (("packed", True), ("bag", True), ("transformer", True),
                       ("padded", False)):
        ember.manual_seed(0)
        model = TopicClassifier(10, 3, mode, embedding=8, hidden=5, max_len=9)
        alone, = padded_batches([text], [0], 8)
        beside, = padded_batches([text, np.arange(1, 10)], [0, 1], 8)
        a = model(alone[0], alone[1]).detach().numpy()[0]
        b = model(beside[0], beside[1]).detach().numpy()[0]
        assert np.allclose(a, b, atol=1e-6) == same, mode
    with pytest.raises(ValueError, match="mode must be one of"):
        TopicClassifier(10, 3, "cnn")


@pytest.mark.parametrize("mode", ["packed", "padded", "bag", "transformer"])
def test_each_classifier_learns_two_distinct_topics(fortunes_dir, mode):
    cfg = TextClassConfig(topics=("cats", "cars"), min_count=1, embedding=8, hidden=8, epochs=15,
                          batch_size=8, lr=2e-2, root=fortunes_dir)
    result = train_topic_classifier(mode, cfg, print_fn=None)
    assert result["loss"][-1] < 0.5 * result["loss"][0]
    assert result["train_accuracy"] == 1.0 and result["test_accuracy"] >= 0.75


def test_cli_on_a_small_directory_and_bad_options(fortunes_dir, capsys):
    assert main(["textclass", "--fortunes-dir", fortunes_dir, "--topics", "cats,cars",
                 "--epochs", "2", "--min-count", "1", "--hidden", "4", "--embedding", "4",
                 "--models", "packed,bag"]) == 0
    out = capsys.readouterr().out
    assert "cats (16), cars (16) training fortunes; 8 test fortunes" in out
    assert "majority class 0.500" in out
    assert "  packed      train accuracy" in out and "  bag         train accuracy" in out
    with pytest.raises(SystemExit, match="--models takes packed, padded, bag, transformer"):
        main(["textclass", "--models", "packed,cnn"])
    with pytest.raises(SystemExit, match="no fortune file dogs"):
        main(["textclass", "--fortunes-dir", fortunes_dir, "--topics", "cats,dogs"])
    with pytest.raises(SystemExit, match="--epochs must be >= 1"):
        main(["textclass", "--fortunes-dir", fortunes_dir, "--epochs", "0"])


@pytest.mark.skipif(not os.path.isdir(FORTUNES_DIR), reason="the fortunes package is not installed")
def test_the_default_topics_of_the_fortunes_package():
    data = TopicData(TextClassConfig())
    assert np.bincount(data.train_y).tolist() == [841, 562, 500, 466]
    assert len(data.test_x) == 592 and 0.35 < data.majority_accuracy() < 0.36
    assert max(x.size for x in data.train_x) == 100 and min(x.size for x in data.train_x) >= 1


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FORTUNES_DIR), reason="the fortunes package is not installed")
def test_the_command_defaults_learn_the_topics(capsys):
    """`ember textclass` with its defaults (seed 0): every model far above the majority class;
    measured figures in docs/sequence-projects.md."""
    assert main(["textclass"]) == 0
    out = capsys.readouterr().out
    majority = float(out.split("majority class ")[1].split()[0])
    for mode in ("packed", "padded", "bag", "transformer"):
        test_accuracy = float(out.split(f"  {mode:<11} train accuracy")[1].split()[3])
        assert test_accuracy > majority + 0.2, (mode, test_accuracy)
