"""quantile, nanquantile, kthvalue, cummax, cummin, nansum, nanmean against PyTorch: values,
indices, gradients and second derivatives; NaN handling; errors."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember

torch = pytest.importorskip("torch")


def _lib(m):
    return ember if m is ember else torch


def _no_ties(rng, shapes, dtype):
    return [rng.permutation(int(np.prod(s))).reshape(s).astype(dtype) / 7 for s in shapes]


def _with_nans(rng, shapes, dtype):
    (s,) = shapes
    x = rng.uniform(-2, 2, s)
    x[0, 1] = np.nan
    return [x.astype(dtype)]


CASES = [
    Case("quantile_all", lambda m, x: x.quantile(0.3), [((4, 5),)], make=_no_ties),
    Case("quantile_dim", lambda m, x: m.quantile(x, 0.65, 1, True), [((4, 5),)], make=_no_ties),
    Case("quantile_many", lambda m, x: x.quantile(_lib(m).tensor([0.1, 0.5, 1.0]).to(x.dtype), 0),
         [((4, 5),)], make=_no_ties),
    Case("quantile_modes", lambda m, x: sum(x.quantile(0.4, 1, interpolation=i) * (k + 1)
                                            for k, i in enumerate(("lower", "higher", "midpoint",
                                                                   "nearest"))),
         [((3, 6),)], make=_no_ties),
    Case("kthvalue", lambda m, x: x.kthvalue(2, 1).values + m.kthvalue(x, 3, 0, True)[0].sum(),
         [((4, 5),)], make=_no_ties),
    Case("cummax_cummin", lambda m, x: x.cummax(1).values * 2 + m.cummin(x, 0)[0], [((4, 5),)],
         make=_no_ties),
    Case("nansum_nanmean", lambda m, x: x.nansum(1) + m.nanmean(x, 0).sum() + x.nansum(),
         [((3, 4),)], make=_with_nans, gradcheck=False),  # (finite differences at a NaN: NaN)
    Case("nansum_nanmean_finite",
         lambda m, x: x.nansum(1, keepdim=True) * m.nanmean(x, 0, True), [((3, 4),)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_nans_and_indices_as_torch():
    b = np.random.default_rng(0).standard_normal((3, 5))
    b[0, 2] = np.nan
    b[2, :] = np.nan
    for fn in ("quantile", "nanquantile"):
        e = getattr(ember.tensor(b), fn)(0.3, 1).numpy()
        t = getattr(torch.tensor(b), fn)(0.3, 1).numpy()
        np.testing.assert_allclose(e, t, equal_nan=True)
    np.testing.assert_allclose(ember.tensor(b).nanmean(1).numpy(),
                               torch.tensor(b).nanmean(1).numpy(), equal_nan=True)
    c = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 0.0]])
    for fn in ("cummax", "cummin"):  # ties: the later index, as torch
        ev, ei = getattr(ember.tensor(c), fn)(1)
        tv, ti = getattr(torch.tensor(c), fn)(1)
        assert ev.tolist() == tv.tolist() and ei.tolist() == ti.tolist()


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ember.quantile(ember.ones(3), 1.5), ValueError, r"values in \[0, 1\]"),
    (lambda: ember.quantile(ember.ones(3), 0.5, interpolation="cubic"), ValueError,
     "interpolation must be one of"),
    (lambda: ember.kthvalue(ember.ones(3), 4), RuntimeError, "k=4 is out of range"),
    (lambda: ember.quantile(ember.ones(0), 0.5), RuntimeError, "empty"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
