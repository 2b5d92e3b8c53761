"""AdaptiveMaxPool1d/2d and MaxUnpool1d/2d (and their functional forms) against PyTorch:
values, indices, gradients, second derivatives, printed forms and errors."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember
from ember import nn

torch = pytest.importorskip("torch")


def _unpool2d(m, x, k, s, p):
    F = m.nn.functional
    y, idx = F.max_pool2d(x, k, s, p, return_indices=True)
    return F.max_unpool2d(y * 2, idx, k, s, p, output_size=x.shape[-2:])


def _unpool1d(m, x, k, s, p):
    F = m.nn.functional
    y, idx = F.max_pool1d(x, k, s, p, return_indices=True)
    return F.max_unpool1d(y * 2, idx, k, s, p, output_size=x.shape[-1:])


CASES = [
    Case("adaptive_max_pool2d", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (3, 4)),
         [((2, 3, 7, 9),), ((3, 5, 5),), ((1, 2, 3),)]),
    Case("adaptive_max_pool2d_none_and_larger",
         lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (None, 7)), [((2, 2, 4, 5),)]),
    Case("adaptive_max_pool1d", lambda m, x: m.nn.functional.adaptive_max_pool1d(x, 3),
         [((2, 3, 8),), ((4, 5),)]),
    Case("max_unpool2d", lambda m, x: _unpool2d(m, x, 2, 2, 0), [((2, 3, 6, 8),), ((3, 7, 9),)]),
    # Overlapping windows can pick one maximum several times: unpooling writes it once, but its
    # backward reads the gradient back for every index, duplicates included, as torch's does,
    # so the gradient counts such a maximum once per window. That is torch's convention (matched
    # here), not the derivative finite differences see: no gradcheck for these two.
    Case("max_unpool2d_overlapping", lambda m, x: _unpool2d(m, x, 3, 1, 1), [((1, 2, 5, 6),)],
         gradcheck=False),
    Case("max_unpool2d_padded", lambda m, x: _unpool2d(m, x, 3, 2, 1), [((2, 2, 7, 7),)],
         gradcheck=False),
    Case("max_unpool1d", lambda m, x: _unpool1d(m, x, 2, 2, 0), [((2, 3, 8),), ((3, 9),)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


@pytest.mark.parametrize("output_size", [(3, 4), 2, (None, 3)])
def test_adaptive_max_pool_indices_match_torch(output_size):
    a = np.random.default_rng(0).standard_normal((2, 3, 7, 9))
    a[0, 0, :2, :2] = 5.0  # a tie: the first maximum wins, as in torch
    e_y, e_i = nn.AdaptiveMaxPool2d(output_size, return_indices=True)(ember.tensor(a))
    t_y, t_i = torch.nn.AdaptiveMaxPool2d(output_size, return_indices=True)(torch.tensor(a))
    np.testing.assert_array_equal(e_y.numpy(), t_y.numpy())
    assert e_i.dtype == ember.int64 and e_i.tolist() == t_i.tolist()
    e_y1, e_i1 = nn.AdaptiveMaxPool1d(4, True)(ember.tensor(a[0]))
    t_y1, t_i1 = torch.nn.AdaptiveMaxPool1d(4, True)(torch.tensor(a[0]))
    np.testing.assert_array_equal(e_y1.numpy(), t_y1.numpy())
    assert e_i1.tolist() == t_i1.tolist()


def test_unpool_layers_match_torch_and_print_alike():
    a = np.random.default_rng(1).standard_normal((2, 3, 6, 8))
    e_pool, t_pool = nn.MaxPool2d(2, return_indices=True), torch.nn.MaxPool2d(2, return_indices=True)
    e_unpool, t_unpool = nn.MaxUnpool2d(2), torch.nn.MaxUnpool2d(2)
    assert repr(e_unpool) == repr(t_unpool)
    assert repr(nn.MaxUnpool1d(3, 2, 1)) == repr(torch.nn.MaxUnpool1d(3, 2, 1))
    assert repr(nn.AdaptiveMaxPool2d((3, None))) == repr(torch.nn.AdaptiveMaxPool2d((3, None)))
    e_out = e_unpool(*e_pool(ember.tensor(a)))
    t_out = t_unpool(*t_pool(torch.tensor(a)))
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())
    full = e_unpool(*e_pool(ember.tensor(a)), output_size=(2, 3, 7, 9))
    assert full.shape == (2, 3, 7, 9)


def _pooled():
    return nn.functional.max_pool2d(ember.randn(1, 1, 4, 4), 2, return_indices=True)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: nn.functional.adaptive_max_pool2d(ember.randn(4, 4), 2), RuntimeError,
     "expected a 3-D or 4-D input"),
    (lambda: nn.functional.adaptive_max_pool2d(ember.randn(1, 4, 4), 0), ValueError,
     "output_size must be 2 positive ints"),
    (lambda: nn.functional.adaptive_max_pool1d(ember.randn(4), 2), RuntimeError,
     "adaptive_max_pool1d: expected a 2-D or 3-D input"),
    (lambda: nn.functional.max_unpool2d(_pooled()[0], _pooled()[1].to(ember.float32), 2),
     RuntimeError, "indices must be an int64 tensor"),
    (lambda: nn.functional.max_unpool2d(_pooled()[0], ember.tensor([[[[40]]]]).expand(1, 1, 2, 2),
                                        2), RuntimeError, "Found an invalid max index: 40"),
    (lambda: nn.functional.max_unpool2d(*_pooled(), 2, output_size=(9, 4)), ValueError,
     r"invalid output_size \"\(9, 4\)\" \(dim 0 must be between 2 and 6\)"),
    (lambda: nn.functional.max_unpool2d(*_pooled(), 2, output_size=(4,)), ValueError,
     "should be a sequence containing 2 or 4 elements"),
    (lambda: nn.functional.max_unpool1d(ember.randn(2), ember.tensor([0, 1]), 2), RuntimeError,
     "max_unpool1d: expected a 2-D or 3-D input"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
