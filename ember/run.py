"""A training run, as `ember train` and `ember evaluate` do it: data, model, optimizer, schedule,
fit with progress, checkpoints that resume bit for bit, history.csv, a plot and the config."""
import json
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from . import data, nn, optim
from .backend import default_generator, manual_seed
from .io import load
from .models import MLP
from .train import (CSVLogger, History, ModelCheckpoint, confusion_matrix, evaluate, fit,
                    format_confusion_matrix, plot_history, plot_misclassified, predict)

DATASETS = ("xor", "moons", "circles", "spirals", "fashion-mnist", "mnist")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "cosine", "onecycle", "step", "plateau")

# what `ember train --dataset D` uses when an option is not given
DATASET_DEFAULTS = {
    "xor": dict(hidden="16,16", epochs=30, lr=1e-2, batch_size=64),
    "moons": dict(hidden="64,64", epochs=30, lr=1e-2, batch_size=64),
    "circles": dict(hidden="64,64", epochs=30, lr=1e-2, batch_size=64, noise=0.05),
    "spirals": dict(hidden="128,128", epochs=100, lr=1e-2, batch_size=64, schedule="onecycle",
                    samples=6000, noise=0.01),
    "fashion-mnist": dict(hidden="256,128", epochs=15, lr=1e-3, batch_size=128,
                          schedule="onecycle", dropout=0.2, label_smoothing=0.1,
                          optimizer="adamw", weight_decay=1e-4),
    "mnist": dict(hidden="256,128", epochs=10, lr=1e-3, batch_size=128, schedule="onecycle",
                  dropout=0.2, optimizer="adamw", weight_decay=1e-4),
}
# ... and with `--model M` on an image set, these replace the dataset's (MLP) defaults
_PLAIN = dict(dropout=0.0, label_smoothing=0.0, weight_decay=0.0, schedule="none")
MODEL_DEFAULTS = {
    "cnn": dict(_PLAIN, epochs=5, optimizer="adam", lr=1e-3, batch_size=128),  # the course's
    "lenet": dict(_PLAIN, epochs=10, optimizer="adam", lr=1e-3, batch_size=128),
    "vgg": dict(_PLAIN, epochs=10, optimizer="adam", lr=1e-3, batch_size=128),
    "resnet": dict(_PLAIN, epochs=10, optimizer="adam", lr=1e-3, batch_size=128),
}


@dataclass
class RunConfig:
    dataset: str = "fashion-mnist"
    model: str = "mlp"
    hidden: str = "256,128"
    activation: str = "relu"
    dropout: float = 0.0
    epochs: int = 5
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "none"
    label_smoothing: float = 0.0
    augment: bool = False  # images: random crops (padding 2) and, for Fashion-MNIST, flips
    seed: int = 0
    data_dir: str = None
    samples: int = 3000  # synthetic sets: training examples (validation and test get 1/5 each)
    noise: float = 0.1
    extra: dict = field(default_factory=dict)

    @classmethod
    def for_dataset(cls, dataset, **given):
        """The dataset's defaults (the model's on image sets), overridden by every option given
        (None = not given)."""
        values = dict(DATASET_DEFAULTS.get(dataset, {}))
        if dataset in ("fashion-mnist", "mnist") and given.get("model") in MODEL_DEFAULTS:
            values.update(MODEL_DEFAULTS[given["model"]])
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(dataset=dataset, **values)


def hidden_sizes(text):
    try:
        sizes = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--hidden must be comma-separated integers, got {text!r}") from None
    if any(s <= 0 for s in sizes):
        raise ValueError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


def load_splits(cfg):
    """(train, val, test) TensorDatasets and the class names."""
    if cfg.dataset in ("fashion-mnist", "mnist"):
        cls = data.FashionMNIST if cfg.dataset == "fashion-mnist" else data.MNIST
        kwargs = {} if cfg.data_dir is None else {"root": cfg.data_dir}
        flat = cfg.model == "mlp" and not cfg.augment  # CNNs and augmentation want (N, 1, 28, 28)
        train_full = cls(train=True, **kwargs).as_tensor_dataset(flatten=flat, normalize=True)
        test = cls(train=False, **kwargs).as_tensor_dataset(flatten=flat, normalize=True)
        n_val = len(train_full) // 12  # 5,000 of 60,000
        order = np.random.default_rng(cfg.seed).permutation(len(train_full))
        x, y = train_full.tensors
        train = data.TensorDataset(x[order[n_val:]], y[order[n_val:]])
        val = data.TensorDataset(x[order[:n_val]], y[order[:n_val]])
        return train, val, test, list(cls.classes)
    makers = {"xor": data.xor, "moons": data.two_moons, "spirals": data.spirals,
              "circles": lambda *a, **k: data.circles(*a, factor=0.5, **k)}
    if cfg.dataset not in makers:
        raise ValueError(f"unknown dataset {cfg.dataset!r}; choose from {', '.join(DATASETS)}")
    make = makers[cfg.dataset]
    n = cfg.samples
    splits = [make(k, noise=cfg.noise, seed=cfg.seed * 3 + i)
              for i, k in enumerate((n, n // 5, n // 5))]
    classes = int(splits[0].tensors[1].data.max()) + 1
    return splits[0], splits[1], splits[2], [str(c) for c in range(classes)]


MODELS = ("mlp", "lenet", "cnn", "vgg", "resnet")


def build_model(cfg, input_shape, num_classes):
    """input_shape: one example's shape, (features,) or (channels, height, width)."""
    if cfg.model == "mlp":
        features = int(np.prod(input_shape))
        return MLP(features, hidden_sizes(cfg.hidden), num_classes, cfg.activation, cfg.dropout)
    if cfg.model not in MODELS:
        raise ValueError(f"unknown model {cfg.model!r}; choose from {', '.join(MODELS)}")
    if len(input_shape) != 3:
        raise ValueError(f"--model {cfg.model} needs images; {cfg.dataset} has examples of shape "
                         f"{tuple(input_shape)}")
    from . import models
    channels = input_shape[0]
    if cfg.model == "lenet":
        return models.LeNet5(channels, num_classes)
    if cfg.model == "cnn":
        return models.SimpleCNN(channels, num_classes, cfg.dropout)
    if cfg.model == "vgg":
        return models.SmallVGG(channels, num_classes)
    return models.ResNet(channels, num_classes, blocks_per_stage=1)


def build_optimizer(cfg, params):
    kw = dict(lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return optim.SGD(params, **kw)
    if cfg.optimizer == "momentum":
        return optim.SGD(params, momentum=0.9, nesterov=True, **kw)
    if cfg.optimizer == "adam":
        return optim.Adam(params, **kw)
    if cfg.optimizer == "adamw":
        return optim.AdamW(params, **kw)
    if cfg.optimizer == "rmsprop":
        return optim.RMSprop(params, **kw)
    if cfg.optimizer == "adagrad":
        return optim.Adagrad(params, **kw)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose from {', '.join(OPTIMIZERS)}")


def build_scheduler(cfg, optimizer, steps_per_epoch):
    s = optim.lr_scheduler
    if cfg.schedule == "none":
        return None
    if cfg.schedule == "cosine":
        return s.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    if cfg.schedule == "onecycle":
        return s.OneCycleLR(optimizer, max_lr=cfg.lr, epochs=cfg.epochs,
                            steps_per_epoch=steps_per_epoch)
    if cfg.schedule == "step":
        return s.StepLR(optimizer, step_size=max(cfg.epochs // 3, 1), gamma=0.1)
    if cfg.schedule == "plateau":
        return s.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    raise ValueError(f"unknown schedule {cfg.schedule!r}; choose from {', '.join(SCHEDULES)}")


def augmentation(cfg, loader):
    from .data.augment import RandomCrop, RandomHorizontalFlip, augmented
    if cfg.dataset not in ("fashion-mnist", "mnist"):
        raise ValueError(f"--augment is for image datasets, not {cfg.dataset}")
    steps = [RandomCrop(28, padding=2)]
    if cfg.dataset == "fashion-mnist":  # clothes mirror well; digits do not
        steps.append(RandomHorizontalFlip())
    return augmented(loader, *steps)


class Run:
    """Everything one training run holds; `checkpoint()` is what a resumed run needs."""

    def __init__(self, cfg, out_dir):
        self.cfg, self.out_dir = cfg, out_dir
        manual_seed(cfg.seed)
        self.train_set, self.val_set, self.test_set, self.classes = load_splits(cfg)
        x0 = self.train_set.tensors[0]
        self.model = build_model(cfg, x0.shape[1:], len(self.classes))
        self.optimizer = build_optimizer(cfg, self.model.parameters())
        self.train_loader = data.DataLoader(self.train_set, batch_size=cfg.batch_size,
                                            shuffle=True)
        if cfg.augment:
            self.train_loader = augmentation(cfg, self.train_loader)
        self.val_loader = data.DataLoader(self.val_set, batch_size=1024)
        self.test_loader = data.DataLoader(self.test_set, batch_size=1024)
        self.scheduler = build_scheduler(cfg, self.optimizer, len(self.train_loader))
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.history = History()
        self.epoch = self.step = 0

    def checkpoint(self, state=None):
        epoch, step = (state.epoch, state.step) if state is not None else (self.epoch, self.step)
        return {"config": asdict(self.cfg), "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else {},
                "epoch": epoch, "step": step, "rng": json.dumps(default_generator.get_state()),
                "history": self.history.state_dict(), "classes": self.classes}

    def restore(self, ckpt):
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt["scheduler"]:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        self.history.load_state_dict(ckpt["history"])
        self.epoch, self.step = int(ckpt["epoch"]), int(ckpt["step"])
        default_generator.set_state(json.loads(ckpt["rng"]))

    def fit(self, verbose=True, print_fn=print, callbacks=()):
        os.makedirs(self.out_dir, exist_ok=True)
        callbacks = [ModelCheckpoint(self.out_dir, monitor="val_accuracy",
                                     checkpoint_fn=self.checkpoint),
                     CSVLogger(os.path.join(self.out_dir, "history.csv")), *callbacks]
        fit(self.model, self.loss_fn, self.optimizer, self.train_loader, self.val_loader,
            epochs=self.cfg.epochs, scheduler=self.scheduler, callbacks=callbacks,
            verbose=verbose, history=self.history, start_epoch=self.epoch,
            start_step=self.step, print_fn=print_fn)
        if len(self.history):
            plot_history(self.history, os.path.join(self.out_dir, "history.png"),
                         title=f"{self.cfg.model} on {self.cfg.dataset}")
        return self.history

    def test(self):
        """Test loss and accuracy, the confusion matrix, and the predicted classes."""
        result = evaluate(self.model, self.loss_fn, self.test_loader)
        logits = predict(self.model, self.test_loader).data
        pred = logits.argmax(1)
        counts = confusion_matrix(pred, self.test_set.tensors[1].data, len(self.classes))
        return result, counts, logits

    def write_misclassified(self, logits, path):
        """Image sets: a PNG of misclassified test images (true -> predicted, confidence)."""
        if self.cfg.dataset not in ("fashion-mnist", "mnist"):
            return None
        x, y = (t.data for t in self.test_set.tensors)
        z = np.exp(logits - logits.max(1, keepdims=True))
        confidence = (z / z.sum(1, keepdims=True)).max(1)
        return plot_misclassified(x.reshape(len(x), 28, 28), y, logits.argmax(1), path,
                                  self.classes, confidence)


def write_config(cfg, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(asdict(cfg), f, indent=2)


def train_command(cfg, out_dir, resume=False, verbose=True, print_fn=print):
    """`ember train`: returns the Run after training and testing."""
    run = Run(cfg, out_dir)
    last = os.path.join(out_dir, "last.safetensors")
    if resume:
        if not os.path.exists(last):
            raise FileNotFoundError(f"--resume: no checkpoint at {last}")
        run.restore(load(last))
        print_fn(f"resuming from {last} after epoch {run.epoch} (step {run.step})")
    write_config(cfg, out_dir)
    name = f"mlp {cfg.hidden}" if cfg.model == "mlp" else cfg.model
    print_fn(f"{name} on {cfg.dataset}: {len(run.train_set)} train, "
             f"{len(run.val_set)} val, {len(run.test_set)} test; {cfg.optimizer} lr {cfg.lr}, "
             f"{cfg.schedule} schedule, {cfg.epochs} epochs, batch {cfg.batch_size}")
    try:
        run.fit(verbose=verbose, print_fn=print_fn)
    except KeyboardInterrupt:
        print_fn(f"\ninterrupted: {last} holds the last whole epoch; continue with --resume")
        raise SystemExit(130)
    result, _, logits = run.test()
    print_fn(f"test loss {result['loss']:.4f}  test accuracy {100 * result['accuracy']:.2f}%")
    written = "last.safetensors, best.safetensors, history.csv, history.png, config.json"
    if run.write_misclassified(logits, os.path.join(out_dir, "misclassified.png")) is not None:
        written += ", misclassified.png"
    print_fn(f"wrote {out_dir}/: {written}")
    return run, result


def evaluate_command(checkpoint_path, data_dir=None, print_fn=print, misclassified=None):
    """`ember evaluate`: rebuild the run's model from its checkpoint, report test accuracy and
    the confusion matrix; for images also write a PNG of misclassified examples (by default
    misclassified.png beside the checkpoint)."""
    ckpt = load(checkpoint_path)
    cfg = RunConfig(**ckpt["config"])
    if data_dir is not None:
        cfg.data_dir = data_dir
    run = Run(cfg, os.path.dirname(checkpoint_path))
    run.model.load_state_dict(ckpt["model"])
    result, counts, logits = run.test()
    print_fn(f"{checkpoint_path}: {cfg.model} on {cfg.dataset}, epoch {ckpt['epoch']}")
    print_fn(f"test loss {result['loss']:.4f}  test accuracy {100 * result['accuracy']:.2f}%")
    print_fn("confusion matrix (rows: true class, columns: predicted):")
    print_fn(format_confusion_matrix(counts, ckpt.get("classes")))
    path = misclassified or os.path.join(os.path.dirname(checkpoint_path), "misclassified.png")
    wrong = run.write_misclassified(logits, path)
    if wrong is not None:
        print_fn(f"{wrong} misclassified; the first 40 are in {path}")
    return result, counts
