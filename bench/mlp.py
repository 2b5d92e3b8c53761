"""MLP 784-256-128-10 (ReLU), Adam 1e-3, batch 128 on Fashion-MNIST: epoch time, peak memory
and test accuracy, ember against PyTorch CPU. Each framework runs in its own subprocess (so
peak RSS is its own), one after the other, with the same threads.

    python bench/mlp.py [--epochs 5] [--data-dir /usr/share/datasets/fashion-mnist]
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import environment_report  # noqa: E402

WORKER = r'''
import json, resource, sys, time
import numpy as np
lib, epochs, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import ember
from ember.data import FashionMNIST
train = FashionMNIST(root, train=True).tensors(flatten=True, normalize=True)
test = FashionMNIST(root, train=False).tensors(flatten=True, normalize=True)
xtr, ytr = train[0].data, train[1].data
xte, yte = test[0].data, test[1].data
order_rng = np.random.default_rng(0)
times, faults = [], []
if lib == "ember":
    import ember.nn as nn
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    T = ember.tensor
    for e in range(epochs):
        order = order_rng.permutation(len(xtr))
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t = time.perf_counter()
        for i in range(0, len(order), 128):
            idx = order[i:i + 128]
            opt.zero_grad()
            loss_fn(model(T(xtr[idx])), T(ytr[idx])).backward()
            opt.step()
        times.append(time.perf_counter() - t)
        faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / (len(order) / 128))
    with ember.no_grad():
        pred = model(T(xte)).data.argmax(1)
else:
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for e in range(epochs):
        order = order_rng.permutation(len(xtr))
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t = time.perf_counter()
        for i in range(0, len(order), 128):
            idx = torch.from_numpy(order[i:i + 128])
            opt.zero_grad()
            loss_fn(model(xtr_t[idx]), ytr_t[idx]).backward()
            opt.step()
        times.append(time.perf_counter() - t)
        faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / (len(order) / 128))
    with torch.no_grad():
        pred = model(torch.from_numpy(xte)).numpy().argmax(1)
acc = float((pred == yte).mean())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "faults": faults, "accuracy": acc, "peak_mb": peak}))
'''


def run(lib, epochs, root):
    out = subprocess.run([sys.executable, "-c", WORKER, lib, str(epochs), root],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{lib} worker failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    for line in environment_report():
        print("#", line)
    results = {lib: run(lib, args.epochs, args.data_dir) for lib in ("ember", "torch")}
    for lib, r in results.items():
        med = sorted(r["times"])[len(r["times"]) // 2]
        print(f"{lib:6s} epoch median {med:6.2f} s (all: {', '.join(f'{t:.2f}' for t in r['times'])})"
              f"   test accuracy {100 * r['accuracy']:.2f}%   peak RSS {r['peak_mb']:.0f} MB"
              f"   page faults/step {sorted(r['faults'])[len(r['faults']) // 2]:.0f}")
    e, t = results["ember"], results["torch"]
    med = lambda r: sorted(r["times"])[len(r["times"]) // 2]  # noqa: E731
    print(f"epoch time ember / torch = {med(e) / med(t):.2f}   (bar: <= 1.15)")
    print(f"accuracy ember - torch = {100 * (e['accuracy'] - t['accuracy']):+.2f} points "
          "(bar: within 0.5)")
    print(f"peak RSS ember / torch = {e['peak_mb'] / t['peak_mb']:.2f}   (bar: <= 1.0)")


if __name__ == "__main__":
    main()
