"""Optimizers, updating parameter arrays in place (PyTorch's algorithms and names)."""
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD
