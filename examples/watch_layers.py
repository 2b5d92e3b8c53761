"""Watch forward and backward propagation layer by layer, with module hooks.

Run:  python examples/watch_layers.py [--seed N]

The XOR network of `ember xor` (Linear(2, 4) -> Sigmoid -> Linear(4, 1), mean BCE on the logits)
takes one training step. A forward hook on each layer prints what goes in and comes out; a full
backward hook prints the gradient arriving at its output (grad_output) and the one it sends back
to its input (grad_input). Each backward line is checked against the chain rule for that layer:
    Linear    y = x W^T + b:     dL/dx = dL/dy W
    Sigmoid   a = s(z):          dL/dz = dL/da * a (1 - a)
and the gradient at the logits against mean BCE's (s(z) - y) / n.
"""
import argparse

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.xor import X, Y


def chain_rule(layer, x, out, grad_out):
    """What the chain rule says dL/dx is for this layer (numpy arrays in and out)."""
    if isinstance(layer, nn.Linear):
        return grad_out @ layer.weight.detach().numpy()
    if isinstance(layer, nn.Sigmoid):
        return grad_out * out * (1 - out)
    raise TypeError(type(layer).__name__)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    np.set_printoptions(precision=4, suppress=True)
    ember.manual_seed(args.seed)
    net = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    seen = {}  # layer name -> (input, output) of the forward pass, as arrays

    for name, layer in net.named_children():
        def forward_hook(m, inputs, output, name=name):
            seen[name] = (inputs[0].detach().numpy(), output.detach().numpy())
            print(f"forward  {name} {type(m).__name__:8s} in {inputs[0].shape} -> out "
                  f"{output.shape}\n{output.detach().numpy()}")

        def backward_hook(m, grad_input, grad_output, name=name):
            x, out = seen[name]
            g_out = grad_output[0].numpy()
            expected = chain_rule(m, x, out, g_out)
            if grad_input[0] is None:  # the data itself needs no gradient
                print(f"backward {name} {type(m).__name__:8s} dL/dout\n{g_out}\n  (dL/din not "
                      "needed: the input is the data)")
                return
            g_in = grad_input[0].numpy()
            ok = np.allclose(g_in, expected, rtol=1e-5, atol=1e-7)
            print(f"backward {name} {type(m).__name__:8s} dL/dout\n{g_out}\n  dL/din\n{g_in}\n"
                  f"  chain rule by hand agrees: {ok}")
            if not ok:
                raise SystemExit(f"layer {name}: autograd and the chain rule disagree")

        layer.register_forward_hook(forward_hook)
        layer.register_full_backward_hook(backward_hook)

    x, y = ember.tensor(X), ember.tensor(Y)
    z = net(x)
    z.retain_grad()
    loss = F.binary_cross_entropy_with_logits(z, y)
    print(f"loss {loss.item():.4f}")
    loss.backward()
    expected = (1 / (1 + np.exp(-z.detach().numpy())) - Y) / len(Y)
    ok = np.allclose(z.grad.numpy(), expected, rtol=1e-5, atol=1e-7)
    print(f"dL/dz at the logits is (s(z) - y) / n: {ok}")
    if not ok:
        raise SystemExit("the loss gradient disagrees with (s(z) - y) / n")


if __name__ == "__main__":
    main()
