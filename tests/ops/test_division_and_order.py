"""remainder (%), fmod, floor_divide (//), median, unique and meshgrid against PyTorch: values,
dtypes, gradients, second derivatives where torch has them; operators; errors."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember

torch = pytest.importorskip("torch")

BROADCAST = [((5,), (5,)), ((2, 3), (3,)), ((2, 1), (1, 3))]


def _away_from_jumps(rng, shapes, dtype):
    """a / b kept away from integers, where the quotient (and so the result) jumps."""
    a = rng.uniform(-4, 4, size=shapes[0])
    b = rng.uniform(0.6, 1.7, size=shapes[1]) * rng.choice([-1, 1], size=shapes[1])
    q = a / b
    a = np.where(np.abs(q - np.round(q)) < 0.1, a + 0.3 * b, a)
    return [a.astype(dtype), b.astype(dtype)]


def _no_ties(rng, shapes, dtype):
    return [rng.permutation(int(np.prod(s))).reshape(s).astype(dtype) / 7 for s in shapes]


CASES = [
    Case("remainder", lambda m, a, b: m.remainder(a, b) + a % 1.5, BROADCAST,
         make=_away_from_jumps),
    Case("fmod", lambda m, a, b: m.fmod(a, b) * a.fmod(2.0), BROADCAST, make=_away_from_jumps),
    Case("remainder_swapped", lambda m, a, b: b.remainder(a), BROADCAST, make=_away_from_jumps),
    Case("remainder_int", lambda m, a, b: a % b, [((6,), (6,))], ints={0: (-9, 9), 1: (1, 4)}),
    Case("median_all", lambda m, a: a.median(), [((5,),), ((3, 4),)], make=_no_ties),
    Case("median_dim", lambda m, a: a.median(1).values + m.median(a, 0, True)[0].sum(),
         [((3, 4),), ((5, 2),)], make=_no_ties),
    Case("meshgrid_ij", lambda m, a, b: sum(g.sum() * (k + 1) for k, g in enumerate(
        m.meshgrid(a, b, indexing="ij"))) + m.meshgrid(a, b, indexing="ij")[0] ** 2,
        [((3,), (4,))]),
    Case("meshgrid_xy", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy")[1] *
         m.meshgrid(a, b, c, indexing="xy")[2], [((3,), (2,), (4,))]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_integer_division_follows_python_and_torch():
    a = np.array([7, -7, 7, -7, 0])
    b = np.array([2, 2, -2, -2, 3])
    for op in ("remainder", "fmod", "floor_divide"):
        e = getattr(ember, op)(ember.tensor(a), ember.tensor(b))
        t = getattr(torch, op)(torch.tensor(a), torch.tensor(b))
        assert e.dtype == ember.int64 and e.tolist() == t.tolist(), op
    x = ember.tensor(a)
    assert (x % 3).tolist() == (torch.tensor(a) % 3).tolist()
    assert (x // 3).tolist() == (torch.tensor(a) // 3).tolist()
    assert (10 // ember.tensor([3, -3])).tolist() == [3, -4]
    f = np.array([5.5, -3.25, 7.0])
    assert (3.0 % ember.tensor(f)).tolist() == (3.0 % torch.tensor(f)).tolist()
    assert (ember.tensor(f) // 1.5).tolist() == (torch.tensor(f) // 1.5).tolist()
    # floor_divide has no gradient (torch raises at backward; ember's result needs none)
    assert not (ember.tensor(f, requires_grad=True) // 2.0).requires_grad
    assert (ember.tensor([1.0, -1.0]) // 0.1).tolist() == (torch.tensor([1.0, -1.0]) // 0.1).tolist()
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        x % 0
    assert np.isnan((ember.tensor([1.0]) % 0.0).item())  # floats: nan, as torch


def test_unique_matches_torch():
    a = np.array([[3, 1, 2], [1, 3, 3]])
    for kw in ({}, {"return_inverse": True}, {"return_counts": True},
               {"return_inverse": True, "return_counts": True}, {"dim": 1, "return_inverse": True},
               {"dim": 0, "return_counts": True}):
        e, t = ember.unique(ember.tensor(a), **kw), torch.unique(torch.tensor(a), **kw)
        e, t = (e, t) if isinstance(t, tuple) else ((e,), (t,))
        assert [x.tolist() for x in e] == [x.tolist() for x in t], kw
    assert ember.tensor([2.0, 2.0, 1.0]).unique().tolist() == [1.0, 2.0]


def test_median_picks_the_lower_middle_and_propagates_nan():
    assert ember.tensor([4.0, 1.0, 3.0, 2.0]).median().item() == 2.0
    v, i = ember.tensor([[1.0, float("nan"), 0.0]]).median(1)
    tv, ti = torch.tensor([[1.0, float("nan"), 0.0]]).median(1)
    assert np.isnan(v.item()) and np.isnan(tv.item()) and i.tolist() == ti.tolist()
    with pytest.raises(RuntimeError, match="median: cannot compute the median of an empty"):
        ember.zeros(0).median()


def test_meshgrid_errors():
    with pytest.raises(ValueError, match="indexing must be 'ij' or 'xy'"):
        ember.meshgrid(ember.arange(2.0), indexing="yx")
    with pytest.raises(RuntimeError, match="expected 0-D or 1-D tensors"):
        ember.meshgrid(ember.ones(2, 2))
    with pytest.raises(TypeError, match="meshgrid: expected Tensors, got list"):
        ember.meshgrid([1, 2], [3])
