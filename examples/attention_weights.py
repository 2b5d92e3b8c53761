"""See what attention attends to, and check it by hand.

Run:  python examples/attention_weights.py [--seed N] [--steps N]

The task: sequences of 8 symbols from {0, 1, 2, 3}; the label says whether symbol 0 is the most
frequent one. The model: Embedding(4, 16) -> MultiheadAttention(16, 1 head) over the sequence
itself -> the mean over positions -> Linear(16, 2). After training it prints, for one sequence,
the attention weights (row i: how much query position i reads from each key position) and the
weight each symbol receives on average over the test set; then recomputes one row by hand,
    weights = softmax(q k^T / sqrt(d)),  q = x W_q^T + b_q,  k = x W_k^T + b_k,
from the layer's in_proj_weight and in_proj_bias, and compares.
"""
import argparse

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


def task(n, rng):
    tokens = rng.integers(0, 4, size=(n, 8))
    counts = np.stack([(tokens == s).sum(1) for s in range(4)], 1)
    return tokens, (counts[:, 0] > counts[:, 1:].max(1)).astype(np.int64)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(4, 16)
        self.attn = nn.MultiheadAttention(16, 1, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, tokens):
        x = self.embed(tokens)
        y, weights = self.attn(x, x, x)
        return self.head(y.mean(1)), weights


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, train_y = task(512, rng)
    test_x, test_y = task(512, rng)
    model = Model()
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    x, y = ember.tensor(train_x), ember.tensor(train_y)
    for _ in range(args.steps):
        loss = F.cross_entropy(model(x)[0], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with ember.no_grad():
        logits, weights = model(ember.tensor(test_x))
    accuracy = (logits.argmax(1).numpy() == test_y).mean()
    print(f"trained {args.steps} steps: loss {loss.item():.4f}, test accuracy {accuracy:.3f}")

    w = weights.numpy()  # (sequences, queries, keys)
    print(f"\nsequence {test_x[0].tolist()} (label {test_y[0]}): attention weights, "
          f"row = query position")
    for i, row in enumerate(w[0]):
        print(f"  query {i} ({test_x[0, i]}): " + " ".join(f"{v:.2f}" for v in row))
    received = w.mean(1)  # per sequence and key: the mean weight over queries
    print("\nmean weight a key receives, by its symbol (uniform would be 0.125):")
    for s in range(4):
        print(f"  symbol {s}: {received[test_x == s].mean():.3f}")

    # one row by hand: softmax(q k^T / sqrt(d)) from the layer's own projections
    e = model.embed.weight.detach().numpy()[test_x[0]]         # (8, 16)
    wq, wk, _ = np.split(model.attn.in_proj_weight.detach().numpy(), 3)
    bq, bk, _ = np.split(model.attn.in_proj_bias.detach().numpy(), 3)
    q, k = e @ wq.T + bq, e @ wk.T + bk
    scores = q @ k.T / np.sqrt(16)
    by_hand = np.exp(scores - scores.max(1, keepdims=True))
    by_hand /= by_hand.sum(1, keepdims=True)
    print(f"\nthe weights recomputed by hand from in_proj_weight and in_proj_bias agree: "
          f"{np.allclose(by_hand, w[0], atol=1e-5)}; every row sums to 1: "
          f"{np.allclose(w.sum(-1), 1, atol=1e-5)}")


if __name__ == "__main__":
    main()
