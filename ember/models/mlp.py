"""A multilayer perceptron: Flatten, then Linear -> activation (-> Dropout) per hidden layer,
then a Linear to the outputs (logits)."""
from .. import nn


class MLP(nn.Sequential):
    """MLP(784, [256, 128], 10): x (N, ...) -> logits (N, 10)."""

    def __init__(self, in_features, hidden, out_features, activation="relu", dropout=0.0):
        acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU}
        if activation not in acts:
            raise ValueError(f"MLP: activation must be one of {sorted(acts)}, got {activation!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        layers = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), acts[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
