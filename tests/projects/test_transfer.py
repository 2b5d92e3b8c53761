"""Transfer learning: loading a backbone (ember checkpoints and PyTorch state_dicts saved with
safetensors, under the same names), freezing, per-group learning rates, and `ember transfer`
end to end on a small scale."""
import os

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.data import FASHION_MNIST_ROOT, TensorDataset
from ember.models import LeNet5, SimpleCNN
from ember.projects.transfer import (TransferConfig, TransferData, finetune, load_backbone,
                                     new_model, parse_seeds, split)


def _torch_cnn(torch, classes=5):
    """SimpleCNN's layers, built in PyTorch."""
    t = torch.nn
    return t.Sequential(t.Conv2d(1, 32, 3, padding=1), t.ReLU(), t.MaxPool2d(2),
                        t.Conv2d(32, 64, 3, padding=1), t.ReLU(), t.MaxPool2d(2), t.Flatten(),
                        t.Linear(64 * 7 * 7, 128), t.ReLU(), t.Linear(128, classes))


def test_a_pytorch_state_dict_saved_with_safetensors_loads_under_the_same_names(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    torch.manual_seed(0)
    twin = _torch_cnn(torch, classes=10)
    path = str(tmp_path / "torch_cnn.safetensors")
    save_file(twin.state_dict(), path)
    x = np.random.default_rng(0).normal(size=(3, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected_logits = twin(torch.tensor(x)).numpy()
        expected_features = twin[:6](torch.tensor(x)).numpy()
    whole = SimpleCNN(1, 10)
    whole.load_state_dict(ember.load(path))  # every name is the same: no mapping needed
    np.testing.assert_allclose(whole(ember.tensor(x)).data, expected_logits, rtol=1e-4,
                               atol=1e-5)
    model = new_model()  # the classifier (layers 7 and 9) is not part of the backbone
    assert load_backbone(model, path) == ["7.bias", "7.weight", "9.bias", "9.weight"]
    backbone, _ = split(model)
    np.testing.assert_allclose(backbone(ember.tensor(x)).data, expected_features, rtol=1e-4,
                               atol=1e-5)


def test_backbone_from_an_ember_train_checkpoint(tmp_path):
    ember.manual_seed(0)
    trained = SimpleCNN(1, 10, dropout=0.2)  # `ember train --model cnn`: the head is layer 10
    path = str(tmp_path / "ckpt.safetensors")
    ember.save({"config": {"model": "cnn"}, "model": trained.state_dict(), "epoch": 3}, path)
    model = new_model()
    assert load_backbone(model, path) == ["10.bias", "10.weight", "7.bias", "7.weight"]
    for (name, p), q in zip(split(model)[0].named_parameters(), trained.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_a_backbone_of_another_shape_is_refused():
    with pytest.raises((ValueError, KeyError, RuntimeError), match=r"0\.weight|3\.weight"):
        load_backbone(new_model(), LeNet5().state_dict())


def _tiny_subset(n=20):
    rng = np.random.default_rng(0)
    return TensorDataset(ember.tensor(rng.normal(size=(n, 1, 28, 28)).astype(np.float32)),
                         ember.tensor(np.arange(n) % 5))


def _changes(method, cfg):
    ember.manual_seed(1)
    pretrained = split(new_model())[0].state_dict()
    model, history = finetune(cfg, method, _tiny_subset(), pretrained, seed=2)
    backbone, head = split(model)
    ember.manual_seed(2)
    start = new_model()  # what finetune built from seed 2 before training: the initial head
    moved_backbone = max(float(np.abs(p.data - pretrained[k].data).max())
                         for k, p in backbone.state_dict().items())
    moved_head = max(float(np.abs(p.data - q.data).max())
                     for p, q in zip(head.parameters(), split(start)[1].parameters()))
    return model, moved_backbone, moved_head


def test_frozen_backbone_stays_put_and_the_head_learns():
    cfg = TransferConfig(finetune_epochs=1, finetune_batch_size=32, lr=1e-3)
    model, moved_backbone, moved_head = _changes("frozen", cfg)
    assert moved_backbone == 0.0
    assert moved_head == pytest.approx(1e-3, rel=1e-2)  # Adam's first step is lr * sign(g)
    assert all(not p.requires_grad for p in split(model)[0].parameters())


def test_full_finetune_uses_the_lower_backbone_learning_rate():
    cfg = TransferConfig(finetune_epochs=1, finetune_batch_size=32, lr=1e-3, backbone_lr=1e-4)
    _, moved_backbone, moved_head = _changes("finetune", cfg)
    assert moved_backbone == pytest.approx(1e-4, rel=1e-2)  # one Adam step: lr * sign(g)
    assert moved_head == pytest.approx(1e-3, rel=1e-2)


def test_seeds_and_errors():
    assert parse_seeds("0, 1,2") == [0, 1, 2]
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds("a")
    with pytest.raises(ValueError, match="unknown method"):
        finetune(TransferConfig(), "partial", _tiny_subset(), {}, 0)


needs_data = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_ROOT),
                                reason="Fashion-MNIST is not installed")


@needs_data
def test_the_labelled_subset_is_balanced_and_drawn_by_the_seed():
    ds = TransferData()
    assert len(ds.source_y.data) == 30000 and set(ds.source_y.data.tolist()) == set(range(5))
    assert len(ds.test_y.data) == 5000 and set(ds.test_y.data.tolist()) == set(range(5))
    a, b = ds.labelled_subset(100, 0), ds.labelled_subset(100, 1)
    assert np.bincount(a.tensors[1].data).tolist() == [100] * 5
    assert not np.array_equal(a.tensors[0].data, b.tensors[0].data)
    np.testing.assert_array_equal(a.tensors[0].data, ds.labelled_subset(100, 0).tensors[0].data)


@needs_data
@pytest.mark.slow
def test_transfer_command_end_to_end(tmp_path, capsys):
    out = str(tmp_path / "t")
    assert main(["transfer", "--seeds", "0", "--pretrain-epochs", "1", "--pretrain-images",
                 "3000", "--finetune-epochs", "10", "--per-class", "20", "--out", out]) == 0
    text = capsys.readouterr().out
    accuracies = {}
    for line in text.splitlines():
        if "train loss" in line:
            name = line.split()[0]
            first, last = (float(v) for v in line.split("train loss ")[1].split(",")[0]
                           .split(" -> "))
            assert last < first, line  # learning happened
            accuracies[name] = float(line.split("test accuracy ")[1].rstrip("%"))
    assert set(accuracies) == {"scratch", "frozen", "finetune"}
    assert min(accuracies.values()) > 50  # chance is 20%
    assert "(c) full fine-tune" in text
    assert os.path.exists(os.path.join(out, "results.json"))
    assert os.path.exists(os.path.join(out, "backbone-seed0.safetensors"))
    # --pretrained reuses the saved backbones, {seed} standing for each seed
    assert main(["transfer", "--seeds", "0", "--pretrained",
                 os.path.join(out, "backbone-seed{seed}.safetensors"), "--finetune-epochs", "2",
                 "--per-class", "5", "--out", str(tmp_path / "again")]) == 0
    assert "seed 0: backbone from " + os.path.join(out, "backbone-seed0.safetensors") in \
        capsys.readouterr().out
