"""ember against PyTorch CPU on the same work, in one run: per workload the median time of
each, the ratio, and each one's peak memory (every workload and framework runs in its own
subprocess, with the same threads). Also the CNN step's achieved GFLOP/s against NumPy's own
float32 GEMM measured in the same run.

    python -m bench [--quick] [--only NAME ...]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench.common import environment_report  # noqa: E402
from bench.workloads import CNN_STEP_FLOP, WORKLOADS  # noqa: E402

WORKER = r'''
import json, resource, statistics, sys, time
sys.path.insert(0, sys.argv[4])
name, libname, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
from bench.workloads import WORKLOADS
if libname == "torch":
    import torch as lib
    torch_threads = lib.get_num_threads()
else:
    import ember as lib
    import ember.nn, ember.optim
build, calls = WORKLOADS[name]
lib.manual_seed(0)
fn = build(lib)
for _ in range(max(1, calls // 5)):
    fn()  # warm-up, not timed
times = []
for _ in range(repeats):
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    times.append((time.perf_counter() - t) / calls)
print(json.dumps({"median": statistics.median(times),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def run(name, lib, repeats):
    out = subprocess.run([sys.executable, "-c", WORKER, name, lib, str(repeats), ROOT],
                         capture_output=True, text=True)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def numpy_gemm_gflops(n=1024, repeats=5):
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def fmt_time(s):
    return f"{s * 1e6:8.1f} us" if s < 1e-3 else f"{s * 1e3:8.2f} ms"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats (about a minute)")
    p.add_argument("--only", nargs="*", help="workload names to run")
    args = p.parse_args()
    repeats = 3 if args.quick else 7
    for line in environment_report():
        print("#", line)
    names = args.only or list(WORKLOADS)
    print(f"{'workload':22s} {'ember':>11s} {'torch':>11s} {'ratio':>6s} "
          f"{'ember MB':>9s} {'torch MB':>9s}")
    results = {}
    for name in names:
        e, t = run(name, "ember", repeats), run(name, "torch", repeats)
        results[name] = e
        if "error" in e or "error" in t:
            print(f"{name:22s} failed: {e.get('error') or t.get('error')}")
            continue
        print(f"{name:22s} {fmt_time(e['median'])} {fmt_time(t['median'])} "
              f"{e['median'] / t['median']:6.2f} {e['peak_mb']:9.0f} {t['peak_mb']:9.0f}")
    gemm = numpy_gemm_gflops()
    print(f"NumPy float32 GEMM (1024^3): {gemm:.1f} GFLOP/s")
    if "cnn_step" in results and "median" in results["cnn_step"]:
        achieved = CNN_STEP_FLOP / results["cnn_step"]["median"] / 1e9
        print(f"CNN train step (ember): {achieved:.1f} GFLOP/s = {100 * achieved / gemm:.0f}% of "
              "NumPy's GEMM rate")


if __name__ == "__main__":
    main()
