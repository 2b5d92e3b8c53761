"""One training epoch of the course's CNN on Fashion-MNIST's 60,000 training images (Adam 1e-3,
batch 128, shuffled), in ember and in PyTorch CPU, each in a fresh process: wall time and peak
resident memory (the process's whole high-water mark: interpreter, library, data, model, step).

    python bench/cnn_epoch.py [--steps N]      (N batches instead of the whole epoch)
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
import numpy as np
from ember.data import FashionMNIST
from bench.workloads import simple_cnn
lib_name, steps = sys.argv[1], int(sys.argv[2])
if lib_name == "torch":
    import torch as lib
else:
    import ember as lib
    lib.manual_seed(0)
train = FashionMNIST(train=True)
x_all = train.data.data.astype(np.float32)[:, None] / 255.0  # (60000, 1, 28, 28)
x_all = (x_all - np.float32(train.mean)) / np.float32(train.std)
y_all = train.targets.data.astype(np.int64)
model = simple_cnn(lib)
opt = lib.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = lib.nn.CrossEntropyLoss()
order = np.random.default_rng(0).permutation(len(x_all))
batches = [order[i:i + 128] for i in range(0, len(order), 128)][:steps or None]
start = time.perf_counter()
for idx in batches:
    x, y = lib.tensor(x_all[idx]), lib.tensor(y_all[idx])
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
took = time.perf_counter() - start
print(json.dumps({"seconds": took, "steps": len(batches), "loss": float(loss.item()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def run(lib, steps):
    out = subprocess.run([sys.executable, "-c", WORKER, lib, str(steps), ROOT],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{lib} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=0, help="batches to run (0: the whole epoch)")
    args = p.parse_args()
    e, t = run("ember", args.steps), run("torch", args.steps)
    print(f"{'':6s} {'steps':>6s} {'seconds':>9s} {'ms/step':>8s} {'peak MB':>8s} {'loss':>7s}")
    for name, r in (("ember", e), ("torch", t)):
        print(f"{name:6s} {r['steps']:6d} {r['seconds']:9.1f} {1e3 * r['seconds'] / r['steps']:8.1f} "
              f"{r['peak_mb']:8.0f} {r['loss']:7.3f}")
    print(f"ratio ember/torch: time {e['seconds'] / t['seconds']:.2f}, "
          f"peak memory {e['peak_mb'] / t['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
