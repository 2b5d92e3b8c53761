"""EmbeddingBag and F.embedding_bag against PyTorch: sum, mean and max over 2-D inputs and over
offsets (empty bags, include_last_offset), padding_idx, per_sample_weights, max_norm; values and
the gradients of the weight (and of per_sample_weights); second derivatives; printed form;
errors."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember
from ember import nn

torch = pytest.importorskip("torch")

IDX = np.array([1, 2, 4, 5, 4, 3, 2, 0, 6, 2])
OFFSETS = np.array([0, 2, 2, 5])  # bags [1 2], [], [4 5 4], [3 2 0 6 2]


def _bag(mode, offsets=True, **kw):
    def fn(m, w):
        lib = ember if m is ember else torch
        idx = lib.tensor(IDX if offsets else IDX[:9].reshape(3, 3))
        off = lib.tensor(OFFSETS) if offsets else None
        return m.nn.functional.embedding_bag(idx, w, off, mode=mode, **kw)
    return fn


def _weighted(m, w, psw):
    lib = ember if m is ember else torch
    return m.nn.functional.embedding_bag(lib.tensor(IDX), w, lib.tensor(OFFSETS), mode="sum",
                                         per_sample_weights=psw)


CASES = [
    Case(f"embedding_bag_{mode}_{'offsets' if off else '2d'}{'_pad' if pad else ''}",
         _bag(mode, off, padding_idx=2 if pad else None), [((7, 3),)])
    for mode in ("sum", "mean", "max") for off in (True, False) for pad in (False, True)
] + [
    # (torch has no second derivative through per_sample_weights to compare with)
    Case("embedding_bag_per_sample_weights", _weighted, [((7, 3), (10,))], double=False),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_layer_matches_torch_with_last_offset_and_max_norm():
    ember.manual_seed(0)
    e = nn.EmbeddingBag(7, 4, mode="sum", include_last_offset=True, max_norm=1.0)
    t = torch.nn.EmbeddingBag(7, 4, mode="sum", include_last_offset=True, max_norm=1.0)
    t.load_state_dict({"weight": torch.tensor(e.weight.detach().numpy())})
    assert repr(e) == repr(t)
    offsets = [0, 3, 3, 10]
    ey = e(ember.tensor(IDX), ember.tensor(offsets))
    ty = t(torch.tensor(IDX), torch.tensor(offsets))
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-5,
                               atol=1e-6)  # the rows read were renormalized in place
    assert ey.shape == (3, 4)
    pre = nn.EmbeddingBag.from_pretrained(ember.eye(3), mode="max")
    assert not pre.weight.requires_grad and pre(ember.tensor([[0, 2]])).tolist() == [[1, 0, 1]]
    assert not isinstance(e, nn.Embedding)


def test_max_bags_match_torch_with_many_bags_empty_ones_and_nans():
    r = np.random.default_rng(3)
    w = r.standard_normal((9, 4))
    w[3, 1] = np.nan  # max mode skips it, as torch
    idx, off = r.integers(0, 9, 40), np.array([0, 5, 5, 12, 12, 30])
    for pad in (None, 2):
        ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        ey = nn.functional.embedding_bag(ember.tensor(idx), ew, ember.tensor(off), mode="max",
                                         padding_idx=pad)
        ty = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(off),
                                               mode="max", padding_idx=pad)
        g = r.standard_normal(tuple(ty.shape))
        ey.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
        np.testing.assert_array_equal(ew.grad.numpy(), tw.grad.numpy())


def test_bag_mean_equals_the_mean_of_embedding_rows():
    ember.manual_seed(0)
    bag = nn.EmbeddingBag(10, 5, padding_idx=0)
    tokens = ember.tensor([[3, 4, 0, 0], [5, 6, 7, 0]])
    rows = nn.functional.embedding(tokens, bag.weight)
    expected = rows.sum(1) / ember.tensor([[2.0], [3.0]])
    np.testing.assert_allclose(bag(tokens).detach().numpy(), expected.detach().numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: nn.EmbeddingBag(5, 2, mode="median"), ValueError, "mode has to be one of"),
    (lambda: nn.EmbeddingBag(5, 2)(ember.tensor([1, 2])), ValueError, "offsets has to be a 1D"),
    (lambda: nn.EmbeddingBag(5, 2)(ember.tensor([[1, 2]]), ember.tensor([0])), ValueError,
     "if input is 2D, then offsets has to be None"),
    (lambda: nn.EmbeddingBag(5, 2)(ember.tensor([1, 2]), ember.tensor([1])), ValueError,
     "offsets\\[0\\] has to be 0"),
    (lambda: nn.EmbeddingBag(5, 2)(ember.tensor([1, 2]), ember.tensor([0, 3])), ValueError,
     "offsets must be non-decreasing and at most the input's length 2"),
    (lambda: nn.EmbeddingBag(5, 2, include_last_offset=True)(ember.tensor([1, 2]),
                                                               ember.tensor([0, 1])),
     ValueError, "the last offset must be the input's length 2"),
    (lambda: nn.EmbeddingBag(5, 2)(ember.tensor([1, 2]), ember.tensor([0]),
                                   per_sample_weights=ember.ones(2)), NotImplementedError,
     "per_sample_weights is only supported for mode='sum'"),
    (lambda: nn.EmbeddingBag(5, 2, mode="sum")(ember.tensor([1, 2]), ember.tensor([0]),
                                               per_sample_weights=ember.ones(3)), ValueError,
     "per_sample_weights of shape \\(3,\\) must have the input's shape"),
    (lambda: nn.EmbeddingBag(5, 2)(ember.tensor([[1, 7]])), IndexError, "index 7 is out of range"),
    (lambda: nn.EmbeddingBag(5, 2)(ember.tensor([[[1]]])), ValueError, "input has to be 1D or 2D"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
