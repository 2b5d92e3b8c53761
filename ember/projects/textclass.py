"""Text classification on real text (`ember textclass`): the topic of a fortune, that is which
file of the `fortunes` package it comes from (by default computers, politics, science or
men-women), from its words.

A fortune is a sequence of word indices of its own length (a few words to a hundred). The
classifier reads each one to its own end: the batch is padded, packed with
`nn.utils.rnn.pack_padded_sequence`, and a bidirectional LSTM's final states (forward after the
last word, reverse after the first) feed a Linear head. Two references on the same data:
- "padded": the same LSTM on the padded batch as it is, as code that forgets to pack does: its
  forward state is read after the padding, and its reverse direction starts in the padding;
- "bag": the mean of the word embeddings (word order ignored), the classic strong baseline for
  topics;
- "transformer": word and position embeddings through one Transformer encoder layer, the
  padding masked out of attention, averaged over the text's words;
and the majority class, the accuracy of always answering the most frequent topic.
"""
import os
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..backend import manual_seed, rng
from ..ops import cat
from ..tensor import Tensor
from .corpus import FORTUNES_DIR, read_fortune_file
from .options import require_at_least_one

TOPICS = ("computers", "politics", "science", "men-women")
MODELS = ("packed", "padded", "bag", "transformer")
PAD, UNKNOWN = 0, 1  # the two reserved word indices


def words(text):
    """Lower-cased runs of letters, digits and apostrophes."""
    return re.findall(r"[a-z0-9']+", text.lower())


def topic_split(topics=TOPICS, root=FORTUNES_DIR, test_fraction=0.2, seed=0):
    """(train, test): each a (texts, labels) pair, label k for a fortune of file topics[k]. Every
    topic is split in the same proportion (a stratified split), shuffled by `seed`."""
    if len(topics) < 2:
        raise ValueError(f"topic_split: need at least 2 topics, got {list(topics)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"topic_split: test_fraction must be in (0, 1), got {test_fraction}")
    missing = [t for t in topics if not os.path.isfile(os.path.join(root, t))]
    if missing:
        raise FileNotFoundError(f"topic_split: no fortune file {', '.join(missing)} in {root} "
                                f"(on Debian/Ubuntu: apt-get install fortunes)")
    gen = np.random.default_rng(seed)
    train, test = ([], []), ([], [])
    for label, topic in enumerate(topics):
        texts = read_fortune_file(os.path.join(root, topic))
        order = gen.permutation(len(texts))
        n_test = max(1, round(test_fraction * len(texts)))
        for part, idx in ((test, order[:n_test]), (train, order[n_test:])):
            part[0].extend(texts[i] for i in idx)
            part[1].extend([label] * len(idx))
    return train, test


class WordVocab:
    """The words seen at least `min_count` times in the training texts, by decreasing count;
    index 0 is padding and 1 stands for every other word."""

    def __init__(self, texts, min_count=2):
        counts = Counter(w for t in texts for w in words(t))
        kept = sorted((w for w, c in counts.items() if c >= min_count),
                      key=lambda w: (-counts[w], w))
        self.itos = ["<pad>", "<unk>"] + kept
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, text, max_words):
        """The first max_words words' indices (int64; one <unk> for a text without words)."""
        ids = [self.stoi.get(w, UNKNOWN) for w in words(text)[:max_words]]
        return np.array(ids or [UNKNOWN], dtype=np.int64)


def padded_batches(sequences, labels, batch_size, shuffle=False):
    """(tokens (B, T) int64 padded with 0, lengths (B,), labels (B,)) per batch, T the batch's
    longest sequence; shuffled with ember's generator when asked."""
    n = len(sequences)
    order = rng().permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        lengths = np.array([sequences[i].size for i in idx], dtype=np.int64)
        tokens = np.zeros((idx.size, lengths.max()), dtype=np.int64)
        tokens[np.arange(lengths.max()) < lengths[:, None]] = np.concatenate(
            [sequences[i] for i in idx])
        yield Tensor(tokens), lengths, Tensor(np.asarray(labels)[idx].astype(np.int64))


class TopicClassifier(nn.Module):
    """(tokens (B, T), lengths (B,)) -> topic logits (B, classes).

    mode "packed": Embedding -> bidirectional LSTM on the packed batch -> Linear on
    [h_forward, h_reverse]; "padded": the same on the padded batch as it is; "bag": Linear on the
    mean of the word embeddings of each text's own words; "transformer": word plus learned
    position embeddings (up to max_len) -> a TransformerEncoderLayer (4 heads, feed-forward
    2 hidden, the padding masked out of attention) -> Linear on the mean over the text's own
    words. Dropout p (training only) on the word embeddings and on the head's input (and in the
    encoder layer)."""

    def __init__(self, vocab_size, classes, mode="packed", embedding=64, hidden=64, dropout=0.0,
                 max_len=512):
        super().__init__()
        if mode not in MODELS:
            raise ValueError(f"TopicClassifier: mode must be one of {MODELS}, got {mode!r}")
        self.mode = mode
        self.embed = nn.Embedding(vocab_size, embedding, padding_idx=PAD)
        self.drop = nn.Dropout(dropout)
        if mode == "bag":
            self.head = nn.Linear(embedding, classes)
        elif mode == "transformer":
            self.position = nn.Embedding(max_len, embedding)
            self.encoder = nn.TransformerEncoderLayer(embedding, 4, 2 * hidden, dropout,
                                                      batch_first=True)
            self.head = nn.Linear(embedding, classes)
        else:
            self.lstm = nn.LSTM(embedding, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, classes)

    def forward(self, tokens, lengths):
        e = self.drop(self.embed(tokens))
        count = Tensor(np.asarray(lengths, e.dtype)[:, None])
        if self.mode == "bag":  # the padding rows of the embedding are zero
            return self.head(self.drop(e.sum(1) / count))
        if self.mode == "transformer":
            padding = tokens == PAD
            e = e + self.position(Tensor(np.arange(tokens.shape[1])))
            h = self.encoder(e, src_key_padding_mask=padding)
            h = h.masked_fill(padding.unsqueeze(-1), 0.0)
            return self.head(self.drop(h.sum(1) / count))
        if self.mode == "packed":
            e = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True,
                                                  enforce_sorted=False)
        _, (h, _) = self.lstm(e)
        return self.head(self.drop(cat([h[0], h[1]], 1)))


@dataclass
class TextClassConfig:
    topics: tuple = TOPICS
    max_words: int = 100
    min_count: int = 2
    embedding: int = 64
    hidden: int = 64
    dropout: float = 0.0
    epochs: int = 6
    batch_size: int = 32
    lr: float = 1e-2
    seed: int = 0
    root: str = FORTUNES_DIR

    def check(self):
        require_at_least_one(self, "max_words", "min_count", "embedding", "hidden", "epochs",
                             "batch_size")
        if not self.lr > 0:
            raise ValueError(f"--lr must be > 0, got {self.lr}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1), got {self.dropout}")
        if len(set(self.topics)) < 2:
            raise ValueError(f"--topics needs at least 2 different files, got "
                             f"{','.join(self.topics)}")


class TopicData:
    """The split, the vocabulary of the training texts and every text encoded."""

    def __init__(self, cfg):
        (train_texts, self.train_y), (test_texts, self.test_y) = topic_split(
            cfg.topics, cfg.root, seed=cfg.seed)
        self.vocab = WordVocab(train_texts, cfg.min_count)
        self.train_x = [self.vocab.encode(t, cfg.max_words) for t in train_texts]
        self.test_x = [self.vocab.encode(t, cfg.max_words) for t in test_texts]

    def majority_accuracy(self):
        """Test accuracy of always answering the training set's most frequent topic."""
        top = np.bincount(self.train_y).argmax()
        return float(np.mean(np.asarray(self.test_y) == top))


def accuracy(model, sequences, labels, batch_size=256):
    model.eval()
    correct = 0
    with no_grad():
        for tokens, lengths, y in padded_batches(sequences, labels, batch_size):
            correct += int((model(tokens, lengths).argmax(1).numpy() == y.numpy()).sum())
    model.train()
    return correct / len(sequences)


def train_topic_classifier(mode, cfg, data=None, print_fn=print):
    """Train one classifier; returns {"loss": per-epoch mean training loss, "test_accuracy",
    "train_accuracy"}."""
    cfg.check()
    data = data or TopicData(cfg)
    manual_seed(cfg.seed)
    model = TopicClassifier(len(data.vocab), len(cfg.topics), mode, cfg.embedding, cfg.hidden,
                            cfg.dropout, cfg.max_words)
    opt = optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(cfg.epochs):
        total = 0.0
        for tokens, lengths, y in padded_batches(data.train_x, data.train_y, cfg.batch_size,
                                                 shuffle=True):
            loss = loss_fn(model(tokens, lengths), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(lengths)
        losses.append(total / len(data.train_x))
        if print_fn:
            print_fn(f"  {mode:<11} epoch {epoch + 1}: train loss {losses[-1]:.4f}")
    return {"loss": losses, "model": model,
            "train_accuracy": accuracy(model, data.train_x, data.train_y),
            "test_accuracy": accuracy(model, data.test_x, data.test_y)}


# ---- the command --------------------------------------------------------------------------------
def add_parser(sub):
    d = TextClassConfig()
    p = sub.add_parser("textclass", help="the topic of a fortune from its words: an LSTM on "
                                         "packed variable-length sequences",
                       description="Classifies fortunes (the Debian package `fortunes`) by the "
                                   "file they come from, from their words: a bidirectional "
                                   "LSTM on packed batches, the same LSTM on padded batches, "
                                   "the mean of the word embeddings and a Transformer encoder "
                                   "layer; prints each one's test accuracy beside the majority "
                                   "class's.")
    p.add_argument("--topics", default=",".join(d.topics),
                   help=f"comma-separated fortune files (default {','.join(d.topics)})")
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated, from {', '.join(MODELS)} (default all)")
    for k in ("max_words", "min_count", "embedding", "hidden", "epochs", "batch_size", "seed"):
        p.add_argument(f"--{k.replace('_', '-')}", type=int, default=getattr(d, k), dest=k)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--dropout", type=float, default=d.dropout,
                   help="on the word embeddings and the head's input (default %(default)s)")
    p.add_argument("--fortunes-dir", default=d.root, dest="root",
                   help=f"where the fortune files are (default {d.root})")
    p.set_defaults(run=_run)
    return p


def _run(args, parser):
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or any(m not in MODELS for m in models):
        raise SystemExit(f"ember textclass: --models takes {', '.join(MODELS)}, got "
                         f"{args.models!r}")
    cfg = TextClassConfig(tuple(t.strip() for t in args.topics.split(",") if t.strip()),
                          args.max_words, args.min_count, args.embedding, args.hidden,
                          args.dropout, args.epochs, args.batch_size, args.lr, args.seed,
                          args.root)
    try:
        cfg.check()
        data = TopicData(cfg)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember textclass: {e}")
    counts = np.bincount(data.train_y, minlength=len(cfg.topics))
    print(f"topics: {', '.join(f'{t} ({c})' for t, c in zip(cfg.topics, counts))} training "
          f"fortunes; {len(data.test_x)} test fortunes; {len(data.vocab)} words in the "
          f"vocabulary; up to {cfg.max_words} words each; seed {cfg.seed}")
    results = {m: train_topic_classifier(m, cfg, data) for m in models}
    print(f"test accuracy: majority class {data.majority_accuracy():.3f}")
    for m, r in results.items():
        print(f"  {m:<11} train accuracy {r['train_accuracy']:.3f}  test accuracy "
              f"{r['test_accuracy']:.3f}")
    return 0
