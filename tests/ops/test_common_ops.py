"""Ops PyTorch code reaches for often: cdist, addmm, tensordot, nan_to_num, logit, clamp_min /
clamp_max, var_mean / std_mean, diff, index_add, take_along_dim. Gradcheck, PyTorch parity
(values, dtypes, gradients) and second derivatives; errors."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember

torch = pytest.importorskip("torch")


def _lib(m):
    return ember if m is ember else torch


def _with_twins(rng, shapes, dtype):
    """x1, x2 with a row of x2 equal to a row of x1 (distance 0: a zero gradient, as torch)."""
    a, b = (rng.uniform(-2, 2, s) for s in shapes)
    b[..., 1, :] = a[..., 0, :]
    return [a.astype(dtype), b.astype(dtype)]


def _specials(rng, shapes, dtype):
    (s,) = shapes
    x = rng.uniform(-2, 2, s)
    x.flat[0], x.flat[1], x.flat[2] = np.nan, np.inf, -np.inf
    return [x.astype(dtype)]


CDIST = [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3))]


def _cdist(p):
    return lambda m, a, b: m.cdist(a, b, p=p)

# (torch cannot differentiate cdist twice: no second-derivative comparison for it)
CASES = [
    Case(f"cdist_p{p}", _cdist(p), CDIST,
         make=_with_twins, gradcheck=p not in (float("inf"),), double=False)
    for p in (2.0, 1.0, 3.0, 0.5, float("inf"))
] + [
    Case("cdist_pinf_apart", lambda m, a, b: m.cdist(a, b, p=float("inf")), CDIST,
         double=False),  # (gradcheck away from zero distances, where the max is a kink)
    Case("cdist_batch_broadcast", lambda m, a, b: m.cdist(a, b), [((2, 1, 4, 3), (3, 5, 3))],
         double=False),
    Case("cdist_p0", lambda m, a, b: m.cdist(a, b, p=0) + a.sum(), CDIST[:1], make=_with_twins,
         constant=(1,), double=False),
    Case("addmm", lambda m, c, a, b: m.addmm(c, a, b) + c.addmm(a, b, beta=0.5, alpha=2.0),
         [((3, 4), (3, 5), (5, 4)), ((4,), (3, 5), (5, 4))]),
    Case("tensordot_int", lambda m, a, b: m.tensordot(a, b, dims=2), [((2, 3, 4), (3, 4, 5))]),
    Case("tensordot_pairs", lambda m, a, b: m.tensordot(a, b, dims=([0, 2], [2, 0])),
         [((2, 3, 4), (4, 5, 2))]),
    Case("tensordot_outer", lambda m, a, b: m.tensordot(a, b, dims=0), [((2, 3), (4,))]),
    Case("nan_to_num", lambda m, x: m.nan_to_num(x, posinf=5.0, neginf=-4.0) * 0.5 +
         x.nan_to_num(1.0, 9.0, -9.0), [((3, 4),)], make=_specials, gradcheck=False),
    Case("logit", lambda m, x: x.logit() + m.logit(x, eps=0.2), [((3, 4),)], domain=(0.05, 0.95)),
    Case("clamp_min_max", lambda m, x: x.clamp_min(-0.5) * m.clamp_max(x, 0.7), [((3, 4),)]),
    Case("var_mean", lambda m, x: m.var_mean(x, 1)[0] + m.var_mean(x, 1)[1] * 2,
         [((3, 4),)]),
    Case("std_mean", lambda m, x: m.std_mean(x, (0, 1), keepdim=True, correction=0)[0] *
         m.std_mean(x)[1], [((3, 4),)]),
    Case("diff", lambda m, x: x.diff() * 1.0 + m.diff(x, n=2, dim=0).sum(), [((4, 5),)]),
    Case("diff_prepend_append", lambda m, x, p, a: m.diff(x, dim=1, prepend=p, append=a),
         [((3, 4), (3, 1), (3, 2))]),
    Case("index_add", lambda m, x, s: x.index_add(1, _lib(m).tensor([2, 0, 2]), s, alpha=1.5),
         [((3, 4), (3, 3))]),
    Case("take_along_dim", lambda m, x: x.take_along_dim(_lib(m).tensor([[0, 2], [1, 1]]), 1) +
         m.take_along_dim(x, _lib(m).tensor([[3], [0]]), 1).sum(), [((2, 4),)]),
    Case("take_along_dim_flat_broadcast", lambda m, x: m.take_along_dim(
        x, _lib(m).tensor([5, 0, 3])).sum() + x.take_along_dim(
        _lib(m).tensor([[1], [0], [2]]), 0), [((3, 4),)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_nan_to_num_defaults_are_the_dtype_limits():
    for dt, tdt in ((ember.float32, torch.float32), (ember.float64, torch.float64)):
        x = [float("nan"), float("inf"), -float("inf"), 1.5]
        assert ember.tensor(x, dtype=dt).nan_to_num().tolist() == \
            torch.tensor(x, dtype=tdt).nan_to_num().tolist()
    assert ember.tensor([1, 2]).nan_to_num().tolist() == [1, 2]


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ember.cdist(ember.randn(3, 2), ember.randn(4, 3)), RuntimeError,
     "same number of columns"),
    (lambda: ember.cdist(ember.randn(3, 2), ember.randn(4, 2), p=-1), RuntimeError,
     "non-negative p"),
    (lambda: ember.addmm(ember.randn(3), ember.randn(3), ember.randn(3)), RuntimeError,
     "mat1 and mat2 must be matrices"),
    (lambda: ember.tensordot(ember.randn(2, 3), ember.randn(4, 5), dims=1), RuntimeError,
     "do not match"),
    (lambda: ember.diff(ember.tensor(1.0)), RuntimeError, "at least a 1-D tensor"),
    (lambda: ember.index_add(ember.zeros(3, 4), 1, ember.tensor([0, 1]), ember.ones(3, 3)),
     RuntimeError, "one entry per slice"),
    (lambda: ember.take_along_dim(ember.zeros(3, 4), ember.tensor([0]), 1), RuntimeError,
     "same number of dimensions"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
