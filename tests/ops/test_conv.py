"""Convolutions: gradcheck, PyTorch parity (values, dtypes, gradients) and second derivatives for
conv1d, conv2d, conv_transpose1d and conv_transpose2d over strides, paddings, dilations and
groups; the errors that shape mistakes give."""
import numpy as np
import pytest

import ember
from harness import Case, op_tests

# torch notes that it copies the input for an even kernel with padding="same"
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.")


def F(m):
    return m.nn.functional


def conv2d(**kw):
    return lambda m, x, w, b=None: F(m).conv2d(x, w, b, **kw)


def conv_t(**kw):
    return lambda m, x, w, b=None: F(m).conv_transpose2d(x, w, b, **kw)


def conv1d(**kw):
    return lambda m, x, w, b=None: F(m).conv1d(x, w, b, **kw)


def conv_t1d(**kw):
    return lambda m, x, w, b=None: F(m).conv_transpose1d(x, w, b, **kw)


CASES = [
    # conv2d: (input, weight[, bias])
    Case("conv2d", conv2d(), [((1, 2, 5, 5), (3, 2, 3, 3), (3,)),
                              ((2, 3, 4, 5), (2, 3, 2, 3), (2,)),
                              ((2, 1, 3, 3), (1, 1, 1, 1), (1,))]),
    Case("conv2d_no_bias", conv2d(), [((2, 2, 4, 4), (3, 2, 3, 3))]),
    Case("conv2d_stride", conv2d(stride=2), [((2, 2, 7, 6), (3, 2, 3, 3), (3,)),
                                             ((1, 2, 6, 6), (2, 2, 2, 2), (2,))]),
    Case("conv2d_stride_pair_pad", conv2d(stride=(2, 1), padding=(1, 2)),
         [((2, 2, 5, 4), (3, 2, 3, 2), (3,))]),
    Case("conv2d_pad", conv2d(padding=1), [((2, 2, 4, 5), (3, 2, 3, 3), (3,))]),
    Case("conv2d_same", conv2d(padding="same"), [((2, 2, 5, 4), (3, 2, 3, 3), (3,)),
                                                 ((1, 2, 4, 5), (2, 2, 2, 4), (2,))]),
    Case("conv2d_same_dilated", conv2d(padding="same", dilation=2),
         [((1, 2, 6, 5), (2, 2, 3, 2), (2,))]),
    Case("conv2d_valid", conv2d(padding="valid"), [((1, 2, 4, 4), (2, 2, 3, 3))]),
    Case("conv2d_dilation", conv2d(dilation=(2, 1), padding=1),
         [((2, 2, 6, 5), (3, 2, 2, 3), (3,))]),
    Case("conv2d_stride_dilation", conv2d(stride=2, dilation=2, padding=2),
         [((1, 3, 7, 7), (2, 3, 3, 3), (2,))]),
    Case("conv2d_groups", conv2d(groups=2, padding=1),
         [((2, 4, 4, 4), (6, 2, 3, 3), (6,)), ((1, 6, 3, 5), (4, 3, 2, 2), (4,))]),
    Case("conv2d_depthwise", conv2d(groups=3, padding=1, stride=2),
         [((2, 3, 5, 5), (3, 1, 3, 3), (3,)), ((2, 3, 4, 4), (6, 1, 3, 3), (6,))]),
    Case("conv2d_leftover_rows", conv2d(stride=3), [((2, 2, 8, 7), (2, 2, 2, 2), (2,))]),
    Case("conv2d_unbatched", conv2d(padding=1), [((2, 4, 4), (3, 2, 3, 3), (3,))]),
    Case("conv2d_squared", lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1) ** 2,
         [((2, 2, 4, 4), (3, 2, 3, 3), (3,))]),
    # conv_transpose2d: weight (C_in, C_out/groups, kh, kw)
    Case("conv_transpose2d", conv_t(), [((2, 3, 3, 4), (3, 2, 3, 3), (2,)),
                                        ((1, 2, 2, 2), (2, 3, 2, 3), (3,))]),
    Case("conv_transpose2d_no_bias", conv_t(stride=2), [((2, 2, 3, 3), (2, 3, 3, 3))]),
    Case("conv_transpose2d_stride_pad", conv_t(stride=2, padding=1),
         [((2, 2, 3, 4), (2, 3, 3, 3), (3,))]),
    Case("conv_transpose2d_output_padding", conv_t(stride=(2, 3), padding=1,
                                                   output_padding=(1, 2)),
         [((2, 2, 3, 3), (2, 2, 3, 4), (2,))]),
    Case("conv_transpose2d_dilation", conv_t(dilation=2, output_padding=1, stride=(1, 2)),
         [((1, 2, 3, 3), (2, 2, 2, 3), (2,))]),
    Case("conv_transpose2d_groups", conv_t(groups=2, stride=2, padding=1),
         [((2, 4, 3, 3), (4, 3, 3, 3), (6,))]),
    Case("conv_transpose2d_unbatched", conv_t(stride=2), [((2, 3, 3), (2, 3, 2, 2), (3,))]),
    Case("conv_transpose2d_depthwise", conv_t(groups=3), [((2, 3, 3, 3), (3, 1, 2, 2), (3,))]),
    Case("conv_transpose2d_squared",
         lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2) ** 2,
         [((1, 2, 3, 3), (2, 2, 2, 2), (2,))]),
    # conv1d: (N, C, L), weight (O, C/groups, k)
    Case("conv1d", conv1d(), [((2, 3, 7), (4, 3, 3), (4,)), ((1, 2, 5), (2, 2, 1), (2,))]),
    Case("conv1d_stride_pad_dilation", conv1d(stride=2, padding=2, dilation=2),
         [((2, 2, 9), (3, 2, 3), (3,))]),
    Case("conv1d_same_groups", conv1d(padding="same", groups=2), [((2, 4, 6), (4, 2, 4), (4,))]),
    # conv_transpose1d: (N, C_in, L), weight (C_in, C_out/groups, k)
    Case("conv_transpose1d", conv_t1d(), [((2, 3, 5), (3, 2, 3), (2,)), ((3, 4), (3, 1, 2))]),
    Case("conv_transpose1d_geometry", conv_t1d(stride=2, padding=1, output_padding=1, groups=2,
                                              dilation=2), [((2, 4, 5), (4, 3, 3), (6,))]),
    Case("conv1d_unbatched", conv1d(padding=1), [((3, 5), (2, 3, 3))]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_conv2d_matches_the_definition():
    """y[n, o, p, q] = b[o] + sum over c, i, j of W[o, c, i, j] x[n, c, p + i, q + j]"""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((4, 3, 2, 3)), np.arange(4.)
    y = F(ember).conv2d(ember.tensor(x), ember.tensor(w), ember.tensor(b)).numpy()
    want = np.zeros((2, 4, 4, 2))
    for p in range(4):
        for q in range(2):
            want[:, :, p, q] = np.einsum("ncij,ocij->no", x[:, :, p:p + 2, q:q + 3], w) + b
    np.testing.assert_allclose(y, want, rtol=1e-12)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)>"""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    kw = dict(stride=2, padding=1, dilation=(1, 2), groups=2)
    y = F(ember).conv2d(ember.tensor(x), ember.tensor(w), **kw).numpy()
    v = rng.standard_normal(y.shape)
    xt = F(ember).conv_transpose2d(ember.tensor(v), ember.tensor(w), output_padding=(0, 1),
                                   **kw).numpy()
    assert xt.shape == x.shape
    np.testing.assert_allclose(np.sum(y * v), np.sum(x * xt), rtol=1e-12)


def test_float32_stays_float32_and_no_grad_builds_no_graph():
    x, w = ember.randn(2, 3, 5, 5), ember.randn(4, 3, 3, 3, requires_grad=True)
    with ember.no_grad():
        y = F(ember).conv2d(x, w, padding=1)
    assert y.dtype == np.float32 and y.grad_fn is None and y.shape == (2, 4, 5, 5)


def test_weight_grad_only():
    """A frozen input: only the weight's gradient is computed."""
    x, w = ember.randn(2, 3, 5, 5), ember.randn(4, 3, 3, 3, requires_grad=True)
    F(ember).conv2d(x, w).sum().backward()
    assert w.grad.shape == w.shape and x.grad is None


def test_zero_batch():
    x, w = ember.randn(0, 3, 5, 5, requires_grad=True), ember.randn(4, 3, 3, 3, requires_grad=True)
    y = F(ember).conv2d(x, w, padding=1)
    assert y.shape == (0, 4, 5, 5)
    y.sum().backward()
    assert x.grad.shape == x.shape and not np.any(w.grad.numpy())


# ---- errors ---------------------------------------------------------------------------------
def _t(*shape):
    return ember.ones(*shape)


@pytest.mark.parametrize("call,match", [
    (lambda: F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 2, 3, 3)),
     r"conv2d: input of shape \(2, 3, 5, 5\) has 3 channels, but weight of shape \(4, 2, 3, 3\)"),
    (lambda: F(ember).conv2d(_t(2, 4, 5, 5), _t(3, 2, 3, 3), groups=2),
     r"conv2d: weight of shape \(3, 2, 3, 3\) has 3 output channels, not divisible by groups=2"),
    (lambda: F(ember).conv2d(_t(3, 5), _t(4, 3, 3, 3)), r"conv2d: expected a 3-D .*\(3, 5\)"),
    (lambda: F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 3, 3)), r"conv2d: weight must be 4-D"),
    (lambda: F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 3, 3, 3), _t(3)),
     r"conv2d: bias of shape \(3,\) does not match 4 output channels"),
    (lambda: F(ember).conv2d(_t(2, 3, 2, 2), _t(4, 3, 3, 3)),
     r"conv2d: input of shape \(2, 3, 2, 2\) .* is smaller than the dilated kernel"),
    (lambda: F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 3, 3, 3), stride=2, padding="same"),
     r"conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 3, 3, 3), padding="full"),
     r"conv2d: padding must be an int, a tuple, 'valid' or 'same'"),
    (lambda: F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 3, 3, 3), stride=(1, 2, 3)),
     r"conv2d: stride must be an int or a tuple of 2 ints"),
    (lambda: F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 3, 3, 3), stride=0),
     r"conv2d: stride and dilation must be positive"),
    (lambda: F(ember).conv_transpose2d(_t(2, 3, 5, 5), _t(4, 2, 3, 3)),
     r"conv_transpose2d: input of shape \(2, 3, 5, 5\) has 3 channels"),
    (lambda: F(ember).conv_transpose2d(_t(2, 4, 5, 5), _t(4, 2, 3, 3), output_padding=1),
     r"conv_transpose2d: output_padding .* must be smaller than either stride"),
    (lambda: F(ember).conv_transpose2d(_t(2, 4, 5, 5), _t(4, 2, 3, 3), groups=3),
     r"conv_transpose2d: weight of shape \(4, 2, 3, 3\) has 4 input channels, not divisible"),
    (lambda: F(ember).conv1d(_t(2, 3, 5), _t(4, 2, 3)),
     r"conv1d: input of shape .* has 3 channels"),
    (lambda: F(ember).conv1d(_t(2, 3, 5), _t(4, 3, 3, 3)), r"conv1d: weight must be 3-D"),
    (lambda: F(ember).conv_transpose1d(_t(2, 3, 5), _t(4, 2, 3)),
     r"conv_transpose1d: input of shape .* has 3 channels"),
    (lambda: F(ember).conv_transpose1d(_t(2, 3, 5), _t(3, 2)),
     r"conv_transpose1d: weight must be 3-D \(in, out/groups, kernel\)"),
    (lambda: F(ember).conv_transpose1d(_t(3, 5, 5, 5), _t(3, 2, 3)),
     r"conv_transpose1d: expected a 2-D \(unbatched\) or 3-D"),
])
def test_shape_errors(call, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        call()


def test_dtype_mismatch():
    with pytest.raises(TypeError, match="conv2d: expected floating-point input, weight"):
        F(ember).conv2d(_t(2, 3, 5, 5), _t(4, 3, 3, 3).double())
