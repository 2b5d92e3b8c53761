"""torch.nn.functional's names, calling ember's ops."""
from ..ops import (elu, gelu, hardtanh, leaky_relu, linear, log_softmax, pad, relu, selu, sigmoid,
                   silu, softmax, softplus, tanh)
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, l1_loss,
                        mse_loss)

__all__ = ["elu", "gelu", "hardtanh", "leaky_relu", "linear", "log_softmax", "pad", "relu",
           "selu", "sigmoid", "silu", "softmax", "softplus", "tanh", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "l1_loss", "mse_loss"]
