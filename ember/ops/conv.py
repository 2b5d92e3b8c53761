"""Convolutions: conv2d, its adjoint conv_transpose2d, and conv1d on top of conv2d.

Forward is im2col + GEMM. With x padded, the stride-trick view
    cols[n, c, i, j, oh, ow] = x[n, c, oh*s + i*d, ow*s + j*d]
is copied once into contiguous columns, and
    y[n, o] = W[o] . cols[n]              (per group; all images and groups in one matmul call).
For short output rows and a long batch the columns are laid out batch last instead,
(C, kh, kw, OH, OW, N), and one GEMM covers the batch (see _batch_last).
The three gradients are again convolutions, so double backward needs no extra code:
    dx = conv_transpose2d(g, W)           (col2im: the GEMM W^T g, then a sum over kh*kw offsets)
    dW = g . cols^T                       (conv2d_weight_grad, a Function of its own)
    db = sum of g over batch and pixels.
"""
from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import _NO_CTX, Function
from ._util import tensor_cls

# stride (sh, sw), pad (top, bottom, left, right), dilation (dh, dw), groups
Geometry = namedtuple("Geometry", "stride pad dilation groups")


# ---- array kernels ----------------------------------------------------------------------------

def _out_size(n, pad_a, pad_b, k, s, d):
    return (n + pad_a + pad_b - d * (k - 1) - 1) // s + 1


def _batch_last(x_shape, o, out_hw, kernel):
    """Column layout: per image, (N, C, kh, kw, OH, OW), with one GEMM per image, or batch last,
    (C, kh, kw, OH, OW, N), with one GEMM for the batch. The copies and adds of im2col/col2im
    loop over the last axis innermost, and each inner loop costs about as much as moving 15
    elements through a transpose (7-pixel rows made im2col as slow as the GEMM at batch 128);
    batch last has long inner loops but transposes the input and the output. Pick the cheaper
    (the weight 15 fitted to measured timings of six layer shapes)."""
    n, c, h, w = x_shape
    if n <= out_hw[1]:
        return False
    cols = c * kernel[0] * kernel[1] * out_hw[0] * out_hw[1]  # per image
    return 15 * cols * (1 / out_hw[1] - 1 / n) > c * h * w + o * out_hw[0] * out_hw[1]


def _cols_shape(n, c, kernel, out_hw, batch_last):
    if batch_last:
        return (c,) + tuple(kernel) + tuple(out_hw) + (n,)
    return (n, c) + tuple(kernel) + tuple(out_hw)


def _batch_first(a):
    """(C, H, W, N), any strides -> contiguous (N, C, H, W), a few channels at a time: a block that
    fits in cache transposes 1.3-3.5x faster than the whole array at once (measured)."""
    c, h, w, n = a.shape
    out = np.empty((n, c, h, w), dtype=a.dtype)
    step = max(1, 16384 // max(1, h * w * n))
    for k in range(0, c, step):
        out[:, k:k + step] = a[k:k + step].transpose(3, 0, 1, 2)
    return out


def _padded(x, pad, batch_last):
    """(N, C, H, W) -> zero-padded (C, H', W', N) if batch_last, else (N, C, H', W')."""
    pt, pb, pl, pr = pad
    if not batch_last and not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    if batch_last:
        xp = np.zeros((c, h + pt + pb, w + pl + pr, n), dtype=x.dtype)
        xp[:, pt:pt + h, pl:pl + w] = x.transpose(1, 2, 3, 0)
    else:
        xp = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=x.dtype)
        xp[:, :, pt:pt + h, pl:pl + w] = x
    return xp


def im2col(x, kernel, geom, out_hw, batch_last):
    """(N, C, H, W) -> contiguous columns of the padded input, (C, kh, kw, OH, OW, N) if
    batch_last, else (N, C, kh, kw, OH, OW)."""
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    xp = _padded(x, geom.pad, batch_last)
    if batch_last:
        s_c, s_h, s_w, s_n = xp.strides
        strides = (s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w, s_n)
    else:
        s_n, s_c, s_h, s_w = xp.strides
        strides = (s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w)
    view = as_strided(xp, _cols_shape(x.shape[0], x.shape[1], kernel, out_hw, batch_last),
                      strides, writeable=False)
    return np.ascontiguousarray(view)


def col2im(cols, in_shape, geom, batch_last):
    """The adjoint of im2col: columns (C, kh, kw, OH, OW, N) if batch_last, else
    (N, C, kh, kw, OH, OW), summed back into (N, C, H, W). One strided add per kernel offset
    (kh * kw of them), each over the whole batch."""
    n, c, h, w = in_shape
    kh, kw, oh, ow = cols.shape[1:5] if batch_last else cols.shape[2:6]
    (sh, sw), (pt, pb, pl, pr), (dh, dw) = geom.stride, geom.pad, geom.dilation
    hw = (h + pt + pb, w + pl + pr)
    xp = np.zeros((c,) + hw + (n,) if batch_last else (n, c) + hw, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            if batch_last:
                xp[:, rows, columns] += cols[:, i, j]
            else:
                xp[:, :, rows, columns] += cols[:, :, i, j]
    if batch_last:
        return _batch_first(xp[:, pt:pt + h, pl:pl + w])
    return np.ascontiguousarray(xp[:, :, pt:pt + h, pl:pl + w])


def _batch_last_grad(g, groups):
    """(N, O, OH, OW) -> contiguous (groups, O/groups, OH * OW * N), matching batch-last columns."""
    n, o, oh, ow = g.shape
    return np.ascontiguousarray(g.transpose(1, 2, 3, 0)).reshape(groups, o // groups, oh * ow * n)


def _natural_hw(x_hw, kernel, geom):
    pt, pb, pl, pr = geom.pad
    return (_out_size(x_hw[0], pt, pb, kernel[0], geom.stride[0], geom.dilation[0]),
            _out_size(x_hw[1], pl, pr, kernel[1], geom.stride[1], geom.dilation[1]))


# In the per-image layout the GEMMs run per image (one batched matmul): the output needs no
# transpose, and each product is small enough that OpenBLAS runs it on one thread. One skinny
# product over the whole batch (K or O of 16-32 against N*OH*OW of 25,000: the DCGAN's first
# conv) took 15 ms instead of 1.9 (forward) and 635 ms instead of 1.5 (weight gradient) on 2
# OpenBLAS threads of a busy 2-core machine (measured).

def conv_forward(x, w, geom, out_hw=None, cols=None):
    """y[n, o] = sum over c, i, j of W[o, c, i, j] x_pad[n, c, oh*s + i*d, ow*s + j*d]
    (c within o's group). Returns y and the columns (weight_grad reuses them; pass them in
    when they are already there)."""
    n = x.shape[0]
    o, _, kh, kw = w.shape
    groups = geom.groups
    out_hw = tuple(out_hw or _natural_hw(x.shape[2:], (kh, kw), geom))
    batch_last = _batch_last(x.shape, o, out_hw, (kh, kw))
    if cols is None:
        cols = im2col(x, (kh, kw), geom, out_hw, batch_last)
    k, pixels = w.shape[1] * kh * kw, out_hw[0] * out_hw[1]
    wm = w.reshape(groups, o // groups, k)
    if batch_last:  # (groups, O/g, K) @ (groups, K, OH*OW*N)
        y = np.matmul(wm, cols.reshape(groups, k, pixels * n))
        return _batch_first(y.reshape((o,) + out_hw + (n,))), cols
    y = np.matmul(wm, cols.reshape(n, groups, k, pixels))  # (N, groups, O/g, OH*OW)
    return y.reshape((n, o) + out_hw), cols


def conv_adjoint(g, w, geom, in_hw, g_batch_last=None):
    """x-gradient of conv_forward for upstream g (= conv_transpose2d without bias).
    g_batch_last: _batch_last_grad(g) when the caller has it already."""
    n, o, oh, ow = g.shape
    _, cg, kh, kw = w.shape
    groups = geom.groups
    in_shape = (n, groups * cg) + tuple(in_hw)
    batch_last = _batch_last(in_shape, o, (oh, ow), (kh, kw))
    wt = w.reshape(groups, o // groups, cg * kh * kw).transpose(0, 2, 1)  # (groups, Cg*kh*kw, O/g)
    if batch_last:
        cols = np.matmul(wt, _batch_last_grad(g, groups) if g_batch_last is None else g_batch_last)
    else:
        cols = np.matmul(wt, g.reshape(n, groups, o // groups, oh * ow))
    return col2im(cols.reshape(_cols_shape(n, groups * cg, (kh, kw), (oh, ow), batch_last)),
                  in_shape, geom, batch_last)


def conv_weight_grad(x, g, kernel, geom, cols=None, g_batch_last=None):
    """dW[o, c, i, j] = sum over n, oh, ow of g[n, o, oh, ow] x_pad[n, c, oh*s + i*d, ow*s + j*d]
    (g_batch_last: as in conv_adjoint)"""
    n, o, oh, ow = g.shape
    groups = geom.groups
    cg = x.shape[1] // groups
    k = cg * kernel[0] * kernel[1]
    batch_last = _batch_last(x.shape, o, (oh, ow), kernel)
    if cols is None:
        cols = im2col(x, kernel, geom, (oh, ow), batch_last)
    if not batch_last:
        gm = g.reshape(n, groups, o // groups, oh * ow)
        cm = cols.reshape(n, groups, k, oh * ow).transpose(0, 1, 3, 2)  # (N, groups, OH*OW, K)
        if o <= oh * ow:  # the sum over images of g[n] cols[n]^T, via (N, groups, O/g, K)
            gw = np.matmul(gm, cm).sum(0)
        else:  # that stack would outgrow the columns: one GEMM over (N, OH*OW) instead
            gw = np.matmul(gm.transpose(1, 2, 0, 3).reshape(groups, o // groups, n * oh * ow),
                           cm.transpose(1, 0, 2, 3).reshape(groups, n * oh * ow, k))
        return gw.reshape(o, cg, *kernel)
    cols = cols.reshape(groups, k, oh * ow * n)
    gg = _batch_last_grad(g, groups) if g_batch_last is None else g_batch_last
    if groups == 1:  # computed as (cols g^T)^T: OpenBLAS runs these skinny products (K or O
        # small, N*OH*OW large) up to 18x faster in that orientation (bench, measured)
        gw = np.matmul(cols[0], gg[0].T).T  # (O, K)
    else:
        gw = np.matmul(gg, cols.transpose(0, 2, 1))  # (groups, O/g, K)
    return np.ascontiguousarray(gw).reshape(o, cg, *kernel)


def _add_bias(y, b):
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


# ---- Functions --------------------------------------------------------------------------------

class Conv2d(Function):
    """y = conv(x, W) + b;   dx = conv_transpose2d(g, W),  dW = conv2d_weight_grad(x, g),
    db = sum of g over (N, OH, OW)"""
    name = "conv2d"

    @staticmethod
    def forward(ctx, x, w, b, geom, out_hw=None, cols=None):
        y, cols = conv_forward(x, w, geom, out_hw, cols)
        ctx.geom = geom
        needs = getattr(ctx, "needs_input_grad", (False, False))
        ctx.save_for_backward(x, w, cols) if needs[1] else ctx.save_for_backward(x, w)
        return _add_bias(y, b)

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        x, w = saved[:2]
        needs, geom = ctx.needs_input_grad, ctx.geom
        gx = gw = gb = None
        if needs[0]:
            gx = ConvTranspose2d.apply(g, w, None, geom=geom, out_hw=x.shape[2:])
        if needs[1]:
            gw = Conv2dWeightGrad.apply(x, g, geom=geom, kernel=w.shape[2:],
                                        cols=saved[2]._data if len(saved) > 2 else None)
        if needs[2]:
            gb = g.sum((0, 2, 3))
        return gx, gw, gb

    @staticmethod
    def array_backward(ctx, g):
        saved = ctx.saved_arrays
        x, w = saved[:2]
        needs, geom = ctx.needs_input_grad, ctx.geom
        kernel = w.shape[2:]
        g_batch_last = None  # both gradients read g batch last: transpose it once for the two
        if needs[0] and needs[1] and _batch_last(x.shape, w.shape[0], g.shape[2:], kernel):
            g_batch_last = _batch_last_grad(g, geom.groups)
        return (conv_adjoint(g, w, geom, x.shape[2:], g_batch_last) if needs[0] else None,
                conv_weight_grad(x, g, kernel, geom, saved[2] if len(saved) > 2 else None,
                                 g_batch_last) if needs[1] else None,
                np.add.reduce(g, axis=(0, 2, 3)) if needs[2] else None)


class ConvTranspose2d(Function):
    """y = conv(., W)^T x + b (the adjoint of conv2d, W of shape (C_in, C_out/g, kh, kw));
    dx = conv2d(g, W),  dW = conv2d_weight_grad(g, x),  db = sum of g over (N, H, W)"""
    name = "conv_transpose2d"

    @staticmethod
    def forward(ctx, x, w, b, geom, out_hw):
        ctx.geom = geom
        ctx.save_for_backward(x, w)
        return _add_bias(conv_adjoint(x, w, geom, out_hw), b)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs, geom = ctx.needs_input_grad, ctx.geom
        gx = gw = gb = None
        cols = None
        if needs[0] and needs[1]:  # both gradients read the columns of g: build them once
            kernel = w.shape[2:]
            cols = im2col(g._data, kernel, geom, x.shape[2:],
                          _batch_last(g.shape, w.shape[0], x.shape[2:], kernel))
        if needs[0]:
            gx = Conv2d.apply(g, w, None, geom=geom, out_hw=x.shape[2:], cols=cols)
        if needs[1]:
            gw = Conv2dWeightGrad.apply(g, x, geom=geom, kernel=w.shape[2:], cols=cols)
        if needs[2]:
            gb = g.sum((0, 2, 3))
        return gx, gw, gb

    @staticmethod
    def array_backward(ctx, g):
        x, w = ctx.saved_arrays
        needs, geom = ctx.needs_input_grad, ctx.geom
        kernel = w.shape[2:]
        cols = None
        if needs[0] and needs[1]:  # both gradients read the columns of g: build them once
            cols = im2col(g, kernel, geom, x.shape[2:],
                          _batch_last(g.shape, w.shape[0], x.shape[2:], kernel))
        return (Conv2d.forward(_NO_CTX, g, w, None, geom, x.shape[2:], cols) if needs[0] else None,
                conv_weight_grad(g, x, kernel, geom, cols) if needs[1] else None,
                np.add.reduce(g, axis=(0, 2, 3)) if needs[2] else None)


class Conv2dWeightGrad(Function):
    """conv2d's weight gradient dW = g . im2col(x)^T, bilinear in (x, g); for an upstream gg of
    dW's shape:  d/dx = conv_transpose2d(g, gg),  d/dg = conv2d(x, gg)"""
    name = "conv2d_weight_grad"

    @staticmethod
    def forward(ctx, x, g, geom, kernel, cols=None):
        ctx.geom = geom
        ctx.save_for_backward(x, g)
        return conv_weight_grad(x, g, tuple(kernel), geom, cols)

    @staticmethod
    def backward(ctx, gg):
        x, g = ctx.saved_tensors
        needs, geom = ctx.needs_input_grad, ctx.geom
        gx = gg_out = None
        if needs[0]:
            gx = ConvTranspose2d.apply(g, gg, None, geom=geom, out_hw=x.shape[2:])
        if needs[1]:
            gg_out = Conv2d.apply(x, gg, None, geom=geom, out_hw=g.shape[2:])
        return gx, gg_out


# ---- argument checks and the public functions -------------------------------------------------

def _pair(name, what, v, n=2):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise ValueError(f"{name}: {what} must be an int or a tuple of {n} ints, got {v}")
    return v


def _check(name, x, weight, bias, groups, in_dim, given_shape):
    """x (N, C, H, W), weight (O, C/g, kh, kw) for conv (in_dim=1) or (C, O/g, kh, kw) for the
    transposed conv (in_dim=0)."""
    T = tensor_cls()
    for what, t in (("input", x), ("weight", weight)):
        if not isinstance(t, T):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 4:
        raise RuntimeError(f"{name}: weight must be 4-D, got shape {weight.shape}")
    if x.ndim != 4:
        raise RuntimeError(f"{name}: expected a 3-D (unbatched) or 4-D (batched) input, got "
                           f"shape {given_shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    if weight.shape[0] % groups:
        raise RuntimeError(f"{name}: weight of shape {weight.shape} has {weight.shape[0]} "
                           f"{'output' if in_dim else 'input'} channels, not divisible by "
                           f"groups={groups}")
    channels = weight.shape[in_dim] * (groups if in_dim else 1)
    if x.shape[1] != channels:
        raise RuntimeError(f"{name}: input of shape {given_shape} has {x.shape[1]} channels, "
                           f"but weight of shape {weight.shape} with groups={groups} expects "
                           f"{channels}")
    out_channels = weight.shape[0] if in_dim else weight.shape[1] * groups
    if bias is not None and (not isinstance(bias, T) or bias.shape != (out_channels,)):
        raise RuntimeError(f"{name}: bias of shape {getattr(bias, 'shape', bias)} does not "
                           f"match {out_channels} output channels (expected ({out_channels},))")
    if x.dtype.kind != "f" or x.dtype != weight.dtype or (
            bias is not None and bias.dtype != weight.dtype):
        raise TypeError(f"{name}: expected floating-point input, weight and bias of one dtype, "
                        f"got input {x.dtype}, weight {weight.dtype}"
                        + (f", bias {bias.dtype}" if bias is not None else ""))
    if any(d < 0 for d in weight.shape[2:]) or 0 in weight.shape[2:]:
        raise RuntimeError(f"{name}: weight of shape {weight.shape} has an empty kernel")


def _unbatched(x):
    if x.ndim == 3:
        return x.unsqueeze(0), True
    return x, False


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw);
    padding an int, a pair, 'valid' or 'same'."""
    name = "conv2d"
    x, unbatched = _unbatched(input)
    _check(name, x, weight, bias, groups, 1, input.shape)
    stride, dilation = _pair(name, "stride", stride), _pair(name, "dilation", dilation)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{name}: stride and dilation must be positive, got stride={stride}, "
                         f"dilation={dilation}")
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            pad = ()
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pad += (total // 2, total - total // 2)  # PyTorch puts the odd one at the end
        else:
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got "
                             f"{padding!r}")
    else:
        ph, pw = _pair(name, "padding", padding)
        if ph < 0 or pw < 0:
            raise ValueError(f"{name}: padding must be non-negative, got {(ph, pw)}")
        pad = (ph, ph, pw, pw)
    geom = Geometry(stride, pad, dilation, int(groups))
    out_hw = _natural_hw(x.shape[2:], kernel, geom)
    if min(out_hw) < 1:
        raise RuntimeError(f"{name}: input of shape {x.shape} (padded by {pad}) is smaller than "
                           f"the dilated kernel {tuple(kernel)} with dilation {dilation}: the "
                           f"output would have size {out_hw}")
    y = Conv2d.apply(x, weight, bias, geom=geom)
    return y.squeeze(0) if unbatched else y


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose2d: input (N, C_in, H, W), weight
    (C_in, C_out/groups, kh, kw); output size (H - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    name = "conv_transpose2d"
    x, unbatched = _unbatched(input)
    _check(name, x, weight, bias, groups, 0, input.shape)
    stride, dilation = _pair(name, "stride", stride), _pair(name, "dilation", dilation)
    pad, out_pad = _pair(name, "padding", padding), _pair(name, "output_padding", output_padding)
    if min(stride) < 1 or min(dilation) < 1 or min(pad) < 0 or min(out_pad) < 0:
        raise ValueError(f"{name}: stride and dilation must be positive, padding and "
                         f"output_padding non-negative, got stride={stride}, padding={pad}, "
                         f"output_padding={out_pad}, dilation={dilation}")
    for op, s, d in zip(out_pad, stride, dilation):
        if op >= max(s, d):
            raise ValueError(f"{name}: output_padding {out_pad} must be smaller than either "
                             f"stride {stride} or dilation {dilation}")
    kernel = weight.shape[2:]
    out_hw = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                   for n, s, p, d, k, op in zip(x.shape[2:], stride, pad, dilation, kernel,
                                                out_pad))
    if min(out_hw) < 1:
        raise RuntimeError(f"{name}: input of shape {x.shape} gives an output of size {out_hw} "
                           f"(padding={pad} is too large)")
    geom = Geometry(stride, (pad[0], pad[0], pad[1], pad[1]), dilation, int(groups))
    y = ConvTranspose2d.apply(x, weight, bias, geom=geom, out_hw=out_hw)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv1d: input (N, C, L) or (C, L), weight (O, C/groups, k); a conv2d
    over a height of 1."""
    name = "conv1d"
    one = _one_of(name)
    if not isinstance(padding, str):
        padding = (0, one("padding", padding))
    return _over_height_one(name, "out, in/groups, kernel", input, weight, lambda x, w: conv2d(
        x, w, bias, (1, one("stride", stride)), padding, (1, one("dilation", dilation)), groups))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose1d: input (N, C_in, L) or (C_in, L), weight
    (C_in, C_out/groups, k); a conv_transpose2d over a height of 1."""
    name = "conv_transpose1d"
    one = _one_of(name)
    return _over_height_one(name, "in, out/groups, kernel", input, weight, lambda x, w: (
        conv_transpose2d(x, w, bias, (1, one("stride", stride)), (0, one("padding", padding)),
                         (0, one("output_padding", output_padding)), groups,
                         (1, one("dilation", dilation)))))


def _one_of(name):
    return lambda what, v: _pair(name, what, v, 1)[0]


def _over_height_one(name, layout, input, weight, conv):
    """conv(input, weight) of a 1-d op run as its 2-d form on (.., 1, L) views, errors named
    after the 1-d op."""
    if weight.ndim != 3:
        raise RuntimeError(f"{name}: weight must be 3-D ({layout}), got shape {weight.shape}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{name}: expected a 2-D (unbatched) or 3-D (batched) input, got "
                           f"shape {input.shape}")
    op2d = name.replace("1d", "2d")
    try:
        y = conv(input.unsqueeze(-2), weight.unsqueeze(2))
    except (RuntimeError, ValueError) as e:
        raise type(e)(f"{name}: {str(e).replace(op2d + ': ', '', 1)} (as {op2d} over a height "
                      f"of 1; input {input.shape}, weight {weight.shape})") from None
    return y.squeeze(-2)
