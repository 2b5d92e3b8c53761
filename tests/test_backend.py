"""backend: dtype promotion is covered in test_tensor.py; here the malloc tuning switch and the
lazily made default generator."""
import os
import platform
import subprocess
import sys

import pytest


def _tuned(env):
    code = "import ember.backend as b; print(b.MALLOC_TUNED)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True).stdout.strip()


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_malloc_is_tuned_on_glibc_unless_switched_off():
    env = {k: v for k, v in os.environ.items() if k != "EMBER_NO_MALLOPT"}
    assert _tuned(env) == "True"
    assert _tuned({**env, "EMBER_NO_MALLOPT": "1"}) == "False"


def test_import_leaves_numpy_random_until_the_generator_is_used():
    code = ("import sys, ember; before = 'numpy.random' in sys.modules; "
            "ember.randn(2); print(before, 'numpy.random' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_the_lazy_default_generator_is_seeded_like_an_eager_one():
    import numpy as np

    import ember
    ember.manual_seed(7)
    a = ember.rand(3).numpy()
    assert np.array_equal(a, np.random.default_rng(7).random(3).astype(np.float32))
    g = ember.backend.Generator(7)  # made lazily, drawn from on first use
    assert np.array_equal(g.rng.random(3).astype(np.float32), a)
