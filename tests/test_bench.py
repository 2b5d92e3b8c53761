"""The benchmarks still run: every workload of `python -m bench` does one unit of work in ember,
and the overhead loops take a few steps (a smoke test against bench/ rotting as the API moves;
timings are the benchmarks' business, not the tests')."""
import numpy as np
import pytest

import ember
from bench import overhead
from bench.workloads import WORKLOADS


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_workload_runs_in_ember(name):
    build, _ = WORKLOADS[name]
    ember.manual_seed(0)
    build(ember)()


def test_overhead_loops_train_the_same_network():
    before = overhead.W1.copy()
    overhead.ember_loop(5)()
    overhead.numpy_loop(5)()
    np.testing.assert_array_equal(overhead.W1, before)  # each loop trains its own copy
