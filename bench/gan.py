"""DCGAN train step, ember against PyTorch CPU: one discriminator step and one generator step
at batch 128 (the models of ember.models.gan, written once for lib = ember or torch), each
framework in its own subprocess with the same threads; prints the medians and the ratio.

    python bench/gan.py [--repeats 5] [--rounds 3] [--width 32] [--threads N]

ember and torch alternate for --rounds rounds (so a load change hits both); the ratio reported
is the median of the per-round ratios. --threads N sets OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS for both workers (on a busy machine, 1 thread gives steadier figures).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench.common import environment_report  # noqa: E402

BATCH, Z_DIM = 128, 100


def generator(lib, width=32):
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(Z_DIM, 2 * width * 49, bias=False), nn.Unflatten(1, (2 * width, 7, 7)),
        nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(width), nn.ReLU(),
        nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Tanh())


def discriminator(lib, width=32):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2), nn.Flatten(),
        nn.Linear(2 * width * 49, 1))


def dcgan_step(lib, width=32):
    """One D step (real batch + generated batch, BCE with logits) and one G step (non-saturating
    loss), Adam(2e-4, betas (0.5, 0.999)), as `ember gan train` does per batch."""
    g, d = generator(lib, width), discriminator(lib, width)
    opt_g = lib.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = lib.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = lib.nn.BCEWithLogitsLoss()
    r = np.random.default_rng(0)
    real = lib.tensor(np.tanh(r.standard_normal((BATCH, 1, 28, 28))).astype(np.float32))
    ones, zeros = lib.ones(BATCH, 1), lib.zeros(BATCH, 1)

    def step():
        z = lib.tensor(r.standard_normal((BATCH, Z_DIM)).astype(np.float32))
        fake = g(z)
        opt_d.zero_grad()
        loss_d = bce(d(real), ones) + bce(d(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        bce(d(fake), ones).backward()
        opt_g.step()
    return step


WORKER = r'''
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
libname, repeats, width = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if libname == "torch":
    import torch as lib
else:
    import ember as lib
    import ember.nn, ember.optim
from bench.gan import dcgan_step
lib.manual_seed(0)
fn = dcgan_step(lib, width)
fn()  # warm-up
times = []
for _ in range(repeats):
    t = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t)
print(json.dumps({"median": statistics.median(times)}))
'''


def run(lib, repeats, width):
    out = subprocess.run([sys.executable, "-c", WORKER, ROOT, lib, str(repeats), str(width)],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{lib} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])["median"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--width", type=int, default=32, help="ember gan train's --width")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/OpenMP threads of both workers (default: the environment's)")
    args = p.parse_args()
    if args.threads:  # the workers (and the report's torch) inherit these
        os.environ.update(OMP_NUM_THREADS=str(args.threads),
                          OPENBLAS_NUM_THREADS=str(args.threads))
    for line in environment_report():
        print("#", line)
    steps = 60000 // BATCH  # ember gan train drops the last partial batch
    ratios = []
    for i in range(args.rounds):
        e, t = run("ember", args.repeats, args.width), run("torch", args.repeats, args.width)
        ratios.append(e / t)
        print(f"round {i + 1}: dcgan_step (width {args.width}, batch {BATCH}): ember "
              f"{e * 1e3:.1f} ms, torch {t * 1e3:.1f} ms, ratio {e / t:.2f}; an epoch of "
              f"{steps} steps: ember {e * steps:.0f} s, torch {t * steps:.0f} s")
    print(f"median ratio ember/torch over {args.rounds} rounds: {np.median(ratios):.2f}")


if __name__ == "__main__":
    main()
