"""Loss ops (ember/ops/loss.py): gradcheck, parity and second derivatives, with respect to the
input and the target, for every reduction."""
import numpy as np
import pytest

import ember
from harness import Case, op_tests

torch = pytest.importorskip("torch")

SHAPES = [((4, 3), (4, 3)), ((5,), (5,)), ((), ()), ((2, 1, 3), (2, 1, 3))]


def probabilities(rng, shapes, dtype):
    return [rng.uniform(0.05, 0.95, s).astype(dtype) for s in shapes]


CASES = []
for red in ("mean", "sum", "none"):
    CASES += [
        Case(f"bce_with_logits_{red}", lambda m, z, y, r=red:
             m.nn.functional.binary_cross_entropy_with_logits(z, y, reduction=r), SHAPES,
             domain=(-4.0, 4.0)),
        Case(f"bce_{red}", lambda m, p, y, r=red:
             m.nn.functional.binary_cross_entropy(p, y, reduction=r), SHAPES,
             make=probabilities, double=False),
        Case(f"mse_{red}", lambda m, a, b, r=red: m.nn.functional.mse_loss(a, b, reduction=r),
             SHAPES),
        Case(f"l1_{red}", lambda m, a, b, r=red: m.nn.functional.l1_loss(a, b, reduction=r),
             SHAPES),
    ]
CASES.append(Case("bce_with_logits_weighted", lambda m, z, y, w:
                  m.nn.functional.binary_cross_entropy_with_logits(
                      z, y, weight=w, pos_weight=w * 2),
                  [((4, 3), (4, 3), (3,))], domain=(-3.0, 3.0), constant=(2,)))

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_extremes_match_torch(dtype):
    z = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=dtype)
    y = np.array([0.0, 1.0, 0.5, 1.0, 0.0, 1.0, 0.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for r in ("mean", "none"):
            ez = ember.tensor(z, requires_grad=True)
            tz = torch.tensor(z, requires_grad=True)
            e = ember.nn.functional.binary_cross_entropy_with_logits(ez, ember.tensor(y), reduction=r)
            t = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor(y), reduction=r)
            np.testing.assert_allclose(e.data, t.detach().numpy(), rtol=1e-6, atol=1e-30)
            e.sum().backward()
            t.sum().backward()
            np.testing.assert_allclose(ez.grad.numpy(), tz.grad.numpy(), rtol=1e-6, atol=1e-12)
