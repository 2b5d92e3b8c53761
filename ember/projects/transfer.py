"""Transfer learning on Fashion-MNIST (`ember transfer`).

Pretrain the course's CNN (ember.models.SimpleCNN) on classes 0-4 (T-shirt/top, Trouser,
Pullover, Dress, Coat), then learn classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot) from
only `per_class` labelled images each, three ways:

  scratch  a fresh CNN, every weight trained;
  frozen   the pretrained backbone frozen (requires_grad_(False)), a new head trained;
  finetune the pretrained backbone and a new head trained together, the backbone with a lower
           learning rate (two optimizer param groups).

Each is scored by accuracy on the 5,000 test images of classes 5-9, for several seeds (each seed
pretrains its own backbone, draws its own labelled subset and initialises its own head).

The backbone is the convolutional feature extractor (two conv-ReLU-maxpool stages, 64 x 7 x 7
features); the head is the classifier on top (flatten, Linear(3136, 128), ReLU, Linear(128, 5)),
new for every method. Their state_dict names are nn.Sequential's ("0.weight" and "0.bias" for the
first conv, "3.weight" and "3.bias" for the second), the same names a PyTorch nn.Sequential of
the same layers has. So `load_backbone` takes an ember checkpoint (`ember.save`
of a state_dict, or an `ember train --model cnn` checkpoint with its 'model' entry) or a PyTorch
state_dict written by `safetensors.torch.save_file(model.state_dict(), path)`, unchanged.

    from ember.projects.transfer import TransferConfig, run_transfer
    results = run_transfer(TransferConfig(seeds="0", pretrain_epochs=1))
"""
import json
import os
from dataclasses import asdict, dataclass

import numpy as np

from .. import data as edata
from .. import nn, optim
from ..backend import manual_seed
from ..io import load, save
from ..models import SimpleCNN
from ..train import evaluate, fit

SOURCE_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)
METHODS = ("scratch", "frozen", "finetune")
FEATURE_LAYERS = 6  # SimpleCNN's conv-ReLU-pool-conv-ReLU-pool


@dataclass
class TransferConfig:
    seeds: str = "0,1,2"
    pretrain_epochs: int = 5    # 1 gives half the gain at 100 labels per class (docs/transfer.md)
    finetune_epochs: int = 30
    per_class: int = 100
    lr: float = 1e-3           # pretraining, scratch, and the new head
    backbone_lr: float = 1e-4  # the backbone in full fine-tuning
    batch_size: int = 128      # pretraining
    finetune_batch_size: int = 32
    pretrain_images: int = None  # use only this many source images (None: all 30,000)
    pretrained: str = None     # a backbone file instead of pretraining ("{seed}" -> the seed)
    data_dir: str = None


def parse_seeds(text):
    try:
        seeds = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise ValueError(f"--seeds must name at least one non-negative seed, got {text!r}")
    return seeds


class TransferData:
    """Normalised Fashion-MNIST images (N, 1, 28, 28): the source training images (classes 0-4,
    labels 0-4), the target training and test images (classes 5-9, labels 0-4)."""

    def __init__(self, data_dir=None):
        kwargs = {} if data_dir is None else {"root": data_dir}
        x, y = edata.FashionMNIST(train=True, **kwargs).tensors(normalize=True)
        xt, yt = edata.FashionMNIST(train=False, **kwargs).tensors(normalize=True)
        src = np.flatnonzero(np.isin(y.data, SOURCE_CLASSES))
        self.source_x, self.source_y = x[src], y[src]
        tgt = np.flatnonzero(np.isin(y.data, TARGET_CLASSES))
        self.target_x, self.target_y = x[tgt], y[tgt] - TARGET_CLASSES[0]
        test = np.flatnonzero(np.isin(yt.data, TARGET_CLASSES))
        self.test_x, self.test_y = xt[test], yt[test] - TARGET_CLASSES[0]

    def labelled_subset(self, per_class, seed):
        """per_class target training images of each class, drawn by the seed."""
        rng = np.random.default_rng(seed)
        labels = self.target_y.data
        idx = []
        for c in range(len(TARGET_CLASSES)):
            of_c = np.flatnonzero(labels == c)
            if per_class > len(of_c):
                raise ValueError(f"--per-class {per_class}: class {c + TARGET_CLASSES[0]} has "
                                 f"only {len(of_c)} training images")
            idx.append(rng.choice(of_c, per_class, replace=False))
        idx = np.sort(np.concatenate(idx))
        return edata.TensorDataset(self.target_x[idx], self.target_y[idx])


def split(model):
    """(backbone, head) of the CNN: the convolutional feature extractor (conv-ReLU-pool twice,
    layers 0-5) and the classifier on top of it (flatten, Linear-ReLU-Linear, layers 6-9), as
    torchvision's VGG has `features` and `classifier`. They share the model's modules, so their
    state_dict names are the model's ("0.weight", "7.bias", ...)."""
    return model[:FEATURE_LAYERS], model[FEATURE_LAYERS:]


def new_model():
    return SimpleCNN(1, len(TARGET_CLASSES))


def load_backbone(model, source):
    """Load a backbone into model (a SimpleCNN) from a file or a state dict: an ember checkpoint
    (a state_dict, or a dict with a 'model' state_dict as `ember train` writes) or a PyTorch
    state_dict saved with safetensors. Entries the backbone does not have (the old head) are
    dropped; missing backbone entries and shape mismatches are errors. Returns the dropped names."""
    state = load(source) if isinstance(source, (str, os.PathLike)) else source
    if "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    backbone, _ = split(model)
    own = backbone.state_dict()
    kept = {k: v for k, v in state.items() if k in own}
    backbone.load_state_dict(kept)
    return sorted(k for k in state if k not in own)


def _train(model, optimizer, dataset, epochs, batch_size):
    loader = edata.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    return fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, verbose=False)


def pretrain(cfg, ds, seed):
    """A SimpleCNN trained on the source classes (classes 0-4, labels 0-4) from this seed."""
    manual_seed(seed)
    model = new_model()
    x, y = ds.source_x, ds.source_y
    if cfg.pretrain_images is not None:
        keep = np.random.default_rng(seed).permutation(len(y.data))[:cfg.pretrain_images]
        x, y = x[keep], y[keep]
    _train(model, optim.Adam(model.parameters(), lr=cfg.lr), edata.TensorDataset(x, y),
           cfg.pretrain_epochs, cfg.batch_size)
    return model


def finetune(cfg, method, subset, backbone_state, seed):
    """Train one of METHODS on the labelled subset; returns (model, history)."""
    manual_seed(seed)
    model = new_model()  # a fresh head (and, for scratch, a fresh backbone) from this seed
    backbone, head = split(model)
    if method == "scratch":
        opt = optim.Adam(model.parameters(), lr=cfg.lr)
    elif method == "frozen":
        load_backbone(model, backbone_state)
        backbone.requires_grad_(False)
        opt = optim.Adam(head.parameters(), lr=cfg.lr)
    elif method == "finetune":
        load_backbone(model, backbone_state)
        opt = optim.Adam([{"params": backbone.parameters(), "lr": cfg.backbone_lr},
                          {"params": head.parameters()}], lr=cfg.lr)
    else:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    history = _train(model, opt, subset, cfg.finetune_epochs, cfg.finetune_batch_size)
    return model, history


def run_transfer(cfg, out_dir=None, print_fn=print):
    """Every method for every seed; returns {method: [test accuracy per seed]} (and writes
    results.json and each seed's backbone-seed{N}.safetensors into out_dir when given)."""
    seeds = parse_seeds(cfg.seeds)
    if cfg.per_class < 1 or cfg.finetune_epochs < 1 or cfg.pretrain_epochs < 0:
        raise ValueError("--per-class and --finetune-epochs must be >= 1, --pretrain-epochs >= 0")
    ds = TransferData(cfg.data_dir)
    test = edata.DataLoader(edata.TensorDataset(ds.test_x, ds.test_y), batch_size=1000)
    results = {m: [] for m in METHODS}
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    for seed in seeds:
        if cfg.pretrained:
            path = cfg.pretrained.replace("{seed}", str(seed))
            backbone_state = load(path)
            print_fn(f"seed {seed}: backbone from {path}")
        else:
            source = pretrain(cfg, ds, seed)
            backbone_state = split(source)[0].state_dict()
            if out_dir:
                save(source.state_dict(), os.path.join(out_dir, f"backbone-seed{seed}.safetensors"))
            print_fn(f"seed {seed}: pretrained on classes 0-4 for {cfg.pretrain_epochs} epochs")
        subset = ds.labelled_subset(cfg.per_class, seed)
        for method in METHODS:
            model, history = finetune(cfg, method, subset, backbone_state, seed)
            acc = evaluate(model, None, test)["accuracy"]
            results[method].append(acc)
            print_fn(f"  {method:8s} train loss {history['loss'][0]:.3f} -> "
                     f"{history['loss'][-1]:.3f}, test accuracy {100 * acc:.2f}%")
    if out_dir:
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            json.dump({"config": asdict(cfg), "seeds": seeds, "accuracy": results}, f, indent=2)
    return results


def format_table(results, seeds):
    lines = [f"test accuracy on classes 5-9 ({len(seeds)} seeds: "
             f"{', '.join(map(str, seeds))}), mean +- std (ddof 0)",
             f"{'method':38s} accuracy (%)"]
    label = {"scratch": "(a) from scratch", "frozen": "(b) frozen backbone + new head",
             "finetune": "(c) full fine-tune, lower backbone lr"}
    for m in METHODS:
        acc = 100 * np.asarray(results[m])
        lines.append(f"{label[m]:38s} {acc.mean():6.2f} +- {acc.std():.2f}")
    return "\n".join(lines)


# ---- the command line -------------------------------------------------------------------------
def add_parser(sub):
    d = TransferConfig()
    p = sub.add_parser(
        "transfer", help="transfer learning: pretrain on Fashion-MNIST 0-4, learn 5-9 from few",
        description="Pretrain the course's CNN on Fashion-MNIST classes 0-4, then learn classes "
                    "5-9 from --per-class labelled images each: (a) from scratch, (b) frozen "
                    "backbone + new head, (c) full fine-tune with a lower backbone lr. Prints "
                    "test accuracies on classes 5-9, mean and std over the seeds.")
    p.add_argument("--seeds", default=d.seeds)
    p.add_argument("--pretrain-epochs", type=int, dest="pretrain_epochs",
                   default=d.pretrain_epochs)
    p.add_argument("--finetune-epochs", type=int, dest="finetune_epochs",
                   default=d.finetune_epochs)
    p.add_argument("--per-class", type=int, dest="per_class", default=d.per_class)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--backbone-lr", type=float, dest="backbone_lr", default=d.backbone_lr)
    p.add_argument("--pretrain-images", type=int, dest="pretrain_images",
                   help="pretrain on only this many source images (default: all 30,000)")
    p.add_argument("--pretrained", help="backbone file (ember checkpoint or a PyTorch "
                                        "state_dict saved with safetensors) instead of "
                                        "pretraining; {seed} in the name becomes each seed, "
                                        "e.g. runs/transfer/backbone-seed{seed}.safetensors")
    p.add_argument("--data-dir", dest="data_dir")
    p.add_argument("--out", default="runs/transfer",
                   help="folder for results.json and the pretrained backbones")
    p.set_defaults(run=_run)
    return p


def _run(args, parser):
    names = ("seeds", "pretrain_epochs", "finetune_epochs", "per_class", "lr", "backbone_lr",
             "pretrain_images", "pretrained", "data_dir")
    cfg = TransferConfig(**{k: getattr(args, k) for k in names})
    try:
        results = run_transfer(cfg, args.out)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember transfer: {e}")
    print(format_table(results, parse_seeds(cfg.seeds)))
    print(f"wrote {args.out}/results.json")
    return 0
