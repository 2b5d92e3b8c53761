"""Convolution array kernels: im2col and col2im in both column layouts (per image, batch last)
against plain loops, and conv2d / conv_transpose2d with each layout forced (gradcheck, PyTorch
parity, second derivatives), since the layout is otherwise picked from the shapes."""
import numpy as np
import pytest

import ember
from ember.ops import conv
from harness import Case, case_params, run_double_backward, run_gradcheck, run_parity

# (N, C, H, W), kernel, stride, pad (top, bottom, left, right), dilation
GEOMETRIES = [
    ((2, 3, 5, 6), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    ((3, 2, 7, 8), (4, 4), (2, 2), (1, 1, 1, 1), (1, 1)),  # the DCGAN kernel
    ((4, 1, 9, 7), (3, 2), (2, 3), (0, 2, 1, 0), (2, 1)),  # leftover rows, uneven padding
    ((1, 2, 6, 5), (2, 3), (3, 1), (2, 0, 0, 1), (1, 2)),
    ((5, 3, 4, 4), (1, 1), (1, 2), (0, 0, 0, 0), (1, 1)),
]


def im2col_loop(x, kernel, stride, pad, dilation, out_hw):
    """cols[c, i, j, n, oh, ow] = x_pad[n, c, oh*s + i*d, ow*s + j*d], one element at a time."""
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), pad[:2], pad[2:]))
    cols = np.zeros((c,) + kernel + (n,) + out_hw)
    for ci, i, j, b, oh, ow in np.ndindex(cols.shape):
        cols[ci, i, j, b, oh, ow] = xp[b, ci, oh * stride[0] + i * dilation[0],
                                       ow * stride[1] + j * dilation[1]]
    return cols


def _geometry(shape, kernel, stride, pad, dilation):
    geom = conv.Geometry(stride, pad, dilation, 1)
    return geom, conv._natural_hw(shape[2:], kernel, geom)


def _to_layout(cols, batch_last):
    """(C, kh, kw, N, OH, OW) -> (C, kh, kw, OH, OW, N) or (N, C, kh, kw, OH, OW)."""
    return np.ascontiguousarray(cols.transpose((0, 1, 2, 4, 5, 3) if batch_last else
                                               (3, 0, 1, 2, 4, 5)))


@pytest.mark.parametrize("batch_last", [False, True])
@pytest.mark.parametrize("shape,kernel,stride,pad,dilation", GEOMETRIES)
def test_im2col_matches_loop(shape, kernel, stride, pad, dilation, batch_last):
    x = np.random.default_rng(0).standard_normal(shape)
    geom, out_hw = _geometry(shape, kernel, stride, pad, dilation)
    want = im2col_loop(x, kernel, stride, pad, dilation, out_hw)
    got = conv.im2col(x, kernel, geom, out_hw, batch_last)
    np.testing.assert_array_equal(got, _to_layout(want, batch_last))


@pytest.mark.parametrize("batch_last", [False, True])
@pytest.mark.parametrize("shape,kernel,stride,pad,dilation", GEOMETRIES)
def test_col2im_matches_loop(shape, kernel, stride, pad, dilation, batch_last):
    """col2im, the adjoint of im2col: each column entry added back onto the input pixel it was
    read from (a loop); so <im2col(x), c> = <x, col2im(c)>."""
    rng = np.random.default_rng(1)
    geom, out_hw = _geometry(shape, kernel, stride, pad, dilation)
    c = rng.standard_normal((shape[1],) + kernel + (shape[0],) + out_hw)
    pt, pb, pl, pr = pad
    xp = np.zeros(shape[:2] + (shape[2] + pt + pb, shape[3] + pl + pr))
    for ci, i, j, b, oh, ow in np.ndindex(c.shape):
        xp[b, ci, oh * stride[0] + i * dilation[0], ow * stride[1] + j * dilation[1]] += \
            c[ci, i, j, b, oh, ow]
    want = xp[:, :, pt:pt + shape[2], pl:pl + shape[3]]
    got = conv.col2im(_to_layout(c, batch_last), shape, geom, batch_last)
    assert got.flags.c_contiguous
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(np.sum(im2col_loop(x, kernel, stride, pad, dilation, out_hw) * c),
                               np.sum(x * got), rtol=1e-12)


def F(m):
    return m.nn.functional


CASES = [
    Case("conv2d", lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=1),
         [((5, 2, 6, 6), (3, 2, 4, 4), (3,))]),
    Case("conv2d_groups_dilation",
         lambda m, x, w, b: F(m).conv2d(x, w, b, padding=(2, 1), dilation=(2, 1), groups=2),
         [((3, 4, 4, 2), (4, 2, 3, 2), (4,))]),
    Case("conv2d_more_channels_than_pixels", lambda m, x, w, b: F(m).conv2d(x, w, b, groups=2),
         [((3, 2, 3, 3), (10, 1, 2, 2), (10,))]),
    Case("conv_transpose2d",
         lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2, padding=1),
         [((5, 3, 3, 3), (3, 2, 4, 4), (2,))]),
    Case("conv_transpose2d_groups_output_padding",
         lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=(2, 3), padding=1,
                                                  output_padding=(1, 2), groups=2),
         [((5, 4, 2, 2), (4, 1, 3, 4), (2,))]),
]


@pytest.fixture(params=[False, True], ids=["per_image", "batch_last"])
def layout(request, monkeypatch):
    monkeypatch.setattr(conv, "_batch_last", lambda *shapes: request.param)
    return request.param


@pytest.mark.parametrize("case,shapes", case_params(CASES))
def test_gradcheck_each_layout(case, shapes, layout):
    run_gradcheck(case, shapes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case,shapes", case_params(CASES))
def test_parity_each_layout(case, shapes, dtype, layout):
    run_parity(case, shapes, dtype)


@pytest.mark.parametrize("case,shapes", case_params(CASES))
def test_double_backward_each_layout(case, shapes, layout):
    run_double_backward(case, shapes)


def test_layout_choice():
    """Batch last where rows are short, the batch long and the columns big (the DCGAN's second
    conv), per image for one image or long rows."""
    assert conv._batch_last((128, 32, 14, 14), 64, (7, 7), (4, 4))
    assert not conv._batch_last((1, 32, 14, 14), 64, (7, 7), (4, 4))
    assert not conv._batch_last((8, 16, 64, 64), 16, (64, 64), (3, 3))


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
def test_strided_input_gives_the_same_result(layout, transposed):
    """A non-contiguous input (a transposed view) goes through the kernels' strided views."""
    rng = np.random.default_rng(6)
    base = rng.standard_normal((6, 3, 5, 5)).astype(np.float32)
    w = ember.tensor(rng.standard_normal((3, 3, 4, 4)).astype(np.float32))
    f = ember.nn.functional.conv_transpose2d if transposed else ember.nn.functional.conv2d
    view = ember.tensor(base.transpose(0, 1, 3, 2))
    dense = ember.tensor(np.ascontiguousarray(base.transpose(0, 1, 3, 2)))
    assert not view.numpy().flags.c_contiguous
    np.testing.assert_array_equal(f(view, w, stride=2, padding=1).numpy(),
                                  f(dense, w, stride=2, padding=1).numpy())
