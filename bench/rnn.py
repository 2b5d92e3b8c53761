"""Recurrent workloads, each written once for both frameworks (`build(lib)` with lib = ember or
torch, as in bench/workloads.py): a character-model train step
    Embedding(64, 64) -> LSTM/GRU/RNN(64, 256) -> Linear(256, 64), sequence 64, batch 32,
    cross-entropy over every position, Adam.
Run directly for ember's time over PyTorch's in one process (same threads, repeats interleaved,
medians; CPU time is the process's, so compare it only with one thread):

    python bench/rnn.py [--repeats 7] [--calls 5] [--only char_lstm_step ...]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import environment_report, idle, minor_faults  # noqa: E402

VOCAB, EMBED, HIDDEN, SEQ, BATCH = 64, 64, 256, 64, 32


def _char_step(lib, cell, **kwargs):
    nn = lib.nn

    class CharModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.rnn = getattr(nn, cell)(EMBED, HIDDEN, batch_first=True, **kwargs)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):
            y, _ = self.rnn(self.embed(x))
            return self.head(y)

    model = CharModel()
    r = np.random.default_rng(0)
    text = r.integers(0, VOCAB, (BATCH, SEQ + 1))
    x, y = lib.tensor(text[:, :-1]), lib.tensor(text[:, 1:].reshape(-1))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x).reshape(-1, VOCAB), y).backward()
        opt.step()
    return step


def char_lstm_step(lib):
    return _char_step(lib, "LSTM")


def char_gru_step(lib):
    return _char_step(lib, "GRU")


def char_rnn_step(lib):
    return _char_step(lib, "RNN")


RNN_WORKLOADS = {"char_lstm_step": (char_lstm_step, 5), "char_gru_step": (char_gru_step, 5),
                 "char_rnn_step": (char_rnn_step, 5)}
# name: (builder, calls per timed repeat)


def _timed(step, calls):
    """(wall seconds, process CPU seconds, minor page faults) per call of step()."""
    f0, c0, w0 = minor_faults(), time.process_time(), time.perf_counter()
    for _ in range(calls):
        step()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return wall / calls, cpu / calls, (minor_faults() - f0) / calls


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--calls", type=int, default=None, help="calls per timed repeat")
    p.add_argument("--only", nargs="*", help="workload names to run")
    args = p.parse_args()
    import torch

    import ember
    import ember.nn  # noqa: F401
    import ember.optim  # noqa: F401
    print("\n".join(environment_report()))
    libs = (ember, torch)
    for name, (build, calls) in RNN_WORKLOADS.items():
        if args.only and name not in args.only:
            continue
        calls = args.calls or calls
        steps = {}
        for lib in libs:
            lib.manual_seed(0)
            steps[lib] = build(lib)
            steps[lib]()  # warm-up, not timed
        runs = {lib: [] for lib in libs}
        for _ in range(args.repeats):  # interleaved, so load from elsewhere hits both alike
            for lib in libs:
                idle()
                runs[lib].append(_timed(steps[lib], calls))
        med = {lib: [statistics.median(r[k] for r in runs[lib]) for k in range(3)]
               for lib in libs}
        for lib in libs:
            wall, cpu, faults = med[lib]
            print(f"{name:16s} {lib.__name__:6s} {wall * 1e3:8.2f} ms/step wall  "
                  f"{cpu * 1e3:8.2f} ms/step cpu  {faults:7.1f} page faults/step")
        print(f"{name:16s} ember/torch = {med[ember][0] / med[torch][0]:.2f}x wall, "
              f"{med[ember][1] / med[torch][1]:.2f}x cpu")


if __name__ == "__main__":
    main()
