"""Autoencoders for images with pixels in [0, 1]: dense, convolutional and variational.

Each takes (N, C, H, W) images and has `reconstruct(x)`, the deterministic reconstruction in
[0, 1] that anomaly scores are computed from (for the VAE: the decoding of the posterior mean).
"""
import math

from .. import nn
from ..creation import randn_like


def _check_images(who, x, shape):
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(f"{who}: expected images of shape (N, {', '.join(map(str, shape))}), "
                         f"got {tuple(x.shape)}")


class DenseAutoencoder(nn.Module):
    """x -> flatten -> [Linear-ReLU]* -> z (latent) -> [Linear-ReLU]* -> Linear -> sigmoid -> x^.

    DenseAutoencoder(image_shape=(1, 28, 28), hidden=(256,), latent=32)"""

    def __init__(self, image_shape=(1, 28, 28), hidden=(256,), latent=32):
        super().__init__()
        self.image_shape = tuple(image_shape)
        features = math.prod(self.image_shape)
        sizes = [features, *hidden, latent]
        enc = [nn.Flatten()]
        for a, b in zip(sizes[:-2], sizes[1:-1]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        enc.append(nn.Linear(sizes[-2], latent))
        dec = []
        back = sizes[::-1]
        for a, b in zip(back[:-2], back[1:-1]):
            dec += [nn.Linear(a, b), nn.ReLU()]
        dec += [nn.Linear(back[-2], features), nn.Sigmoid(), nn.Unflatten(1, self.image_shape)]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def forward(self, x):
        _check_images(type(self).__name__, x, self.image_shape)
        return self.decoder(self.encoder(x))

    def reconstruct(self, x):
        return self(x)


class ConvAutoencoder(nn.Module):
    """conv(C->16, 3x3, stride 2) - ReLU - conv(16->32, 3x3, stride 2) - ReLU - Linear -> z, and
    back: Linear - ReLU - convT(32->16, stride 2) - ReLU - convT(16->C, stride 2) - sigmoid.
    Height and width must be divisible by 4 (28 -> 14 -> 7 -> 14 -> 28).

    ConvAutoencoder(image_shape=(1, 28, 28), latent=32, width=16)"""

    def __init__(self, image_shape=(1, 28, 28), latent=32, width=16):
        super().__init__()
        self.image_shape = tuple(image_shape)
        c, h, w = self.image_shape
        if h % 4 or w % 4:
            raise ValueError(f"ConvAutoencoder: height and width must be divisible by 4, got "
                             f"image_shape {self.image_shape}")
        inner = (2 * width, h // 4, w // 4)
        flat = math.prod(inner)
        self.encoder = nn.Sequential(
            nn.Conv2d(c, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, latent))
        self.decoder = nn.Sequential(
            nn.Linear(latent, flat), nn.ReLU(), nn.Unflatten(1, inner),
            nn.ConvTranspose2d(2 * width, width, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(width, c, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def forward(self, x):
        _check_images(type(self).__name__, x, self.image_shape)
        return self.decoder(self.encoder(x))

    def reconstruct(self, x):
        return self(x)


class VAE(nn.Module):
    """Variational autoencoder (Kingma & Welling 2014) with a Gaussian encoder q(z|x) =
    N(mu, diag(exp(logvar))) and a Bernoulli decoder p(x|z) = Bernoulli(sigmoid(logits)).

    forward(x) -> (logits, mu, logvar). In training mode z = mu + exp(logvar / 2) * eps with
    eps ~ N(0, I) from ember's seeded generator (the reparameterization trick: z is a
    differentiable function of mu and logvar); in eval mode z = mu.

    VAE(image_shape=(1, 28, 28), hidden=256, latent=16)"""

    def __init__(self, image_shape=(1, 28, 28), hidden=256, latent=16):
        super().__init__()
        self.image_shape = tuple(image_shape)
        features = math.prod(self.image_shape)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(features, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, features), nn.Unflatten(1, self.image_shape))

    def encode(self, x):
        _check_images(type(self).__name__, x, self.image_shape)
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def reparameterize(self, mu, logvar):
        """z = mu + sigma * eps, eps ~ N(0, I): dz/dmu = 1, dz/dlogvar = sigma * eps / 2."""
        return mu + (0.5 * logvar).exp() * randn_like(mu)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar) if self.training else mu
        return self.decoder(z), mu, logvar

    def reconstruct(self, x):
        """sigmoid(decoder(mu)): the decoder's mean image for the posterior mean."""
        mu, _ = self.encode(x)
        return self.decoder(mu).sigmoid()


def kl_divergence(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per example: -1/2 sum_j (1 + logvar_j - mu_j^2 -
    exp(logvar_j))."""
    return -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)


class VAELoss(nn.Module):
    """The negative ELBO with a KL weight, averaged over the batch:
    loss = mean_i [ BCE(sigmoid(logits_i), x_i) summed over pixels + beta * KL_i ].
    beta = 1 is the ELBO; beta > 1 is the beta-VAE (Higgins et al. 2017). Call it as
    loss((logits, mu, logvar), x), the VAE's output and its input."""

    def __init__(self, beta=1.0):
        super().__init__()
        if beta < 0:
            raise ValueError(f"VAELoss: beta must be >= 0, got {beta}")
        self.beta = float(beta)

    def forward(self, output, target):
        if not (isinstance(output, tuple) and len(output) == 3):
            raise TypeError("VAELoss: expected the VAE's output (logits, mu, logvar) as the first "
                            f"argument, got {type(output).__name__}")
        logits, mu, logvar = output
        if tuple(logits.shape) != tuple(target.shape):
            raise ValueError(f"VAELoss: the reconstruction has shape {tuple(logits.shape)} but "
                             f"the target {tuple(target.shape)}")
        n = logits.shape[0]
        recon = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum")
        return recon / n + self.beta * kl_divergence(mu, logvar).mean()

    def extra_repr(self):
        return f"beta={self.beta}"
