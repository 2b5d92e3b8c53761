"""unfold and fold (and nn.Unfold, nn.Fold) against PyTorch: values, gradients, second
derivatives; convolution as unfold and a matrix product; fold as unfold's adjoint; errors."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember
from ember import nn

torch = pytest.importorskip("torch")


def _unfold(**kw):
    return lambda m, x: m.nn.functional.unfold(x, **kw)


def _fold(size, **kw):
    return lambda m, c: m.nn.functional.fold(c, size, **kw)


CASES = [
    Case("unfold", _unfold(kernel_size=(2, 3)), [((2, 3, 5, 6),), ((3, 4, 4),)]),
    Case("unfold_geometry", _unfold(kernel_size=3, padding=1, stride=2, dilation=(1, 2)),
         [((2, 2, 7, 8),)]),
    Case("fold", _fold((4, 5), kernel_size=2), [((2, 12, 12),), ((8, 12),)]),
    Case("fold_geometry", _fold((7, 8), kernel_size=3, padding=1, stride=2, dilation=(1, 2)),
         [((2, 18, 12),)]),
    Case("fold_of_unfold", lambda m, x: m.nn.functional.fold(
        m.nn.functional.unfold(x, 3, padding=1) ** 2, (5, 5), 3, padding=1), [((1, 2, 5, 5),)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_convolution_is_unfold_and_a_matrix_product():
    ember.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1, stride=2, dtype=ember.float64)
    x = ember.randn(2, 3, 7, 6, dtype=ember.float64)
    cols = nn.functional.unfold(x, 3, padding=1, stride=2)           # (2, 27, 4 * 3)
    y = conv.weight.reshape(4, -1) @ cols + conv.bias.reshape(1, 4, 1)
    np.testing.assert_allclose(y.reshape(2, 4, 4, 3).detach().numpy(),
                               conv(x).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_fold_is_the_adjoint_of_unfold():
    """<unfold(x), c> = <x, fold(c)>"""
    r = np.random.default_rng(0)
    x, c = r.standard_normal((2, 3, 6, 7)), r.standard_normal((2, 3 * 6, 16))
    kw = {"kernel_size": (2, 3), "padding": 1, "stride": 2}
    left = (nn.functional.unfold(ember.tensor(x), **kw).numpy() * c).sum()
    right = (x * nn.functional.fold(ember.tensor(c), (6, 7), **kw).numpy()).sum()
    assert abs(left - right) < 1e-10


def test_modules_print_and_compute_as_torch():
    for e, t in ((nn.Unfold((2, 3), padding=1, stride=2), torch.nn.Unfold((2, 3), padding=1,
                                                                            stride=2)),
                 (nn.Fold((4, 5), (2, 2)), torch.nn.Fold((4, 5), (2, 2)))):
        assert repr(e) == repr(t)
    a = np.random.default_rng(1).standard_normal((1, 12, 12))
    np.testing.assert_allclose(nn.Fold((4, 5), 2)(ember.tensor(a)).numpy(),
                               torch.nn.Fold((4, 5), 2)(torch.tensor(a)).numpy(), rtol=1e-12)
    assert not isinstance(nn.Fold((4, 5), 2), nn.Unfold)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: nn.functional.unfold(ember.randn(4, 4), 2), RuntimeError, "unfold: expected a 3-D"),
    (lambda: nn.functional.unfold(ember.randn(1, 1, 2, 2), 3), RuntimeError,
     "smaller than the kernel's reach"),
    (lambda: nn.functional.unfold(ember.randn(1, 1, 4, 4), 0), ValueError, "must be positive"),
    (lambda: nn.functional.fold(ember.randn(1, 12, 5), (4, 5), (2, 2)), RuntimeError,
     r"calculated number of sliding blocks 3 \* 4 = 12, but got 5"),
    (lambda: nn.functional.fold(ember.randn(1, 10, 12), (4, 5), (2, 2)), RuntimeError,
     r"divisible by the product of kernel_size \(4\)"),
    (lambda: nn.functional.fold(ember.randn(12), (4, 5), 2), RuntimeError, "fold: expected a 2-D"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
