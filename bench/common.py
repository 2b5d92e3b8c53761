"""Shared benchmark helpers: timing medians, page faults, BLAS facts, letting threads idle."""
import os
import platform
import resource
import statistics
import time


def median_time(fn, repeats=5, warmup=1):
    """Median wall time of fn() over repeats, after warmup calls (seconds)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def idle(seconds=0.3):
    """Let OpenBLAS/OpenMP threads stop spinning before the next timed block."""
    time.sleep(seconds)


def environment_report():
    lines = [f"python {platform.python_version()} on {platform.machine()}, "
             f"{os.cpu_count()} cpus"]
    import numpy
    lines.append(f"numpy {numpy.__version__}")
    try:
        import torch
        lines.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        lines.append("torch not installed")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"):
        lines.append(f"{var}={os.environ.get(var, '(unset)')}")
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            lines.append(f"{pool.get('internal_api')} {pool.get('version')} "
                         f"kernel={pool.get('architecture')} threads={pool.get('num_threads')} "
                         f"({os.path.basename(pool.get('filepath', ''))})")
    except ImportError:
        lines.append("threadpoolctl not installed: BLAS kernel unknown")
    return lines
