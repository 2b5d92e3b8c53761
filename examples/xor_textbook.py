"""The course's XOR exercise, written with ember in the textbook's forward/backward style.

Run:  python examples/xor_textbook.py [--seed N] [--epochs N] [--lr LR] [--hidden H]

Forward propagation, layer by layer:
    z1 = x W1 + b1,   a1 = sigmoid(z1)
    z2 = a1 W2 + b2,  a2 = sigmoid(z2)
Backward propagation (the chain rule), for the summed binary cross-entropy
L = -sum[y ln a2 + (1 - y) ln(1 - a2)]:
    dL/dz2 = a2 - y
    dL/dW2 = a1^T dL/dz2,           dL/db2 = sum over rows of dL/dz2
    dL/dz1 = (dL/dz2 W2^T) * a1 (1 - a1)
    dL/dW1 = x^T dL/dz1,            dL/db1 = sum over rows of dL/dz1
Each epoch computes these gradients twice, by hand and with ember's autograd, checks that they
agree, and takes one gradient-descent step. Biases keep their shape (n,): the sum over rows
(not a (1, n) row) is what keeps them so.
"""
import argparse

import numpy as np

import ember
import ember.nn.functional as F


def forward(x, W1, b1, W2, b2):
    a1 = (x @ W1 + b1).sigmoid()
    z2 = a1 @ W2 + b2
    return a1, z2


def manual_gradients(x, y, W1, W2, a1, z2):
    """The chain rule written out, on the same tensors (no autograd involved)."""
    with ember.no_grad():
        d2 = z2.sigmoid() - y
        d1 = (d2 @ W2.T) * a1 * (1 - a1)
        return x.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=10000)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--hidden", type=int, default=2)
    args = p.parse_args(argv)

    ember.manual_seed(args.seed)
    x = ember.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=ember.float64)
    y = ember.tensor([[0], [1], [1], [0]], dtype=ember.float64)
    params = [ember.randn(2, args.hidden, dtype=ember.float64),
              ember.randn(args.hidden, dtype=ember.float64),
              ember.randn(args.hidden, 1, dtype=ember.float64),
              ember.randn(1, dtype=ember.float64)]
    for t in params:
        t.requires_grad_()
    W1, b1, W2, b2 = params

    for epoch in range(args.epochs):
        a1, z2 = forward(x, *params)
        loss = F.binary_cross_entropy_with_logits(z2, y, reduction="sum")
        by_hand = manual_gradients(x, y, W1, W2, a1, z2)
        loss.backward()
        for t, g in zip(params, by_hand):
            assert np.allclose(t.grad.numpy(), g.numpy(), rtol=1e-10, atol=1e-12)
        with ember.no_grad():
            for t in params:
                t -= args.lr * t.grad
                t.grad = None
        if epoch % (args.epochs // 5 or 1) == 0:
            print(f"epoch {epoch:5d}  loss {loss.item():.6f}")

    with ember.no_grad():
        pred = forward(x, *params)[1].sigmoid()
    for xi, pi in zip(x.tolist(), pred.numpy()[:, 0]):
        print(f"  {int(xi[0])} xor {int(xi[1])} -> {pi:.4f}")
    solved = bool(np.all((pred.numpy()[:, 0] > 0.5) == (y.numpy()[:, 0] > 0.5)))
    print("XOR solved" if solved else "XOR not solved (this seed is stuck; see `ember xor`)")
    print("bias shapes:", tuple(b1.shape), tuple(b2.shape))
    return solved


if __name__ == "__main__":
    main()
