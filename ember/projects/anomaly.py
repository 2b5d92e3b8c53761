"""Anomaly detection with autoencoders (`ember anomaly train` / `ember anomaly eval`).

Train an autoencoder on the normal classes only; at test time an image it reconstructs badly is
called an anomaly. The score of an image is its reconstruction error, the per-image mean squared
error (1/P) sum_p (x_p - x^_p)^2 over its P pixels (pixels in [0, 1]); for the VAE, x^ is the
decoding of the posterior mean, sigmoid(decoder(mu(x))). Reported: ROC-AUC of the scores (normal
test images against the held-out classes' test images), and precision / recall / F1 at a
threshold, by default the 95th percentile of the errors on the normal validation images (so about
5% of normal images are flagged).

    from ember.projects.anomaly import AnomalyConfig, train_anomaly, evaluate_anomaly
    cfg = AnomalyConfig(normal_classes="0,1,2,3,4,5,6,7,9", model="dense", epochs=10)
    model, data = train_anomaly(cfg, "runs/ae")
    report = evaluate_anomaly(model, data)      # {'roc_auc': ..., 'f1': ..., ...}
"""
import os
from dataclasses import asdict, dataclass

import numpy as np

from .. import data as edata
from .. import nn, optim
from ..autograd import no_grad
from ..backend import manual_seed
from ..io import load
from ..run import write_config
from ..models.autoencoder import VAE, ConvAutoencoder, DenseAutoencoder, VAELoss
from ..train import CSVLogger, ModelCheckpoint, fit, plot_history
from ..train.metrics import precision_recall_f1, roc_auc_score
from ..train.plot import require_pyplot, save_figure

MODELS = ("dense", "conv", "vae")
DATASETS = ("fashion-mnist", "mnist")
DEFAULT_HELD_OUT = 8  # Bag: `ember anomaly train` leaves it out unless --normal-classes is given


@dataclass
class AnomalyConfig:
    """What `ember anomaly train` was given; stored in the checkpoint and config.json."""
    dataset: str = "fashion-mnist"
    normal_classes: str = ",".join(str(c) for c in range(10) if c != DEFAULT_HELD_OUT)
    model: str = "dense"
    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    latent: int = 32
    beta: float = 1.0  # the VAE's KL weight
    seed: int = 0
    data_dir: str = None


def parse_classes(text, num_classes=10):
    """'0,1,2' -> [0, 1, 2]; at least one class must stay out as the anomalies."""
    try:
        classes = sorted({int(c) for c in str(text).split(",") if c.strip()})
    except ValueError:
        raise ValueError(f"--normal-classes must be comma-separated class indices, got "
                         f"{text!r}") from None
    if not classes or classes[0] < 0 or classes[-1] >= num_classes:
        raise ValueError(f"--normal-classes must name classes in 0..{num_classes - 1}, got "
                         f"{text!r}")
    if len(classes) == num_classes:
        raise ValueError("--normal-classes names every class: leave at least one out as the "
                         "anomalies")
    return classes


class AnomalyData:
    """Images in [0, 1], shape (N, 1, 28, 28): train and val hold only normal images (val is
    1/12 of the training split, chosen by the seed, as `ember train` does); test holds the whole
    test split with `test_anomaly` = 1 for images of the classes left out."""

    def __init__(self, cfg):
        if cfg.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {cfg.dataset!r}; choose from {', '.join(DATASETS)}")
        cls = edata.FashionMNIST if cfg.dataset == "fashion-mnist" else edata.MNIST
        kwargs = {} if cfg.data_dir is None else {"root": cfg.data_dir}
        self.classes = list(cls.classes)
        self.normal = parse_classes(cfg.normal_classes, len(self.classes))
        x, y = cls(train=True, **kwargs).tensors()
        order = np.random.default_rng(cfg.seed).permutation(len(y.data))
        n_val = len(order) // 12
        keep = np.isin(y.data[order], self.normal)
        val_idx, train_idx = order[:n_val][keep[:n_val]], order[n_val:][keep[n_val:]]
        self.train_x, self.val_x = x[train_idx], x[val_idx]
        self.test_x, self.test_y = cls(train=False, **kwargs).tensors()
        self.test_anomaly = ~np.isin(self.test_y.data, self.normal)

    @property
    def held_out(self):
        return [c for c in range(len(self.classes)) if c not in self.normal]

    def describe(self):
        names = ", ".join(f"{c} {self.classes[c]}" for c in self.held_out)
        return (f"{len(self.train_x)} normal train, {len(self.val_x)} normal val, "
                f"{len(self.test_x)} test ({int(self.test_anomaly.sum())} anomalies: {names})")


def build_autoencoder(cfg, image_shape=(1, 28, 28)):
    if cfg.model == "dense":
        return DenseAutoencoder(image_shape, hidden=(256,), latent=cfg.latent)
    if cfg.model == "conv":
        return ConvAutoencoder(image_shape, latent=cfg.latent)
    if cfg.model == "vae":
        return VAE(image_shape, hidden=256, latent=cfg.latent)
    raise ValueError(f"unknown model {cfg.model!r}; choose from {', '.join(MODELS)}")


def loss_for(cfg):
    """MSE for the plain autoencoders (the same quantity they are scored by); the negative ELBO
    with KL weight beta for the VAE."""
    return VAELoss(cfg.beta) if cfg.model == "vae" else nn.MSELoss()


def _checkpoint_fn(cfg):
    def make(state):
        return {"config": asdict(cfg), "model": state.model.state_dict(), "epoch": state.epoch}
    return make


def train_anomaly(cfg, out_dir, verbose=True, print_fn=print):
    """Train the autoencoder on the normal classes; write best.safetensors (lowest validation
    loss), last.safetensors, history.csv, history.png and config.json into out_dir. Returns
    (model, AnomalyData) with the best weights loaded."""
    manual_seed(cfg.seed)
    ds = AnomalyData(cfg)
    model = build_autoencoder(cfg, tuple(ds.train_x.shape[1:]))
    loss_fn = loss_for(cfg)
    opt = optim.Adam(model.parameters(), lr=cfg.lr)
    train_loader = edata.DataLoader(edata.TensorDataset(ds.train_x, ds.train_x),
                                    batch_size=cfg.batch_size, shuffle=True)
    val_loader = edata.DataLoader(edata.TensorDataset(ds.val_x, ds.val_x), batch_size=1024)
    write_config(cfg, out_dir)
    print_fn(f"{cfg.model} autoencoder on {cfg.dataset}: {ds.describe()}; adam lr {cfg.lr}, "
             f"{cfg.epochs} epochs, batch {cfg.batch_size}")
    history = fit(model, loss_fn, opt, train_loader, val_loader, epochs=cfg.epochs, metrics=(),
                  callbacks=[ModelCheckpoint(out_dir, monitor="val_loss",
                                             checkpoint_fn=_checkpoint_fn(cfg)),
                             CSVLogger(os.path.join(out_dir, "history.csv"))],
                  verbose=verbose, print_fn=print_fn)
    if len(history):
        plot_history(history, os.path.join(out_dir, "history.png"),
                     title=f"{cfg.model} autoencoder on {cfg.dataset}")
        model.load_state_dict(load(os.path.join(out_dir, "best.safetensors"))["model"])
    return model, ds


def reconstructions(model, x, batch_size=1024):
    """model.reconstruct(x) in eval mode, batch by batch, as one (N, ...) NumPy array."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            parts = [model.reconstruct(x[i:i + batch_size]).data
                     for i in range(0, x.shape[0], batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(parts) if parts else np.zeros(x.shape, np.float32)


def _per_image_mse(recon, images):
    diff = recon.astype(np.float64) - images
    return (diff * diff).reshape(len(diff), -1).mean(1)


def reconstruction_errors(model, x, batch_size=1024):
    """Per-image mean squared error between x and its reconstruction: (N,) float64."""
    return _per_image_mse(reconstructions(model, x, batch_size), x.data)


def evaluate_anomaly(model, ds, threshold=None, percentile=95.0, figure=None):
    """Score the test split; returns {'roc_auc', 'threshold', 'percentile', 'precision',
    'recall', 'f1', 'flagged', 'mean_error_normal', 'mean_error_anomaly'}. threshold=None takes
    the given percentile of the normal validation errors (a given threshold overrides it).
    figure: a PNG path for the worst- and best-reconstructed test images beside their
    reconstructions."""
    val_err = reconstruction_errors(model, ds.val_x)
    test_recon = reconstructions(model, ds.test_x)
    test_err = _per_image_mse(test_recon, ds.test_x.data)
    if threshold is not None:
        percentile = None
    else:
        if not 0 <= percentile <= 100:
            raise ValueError(f"--percentile must be in [0, 100], got {percentile}")
        threshold = float(np.percentile(val_err, percentile))
    flagged = test_err > threshold
    precision, recall, f1 = precision_recall_f1(ds.test_anomaly, flagged)
    report = {"roc_auc": roc_auc_score(ds.test_anomaly, test_err), "threshold": float(threshold),
              "percentile": percentile,
              "precision": precision, "recall": recall, "f1": f1,
              "flagged": int(flagged.sum()),
              "mean_error_normal": float(test_err[~ds.test_anomaly].mean()),
              "mean_error_anomaly": float(test_err[ds.test_anomaly].mean())}
    if figure is not None:
        save_reconstruction_figure(figure, ds.test_x.data, test_recon, test_err, ds.test_anomaly)
    return report


def save_reconstruction_figure(path, images, recon, errors, anomaly, k=8):
    """A PNG with four rows of k images: the k worst-reconstructed test images, their
    reconstructions, the k best-reconstructed, theirs; each titled with its error (red for an
    anomaly)."""
    plt = require_pyplot("the reconstruction figure")
    order = np.argsort(errors, kind="mergesort")
    k = min(k, len(order))
    picks = [("worst", order[::-1][:k]), ("best", order[:k])]
    fig, axes = plt.subplots(4, k, figsize=(1.3 * k, 6.2), squeeze=False)
    for block, (name, idx) in enumerate(picks):
        for j, i in enumerate(idx):
            for r, (img, label) in enumerate(((images[i], "input"), (recon[i], "reconstruction"))):
                ax = axes[2 * block + r, j]
                ax.imshow(img.reshape(img.shape[-2:]), cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(f"{errors[i]:.4f}", fontsize=8,
                                 color="red" if anomaly[i] else "black")
                if j == 0:
                    ax.set_ylabel(f"{name}\n{label}", fontsize=8)
    save_figure(fig, path, "test images by reconstruction error (red: anomaly)", fontsize=10)
    return path


def format_report(report, ds):
    held = ", ".join(f"{c} {ds.classes[c]}" for c in ds.held_out)
    how = (f"{report['percentile']:g}th percentile of normal validation errors"
           if report["percentile"] is not None else "given")
    return "\n".join([
        f"held-out (anomaly) classes: {held}",
        f"ROC-AUC {report['roc_auc']:.4f}",
        f"threshold {report['threshold']:.5f} ({how}): {report['flagged']} of "
        f"{len(ds.test_anomaly)} test images flagged",
        f"precision {report['precision']:.4f}  recall {report['recall']:.4f}  "
        f"F1 {report['f1']:.4f}",
        f"mean error: normal {report['mean_error_normal']:.5f}, anomaly "
        f"{report['mean_error_anomaly']:.5f}"])


def load_run(path, data_dir=None):
    """(model, AnomalyData, config) from a run folder (its best.safetensors) or a checkpoint."""
    ckpt_path = os.path.join(path, "best.safetensors") if os.path.isdir(path) else path
    ckpt = load(ckpt_path)
    if "config" not in ckpt or "model" not in ckpt:
        raise ValueError(f"{ckpt_path} is not an `ember anomaly train` checkpoint (it has no "
                         "'config' and 'model')")
    cfg = AnomalyConfig(**ckpt["config"])
    if data_dir is not None:
        cfg.data_dir = data_dir
    ds = AnomalyData(cfg)
    model = build_autoencoder(cfg, tuple(ds.test_x.shape[1:]))
    model.load_state_dict(ckpt["model"])
    return model, ds, cfg, ckpt_path


# ---- the command line -------------------------------------------------------------------------
def add_parser(sub):
    p = sub.add_parser("anomaly", help="anomaly detection with autoencoders (train, eval)",
                       description="Train an autoencoder on the normal classes of an image set, "
                                   "then score test images by their reconstruction error.")
    steps = p.add_subparsers(dest="step", metavar="STEP", required=True)
    d = AnomalyConfig()
    t = steps.add_parser("train", help="train an autoencoder on the normal classes only")
    t.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    t.add_argument("--normal-classes", dest="normal_classes", default=d.normal_classes,
                   help=f"comma-separated class indices (default {d.normal_classes}: class "
                        f"{DEFAULT_HELD_OUT} is the anomaly)")
    t.add_argument("--model", choices=MODELS, default=d.model)
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--batch-size", type=int, dest="batch_size", default=d.batch_size)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--latent", type=int, default=d.latent, help="latent size")
    t.add_argument("--beta", type=float, default=d.beta, help="the VAE's KL weight")
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--data-dir", dest="data_dir")
    t.add_argument("--out", required=True, help="run folder, e.g. runs/ae")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(run=_run_train)
    e = steps.add_parser("eval", help="ROC-AUC, precision/recall/F1 and a figure for a run")
    where = e.add_mutually_exclusive_group(required=True)
    where.add_argument("--run", dest="run_dir", metavar="RUN",
                       help="run folder written by `ember anomaly train`")
    where.add_argument("--checkpoint", help="a checkpoint file of such a run")
    e.add_argument("--threshold", type=float,
                   help="flag errors above this (default: --percentile of normal val errors)")
    e.add_argument("--percentile", type=float, default=95.0)
    e.add_argument("--figure", help="PNG of inputs and reconstructions (default: "
                                    "reconstructions.png beside the checkpoint)")
    e.add_argument("--data-dir", dest="data_dir")
    e.set_defaults(run=_run_eval)
    return p


def _run_train(args, parser):
    names = ("dataset", "normal_classes", "model", "epochs", "batch_size", "lr", "latent", "beta",
             "seed", "data_dir")
    cfg = AnomalyConfig(**{k: getattr(args, k) for k in names})
    if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.lr <= 0 or cfg.latent < 1:
        raise SystemExit("ember anomaly train: --epochs, --batch-size and --latent must be >= 1 "
                         "and --lr > 0")
    try:
        model, ds = train_anomaly(cfg, args.out, verbose=not args.quiet)
        report = evaluate_anomaly(model, ds)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember anomaly train: {e}")
    print(format_report(report, ds))
    print(f"wrote {args.out}/: best.safetensors, last.safetensors, history.csv, history.png, "
          f"config.json; next: ember anomaly eval --run {args.out}")
    return 0


def _run_eval(args, parser):
    try:
        model, ds, cfg, ckpt_path = load_run(args.run_dir or args.checkpoint, args.data_dir)
        figure = args.figure or os.path.join(os.path.dirname(ckpt_path), "reconstructions.png")
        percentile = None if args.threshold is not None else args.percentile
        report = evaluate_anomaly(model, ds, threshold=args.threshold, percentile=percentile,
                                  figure=figure)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember anomaly eval: {e}")
    print(f"{ckpt_path}: {cfg.model} autoencoder on {cfg.dataset}, normal classes "
          f"{cfg.normal_classes}")
    print(format_report(report, ds))
    print(f"wrote {figure}")
    return 0
