"""Regularization study (`ember study regularization`): one MLP trained on a small Fashion-MNIST
subset, where it overfits, with nothing and then with each regularizer alone, and a table of
train accuracy, test accuracy and the generalization gap (train - test) for each.

The variants: none; L2 weight decay (coupled, as Adam(weight_decay=...): the loss gains
(wd / 2) ||w||^2); dropout; batch norm after every hidden Linear; data augmentation (random
crops with 2-pixel padding and horizontal flips, ember.data.augment); label smoothing; early
stopping on the validation loss (best weights restored); a learning-rate schedule (one-cycle).

    from ember.projects.study import StudyConfig, regularization_study
    results = regularization_study(StudyConfig(train_size=1000, epochs=40))
    # {'none': {'train_accuracy': ..., 'test_accuracy': ..., 'gap': ..., 'history': History}, ...}
"""
import os
from dataclasses import dataclass, replace

from .. import data as edata
from .. import nn
from ..backend import manual_seed
from ..run import (RunConfig, augmentation, build_optimizer, build_scheduler, hidden_sizes,
                   load_splits)
from ..train import EarlyStopping, evaluate, fit
from ..train.plot import require_pyplot, save_figure

# name: (what it changes, the RunConfig fields it sets; "batchnorm" and "early_stopping" are the
# study's own switches)
VARIANTS = {
    "none": ("no regularization", {}),
    "l2": ("L2 weight decay 2e-2 (Adam's coupled decay)", {"weight_decay": 2e-2}),
    "dropout": ("dropout 0.5 after each hidden layer", {"dropout": 0.5}),
    "batchnorm": ("BatchNorm1d after each hidden Linear", {"batchnorm": True}),
    "augment": ("random crops (pad 2) and horizontal flips", {"augment": True}),
    "label_smoothing": ("label smoothing 0.1", {"label_smoothing": 0.1}),
    "early_stopping": ("early stopping on val loss, patience 5, best weights",
                       {"early_stopping": 5}),
    "lr_schedule": ("one-cycle learning-rate schedule", {"schedule": "onecycle"}),
}


@dataclass
class StudyConfig:
    train_size: int = 1000
    epochs: int = 40
    seed: int = 0
    hidden: str = "256,256"
    lr: float = 1e-3
    batch_size: int = 64
    val_size: int = 5000
    variants: tuple = tuple(VARIANTS)
    data_dir: str = None


def study_model(hidden, dropout=0.0, batchnorm=False):
    """Flatten -> [Linear -> (BatchNorm1d) -> ReLU -> (Dropout)] per hidden size -> Linear(10)."""
    layers, width = [nn.Flatten()], 784
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def study_data(cfg):
    """(train subset, validation, test) TensorDatasets of (N, 1, 28, 28) normalized images: the
    first train_size and val_size of ember train's seeded train/validation split."""
    run_cfg = RunConfig(dataset="fashion-mnist", model="cnn", seed=cfg.seed,
                        data_dir=cfg.data_dir)
    train, val, test, _ = load_splits(run_cfg)
    if not 1 <= cfg.train_size <= len(train):
        raise ValueError(f"--train-size must be in 1..{len(train)}, got {cfg.train_size}")

    def cut(ds, n):
        return edata.TensorDataset(*(t[:n] for t in ds.tensors))
    return cut(train, cfg.train_size), cut(val, cfg.val_size), test


def train_variant(cfg, name, datasets):
    """Train one variant from the same seed; returns its train/test accuracy, gap and history."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
    options = dict(VARIANTS[name][1])
    batchnorm = options.pop("batchnorm", False)
    patience = options.pop("early_stopping", None)
    run_cfg = RunConfig(dataset="fashion-mnist", hidden=cfg.hidden, epochs=cfg.epochs,
                        batch_size=cfg.batch_size, optimizer="adam", lr=cfg.lr, seed=cfg.seed)
    run_cfg = replace(run_cfg, **options)
    train, val, test = datasets
    manual_seed(cfg.seed)
    model = study_model(hidden_sizes(cfg.hidden), run_cfg.dropout, batchnorm)
    opt = build_optimizer(run_cfg, model.parameters())
    loader = edata.DataLoader(train, batch_size=cfg.batch_size, shuffle=True)
    scheduler = build_scheduler(run_cfg, opt, len(loader))
    if run_cfg.augment:
        loader = augmentation(run_cfg, loader)
    callbacks = [EarlyStopping("val_loss", patience=patience, restore_best_weights=True)] \
        if patience else []
    loss_fn = nn.CrossEntropyLoss(label_smoothing=run_cfg.label_smoothing)
    history = fit(model, loss_fn, opt, loader, edata.DataLoader(val, batch_size=1000),
                  epochs=cfg.epochs, scheduler=scheduler, callbacks=callbacks, verbose=False)
    plain = nn.CrossEntropyLoss()
    train_acc = evaluate(model, plain, edata.DataLoader(train, batch_size=1000))["accuracy"]
    test_acc = evaluate(model, plain, edata.DataLoader(test, batch_size=1000))["accuracy"]
    return {"train_accuracy": train_acc, "test_accuracy": test_acc, "gap": train_acc - test_acc,
            "epochs_run": len(history), "history": history}


def regularization_study(cfg, print_fn=None):
    """Every variant of cfg.variants, in order: {name: result of train_variant}; print_fn gets
    each variant's table row as it finishes."""
    datasets = study_data(cfg)
    results = {}
    for name in cfg.variants:
        results[name] = train_variant(cfg, name, datasets)
        if print_fn is not None:
            none_gap = results["none"]["gap"] if "none" in results else None
            print_fn(format_row(name, results[name], none_gap))
    return results


def format_header():
    return (f"{'variant':16s} {'train acc':>9s} {'test acc':>9s} {'gap':>7s} {'vs none':>8s} "
            f"{'epochs':>6s}  what")


def format_row(name, r, none_gap=None):
    change = "" if none_gap is None else f"{100 * (r['gap'] - none_gap):+8.2f}"
    return (f"{name:16s} {100 * r['train_accuracy']:9.2f} {100 * r['test_accuracy']:9.2f} "
            f"{100 * r['gap']:7.2f} {change:>8s} {r['epochs_run']:6d}  {VARIANTS[name][0]}")


def plot_study(results, path, title=None):
    """One PNG: a panel per variant with its training and validation accuracy per epoch (the
    training curve is measured with the regularizer on, e.g. dropout active)."""
    plt = require_pyplot("plot_study")
    names = list(results)
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.flat, names):
        h = results[name]["history"].history
        epochs = range(1, len(h["accuracy"]) + 1)
        ax.plot(epochs, h["accuracy"], label="train")
        ax.plot(epochs, h["val_accuracy"], label="validation")
        ax.set_title(f"{name}: gap {100 * results[name]['gap']:.1f} pts", fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("accuracy")
    axes[0, 0].legend(fontsize=8)
    save_figure(fig, path, title)
    return path


def study_command(cfg, plot_path, print_fn=print):
    print_fn(f"regularization study: MLP {cfg.hidden} on {cfg.train_size} Fashion-MNIST training "
             f"images ({cfg.val_size} validation, 10000 test), Adam lr {cfg.lr}, batch "
             f"{cfg.batch_size}, {cfg.epochs} epochs, seed {cfg.seed}")
    print_fn(format_header())
    results = regularization_study(cfg, print_fn)
    if plot_path:
        os.makedirs(os.path.dirname(plot_path) or ".", exist_ok=True)
        plot_study(results, plot_path, title=f"MLP on {cfg.train_size} Fashion-MNIST images")
        print_fn(f"wrote {plot_path}")
    return results


# ---- the command line -------------------------------------------------------------------------
def add_parser(sub):
    p = sub.add_parser("study", help="studies: regularization on a small training set")
    ssub = p.add_subparsers(dest="study_command", metavar="STUDY", required=True)
    d = StudyConfig()
    r = ssub.add_parser("regularization",
                        help="train one MLP with each regularizer; table of train/test accuracy",
                        description="Train the same MLP on a small Fashion-MNIST subset with no "
                                    "regularization and with each regularizer alone; print "
                                    "train and test accuracy and the gap, and plot the curves.")
    r.add_argument("--train-size", type=int, dest="train_size", default=d.train_size)
    r.add_argument("--epochs", type=int, default=d.epochs)
    r.add_argument("--seed", type=int, default=d.seed)
    r.add_argument("--hidden", default=d.hidden, help=f"hidden sizes (default {d.hidden})")
    r.add_argument("--variants", default=",".join(VARIANTS),
                   help="comma-separated subset of: " + ", ".join(VARIANTS))
    r.add_argument("--plot", default=os.path.join("runs", "regularization.png"),
                   help="PNG of all curves ('' for none)")
    r.add_argument("--data-dir", dest="data_dir")
    r.set_defaults(run=_run_regularization)


def _run_regularization(args, parser):
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants:
        raise SystemExit(f"ember study regularization: unknown variant(s) {bad}; choose from "
                         f"{', '.join(VARIANTS)}")
    if args.epochs < 1:
        raise SystemExit("ember study regularization: --epochs must be >= 1")
    cfg = StudyConfig(train_size=args.train_size, epochs=args.epochs, seed=args.seed,
                      hidden=args.hidden, variants=variants, data_dir=args.data_dir)
    try:
        study_command(cfg, args.plot)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember study regularization: {e}")
    return 0
