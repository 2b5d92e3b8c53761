"""A character-level language model: Embedding -> LSTM -> Linear, trained by truncated
backpropagation through time, and sampling text from it (`ember textgen train` / `sample`).

Training reads the corpus as batch_size parallel streams; each batch is the next seq_len
characters of every stream, and the LSTM's state (h, c) carries over from one batch to the next,
detached, so the model sees unbroken context while gradients flow back only seq_len steps.
The loss is the cross-entropy of the next character; bits per character = loss / ln 2.
"""
import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..backend import manual_seed
from ..io import load, save
from ..nn import functional as F
from ..tensor import Tensor
from .corpus import (Vocab, batchify, bits_per_char, num_batches, read_corpus, split_ids,
                     tbptt_batches)
from .options import require_at_least_one

CHECKPOINT = "model.safetensors"


class CharLSTM(nn.Module):
    """Next-character logits: x (T, B) int64 -> (T, B, vocab_size), and the LSTM's state."""

    def __init__(self, vocab_size, embedding=64, hidden=256, layers=1, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embedding)
        self.lstm = nn.LSTM(embedding, hidden, layers, dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


@dataclass
class TextGenConfig:
    corpus: str = None          # None: the `fortunes` package
    epochs: int = 10            # a cap: the time limit ends the default run first
    time_limit: float = 600.0   # seconds of training; 0 = no limit
    seq_len: int = 50
    batch_size: int = 32
    embedding: int = 64
    hidden: int = 256
    layers: int = 1
    dropout: float = 0.0
    lr: float = 1e-2
    clip: float = 5.0
    eval_every: int = 0         # batches between validations (0: at each epoch's end only)
    val_fraction: float = 0.05
    seed: int = 0

    def check(self):
        require_at_least_one(self, "epochs", "seq_len", "batch_size", "embedding", "hidden",
                             "layers")
        if not self.lr > 0 or not self.clip > 0:
            raise ValueError(f"--lr and --clip must be > 0, got {self.lr} and {self.clip}")
        if self.eval_every < 0:
            raise ValueError(f"--eval-every must be >= 0, got {self.eval_every}")
        if self.time_limit < 0:
            raise ValueError(f"--time-limit must be >= 0 seconds, got {self.time_limit}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1), got {self.dropout}")


def _detach(state):
    return tuple(s.detach() for s in state)


def sequence_loss(model, x, y, state):
    """Mean next-character cross-entropy (nats) over a (T, B) batch, and the new state."""
    logits, state = model(Tensor(x), state)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Tensor(y.reshape(-1))), state


def evaluate_bpc(model, streams, seq_len=200):
    """Bits per character of the model on (n, B) streams, the state carried through them."""
    model.eval()
    total, count, state = 0.0, 0, None
    with no_grad():
        for x, y in tbptt_batches(streams, seq_len):
            loss, state = sequence_loss(model, x, y, state)
            total += loss.item() * y.size
            count += y.size
    model.train()
    return bits_per_char(total / count)


def save_run(model, vocab, cfg, out_dir, extra):
    """model.safetensors (weights, config and vocab in one file), config.json and vocab.json."""
    os.makedirs(out_dir, exist_ok=True)
    save({"model": model.state_dict(), "config": asdict(cfg), "vocab": vocab.itos, **extra},
         os.path.join(out_dir, CHECKPOINT))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(asdict(cfg), f, indent=2)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(vocab.to_json())


def load_run(path):
    """(model, vocab, checkpoint dict) from a model.safetensors file or the run folder."""
    if os.path.isdir(path):
        path = os.path.join(path, CHECKPOINT)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    ckpt = load(path)
    if not isinstance(ckpt, dict) or not {"model", "config", "vocab"} <= set(ckpt):
        raise ValueError(f"{path} is not an `ember textgen` checkpoint (it needs model, config "
                         "and vocab entries)")
    cfg = TextGenConfig(**ckpt["config"])
    vocab = Vocab(ckpt["vocab"])
    model = CharLSTM(len(vocab), cfg.embedding, cfg.hidden, cfg.layers, cfg.dropout)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, vocab, ckpt


def train_textgen(cfg, out_dir, text=None, print_fn=print, log_every=100):
    """Train a CharLSTM on cfg.corpus (or `text`), checkpointing the best validation bits per
    character to out_dir. The learning rate follows a cosine from cfg.lr down to 0 over all
    epochs' batches, or over cfg.time_limit seconds where those end sooner. Returns the history:
    one dict per evaluation (every cfg.eval_every batches, each epoch's end, and where the time
    limit stopped training)."""
    cfg.check()
    text = read_corpus(cfg.corpus) if text is None else text
    vocab = Vocab.from_text(text)
    train_ids, val_ids = split_ids(vocab.encode(text), cfg.val_fraction)
    manual_seed(cfg.seed)
    model = CharLSTM(len(vocab), cfg.embedding, cfg.hidden, cfg.layers, cfg.dropout)
    optimizer = optim.Adam(model.parameters(), lr=cfg.lr)
    streams = batchify(train_ids, cfg.batch_size)
    val_streams = batchify(val_ids, max(1, min(64, len(val_ids) // 200)))
    steps = num_batches(streams, cfg.seq_len)
    clock = (time.perf_counter(), time.process_time())
    progress = _progress_fn(cfg.epochs * steps, cfg.time_limit, clock[0])
    schedule = optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * progress(step))))
    params = sum(p.numel() for p in model.parameters())
    print_fn(f"char LSTM: {len(vocab)} characters, {len(train_ids):,} train / {len(val_ids):,} "
             f"validation; embedding {cfg.embedding}, hidden {cfg.hidden} x {cfg.layers} layer(s), "
             f"{params:,} parameters; {cfg.epochs} epoch(s) of {steps} batches "
             f"({cfg.batch_size} streams x {cfg.seq_len} steps), Adam lr {cfg.lr:g} (cosine)"
             + (f", time limit {cfg.time_limit:g} s" if cfg.time_limit else ""))
    os.makedirs(out_dir, exist_ok=True)
    history, step = [], 0

    def checkpoint(epoch, batch, train_bpc, note=""):
        record = {"epoch": epoch, "batch": batch, "step": step,
                  "seconds": round(time.perf_counter() - clock[0], 1),
                  "cpu_seconds": round(time.process_time() - clock[1], 1),
                  "train_bpc": train_bpc, "val_bpc": evaluate_bpc(model, val_streams)}
        if not history or record["val_bpc"] < min(h["val_bpc"] for h in history):
            save_run(model, vocab, cfg, out_dir, {"epoch": epoch, "step": step,
                                                  "val_bpc": record["val_bpc"]})
        history.append(record)
        _write_history(history, out_dir)
        print_fn(f"epoch {epoch}/{cfg.epochs} batch {batch}/{steps}: train bpc {train_bpc:.3f}, "
                 f"validation bpc {record['val_bpc']:.3f}, {record['seconds']:.0f} s (CPU time "
                 f"{record['cpu_seconds']:.0f} s){note}")

    for epoch in range(1, cfg.epochs + 1):
        state, run_loss, run_n = None, 0.0, 0
        for batch, (x, y) in enumerate(tbptt_batches(streams, cfg.seq_len), 1):
            loss, state = sequence_loss(model, x, y, state)
            state = _detach(state)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()
            schedule.step()
            step += 1
            run_loss += loss.item() * y.size
            run_n += y.size
            train_bpc = bits_per_char(run_loss / run_n)
            if cfg.time_limit and time.perf_counter() - clock[0] >= cfg.time_limit:
                checkpoint(epoch, batch, train_bpc, " - time limit reached")
                return _finish(history, out_dir, print_fn)
            if batch == steps:
                checkpoint(epoch, batch, train_bpc)
            elif cfg.eval_every and batch % cfg.eval_every == 0:
                checkpoint(epoch, batch, train_bpc)
            elif log_every and batch % log_every == 0:
                print_fn(f"  epoch {epoch} batch {batch}/{steps}: train bpc {train_bpc:.3f} "
                         f"({time.perf_counter() - clock[0]:.0f} s)")
    return _finish(history, out_dir, print_fn)


def _progress_fn(total_steps, time_limit, start):
    """progress(step) in [0, 1]: the fraction of training done, by steps or, with a time limit,
    by seconds since `start`, whichever is further along; the learning rate follows
    lr (1 + cos(pi progress)) / 2, so it reaches 0 at the end of the epochs or of the time."""
    def progress(step):
        done = step / total_steps
        if time_limit:
            done = max(done, (time.perf_counter() - start) / time_limit)
        return min(done, 1.0)
    return progress


def _finish(history, out_dir, print_fn):
    best = min(history, key=lambda h: h["val_bpc"])
    print_fn(f"best validation bits per character {best['val_bpc']:.3f} (epoch {best['epoch']}, "
             f"batch {best['batch']}); checkpoint {os.path.join(out_dir, CHECKPOINT)}")
    return history


def _write_history(history, out_dir):
    with open(os.path.join(out_dir, "history.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)


def next_char_probs(logits, temperature=1.0, top_k=None):
    """The sampling distribution from one step's logits (vocab_size,): softmax(logits / T) over
    the top_k largest logits (all when top_k is None); temperature 0 puts all mass on the argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if temperature == 0:
        probs = np.zeros_like(logits)
        probs[np.argmax(logits)] = 1.0
        return probs
    z = logits / temperature
    if top_k is not None and top_k < len(z):
        kth = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= kth, z, -np.inf)
    z = np.exp(z - z.max())
    return z / z.sum()


def sample(model, vocab, prompt="", length=500, temperature=0.8, top_k=None, seed=None):
    """The prompt followed by `length` characters drawn one at a time from the model (seeded by
    `seed`). An empty prompt starts after a newline (or the first character of the vocabulary)."""
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    next_char_probs(np.zeros(1), temperature, top_k)      # checks temperature and top_k
    gen = np.random.default_rng(seed)
    context = prompt if prompt else ("\n" if "\n" in vocab.stoi else vocab.itos[0])
    ids = vocab.encode(context)
    was_training = model.training
    model.eval()
    out = []
    with no_grad():
        logits, state = model(Tensor(ids.reshape(-1, 1)))
        for _ in range(length):
            probs = next_char_probs(logits.data[-1, 0], temperature, top_k)
            nxt = int(gen.choice(len(probs), p=probs))
            out.append(nxt)
            logits, state = model(Tensor(np.array([[nxt]], dtype=np.int64)), state)
    model.train(was_training)
    return prompt + vocab.decode(out)


# ---- the command --------------------------------------------------------------------------------
def add_parser(sub):
    d = TextGenConfig()
    p = sub.add_parser("textgen", help="character-level LSTM: train on a text, sample from it",
                       description="A character-level language model (Embedding -> LSTM -> "
                                   "Linear) trained by truncated backpropagation through time.")
    cmds = p.add_subparsers(dest="textgen_command", metavar="{train,sample}")
    t = cmds.add_parser("train", help="train on a corpus, reporting validation bits per char",
                        description="Train on --corpus (default: the `fortunes` package in "
                                    "/usr/share/games/fortunes) and write model.safetensors, "
                                    "config.json, vocab.json and history.csv into --out. "
                                    "Training stops after --epochs or --time-limit seconds, "
                                    "whichever comes first.")
    t.add_argument("--corpus", help="a UTF-8 text file, or a folder of fortune files")
    t.add_argument("--out", required=True, help="run folder, e.g. runs/fortunes")
    t.add_argument("--epochs", type=int, default=d.epochs,
                   help=f"passes over the text at most (default {d.epochs})")
    t.add_argument("--time-limit", type=float, default=d.time_limit, dest="time_limit",
                   help=f"seconds of training, 0 for none (default {d.time_limit:g}); the "
                        "learning rate's cosine ends with the epochs or the time, whichever "
                        "comes first")
    t.add_argument("--seq-len", type=int, default=d.seq_len, dest="seq_len",
                   help=f"steps of backpropagation through time (default {d.seq_len})")
    t.add_argument("--batch-size", type=int, default=d.batch_size, dest="batch_size",
                   help=f"parallel streams (default {d.batch_size})")
    t.add_argument("--embedding", type=int, default=d.embedding)
    t.add_argument("--hidden", type=int, default=d.hidden)
    t.add_argument("--layers", type=int, default=d.layers)
    t.add_argument("--dropout", type=float, default=d.dropout,
                   help="between LSTM layers (with --layers > 1)")
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--clip", type=float, default=d.clip, help="max gradient norm")
    t.add_argument("--eval-every", type=int, default=d.eval_every, dest="eval_every",
                   metavar="BATCHES", help="also validate every BATCHES batches (default: only "
                                           "at the end of each epoch)")
    t.add_argument("--seed", type=int, default=d.seed)
    t.set_defaults(run=_run_train)
    s = cmds.add_parser("sample", help="print text generated by a trained model")
    s.add_argument("--checkpoint", required=True, help="runs/NAME/model.safetensors or runs/NAME")
    s.add_argument("--prompt", default="")
    s.add_argument("--length", type=int, default=500)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, dest="top_k")
    s.add_argument("--seed", type=int)
    s.set_defaults(run=_run_sample)
    p.set_defaults(run=lambda args, parser: parser.print_help() or 2)
    return p


def _run_train(args, parser):
    names = [k for k in asdict(TextGenConfig()) if k != "val_fraction"]
    cfg = TextGenConfig(**{k: getattr(args, k) for k in names})
    try:
        train_textgen(cfg, args.out)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember textgen train: {e}")
    return 0


def _run_sample(args, parser):
    try:
        model, vocab, _ = load_run(args.checkpoint)
        print(sample(model, vocab, args.prompt, args.length, args.temperature, args.top_k,
                     args.seed))
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember textgen sample: {e}")
    return 0
