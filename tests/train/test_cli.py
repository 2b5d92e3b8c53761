"""`ember train` and `ember evaluate` from the command line."""
import os
import time

import pytest

from ember.cli import main
from ember.data import FASHION_MNIST_ROOT


def test_train_writes_the_run_folder_and_evaluate_reads_it(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "--dataset", "moons", "--epochs", "3", "--samples", "400",
                 "--out", out, "--quiet"]) == 0
    for name in ("last.safetensors", "best.safetensors", "history.csv", "history.png",
                 "config.json"):
        assert os.path.exists(os.path.join(out, name)), name
    text = capsys.readouterr().out
    assert "test accuracy" in text
    assert main(["evaluate", "--checkpoint", os.path.join(out, "best.safetensors")]) == 0
    text = capsys.readouterr().out
    assert "test accuracy" in text and "confusion matrix" in text


def test_resume_continues_to_more_epochs(tmp_path, capsys):
    out = str(tmp_path / "run")
    main(["train", "--dataset", "xor", "--epochs", "2", "--samples", "200", "--out", out,
          "--quiet"])
    main(["train", "--dataset", "xor", "--epochs", "4", "--out", out, "--resume", "--quiet"])
    text = capsys.readouterr().out
    assert "resuming from" in text and "after epoch 2" in text
    assert open(os.path.join(out, "history.csv")).read().count("\n") == 5  # header + 4 epochs


def test_missing_dataset_files_give_a_clear_message(tmp_path):
    with pytest.raises(SystemExit, match="ember train: .*train-images-idx3-ubyte"):
        main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--out",
              str(tmp_path / "r"), "--quiet"])


@pytest.mark.slow
def test_spirals_default_reaches_99_percent_within_a_minute(tmp_path, capsys):
    # CPU seconds of this process (all its threads), not wall time: a shared CI machine's load
    # would make a wall-clock limit fail at random (about 11 s of wall time on a quiet machine)
    start = time.process_time()
    main(["train", "--dataset", "spirals", "--out", str(tmp_path), "--quiet"])
    took = time.process_time() - start
    accuracy = float(capsys.readouterr().out.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 99.0 and took < 60


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_ROOT), reason="Fashion-MNIST not installed")
def test_fashion_mnist_default_recipe_reaches_88_5_percent(tmp_path, capsys):
    main(["train", "--dataset", "fashion-mnist", "--out", str(tmp_path), "--quiet"])
    accuracy = float(capsys.readouterr().out.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 88.5


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_ROOT), reason="Fashion-MNIST not installed")
def test_the_course_cnn_reaches_91_percent_in_5_epochs(tmp_path, capsys):
    main(["train", "--dataset", "fashion-mnist", "--model", "cnn", "--out", str(tmp_path),
          "--quiet"])
    accuracy = float(capsys.readouterr().out.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 91.0


def test_image_runs_report_misclassified_examples_as_a_png(tmp_path, capsys):
    from data.test_idx import make_mnist_dir
    (tmp_path / "mnist").mkdir()
    root = make_mnist_dir(tmp_path / "mnist", n_train=48, n_test=20)
    out = str(tmp_path / "run")
    assert main(["train", "--dataset", "mnist", "--model", "lenet", "--epochs", "1",
                 "--data-dir", str(root), "--out", out, "--quiet"]) == 0
    assert "misclassified.png" in capsys.readouterr().out
    png = str(tmp_path / "wrong.png")
    assert main(["evaluate", "--checkpoint", os.path.join(out, "last.safetensors"),
                 "--misclassified", png]) == 0
    text = capsys.readouterr().out
    assert "confusion matrix" in text and f"are in {png}" in text
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_cnn_defaults_are_the_course_recipe():
    from ember.run import RunConfig
    cfg = RunConfig.for_dataset("fashion-mnist", model="cnn")
    assert (cfg.epochs, cfg.optimizer, cfg.lr, cfg.batch_size, cfg.schedule) == \
        (5, "adam", 1e-3, 128, "none")
    assert cfg.dropout == cfg.label_smoothing == cfg.weight_decay == 0
    assert RunConfig.for_dataset("fashion-mnist", model="cnn", epochs=7).epochs == 7
    assert RunConfig.for_dataset("fashion-mnist").dropout == 0.2  # the MLP recipe stays


def test_help_lists_every_command_and_xor_imports_only_what_it_needs(capsys):
    import subprocess
    import sys
    from ember.cli import BUILTIN, PROJECTS
    assert main([]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in (*BUILTIN, *PROJECTS))
    code = ("import sys; from ember.cli import main; main(['xor', '--epochs', '1']); "
            "print(sorted(m for m in sys.modules if m.startswith(('ember.run', 'ember.projects'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_python_dash_m_ember_is_the_command():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "ember", "xor", "--epochs", "1"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1, out.stderr  # one epoch does not solve XOR: exit status 1
    assert "XOR NOT solved" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "ember", "no-such-command"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
