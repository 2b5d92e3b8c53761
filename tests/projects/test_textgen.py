"""`ember textgen`: corpus reading, the vocabulary, TBPTT batches, bits per character, sampling,
checkpoints, the command line, and a small model that learns."""
import json
import math
import os

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.projects.corpus import (FORTUNES_DIR, Vocab, batchify, bits_per_char, num_batches,
                                   read_corpus, read_fortunes, split_ids, tbptt_batches)
from ember.projects import textgen
from ember.projects.textgen import (CharLSTM, TextGenConfig, evaluate_bpc, load_run,
                                    next_char_probs, sample, train_textgen)


# ---- corpus ---------------------------------------------------------------------------------
def _fortune_dir(tmp_path):
    root = tmp_path / "fortunes"
    root.mkdir()
    (root / "one").write_text("First fortune,\ntwo lines.\n%\n\nSecond one.\n\t\t-- Someone\n%\n"
                              "%\nThird.\n", encoding="utf-8")
    (root / "one.dat").write_bytes(b"\x00\x00\x00\x02binary index")
    os.symlink(root / "one", root / "one.u8")
    (root / "two").write_text("Zebra \u00e9t\u00e9.\n%\n", encoding="utf-8")
    return root


def test_read_fortunes_splits_on_percent_and_skips_dat_and_symlinks(tmp_path):
    root = _fortune_dir(tmp_path)
    assert read_fortunes(str(root)) == ["First fortune,\ntwo lines.",
                                        "Second one.\n\t\t-- Someone", "Third.",
                                        "Zebra \u00e9t\u00e9."]
    text = read_corpus(str(root))
    assert text.startswith("First fortune,\ntwo lines.\n\nSecond one.") and "%" not in text


def test_read_corpus_file_and_errors(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("hello, world\n", encoding="utf-8")
    assert read_corpus(str(f)) == "hello, world\n"
    with pytest.raises(FileNotFoundError, match="no corpus at"):
        read_corpus(str(tmp_path / "missing.txt"))
    (tmp_path / "latin1.txt").write_bytes("caf\u00e9".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_corpus(str(tmp_path / "latin1.txt"))
    with pytest.raises(FileNotFoundError, match="fortune"):
        read_fortunes(str(tmp_path / "nowhere"))


@pytest.mark.skipif(not os.path.isdir(FORTUNES_DIR), reason="the fortunes package is not installed")
def test_default_corpus_is_the_fortunes_package():
    text = read_corpus()
    assert len(text) > 2_000_000
    assert "\n%\n" not in text and not text.startswith("%")
    assert "\x00" not in text          # no .dat index was read


def test_vocab_round_trip_and_unknown_characters():
    text = "the cat sat\n\u00e9!"
    v = Vocab.from_text(text)
    assert len(v) == len(set(text)) and v.itos == sorted(set(text))
    ids = v.encode(text)
    assert ids.dtype == np.int64 and v.decode(ids) == text
    assert Vocab.from_json(v.to_json()) == v
    with pytest.raises(ValueError, match="not in the vocabulary: 'XZ'"):
        v.encode("cat ZX")
    with pytest.raises(ValueError, match="distinct single characters"):
        Vocab(["a", "a"])


def test_split_covers_the_text_with_validation_from_every_part():
    ids = np.arange(1000)
    train, val = split_ids(ids, val_fraction=0.1, pieces=10)
    assert len(train) == 900 and len(val) == 100
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), ids)
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)   # order kept
    assert val.min() < 100 and val.max() == 999     # the first part contributes too
    with pytest.raises(ValueError, match="val_fraction"):
        split_ids(ids, 0)


def test_batchify_lays_out_contiguous_streams():
    streams = batchify(np.arange(23), 4)            # 5 per stream, 3 dropped
    assert streams.shape == (5, 4)
    for b in range(4):
        np.testing.assert_array_equal(streams[:, b], np.arange(5 * b, 5 * b + 5))
    with pytest.raises(ValueError, match="batchify"):
        batchify(np.arange(5), 4)


def test_tbptt_batches_continue_each_stream():
    streams = batchify(np.arange(4 * 23), 4)        # 23 steps per stream
    batches = list(tbptt_batches(streams, 5))
    assert len(batches) == num_batches(streams, 5) == 5
    assert [x.shape for x, _ in batches] == [(5, 4)] * 4 + [(2, 4)]
    for x, y in batches:
        np.testing.assert_array_equal(y, x + 1)     # the target is the next character
    for (x0, y0), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1[0], y0[-1])   # batch k + 1 picks up where k ended
    seen = np.concatenate([x for x, _ in batches])
    np.testing.assert_array_equal(seen, streams[:-1])


def test_bits_per_char_of_a_uniform_model_is_log2_of_the_vocabulary():
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    ember.manual_seed(0)
    model = CharLSTM(10, embedding=4, hidden=8)
    model.head.weight.data[...] = 0                 # equal logits: p = 1/10 everywhere
    model.head.bias.data[...] = 0
    bpc = evaluate_bpc(model, batchify(np.arange(200) % 10, 4), seq_len=7)
    assert bpc == pytest.approx(math.log2(10), rel=1e-6)


# ---- sampling -------------------------------------------------------------------------------
def test_next_char_probs_temperature_top_k_and_argmax():
    logits = np.array([1.0, 3.0, 2.0, 0.0])
    p = next_char_probs(logits, 1.0)
    np.testing.assert_allclose(p, np.exp(logits) / np.exp(logits).sum())
    p = next_char_probs(logits, 0.5)
    np.testing.assert_allclose(p, np.exp(2 * logits) / np.exp(2 * logits).sum())
    p = next_char_probs(logits, 1.0, top_k=2)
    assert p[0] == 0 and p[3] == 0
    np.testing.assert_allclose(p[[1, 2]], np.exp([1.0, 0.0]) / np.exp([1.0, 0.0]).sum())
    np.testing.assert_array_equal(next_char_probs(logits, 0), [0, 1, 0, 0])
    np.testing.assert_allclose(next_char_probs(logits, 1.0, top_k=10), next_char_probs(logits))
    with pytest.raises(ValueError, match="temperature"):
        next_char_probs(logits, -1)
    with pytest.raises(ValueError, match="top_k"):
        next_char_probs(logits, 1.0, top_k=0)


def _small_model(text="abcab cab\n"):
    vocab = Vocab.from_text(text)
    ember.manual_seed(3)
    return CharLSTM(len(vocab), embedding=4, hidden=8), vocab


def test_sample_is_deterministic_with_a_seed_and_keeps_the_prompt():
    model, vocab = _small_model()
    a = sample(model, vocab, "ab", length=40, temperature=1.0, seed=7)
    b = sample(model, vocab, "ab", length=40, temperature=1.0, seed=7)
    c = sample(model, vocab, "ab", length=40, temperature=1.0, seed=8)
    assert a == b and a != c
    assert a.startswith("ab") and len(a) == 42 and set(a) <= set(vocab.itos)
    top1 = sample(model, vocab, "", length=20, top_k=1, seed=1)
    assert top1 == sample(model, vocab, "", length=20, temperature=0, seed=2)   # both argmax
    with pytest.raises(ValueError, match="not in the vocabulary"):
        sample(model, vocab, "xyz", length=5)


# ---- training, checkpoints, the command -------------------------------------------------------
def test_tiny_corpus_is_learned_and_the_checkpoint_round_trips(tmp_path):
    text = "the quick brown fox jumps over the lazy dog.\n" * 60
    cfg = TextGenConfig(epochs=8, seq_len=20, batch_size=8, embedding=8, hidden=32, lr=1e-2,
                        time_limit=0, val_fraction=0.1)
    history = train_textgen(cfg, str(tmp_path), text=text, print_fn=lambda *a: None)
    vocab_size = len(set(text))
    counts = np.unique(list(text), return_counts=True)[1] / len(text)
    unigram = float(-(counts * np.log2(counts)).sum())    # the best context-free model
    assert history[0]["val_bpc"] < math.log2(vocab_size)
    assert history[-1]["val_bpc"] < 0.25 * unigram       # it uses the context
    for name in ("model.safetensors", "config.json", "vocab.json", "history.csv"):
        assert os.path.exists(tmp_path / name), name
    assert json.loads((tmp_path / "config.json").read_text())["hidden"] == 32
    model, vocab, ckpt = load_run(str(tmp_path))
    assert vocab.itos == json.loads((tmp_path / "vocab.json").read_text())
    assert ckpt["val_bpc"] == min(h["val_bpc"] for h in history)
    greedy = sample(model, vocab, "the quick", length=30, temperature=0)
    assert greedy.startswith("the quick brown fox jumps over the ")


def test_time_limit_stops_training_inside_an_epoch(tmp_path):
    text = "abcdefgh" * 5000
    cfg = TextGenConfig(epochs=50, seq_len=4, batch_size=2, embedding=4, hidden=8,
                        time_limit=0.2, val_fraction=0.1)
    lines = []
    history = train_textgen(cfg, str(tmp_path), text=text, print_fn=lines.append)
    assert len(history) == 1 and "time limit reached" in lines[-2]


def test_the_schedule_anneals_over_the_epochs_or_the_time_limit_whichever_ends_first(
        monkeypatch):
    now = [100.0]
    monkeypatch.setattr(textgen.time, "perf_counter", lambda: now[0])
    progress = textgen._progress_fn(200, 0, start=100.0)          # no time limit: by steps
    now[0] = 1e6
    assert progress(50) == 0.25 and progress(200) == 1.0
    progress = textgen._progress_fn(200, 10.0, start=100.0)
    now[0] = 105.0
    assert progress(50) == 0.5                                    # the clock is further along
    assert progress(150) == 0.75                                  # the steps are
    now[0] = 130.0
    assert progress(10) == 1.0                                    # the learning rate is 0


def test_cli_train_and_sample(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("hello world, hello there.\n" * 20, encoding="utf-8")
    out = str(tmp_path / "run")
    assert main(["textgen", "train", "--corpus", str(corpus), "--out", out, "--epochs", "1",
                 "--seq-len", "10", "--batch-size", "4", "--hidden", "16", "--embedding",
                 "8"]) == 0
    assert "validation bpc" in capsys.readouterr().out
    assert main(["textgen", "sample", "--checkpoint", out, "--prompt", "hel", "--length",
                 "12", "--seed", "0", "--top-k", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("hel") and len(text.rstrip("\n")) >= 15


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit, match="ember textgen train: --hidden must be >= 1"):
        main(["textgen", "train", "--out", str(tmp_path), "--hidden", "0"])
    with pytest.raises(SystemExit, match="ember textgen train: no corpus at"):
        main(["textgen", "train", "--out", str(tmp_path), "--corpus", str(tmp_path / "no")])
    with pytest.raises(SystemExit, match="ember textgen sample: no checkpoint"):
        main(["textgen", "sample", "--checkpoint", str(tmp_path / "none")])
    (tmp_path / "other.safetensors").write_bytes(b"")
    ember.save({"w": np.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(SystemExit, match="not an `ember textgen` checkpoint"):
        main(["textgen", "sample", "--checkpoint", str(tmp_path / "other.safetensors")])
    with pytest.raises(SystemExit) as e:          # argparse: --out is required
        main(["textgen", "train"])
    assert e.value.code == 2 and "--out" in capsys.readouterr().err
    assert main(["textgen"]) == 2                 # no sub-command: the help, and a failure code


def test_eval_every_validates_inside_the_epoch(tmp_path):
    cfg = TextGenConfig(epochs=1, seq_len=4, batch_size=2, embedding=4, hidden=8, eval_every=10,
                        val_fraction=0.1)
    history = train_textgen(cfg, str(tmp_path), text="abcdefgh" * 100, print_fn=lambda *a: None)
    assert [h["batch"] for h in history] == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert all(h["val_bpc"] > 0 for h in history)
    with pytest.raises(ValueError, match="--eval-every must be >= 0"):
        train_textgen(TextGenConfig(eval_every=-1), str(tmp_path), text="ab" * 50)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FORTUNES_DIR), reason="the fortunes package is not installed")
def test_a_slice_of_the_fortunes_is_learned_below_its_unigram_entropy(tmp_path):
    text = read_corpus()[:300_000]
    cfg = TextGenConfig(epochs=1, hidden=128, time_limit=0)   # 180 batches of 32 x 50 chars
    history = train_textgen(cfg, str(tmp_path), text=text, print_fn=lambda *a: None)
    counts = np.unique(list(text), return_counts=True)[1] / len(text)
    unigram = float(-(counts * np.log2(counts)).sum())  # 4.8 bits
    assert history[-1]["val_bpc"] < unigram - 1.2
    model, vocab, _ = load_run(str(tmp_path))
    words = sample(model, vocab, "The ", length=300, seed=0).split()
    assert len(words) > 30                              # it has learned to put spaces
