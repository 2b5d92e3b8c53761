"""scatter (src or value; in place: the one-hot idiom), rot90, cross, and the index builders
bucketize, searchsorted, tril_indices, triu_indices, against PyTorch."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember

torch = pytest.importorskip("torch")


def _lib(m):
    return ember if m is ember else torch


IDX = [[1, 0, 2], [0, 2, 3]]  # no repeated target within a column: one write per position

CASES = [
    Case("scatter_src", lambda m, x, s: x.scatter(1, _lib(m).tensor(IDX), s) * 2,
         [((2, 4), (2, 3))]),
    Case("scatter_value", lambda m, x: m.scatter(x, 1, _lib(m).tensor(IDX), 0.5) ** 2,
         [((2, 4),)]),
    Case("scatter_dim0", lambda m, x, s: x.scatter(0, _lib(m).tensor([[2, 0, 1, 0]]), s),
         [((3, 4), (1, 4))]),
    Case("rot90", lambda m, x: x.rot90() + m.rot90(x, 2) * 2 + x.rot90(-1, (1, 0)) * 3,
         [((3, 3),), ((4, 4),)]),
    Case("rot90_3d", lambda m, x: m.rot90(x, 1, (1, 2)), [((2, 3, 4),)]),
    Case("cross", lambda m, a, b: m.cross(a, b, dim=-1), [((4, 3), (4, 3)), ((1, 3), (2, 3))]),
    Case("cross_first_size_3", lambda m, a, b: m.cross(a, b, dim=0), [((3, 5), (3, 5))]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_scatter_from_a_larger_src_takes_its_leading_block():
    """src larger than index: only src[:2, :3] is read, and only it gets a gradient (torch's
    own backward fails on this case, so it is checked by finite differences)."""
    x = ember.tensor(np.random.default_rng(0).standard_normal((2, 4)), requires_grad=True)
    s = ember.tensor(np.random.default_rng(1).standard_normal((3, 5)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: a.scatter(1, ember.tensor(IDX), b), (x, s))
    (x.scatter(1, ember.tensor(IDX), s) ** 2).sum().backward()
    assert not s.grad.numpy()[2:].any() and not s.grad.numpy()[:, 3:].any()


def test_one_hot_rows_in_place_and_scatter_add_():
    y = np.array([2, 0, 1])
    e = ember.zeros(3, 4).scatter_(1, ember.tensor(y).unsqueeze(1), 1.0)
    t = torch.zeros(3, 4).scatter_(1, torch.tensor(y).unsqueeze(1), 1.0)
    assert e.tolist() == t.tolist()
    e2 = ember.zeros(2, 3).scatter_add_(1, ember.tensor([[0, 0, 2]]), ember.ones(1, 3))
    assert e2.tolist() == [[2.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    w = ember.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scatter_"):
        w.scatter_(1, ember.tensor([[0]]), 1.0)


def test_index_builders_match_torch():
    b = [1.0, 2.0, 3.0]
    x = [[0.5, 1.0, 2.5], [3.0, 3.5, 2.0]]
    for right in (False, True):
        assert ember.bucketize(ember.tensor(x), ember.tensor(b), right=right).tolist() == \
            torch.bucketize(torch.tensor(x), torch.tensor(b), right=right).tolist()
        assert ember.searchsorted(ember.tensor(b), ember.tensor(x), right=right).tolist() == \
            torch.searchsorted(torch.tensor(b), torch.tensor(x), right=right).tolist()
    seq = [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    vals = [[3.0, 6.0], [1.0, 4.0]]
    assert ember.searchsorted(ember.tensor(seq), ember.tensor(vals), side="right").tolist() == \
        torch.searchsorted(torch.tensor(seq), torch.tensor(vals), side="right").tolist()
    assert ember.bucketize(ember.tensor(x), ember.tensor(b), out_int32=True).dtype == ember.int32
    assert ember.searchsorted([1.0, 2.0, 3.0], [2.5]).tolist() == [2]   # arrays are taken too
    for r, c, k in ((3, 4, 0), (4, 3, -1), (3, 3, 1)):
        assert ember.tril_indices(r, c, k).tolist() == torch.tril_indices(r, c, k).tolist()
        assert ember.triu_indices(r, c, k).tolist() == torch.triu_indices(r, c, k).tolist()


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ember.scatter(ember.zeros(2, 3), 1, ember.tensor([[3]]), 1.0), IndexError,
     "scatter: index 3 is out of bounds"),
    (lambda: ember.scatter(ember.zeros(2, 3), 1, ember.tensor([[0]])), TypeError,
     "expected src"),
    (lambda: ember.scatter(ember.zeros(2, 3), 1, ember.tensor([[0]]), 1.0, reduce="multiply"),
     NotImplementedError, "reduce='multiply'"),
    (lambda: ember.rot90(ember.zeros(2, 2), 1, (0, 0)), RuntimeError, "the two dims must differ"),
    (lambda: ember.cross(ember.zeros(2, 4), ember.zeros(2, 4)), RuntimeError,
     "no dimension of size 3"),
    (lambda: ember.searchsorted(ember.zeros(2, 3), ember.zeros(3, 1)), RuntimeError,
     "leading dims"),
    (lambda: ember.cross(ember.zeros(3), ember.zeros(2, 3)), RuntimeError,
     "same number of dimensions"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
