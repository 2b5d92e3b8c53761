"""Ready models: an MLP and the classic CNNs (LeNet-5, the course's CNN, a small VGG, ResNet)."""
from .autoencoder import VAE, ConvAutoencoder, DenseAutoencoder, VAELoss, kl_divergence
from .cnn import BasicBlock, LeNet5, ResNet, SimpleCNN, SmallVGG
from .gan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLP
