"""backend: dtype promotion is covered in test_tensor.py; here the malloc tuning switch."""
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
