"""Pooling and upsampling ops: gradcheck, PyTorch parity (values, indices, dtypes, gradients),
second derivatives (through the squared output, so the backward ops' own backwards run), and
clear errors."""
import numpy as np
import pytest

import ember
import ember.nn.functional  # noqa: F401  (m.nn.functional below)
from harness import Case, op_tests, torch

pytestmark = pytest.mark.filterwarnings("ignore:`nn.functional.upsample_nearest` is deprecated")


def F(m):
    return m.nn.functional


IMG = [((2, 3, 7, 8),), ((3, 9, 6),), ((1, 1, 5, 5),)]  # 4-D and 3-D (C, H, W)
SEQ = [((2, 3, 10),), ((3, 7),)]

MAX_ARGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(kernel_size=2, stride=1, dilation=2),
    dict(kernel_size=(2, 3), stride=2, padding=(1, 1), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=3, padding=1, dilation=2, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=True),
]
AVG_ARGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=1, divisor_override=3),
]


def _id(kw):
    return "_".join(f"{k[:4]}{v}" for k, v in kw.items()).replace(" ", "")


CASES = []
for kw in MAX_ARGS:
    CASES += [
        Case(f"max_pool2d_{_id(kw)}", lambda m, x, kw=kw: F(m).max_pool2d(x, **kw), IMG,
             double=False),
        Case(f"max_pool2d_sq_{_id(kw)}", lambda m, x, kw=kw: F(m).max_pool2d(x, **kw) ** 2,
             IMG[:1], gradcheck=False),
        Case(f"max_pool2d_indices_{_id(kw)}",
             lambda m, x, kw=kw: F(m).max_pool2d(x, return_indices=True, **kw), IMG,
             gradcheck=False, double=False),
    ]
for kw in AVG_ARGS:
    CASES += [
        Case(f"avg_pool2d_{_id(kw)}", lambda m, x, kw=kw: F(m).avg_pool2d(x, **kw), IMG,
             double=False),
        Case(f"avg_pool2d_sq_{_id(kw)}", lambda m, x, kw=kw: F(m).avg_pool2d(x, **kw) ** 2,
             IMG[:1], gradcheck=False),
    ]
CASES += [
    Case("max_pool1d", lambda m, x: F(m).max_pool1d(x, 3), SEQ, double=False),
    Case("max_pool1d_pad_dil", lambda m, x: F(m).max_pool1d(x, 2, 2, 1, 2), SEQ, double=False),
    Case("max_pool1d_ceil_sq", lambda m, x: F(m).max_pool1d(x, 3, 2, ceil_mode=True) ** 2, SEQ),
    Case("max_pool1d_indices",
         lambda m, x: F(m).max_pool1d(x, 3, 2, 1, return_indices=True), SEQ, gradcheck=False,
         double=False),
    Case("max_pool2d_stride_tuple_list", lambda m, x: F(m).max_pool2d(x, [2, 3], [1, 2]), IMG,
         double=False),
]
for size in [1, 3, (2, 5), (None, 3), (4, None), (7, 8)]:
    CASES.append(Case(f"adaptive_avg_pool2d_{size}".replace(" ", ""),
                      lambda m, x, size=size: F(m).adaptive_avg_pool2d(x, size) ** 2, IMG))
for kw in [dict(scale_factor=2), dict(scale_factor=3), dict(scale_factor=(2, 1)),
           dict(scale_factor=1.5), dict(scale_factor=0.5), dict(size=(5, 13)), dict(size=4)]:
    CASES.append(Case(f"interpolate_{_id(kw)}",
                      lambda m, x, kw=kw: F(m).interpolate(x, **kw) ** 2, IMG[:1] + IMG[2:]))
CASES += [
    Case("interpolate_1d", lambda m, x: F(m).interpolate(x, size=11) ** 2, [((2, 3, 7),)]),
    Case("interpolate_1d_scale", lambda m, x: F(m).interpolate(x, scale_factor=2), [((2, 3, 4),)]),
    Case("interpolate_3d", lambda m, x: F(m).interpolate(x, scale_factor=(2, 1, 3)),
         [((1, 2, 2, 3, 2),)]),
    Case("upsample_nearest", lambda m, x: F(m).upsample_nearest(x, scale_factor=2), IMG[:1]),
    Case("interpolate_area", lambda m, x: F(m).interpolate(x, size=(3, 5), mode="area") ** 2,
         IMG[:1]),
    Case("interpolate_area_1d", lambda m, x: F(m).interpolate(x, size=4, mode="area"),
         [((2, 3, 7),)]),
]
for kw in [dict(scale_factor=2), dict(size=(5, 13), align_corners=True),
           dict(size=(4, 3), align_corners=False), dict(scale_factor=(1.5, 0.7)),
           dict(size=(1, 9), align_corners=True)]:
    CASES.append(Case(f"interpolate_bilinear_{_id(kw)}",
                      lambda m, x, kw=kw: F(m).interpolate(x, mode="bilinear", **kw) ** 2,
                      [((2, 3, 7, 8),), ((1, 1, 1, 4),)]))
for kw in [dict(scale_factor=2.5), dict(size=4, align_corners=True), dict(size=9)]:
    CASES.append(Case(f"interpolate_linear_{_id(kw)}",
                      lambda m, x, kw=kw: F(m).interpolate(x, mode="linear", **kw) ** 2,
                      [((2, 3, 7),), ((1, 2, 1),)]))
CASES += [
    Case("pool_chain", lambda m, x: F(m).interpolate(F(m).max_pool2d(x, 2), scale_factor=2)
         * F(m).avg_pool2d(x, 3, 1, 1)[..., :6, :8], [((2, 3, 6, 8),)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_max_pool_backward_overlapping_windows_adds_up():
    # one big value is the max of all 4 overlapping 3x3 windows: it gets the sum of their grads
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = -1.0
    x[0, 0, 1, 2] = 5.0
    ex = ember.tensor(x, requires_grad=True)
    ember.nn.functional.max_pool2d(ex, 3, 1).sum().backward()
    want = np.zeros((4, 4))
    want[1, 2] = 4.0
    np.testing.assert_array_equal(ex.grad.numpy()[0, 0], want)


def test_max_pool_ties_and_nan_follow_torch():
    x = np.array([[[[1.0, 1.0, 2.0, 2.0], [1.0, 0.0, np.nan, 2.0]]]])
    e, ei = ember.nn.functional.max_pool2d(ember.tensor(x), 2, return_indices=True)
    if torch is None:
        pytest.skip("torch is not installed")
    t, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


def test_no_grad_forward_and_indices():
    x = ember.randn(2, 3, 6, 6)
    with ember.no_grad():
        y, idx = ember.nn.functional.max_pool2d(x, 2, return_indices=True)
    assert y.shape == (2, 3, 3, 3) and idx.dtype == np.int64
    np.testing.assert_array_equal(
        y.numpy().reshape(6, 9), np.take_along_axis(x.numpy().reshape(6, 36),
                                                    idx.numpy().reshape(6, 9), 1))


@pytest.mark.parametrize("call,match", [
    (lambda x: ember.nn.functional.max_pool2d(x.reshape(-1), 2), "max_pool2d: expected a 3-D"),
    (lambda x: ember.nn.functional.max_pool2d(x, 2, padding=2), "pad should be at most half"),
    (lambda x: ember.nn.functional.max_pool2d(x, 5), "too small"),
    (lambda x: ember.nn.functional.max_pool2d(x, 2, stride=0), "must be positive"),
    (lambda x: ember.nn.functional.avg_pool2d(x, 3, padding=2), "pad should be at most half"),
    (lambda x: ember.nn.functional.max_pool1d(x, 2), "max_pool1d: expected a 2-D"),
    (lambda x: ember.nn.functional.max_pool2d(x, (1, 2, 3)), "kernel_size must be an int"),
])
def test_errors_name_the_op(call, match):
    x = ember.randn(1, 2, 4, 4)
    with pytest.raises((RuntimeError, TypeError), match=match):
        call(x)


def test_interpolate_errors():
    x = ember.randn(1, 2, 4, 4)
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not implemented"):
        ember.nn.functional.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="got a 4-D input, but mode 'linear' needs a 3-D"):
        ember.nn.functional.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        ember.nn.functional.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        ember.nn.functional.interpolate(x)
    with pytest.raises(ValueError, match="names 3"):
        ember.nn.functional.interpolate(x, size=(2, 3, 4))


def test_pool_rejects_integer_input():
    with pytest.raises(TypeError, match="max_pool2d: expected a floating-point tensor"):
        ember.nn.functional.max_pool2d(ember.tensor(np.ones((1, 4, 4), dtype=np.int64)), 2)
