"""multi_margin_loss, poisson_nll_loss and gaussian_nll_loss (and their modules) against
PyTorch: values, gradients, second derivatives, every option and reduction; errors."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember
from ember import nn

torch = pytest.importorskip("torch")


def _lib(m):
    return ember if m is ember else torch


def _targets(m, values):
    return _lib(m).tensor(np.asarray(values))


Y = [1, 0, 4, 2]
W = [0.5, 1.0, 2.0, 0.3, 1.5]
COUNTS = [[0, 1, 2, 5, 3], [1, 0, 0, 2, 7], [4, 1, 1, 0, 2], [2, 2, 3, 1, 0]]


def _margin(p, weight, reduction, margin=0.7):
    return lambda m, x: m.nn.functional.multi_margin_loss(
        x, _targets(m, Y), p, margin, None if weight is None else _targets(m, weight).to(x.dtype),
        reduction=reduction)


def _poisson(log_input, full, reduction="mean"):
    return lambda m, x: m.nn.functional.poisson_nll_loss(
        x, _targets(m, COUNTS).double() if x.dtype in (ember.float64, torch.float64)
        else _targets(m, COUNTS).float(), log_input, full, reduction=reduction)


def _gaussian(full, reduction="mean"):
    return lambda m, x, t, v: m.nn.functional.gaussian_nll_loss(x, t, v, full,
                                                                 reduction=reduction)


# (torch cannot differentiate multi_margin_loss twice: no second-derivative comparison there)
CASES = [
    Case(f"multi_margin_p{p}_{'w' if w else 'nw'}_{r}", _margin(p, W if w else None, r),
         [((4, 5),)], double=False)
    for p in (1, 2) for w in (False, True) for r in ("mean", "sum", "none")
] + [
    Case("multi_margin_unbatched", lambda m, x: m.nn.functional.multi_margin_loss(
        x, _lib(m).tensor(3), margin=0.5), [((5,),)], double=False),
    Case("poisson_log_input", _poisson(True, False), [((4, 5),)]),
    Case("poisson_log_input_full_none", _poisson(True, True, "none"), [((4, 5),)]),
    Case("poisson_rates", _poisson(False, False, "sum"), [((4, 5),)], domain=(0.2, 3.0)),
    Case("poisson_rates_full", _poisson(False, True), [((4, 5),)], domain=(0.2, 3.0)),
    Case("gaussian_heteroscedastic", _gaussian(False), [((4, 5), (4, 5), (4, 5))],
         make=lambda r, s, d: [r.standard_normal(s[0]).astype(d),
                               r.standard_normal(s[1]).astype(d),
                               r.uniform(0.2, 2.0, s[2]).astype(d)]),
    Case("gaussian_one_per_sample_full", _gaussian(True, "sum"), [((4, 5), (4, 5), (4,)),
                                                                 ((4, 5), (4, 5), (4, 1))],
         make=lambda r, s, d: [r.standard_normal(s[0]).astype(d),
                               r.standard_normal(s[1]).astype(d),
                               r.uniform(0.2, 2.0, s[2]).astype(d)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_gaussian_variance_clamped_for_the_value_only_as_torch():
    x = np.random.default_rng(0).standard_normal((3, 2))
    v = np.array([[1e-9, 0.5], [1.0, 2.0], [1e-3, 0.0]])
    ev, tv = ember.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    le = nn.GaussianNLLLoss(eps=1e-4)(ember.tensor(x), ember.zeros(3, 2, dtype=ember.float64), ev)
    lt = torch.nn.GaussianNLLLoss(eps=1e-4)(torch.tensor(x), torch.zeros(3, 2, dtype=torch.float64),
                                            tv)
    le.backward()
    lt.backward()
    np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-12)
    np.testing.assert_allclose(ev.grad.numpy(), tv.grad.numpy(), rtol=1e-12)


def test_modules_match_torch():
    r = np.random.default_rng(1)
    x, w = r.standard_normal((6, 4)), r.random(4)
    y = np.array([0, 3, 1, 1, 2, 0])
    e = nn.MultiMarginLoss(p=2, margin=0.5, weight=ember.tensor(w), reduction="sum")
    t = torch.nn.MultiMarginLoss(p=2, margin=0.5, weight=torch.tensor(w), reduction="sum")
    np.testing.assert_allclose(e(ember.tensor(x), ember.tensor(y)).item(),
                               t(torch.tensor(x), torch.tensor(y)).item(), rtol=1e-12)
    assert "weight" in e.state_dict()
    counts = r.poisson(3.0, (6, 4)).astype(np.float64)
    for kw in ({}, {"log_input": False, "full": True, "eps": 1e-4}):
        xi = x if kw.get("log_input", True) else np.abs(x)
        np.testing.assert_allclose(
            nn.PoissonNLLLoss(**kw)(ember.tensor(xi), ember.tensor(counts)).item(),
            torch.nn.PoissonNLLLoss(**kw)(torch.tensor(xi), torch.tensor(counts)).item(),
            rtol=1e-12)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: nn.MultiMarginLoss(p=3), ValueError, "only p == 1 and p == 2"),
    (lambda: nn.functional.multi_margin_loss(ember.randn(4, 5), ember.tensor([0, 5, 1, 1])),
     ValueError, r"class indices in \[0, 5\)"),
    (lambda: nn.functional.multi_margin_loss(ember.randn(4, 5), ember.tensor([0, 1])),
     ValueError, "expected input"),
    (lambda: nn.functional.gaussian_nll_loss(ember.randn(4, 5), ember.randn(4, 5),
                                             ember.ones(3)), ValueError,
     "var is of incorrect size"),
    (lambda: nn.functional.gaussian_nll_loss(ember.randn(4, 5), ember.randn(4, 5),
                                             -ember.ones(4, 5)), ValueError,
     "var has negative"),
    (lambda: nn.functional.poisson_nll_loss(ember.randn(4, 5), ember.randn(4, 4)), ValueError,
     "poisson_nll_loss: target shape"),
    (lambda: nn.PoissonNLLLoss(reduction="avg"), ValueError, "reduction must be one of"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
