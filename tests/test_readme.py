"""The README's Python examples run as written (the training one is slow: it trains 5 epochs)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def run_block(code, cwd):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", [i for i, b in enumerate(BLOCKS) if "FashionMNIST" not in b])
def test_quick_example_runs(index, tmp_path):
    out = run_block(BLOCKS[index], tmp_path)
    assert out.returncode == 0, out.stderr


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Fashion-MNIST not installed")
@pytest.mark.parametrize("index", [i for i, b in enumerate(BLOCKS) if "FashionMNIST" in b])
def test_training_example_runs(index, tmp_path):
    out = run_block(BLOCKS[index], tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "runs" / "mine" / "history.png").exists()
