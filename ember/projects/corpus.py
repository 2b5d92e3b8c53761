"""Text for character models: reading a corpus, the character vocabulary, the train/validation
split and truncated-BPTT batches.

    text = read_corpus()                       # the `fortunes` package, or read_corpus("book.txt")
    vocab = Vocab.from_text(text)
    train, val = split_ids(vocab.encode(text), val_fraction=0.05)
    for x, y in tbptt_batches(batchify(train, 32), seq_len=100):
        ...   # x, y: (100, 32) int64, y[t] = x[t + 1]; batch k + 1 continues batch k's streams
"""
import json
import math
import os

import numpy as np

FORTUNES_DIR = "/usr/share/games/fortunes"


def _fortune_files(root):
    """The text files of a fortune directory: not the .dat indexes nor the .u8 symlinks."""
    names = sorted(os.listdir(root))
    paths = [os.path.join(root, n) for n in names if not n.endswith((".dat", ".u8"))]
    return [p for p in paths if os.path.isfile(p) and not os.path.islink(p)]


def read_fortunes(root=FORTUNES_DIR):
    """The fortunes of every file in `root`, as a list of strings (see read_fortune_file)."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"no fortune directory at {root} (on Debian/Ubuntu: "
                                "apt-get install fortunes), or pass --corpus FILE")
    fortunes = [f for path in _fortune_files(root) for f in read_fortune_file(path)]
    if not fortunes:
        raise ValueError(f"no fortunes found in {root}")
    return fortunes


def read_fortune_file(path):
    """The fortunes of one fortune file (quotations separated by lines that are a single '%'),
    each with its surrounding blank lines stripped; empty ones are dropped."""
    fortunes, chunk = [], []
    for line in _read_utf8(path).splitlines():
        if line.strip() == "%":
            fortunes.append("\n".join(chunk).strip("\n"))
            chunk = []
        else:
            chunk.append(line.rstrip())
    fortunes.append("\n".join(chunk).strip("\n"))
    return [f for f in fortunes if f.strip()]


def _read_utf8(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r})"
                         ) from None


def read_corpus(path=None):
    """The training text: the `fortunes` package when path is None (fortunes joined by blank
    lines), the fortunes of a directory of fortune files, or a UTF-8 text file as it is."""
    if path is None or os.path.isdir(path):
        return "\n\n".join(read_fortunes(FORTUNES_DIR if path is None else path)) + "\n"
    if not os.path.exists(path):
        raise FileNotFoundError(f"no corpus at {path}")
    text = _read_utf8(path)
    if len(text) < 2:
        raise ValueError(f"{path} holds {len(text)} characters; a corpus needs at least 2")
    return text


class Vocab:
    """The characters of a corpus, each with an index: stoi[c] = i, itos[i] = c (sorted order)."""

    def __init__(self, chars):
        chars = list(chars)
        if len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
            raise ValueError("Vocab: expected distinct single characters")
        self.itos = chars
        self.stoi = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text)))

    def __len__(self):
        return len(self.itos)

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.itos == other.itos

    def encode(self, text):
        """The indices of text's characters, as an int64 array."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError:
            unknown = sorted(set(text) - set(self.stoi))
            raise ValueError(f"Vocab.encode: {len(unknown)} character(s) not in the vocabulary: "
                             f"{''.join(unknown)!r}") from None

    def decode(self, ids):
        return "".join(self.itos[int(i)] for i in np.asarray(ids).ravel())

    def to_json(self):
        return json.dumps(self.itos, ensure_ascii=False)

    @classmethod
    def from_json(cls, text):
        return cls(json.loads(text))


def split_ids(ids, val_fraction=0.05, pieces=20):
    """(train, val): the text cut into `pieces` equal parts, the last val_fraction of each part
    going to validation, so that validation samples the whole corpus (every fortune file, every
    chapter) rather than only its end."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    ids = np.asarray(ids)
    bounds = np.linspace(0, len(ids), pieces + 1).astype(int)
    train, val = [], []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        cut = hi - int(round((hi - lo) * val_fraction))
        train.append(ids[lo:cut])
        val.append(ids[cut:hi])
    train, val = np.concatenate(train), np.concatenate(val)
    if len(train) < 2 or len(val) < 2:
        raise ValueError(f"a corpus of {len(ids)} characters is too short to split into training "
                         f"and validation text (val_fraction {val_fraction})")
    return train, val


def batchify(ids, batch_size):
    """Lay the text out as batch_size parallel streams: column b of the (n, batch_size) result
    is the b-th contiguous slice of the text, n = len(ids) // batch_size (the tail is dropped)."""
    ids = np.asarray(ids)
    n = len(ids) // batch_size
    if batch_size < 1 or n < 2:
        raise ValueError(f"batchify: {len(ids)} characters cannot make {batch_size} streams of "
                         "at least 2 characters")
    return np.ascontiguousarray(ids[:n * batch_size].reshape(batch_size, n).T)


def tbptt_batches(streams, seq_len):
    """Consecutive windows of the streams for truncated backpropagation through time.

    Yields (x, y), both (L, batch) with L <= seq_len: x = streams[i:i + L], y = streams[i + 1:
    i + 1 + L] (the next character), for i = 0, seq_len, 2 seq_len, ... Column b of batch k + 1
    continues column b of batch k, so the hidden state can be carried from one batch to the next.
    """
    if seq_len < 1:
        raise ValueError(f"tbptt_batches: seq_len must be >= 1, got {seq_len}")
    n = len(streams) - 1
    for i in range(0, n, seq_len):
        L = min(seq_len, n - i)
        yield streams[i:i + L], streams[i + 1:i + 1 + L]


def num_batches(streams, seq_len):
    return math.ceil((len(streams) - 1) / seq_len)


def bits_per_char(mean_nll):
    """Bits per character from the mean negative log-likelihood in nats: nll / ln 2."""
    return float(mean_nll) / math.log(2)
