"""Per-step overhead on the smallest network: full-batch SGD on XOR with a 2-2-1 sigmoid net,
in ember, PyTorch CPU and hand-written NumPy, in one process run; plus import times and the
whole `ember xor` command.

    python bench/overhead.py [--steps 10000] [--rounds 10]

Each framework runs `steps` steps in `rounds` blocks, the three taking turns block by block, so a
slow stretch of a shared machine falls on all three alike. Printed: each one's median time per
step over its blocks, and each ratio's median over the rounds (the ratio of two blocks run next
to each other in time).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import environment_report, idle, minor_faults  # noqa: E402

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
rng = np.random.default_rng(0)
W1, B1 = rng.uniform(-0.7, 0.7, (2, 2)).astype(np.float32), np.zeros(2, np.float32)
W2, B2 = rng.uniform(-0.7, 0.7, (1, 2)).astype(np.float32), np.zeros(1, np.float32)
LR = 0.1


def ember_loop(steps):
    import ember
    import ember.nn as nn
    import ember.nn.functional as F
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1))
    net.load_state_dict({"0.weight": W1, "0.bias": B1, "2.weight": W2, "2.bias": B2})
    opt = ember.optim.SGD(net.parameters(), lr=LR)
    x, y = ember.tensor(X), ember.tensor(Y)

    def run():
        for _ in range(steps):
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(net(x), y).backward()
            opt.step()
    return run


def torch_loop(steps):
    import torch
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 1))
    net.load_state_dict({k: torch.tensor(v) for k, v in
                         {"0.weight": W1, "0.bias": B1, "2.weight": W2, "2.bias": B2}.items()})
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    x, y = torch.tensor(X), torch.tensor(Y)
    F = torch.nn.functional

    def run():
        for _ in range(steps):
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(net(x), y).backward()
            opt.step()
    return run


def numpy_loop(steps):
    w1, b1, w2, b2 = W1.copy(), B1.copy(), W2.copy(), B2.copy()
    n = len(X)

    def run():
        for _ in range(steps):
            a1 = 1 / (1 + np.exp(-(X @ w1.T + b1)))
            z2 = a1 @ w2.T + b2
            d2 = (1 / (1 + np.exp(-z2)) - Y) / n
            d1 = (d2 @ w2) * a1 * (1 - a1)
            np.subtract(w2, LR * (d2.T @ a1), out=w2)
            np.subtract(b2, LR * d2.sum(0), out=b2)
            np.subtract(w1, LR * (d1.T @ X), out=w1)
            np.subtract(b1, LR * d1.sum(0), out=b1)
    return run


# bytecode caching on, as on a user's machine (pip writes the caches at install), whatever
# PYTHONDONTWRITEBYTECODE says here: without them every start compiles ember's sources again
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def import_time(module, repeats=5):
    """Best wall time of `python -c 'import module'` minus an empty interpreter start."""
    def best(code):
        subprocess.run([sys.executable, "-c", code], check=True, env=USER_ENV)  # writes caches
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=USER_ENV)
            times.append(time.perf_counter() - t)
        return min(times)
    return best(f"import {module}") - best("pass")


def command_time(args, repeats=3):
    """Median wall time of a command, after one run that writes the bytecode caches."""
    subprocess.run(args, check=True, capture_output=True, env=USER_ENV)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=USER_ENV)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


TORCH_XOR = """
import torch
torch.manual_seed(0)
x = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
y = torch.tensor([[0.], [1.], [1.], [0.]])
net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1))
opt = torch.optim.SGD(net.parameters(), lr=2.0)
for _ in range(10000):
    opt.zero_grad()
    torch.nn.functional.binary_cross_entropy_with_logits(net(x), y).backward()
    opt.step()
print(torch.sigmoid(net(x)).detach().numpy().ravel())
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=10)
    args = p.parse_args()
    for line in environment_report():
        print("#", line)
    block = max(1, args.steps // args.rounds)  # steps per block
    runs = {}
    for name, make in (("numpy", numpy_loop), ("ember", ember_loop), ("torch", torch_loop)):
        try:
            runs[name] = make(block)
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        runs[name]()  # warm-up
    rounds = {name: [] for name in runs}  # seconds per step, one entry per round
    faults = dict.fromkeys(runs, 0)
    for _ in range(args.rounds):
        for name, run in runs.items():
            idle()
            f0, t = minor_faults(), time.perf_counter()
            run()
            rounds[name].append((time.perf_counter() - t) / block)
            faults[name] += minor_faults() - f0
    for name, times in rounds.items():
        print(f"{name:6s} {statistics.median(times) * 1e6:8.1f} us/step   "
              f"({faults[name] / (block * args.rounds):.2f} page faults/step)")

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(rounds[a], rounds[b]))
    if "torch" in runs:
        print(f"ember / torch  = {ratio('ember', 'torch'):.2f}   (bar: <= 1.0)")
    print(f"ember / numpy  = {ratio('ember', 'numpy'):.2f}   (bar: <= 3.0; per round: "
          + ", ".join(f"{x / y:.2f}" for x, y in zip(rounds["ember"], rounds["numpy"])) + ")")
    idle()
    print(f"import ember   {import_time('ember') * 1e3:7.0f} ms   (bar: < 150 ms)")
    print(f"import numpy   {import_time('numpy') * 1e3:7.0f} ms")
    if "torch" in runs:
        print(f"import torch   {import_time('torch', 3) * 1e3:7.0f} ms")
    t = command_time([sys.executable, "-m", "ember.cli", "xor", "--epochs", "10000"])
    print(f"`ember xor` (10,000 epochs) whole command: {t:.2f} s   (bar: < 1.5 s)")
    if "torch" in runs:
        idle()
        tt = command_time([sys.executable, "-c", TORCH_XOR])
        print(f"the same training as a PyTorch script:   {tt:.2f} s   (ember / torch = "
              f"{t / tt:.2f})")


if __name__ == "__main__":
    main()
