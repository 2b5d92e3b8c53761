"""Optimizers, updating parameter arrays in place (PyTorch's algorithms and names), and
learning-rate schedulers (`ember.optim.lr_scheduler`)."""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adam_variants import Adadelta, Adamax, NAdam, RAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
