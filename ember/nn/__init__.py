"""Layers, losses and the Module tree, with PyTorch's names."""
from . import functional, init
from .activation import (ELU, GELU, SELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU,
                         Softmax, Softplus, Tanh)
from .layers import Flatten, Identity, Linear, ModuleList, Sequential
from .loss import BCELoss, BCEWithLogitsLoss, L1Loss, MSELoss
from .module import Module, Parameter
