"""Sequence classification with a long-range dependency: the LSTM against a plain RNN
(`ember seqclass`).

The task ("the first token decides"): a sequence of `length` tokens whose first token is one of
`classes` signal symbols, its label; every later token is noise, drawn from the other
vocab - classes symbols. The classifier reads the sequence to the end before
it answers (a Linear head on the last hidden state). To learn it, the gradient of the loss must
reach the first step through length - 1 recurrent steps: through a tanh RNN it shrinks at every
step (vanishing gradients), while the LSTM's additive cell state c_t = f c_{t-1} + i g carries it
as long as the forget gate stays near 1 (which the chrono initialization of its biases sets up
from the start). Chance accuracy is 1 / classes.
"""
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..backend import manual_seed, rng
from ..data import DataLoader, TensorDataset
from ..data.synthetic import _generator
from ..train import evaluate, fit
from .options import require_at_least_one

CELLS = ("lstm", "gru", "rnn")
INITS = ("chrono", "pytorch")


def first_token_task(n, length=100, vocab=8, classes=2, seed=None):
    """TensorDataset of tokens (n, length) int64 and labels (n,) int64.

    Symbols 0 .. classes - 1 are signals, the rest are noise: each sequence starts with a
    signal drawn uniformly (its label) followed by length - 1 noise symbols drawn uniformly (the
    setting of Hochreiter and Schmidhuber's long-time-lag experiment 2a, 1997)."""
    if length < 1 or vocab <= classes or classes < 2:
        raise ValueError(f"first_token_task: need length >= 1 and vocab > classes >= 2, got "
                         f"length={length}, vocab={vocab}, classes={classes}")
    gen = _generator(seed)
    labels = gen.integers(0, classes, size=n)
    tokens = gen.integers(classes, vocab, size=(n, length))
    tokens[:, 0] = labels
    return TensorDataset(tokens.astype(np.int64), labels.astype(np.int64))


class SequenceClassifier(nn.Module):
    """tokens (N, T) -> class logits (N, classes): Embedding -> LSTM/GRU/RNN -> Linear on the
    last step's hidden state.

    chrono_length (LSTM only): when given, the "chrono" initialization of the gate biases
    (Tallec and Ollivier, "Can recurrent neural networks warp time?", 2018): forget-gate bias
    b_f = log(u), u ~ U(1, chrono_length - 1), and input-gate bias b_i = -b_f, so that unit j
    starts out keeping its cell state for about u_j steps and writing little at each step.
    PyTorch's init (every bias about 0) starts every forget gate at sigmoid(0) = 1/2: the cell
    halves at every step, and after 100 steps 2^-99 of the first input is left."""

    def __init__(self, vocab, classes, cell="lstm", embedding=16, hidden=32, chrono_length=None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"SequenceClassifier: cell must be one of {CELLS}, got {cell!r}")
        self.embed = nn.Embedding(vocab, embedding)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = rnn(embedding, hidden, batch_first=True)
        if cell == "lstm" and chrono_length is not None:
            chrono_init_(self.rnn, chrono_length)
        self.head = nn.Linear(hidden, classes)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out[:, -1])


def chrono_init_(lstm, length):
    """Chrono-initialize an nn.LSTM's biases in place, every layer (gate order i, f, g, o):
    b_f = log U(1, length - 1), b_i = -b_f, the other gates' biases and all of b_hh zero."""
    if length < 3:
        raise ValueError(f"chrono_init_: length must be >= 3, got {length}")
    h = lstm.hidden_size
    gen = rng()
    for name, p in lstm.named_parameters():
        if name.startswith("bias_hh"):
            p.data[...] = 0.0
        elif name.startswith("bias_ih"):
            forget = np.log(gen.uniform(1.0, length - 1.0, size=h))
            p.data[...] = 0.0
            p.data[h:2 * h] = forget
            p.data[:h] = -forget


@dataclass
class SeqClassConfig:
    length: int = 200
    vocab: int = 8
    classes: int = 2
    train: int = 2000
    test: int = 1000
    epochs: int = 5
    batch_size: int = 32
    hidden: int = 32
    lr: float = 1e-2
    init: str = "chrono"       # the LSTM's gate biases: "chrono" or "pytorch"
    seed: int = 0

    def check(self):
        require_at_least_one(self, "length", "train", "test", "epochs", "batch_size", "hidden")
        if self.classes < 2 or self.vocab <= self.classes:
            raise ValueError(f"need --vocab > --classes >= 2, got {self.vocab} and "
                             f"{self.classes}")
        if not self.lr > 0:
            raise ValueError(f"--lr must be > 0, got {self.lr}")
        if self.init not in INITS:
            raise ValueError(f"--init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.init == "chrono" and self.length < 3:
            raise ValueError(f"--init chrono needs --length >= 3, got {self.length}")


def train_classifier(cell, cfg, print_fn=print, verbose=False):
    """Train one classifier on the task; returns its test {"loss", "accuracy"} and the history."""
    cfg.check()
    train = first_token_task(cfg.train, cfg.length, cfg.vocab, cfg.classes, seed=cfg.seed)
    test = first_token_task(cfg.test, cfg.length, cfg.vocab, cfg.classes, seed=cfg.seed + 1)
    manual_seed(cfg.seed)
    chrono = cfg.length if cfg.init == "chrono" else None
    model = SequenceClassifier(cfg.vocab, cfg.classes, cell, hidden=cfg.hidden,
                               chrono_length=chrono)
    optimizer = optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    history = fit(model, loss_fn, optimizer, DataLoader(train, cfg.batch_size, shuffle=True),
                  epochs=cfg.epochs, verbose=verbose, print_fn=print_fn)
    return evaluate(model, loss_fn, DataLoader(test, batch_size=500)), history


# ---- the command --------------------------------------------------------------------------------
def add_parser(sub):
    d = SeqClassConfig()
    p = sub.add_parser("seqclass", help="LSTM vs plain RNN on a long-range dependency",
                       description="Sequences of --length tokens whose first token (one of "
                                   "--classes signal symbols) is the label; the rest are "
                                   "noise symbols. "
                                   "Trains the chosen recurrent layers on the same data and "
                                   "prints their test loss and accuracy.")
    p.add_argument("--models", default="lstm,rnn", help="comma-separated, from lstm, gru, rnn "
                                                        "(default lstm,rnn)")
    for k in ("length", "vocab", "classes", "train", "test", "epochs", "hidden", "seed"):
        p.add_argument(f"--{k}", type=int, default=getattr(d, k))
    p.add_argument("--batch-size", type=int, default=d.batch_size, dest="batch_size")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--init", choices=INITS, default=d.init,
                   help="the LSTM's gate biases: chrono (forget gates remembering for up to "
                        "--length steps, the default) or pytorch (all about 0)")
    p.add_argument("--verbose", action="store_true", help="per-epoch lines")
    p.set_defaults(run=_run)
    return p


def _run(args, parser):
    cells = [c.strip() for c in args.models.split(",") if c.strip()]
    bad = [c for c in cells if c not in CELLS]
    if bad or not cells:
        raise SystemExit(f"ember seqclass: --models takes {', '.join(CELLS)}, got "
                         f"{args.models!r}")
    cfg = SeqClassConfig(args.length, args.vocab, args.classes, args.train, args.test,
                         args.epochs, args.batch_size, args.hidden, args.lr, args.init, args.seed)
    try:
        cfg.check()
    except ValueError as e:
        raise SystemExit(f"ember seqclass: {e}")
    print(f"first-token task: length {cfg.length}, {cfg.vocab} symbols, {cfg.classes} classes "
          f"(chance accuracy {1 / cfg.classes:.3f}); {cfg.train} train / {cfg.test} test "
          f"sequences, {cfg.epochs} epochs, hidden {cfg.hidden}, LSTM init {cfg.init}, "
          f"seed {cfg.seed}")
    for cell in cells:
        result, history = train_classifier(cell, cfg, verbose=args.verbose)
        print(f"  {cell:<5} train loss {history.last()['loss']:.4f}  test loss "
              f"{result['loss']:.4f}  test accuracy {result['accuracy']:.3f}")
    return 0
