"""Image generation with GANs on Fashion-MNIST (`ember gan train / sample / score`).

DCGAN (Goodfellow et al. 2014 with Radford et al.'s architecture): the discriminator D learns
max_D E[log D(x)] + E[log(1 - D(G(z)))] (BCE with logits on real = 1, fake = 0) and the
generator the non-saturating min_G -E[log D(G(z))]; Adam(2e-4, betas (0.5, 0.999)); images are
scaled to [-1, 1] to match the generator's tanh.

WGAN-GP (Gulrajani et al. 2017): a critic f without BatchNorm minimises
E[f(G(z))] - E[f(x)] + lambda E[(||grad_x^ f(x^)||_2 - 1)^2], x^ = e x + (1 - e) G(z),
e ~ U(0, 1) per image; the penalty's gradient is a second derivative (ember.autograd.grad with
create_graph=True). n_critic = 5 critic steps per generator step, lambda = 10,
Adam(1e-4, betas (0.0, 0.9)).

    from ember.projects.gan import GANConfig, train_gan, generate
    G, D = train_gan(GANConfig(epochs=5), "runs/gan")    # writes runs/gan/samples_epoch05.png ...
    images = generate(G, 64, seed=0)                      # (64, 1, 28, 28) in [-1, 1]
"""
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import data as edata
from .. import nn, optim
from ..autograd import grad, no_grad
from ..backend import manual_seed
from ..creation import rand, randn
from ..creation import tensor as as_tensor
from ..io import load, save
from ..models.gan import DCGANDiscriminator, DCGANGenerator
from ..train.plot import require_pyplot

VARIANTS = ("dcgan", "wgan-gp")
GRID = 8  # samples_epochNN.png holds GRID x GRID images from a fixed noise batch


@dataclass
class GANConfig:
    variant: str = "dcgan"
    epochs: int = 20
    batch_size: int = 128
    z_dim: int = 100
    width: int = 32  # channels of the generator's 14x14 layer and the discriminator's first
    train_size: int = 60000  # the first N training images (after a seeded shuffle)
    seed: int = 0
    data_dir: str = None
    n_critic: int = 5  # wgan-gp
    gp_lambda: float = 10.0  # wgan-gp

    def validate(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose from {', '.join(VARIANTS)}")
        for name in ("epochs", "batch_size", "z_dim", "width", "train_size", "n_critic"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got "
                                 f"{getattr(self, name)}")


def build_gan(cfg):
    """(generator, discriminator or critic) for the config."""
    g = DCGANGenerator(cfg.z_dim, cfg.width)
    d = DCGANDiscriminator(cfg.width, batchnorm=cfg.variant == "dcgan")
    return g, d


def build_optimizers(cfg, g, d):
    if cfg.variant == "dcgan":
        kw = dict(lr=2e-4, betas=(0.5, 0.999))
    else:
        kw = dict(lr=1e-4, betas=(0.0, 0.9))
    return optim.Adam(g.parameters(), **kw), optim.Adam(d.parameters(), **kw)


def real_images(cfg, train=True):
    """Fashion-MNIST images scaled to [-1, 1], (N, 1, 28, 28) float32 arrays; the training split
    is shuffled with the seed and cut to cfg.train_size."""
    kwargs = {} if cfg.data_dir is None else {"root": cfg.data_dir}
    x = edata.FashionMNIST(train=train, **kwargs).tensors()[0].data
    x = x * 2 - 1
    if train:
        x = x[np.random.default_rng(cfg.seed).permutation(len(x))[:cfg.train_size]]
    return x


def fixed_noise(cfg):
    """The noise batch every epoch's sample grid is drawn from (the same for the whole run)."""
    return np.random.default_rng(cfg.seed + 1).standard_normal((GRID * GRID, cfg.z_dim)) \
        .astype(np.float32)


def generate(g, n, seed=0, z=None):
    """n images (n, 1, 28, 28) in [-1, 1] from the generator in eval mode (BatchNorm running
    statistics), from seeded N(0, 1) noise or the given noise array."""
    if z is None:
        z = np.random.default_rng(seed).standard_normal((n, g.z_dim)).astype(np.float32)
    was_training = g.training
    g.eval()
    try:
        with no_grad():
            out = np.concatenate([g(as_tensor(z[i:i + 500])).data for i in range(0, len(z), 500)])
    finally:
        g.train(was_training)
    return out


def save_grid(images, path, columns=GRID):
    """Write images (N, 1, H, W) in [-1, 1] as one PNG grid, `columns` per row, 2-pixel gaps."""
    plt = require_pyplot("save_grid")
    n, _, h, w = images.shape
    rows = -(-n // columns)
    grid = np.ones((rows * (h + 2) + 2, columns * (w + 2) + 2), np.float32)
    for i, img in enumerate((np.clip(images[:, 0], -1, 1) + 1) / 2):
        r, c = divmod(i, columns)
        grid[2 + r * (h + 2):2 + r * (h + 2) + h, 2 + c * (w + 2):2 + c * (w + 2) + w] = img
    plt.imsave(path, grid, cmap="gray", vmin=0, vmax=1)
    return path


def dcgan_step(g, d, opt_g, opt_d, real, bce):
    """One discriminator step then one generator step on a real batch; returns the losses and
    the mean probabilities D gave the real and the generated images."""
    n = len(real)
    ones, zeros = as_tensor(np.ones(n, np.float32)), as_tensor(np.zeros(n, np.float32))
    fake = g(randn(n, g.z_dim))
    opt_d.zero_grad()
    logit_real, logit_fake = d(real), d(fake.detach())
    loss_d = bce(logit_real, ones) + bce(logit_fake, zeros)
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad()
    loss_g = bce(d(fake), ones)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
            "d_real": float(logit_real.sigmoid().mean().item()),
            "d_fake": float(logit_fake.sigmoid().mean().item())}


def gradient_penalty(critic, real, fake):
    """E[(||grad_x^ f(x^)||_2 - 1)^2] at x^ = e real + (1 - e) fake, e ~ U(0, 1) per image; the
    result is differentiable with respect to the critic's weights (double backward)."""
    e = rand(len(real), 1, 1, 1).data
    mix = as_tensor(e * real.data + (1 - e) * fake.data, requires_grad=True)
    (g,) = grad(critic(mix).sum(), mix, create_graph=True)
    return ((g.reshape(len(real), -1).norm(dim=1) - 1) ** 2).mean()


def critic_step(g, critic, opt_c, real, gp_lambda):
    """One WGAN-GP critic step; returns the Wasserstein estimate E f(x) - E f(G(z)) and the
    penalty."""
    with no_grad():
        fake = g(randn(len(real), g.z_dim))
    opt_c.zero_grad()
    distance = critic(real).mean() - critic(fake).mean()
    penalty = gradient_penalty(critic, real, fake)
    (penalty * gp_lambda - distance).backward()
    opt_c.step()
    return {"wasserstein": distance.item(), "penalty": penalty.item()}


def generator_step(g, critic, opt_g, n):
    """One WGAN generator step: minimise -E f(G(z))."""
    opt_g.zero_grad()
    loss = -critic(g(randn(n, g.z_dim))).mean()
    loss.backward()
    opt_g.step()
    return {"loss_g": loss.item()}


def train_epoch(cfg, g, d, opt_g, opt_d, loader):
    """One pass over the loader; returns the epoch's mean of every measured quantity."""
    sums, counts = {}, {}
    bce = nn.BCEWithLogitsLoss()
    for i, (real,) in enumerate(loader):
        if cfg.variant == "dcgan":
            stats = dcgan_step(g, d, opt_g, opt_d, real, bce)
        else:
            stats = critic_step(g, d, opt_d, real, cfg.gp_lambda)
            if (i + 1) % cfg.n_critic == 0:
                stats.update(generator_step(g, d, opt_g, len(real)))
        for k, v in stats.items():
            if not np.isfinite(v):
                raise FloatingPointError(f"ember gan: {k} became {v} at batch {i + 1}")
            sums[k] = sums.get(k, 0.0) + v
            counts[k] = counts.get(k, 0) + 1
    return {k: sums[k] / counts[k] for k in sums}


def checkpoint_path(out_dir, epoch):
    return os.path.join(out_dir, f"checkpoint_epoch{epoch:02d}.safetensors")


def train_gan(cfg, out_dir, print_fn=print):
    """Train for cfg.epochs; after every epoch write samples_epochNN.png (the fixed noise batch)
    and checkpoint_epochNN.safetensors (both nets, both optimizers, the config), and copy the
    latter to last.safetensors. Returns (generator, discriminator)."""
    cfg.validate()
    manual_seed(cfg.seed)
    os.makedirs(out_dir, exist_ok=True)
    x = real_images(cfg)
    loader = edata.DataLoader(edata.TensorDataset(as_tensor(x)), batch_size=cfg.batch_size,
                              shuffle=True, drop_last=True)
    if len(loader) == 0:
        raise ValueError(f"--train-size {cfg.train_size} is smaller than --batch-size "
                         f"{cfg.batch_size}")
    g, d = build_gan(cfg)
    opt_g, opt_d = build_optimizers(cfg, g, d)
    z = fixed_noise(cfg)
    print_fn(f"{cfg.variant} on Fashion-MNIST: {len(x)} images, {len(loader)} batches of "
             f"{cfg.batch_size} per epoch, {cfg.epochs} epochs, width {cfg.width}, seed "
             f"{cfg.seed}")
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        stats = train_epoch(cfg, g, d, opt_g, opt_d, loader)
        took = time.perf_counter() - t0
        save_grid(generate(g, len(z), z=z), os.path.join(out_dir, f"samples_epoch{epoch:02d}.png"))
        ckpt = {"config": asdict(cfg), "epoch": epoch, "generator": g.state_dict(),
                "discriminator": d.state_dict(), "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(), "stats": stats}
        save(ckpt, checkpoint_path(out_dir, epoch))
        save(ckpt, os.path.join(out_dir, "last.safetensors"))
        print_fn(f"epoch {epoch}/{cfg.epochs}  " + "  ".join(f"{k} {v:.4f}"
                                                          for k, v in stats.items())
                 + f"  {took:.1f}s")
    return g, d


def load_generator(path):
    """The generator of a checkpoint written by train_gan, and the checkpoint."""
    ckpt = load(path)
    if "generator" not in ckpt or "config" not in ckpt:
        raise ValueError(f"{path} is not an `ember gan train` checkpoint (no generator/config)")
    cfg = GANConfig(**ckpt["config"])
    g = DCGANGenerator(cfg.z_dim, cfg.width)
    g.load_state_dict(ckpt["generator"])
    return g, ckpt


# ---- the command line -------------------------------------------------------------------------
def add_parser(sub):
    p = sub.add_parser("gan", help="train GANs on Fashion-MNIST, sample and score them",
                       description="DCGAN / WGAN-GP image generation on Fashion-MNIST.")
    gsub = p.add_subparsers(dest="gan_command", metavar="ACTION", required=True)
    d = GANConfig()
    t = gsub.add_parser("train", help="train; sample grids and checkpoints every epoch")
    t.add_argument("--out", required=True, help="run folder, e.g. runs/gan")
    t.add_argument("--variant", choices=VARIANTS, default=d.variant)
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--batch-size", type=int, dest="batch_size", default=d.batch_size)
    t.add_argument("--width", type=int, default=d.width,
                   help=f"generator/discriminator channel width (default {d.width})")
    t.add_argument("--train-size", type=int, dest="train_size", default=d.train_size,
                   help="use the first N of the (seeded, shuffled) 60,000 training images")
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--data-dir", dest="data_dir")
    t.set_defaults(run=_run_train)
    s = gsub.add_parser("sample", help="an image grid from a checkpoint's generator")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", required=True, help="PNG path, e.g. grid.png")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(run=_run_sample)
    c = gsub.add_parser("score", help="Inception-score-like and Frechet distance figures of a "
                                      "checkpoint, with a Fashion-MNIST CNN classifier")
    c.add_argument("--checkpoint", required=True, nargs="+",
                   help="one or more checkpoints (the real-data reference is computed once)")
    c.add_argument("--n", type=int, default=1000, help="generated (and real) images scored")
    c.add_argument("--classifier", default=None,
                   help="an `ember train --model cnn` checkpoint; default: trained once and "
                        "cached in runs/gan-classifier")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--data-dir", dest="data_dir")
    c.set_defaults(run=_run_score)


def _run_train(args, parser):
    cfg = GANConfig(variant=args.variant, epochs=args.epochs, batch_size=args.batch_size,
                    width=args.width, train_size=args.train_size, seed=args.seed,
                    data_dir=args.data_dir)
    try:
        train_gan(cfg, args.out)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember gan train: {e}")
    print(f"wrote {args.out}/: samples_epochNN.png, checkpoint_epochNN.safetensors, "
          "last.safetensors")
    return 0


def _run_sample(args, parser):
    try:
        g, ckpt = load_generator(args.checkpoint)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember gan sample: {e}")
    if args.n < 1:
        raise SystemExit("ember gan sample: --n must be >= 1")
    save_grid(generate(g, args.n, seed=args.seed), args.out)
    print(f"wrote {args.out}: {args.n} samples from {args.checkpoint} (epoch {ckpt['epoch']})")
    return 0


def _run_score(args, parser):
    from .gan_metrics import DEFAULT_CLASSIFIER, score_command
    try:
        score_command(args.checkpoint, args.classifier or DEFAULT_CLASSIFIER, n=args.n,
                      seed=args.seed, data_dir=args.data_dir)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember gan score: {e}")
    return 0
