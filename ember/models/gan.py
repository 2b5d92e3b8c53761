"""DCGAN for 28x28 images (Radford et al. 2016): a generator of transposed convolutions with
BatchNorm and ReLU ending in tanh, and a convolutional discriminator with LeakyReLU(0.2) that
returns one logit per image. Without BatchNorm the discriminator is a WGAN-GP critic (the
gradient penalty is taken per example, which batch statistics would mix)."""
from .. import nn


class DCGANGenerator(nn.Sequential):
    """z (N, z_dim) -> Linear -> (2w, 7, 7) -> BN, ReLU -> ConvT(4, stride 2) -> (w, 14, 14) ->
    BN, ReLU -> ConvT(4, stride 2) -> (channels, 28, 28) -> tanh, images in [-1, 1]."""

    def __init__(self, z_dim=100, width=64, channels=1):
        super().__init__(
            nn.Linear(z_dim, 2 * width * 7 * 7, bias=False), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1), nn.Tanh())
        self.z_dim = z_dim
        dcgan_init(self)

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"DCGANGenerator: expected noise (N, {self.z_dim}), got shape "
                             f"{tuple(z.shape)}")
        return super().forward(z)


class DCGANDiscriminator(nn.Sequential):
    """x (N, channels, 28, 28) -> Conv(4, stride 2) -> (w, 14, 14) -> LeakyReLU(0.2) ->
    Conv(4, stride 2) -> (2w, 7, 7) -> [BN] -> LeakyReLU(0.2) -> Linear -> one logit per image.
    batchnorm=False gives the WGAN-GP critic (its output is a score, not a logit)."""

    def __init__(self, width=64, channels=1, batchnorm=True):
        layers = [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                  nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=not batchnorm)]
        if batchnorm:
            layers.append(nn.BatchNorm2d(2 * width))
        layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1)]
        super().__init__(*layers)
        dcgan_init(self)

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[2:]) != (28, 28):
            raise ValueError(f"DCGANDiscriminator: expected images (N, C, 28, 28), got shape "
                             f"{tuple(x.shape)}")
        return super().forward(x).reshape(-1)


def dcgan_init(model):
    """The DCGAN paper's init: conv and linear weights ~ N(0, 0.02), BatchNorm scales
    ~ N(1, 0.02), biases 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
