"""Ready models."""
from .mlp import MLP
