"""Matrix products: matmul (1-D, 2-D, batched with broadcasting), mm, bmm, outer, einsum and the
fused linear layer. All of them are one BLAS call forward and one or two backward."""
import numpy as np

from ..autograd import _NO_CTX, Function
from ._util import as_operands, broadcast_shapes, unbroadcast, unbroadcast_array
from .matrix import diagonal


class MatMul(Function):
    """C = A B;   dA = G B^T,  dB = A^T G  (batch dims summed back where A or B was broadcast)"""
    name = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)
        # view 1-D operands as matrices, as matmul does, and g to match
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g2 @ b2.mT, a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # B shared by every batch: fold the batch into rows
                gb = a2.reshape(-1, a2.shape[-1]).mT @ g2.reshape(-1, g2.shape[-1])
            else:
                gb = unbroadcast(a2.mT @ g2, b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


def matmul(a, b):
    a, b = as_operands("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} "
                           f"and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                           f"({k_a} columns on the left, {k_b} rows on the right)")
    if a.ndim > 2 or b.ndim > 2:
        broadcast_shapes("matmul (batch dims)", a.shape[:-2], b.shape[:-2])
    return MatMul.apply(a, b)


def _check_inner(name, a, b):
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"{name}: shapes {a.shape} and {b.shape} cannot be multiplied "
                           f"({a.shape[-1]} columns on the left, {b.shape[-2]} rows on the right)")


def mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected two 2-D tensors, got shapes {a.shape} and {b.shape}")
    _check_inner("mm", a, b)
    return matmul(a, b)


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                           f"{a.shape} and {b.shape}")
    _check_inner("bmm", a, b)
    return matmul(a, b)


def dot(a, b):
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise RuntimeError(f"dot: expected two 1-D tensors of one size, got shapes {a.shape} and "
                           f"{b.shape}")
    return matmul(a, b)


def outer(a, b):
    """y_ij = a_i b_j (a broadcast product, so its gradients are too)."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return a.unsqueeze(1) * b.unsqueeze(0)


class Linear(Function):
    """y = x W^T + b;   dx = G W,  dW = G^T x,  db = sum of G over the batch (and over the
    features too where b was broadcast from shape () or (1,))"""
    name = "linear"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        # np.dot for 2-D: the same GEMM as matmul, with less per-call overhead (measured: 1.1 vs
        # 1.5 us on a (4, 2) input; equal on big ones)
        y = np.dot(x, w.T) if x.ndim == 2 else np.matmul(x, w.T)
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = MatMul.apply(g, w)  # shapes are known to fit: no need for matmul's checks
        if ctx.needs_input_grad[1]:
            gw = LinearWeightGrad.apply(g, x)
        if ctx.needs_input_grad[2]:
            gb = unbroadcast(g, ctx.inputs[2]._data.shape)
        return gx, gw, gb

    @staticmethod
    def array_backward(ctx, g):
        x, w = ctx.saved_arrays
        need_x, need_w, need_b = ctx.needs_input_grad
        return ((np.dot(g, w) if g.ndim == 2 else np.matmul(g, w)) if need_x else None,
                LinearWeightGrad.forward(_NO_CTX, g, x) if need_w else None,
                unbroadcast_array(g, ctx.inputs[2]._data.shape) if need_b else None)


class LinearWeightGrad(Function):
    """linear's weight gradient as one GEMM, batch dims folded into rows: dW = G^T X;
    d/dG = X gg^T,  d/dX = G gg  (for an upstream gg of dW's shape)"""
    name = "linear_weight_grad"

    @staticmethod
    def forward(ctx, g, x):
        ctx.save_for_backward(g, x)
        if g.ndim == 2:
            return np.dot(g.T, x)
        return np.matmul(g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.saved_tensors
        return (x @ gg.mT if ctx.needs_input_grad[0] else None,
                g @ gg if ctx.needs_input_grad[1] else None)


def linear(x, weight, bias=None):
    """y = x W^T + b with W of shape (out_features, in_features), as torch.nn.functional.linear."""
    # the checks read the arrays, not Tensor properties: every layer call pays for them
    xs, ws = x._data.shape, weight._data.shape
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise RuntimeError(f"linear: input of shape {x.shape} does not match weight of shape "
                           f"{weight.shape} (expected input [..., {weight.shape[-1]}])")
    if bias is not None and bias._data.shape not in ((ws[0],), (1,), ()):
        raise RuntimeError(f"linear: bias of shape {bias.shape} does not match weight of shape "
                           f"{weight.shape} (expected ({weight.shape[0]},))")
    dt = weight._data.dtype
    if x._data.dtype != dt or (bias is not None and bias._data.dtype != dt):
        raise TypeError(f"linear: dtypes differ: input {x.dtype}, weight {weight.dtype}"
                        + (f", bias {bias.dtype}" if bias is not None else ""))
    return Linear.apply(x, weight, bias)


class Einsum(Function):
    """y = einsum(spec, *xs);   dx_k = einsum(out,others -> k-th subscripts, g, *others),
    broadcast over indices that appear only in x_k"""
    name = "einsum"

    @staticmethod
    def forward(ctx, *operands, spec):
        ins, out = spec
        ctx.spec = spec
        ctx.save_for_backward(*operands)
        return np.asarray(np.einsum(",".join(ins) + "->" + out, *operands, optimize=len(ins) > 2))

    @staticmethod
    def backward(ctx, g):
        xs = ctx.saved_tensors
        ins, out = ctx.spec
        grads = []
        for k, sub in enumerate(ins):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(ins) if j != k]
            avail = set(out).union(*others) if others else set(out)
            kept = "".join(c for c in sub if c in avail)
            gk = einsum_spec(([out] + others, kept), g, *[x for j, x in enumerate(xs) if j != k])
            if kept != sub:  # indices summed out of x_k alone: their gradient is broadcast
                shape = [xs[k].shape[i] if c in avail else 1 for i, c in enumerate(sub)]
                gk = gk.reshape(shape).expand(xs[k].shape)
            grads.append(gk)
        return tuple(grads)


def _parse_einsum(equation, operands):
    """(input subscripts, output subscripts, operands) for Einsum: '...' replaced by letters of
    its own (its size-1 dims expanded to broadcast), and each letter repeated within an operand
    replaced by that operand's diagonal (its dims moved last, as `diagonal` does)."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise ValueError(f"einsum: '{equation}' names {len(ins)} operands, got {len(operands)}")
    for sub in ins + [out]:
        bad = set(sub.replace("...", "")) - set(_LETTERS)
        if bad or sub.count("...") > 1:
            raise ValueError(f"einsum: bad subscripts '{sub}' in '{equation}' (letters, and at "
                             f"most one '...' per operand)")
    ins, ell = _expand_ellipsis(equation, ins, operands)
    if arrow:
        out = out.replace("...", "".join(ell))
        for c in set(out):
            if out.count(c) > 1:
                raise ValueError(f"einsum: output subscript {c} appears more than once in the "
                                 f"output")
    else:  # implicit output: the broadcast dims, then the letters used once, in order
        letters = "".join(c for sub in ins for c in sub if c not in ell)
        out = "".join(ell) + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    operands = _broadcast_ellipsis(ins, operands, ell)
    ins, operands = zip(*(_take_diagonals(s, x) for s, x in zip(ins, operands)))
    sizes = {}
    for sub, x in zip(ins, operands):
        for c, n in zip(sub, x.shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: subscript '{c}' has size {sizes[c]} in one operand and "
                                 f"{n} in another")
    for c in out:
        if c not in sizes:
            raise ValueError(f"einsum: output subscript '{c}' is not in any input")
    return list(ins), out, operands


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _expand_ellipsis(equation, ins, operands):
    """Each operand's subscripts with '...' spelled out in letters unused by the equation, the
    dims right-aligned across operands (NumPy's broadcasting); and those letters, all of them."""
    dims = []
    for sub, x in zip(ins, operands):
        named = len(sub.replace("...", ""))
        extra = x.ndim - named
        if extra < 0 or (extra and "..." not in sub):
            raise ValueError(f"einsum: subscripts '{sub}' have {named} letters for an operand "
                             f"with {x.ndim} dims (shape {tuple(x.shape)})")
        dims.append(extra)
    free = [c for c in _LETTERS if c not in equation]
    ell = free[:max(dims, default=0)]
    return [sub.replace("...", "".join(ell[len(ell) - n:])) for sub, n in zip(ins, dims)], ell


def _broadcast_ellipsis(ins, operands, ell):
    """Expand each operand's size-1 broadcast dims to the size the other operands give them."""
    size = {}
    for sub, x in zip(ins, operands):
        for c, n in zip(sub, x.shape):
            if c in ell and n != 1 and size.setdefault(c, n) != n:
                raise ValueError(f"einsum: the '...' dims of the operands do not broadcast "
                                 f"({size[c]} against {n})")
    result = []
    for sub, x in zip(ins, operands):
        shape = tuple(size.get(c, n) if c in ell else n for c, n in zip(sub, x.shape))
        result.append(x if shape == tuple(x.shape) else x.expand(shape))
    return result


def _take_diagonals(sub, x):
    """(subscripts, operand) with every letter repeated within sub replaced by the diagonal of
    those dims (e.g. 'ii' -> 'i')."""
    while len(set(sub)) != len(sub):
        c = next(c for c in sub if sub.count(c) > 1)
        p = sub.index(c)
        q = sub.index(c, p + 1)
        if x.shape[p] != x.shape[q]:
            raise ValueError(f"einsum: subscript {c} is repeated for an operand but the sizes "
                             f"don't match, {x.shape[q]} != {x.shape[p]}")
        x = diagonal(x, 0, p, q)
        sub = sub[:p] + sub[p + 1:q] + sub[q + 1:] + c
    return sub, x


def einsum_spec(spec, *operands):
    return Einsum.apply(*operands, spec=(tuple(spec[0]), spec[1]))


def einsum(equation, *operands):
    """einsum('ij,jk->ik', a, b): PyTorch's subscripts, with '...' for broadcast dims and
    letters repeated within an operand for its diagonal ('ii->i', 'ii' the trace)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    dtypes = {x.dtype for x in operands}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: operands have different dtypes {sorted(map(str, dtypes))}")
    ins, out, operands = _parse_einsum(equation, operands)
    return einsum_spec((ins, out), *operands)


def addmm(input, mat1, mat2, beta=1, alpha=1):
    """beta input + alpha (mat1 @ mat2), input broadcast to the product's shape."""
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: mat1 and mat2 must be matrices, got shapes "
                           f"{tuple(mat1.shape)} and {tuple(mat2.shape)}")
    product = mm(mat1, mat2)
    product = product if alpha == 1 else product * alpha
    return product + (input if beta == 1 else input * beta)


def tensordot(a, b, dims=2):
    """The sum over dims of a and b paired up: dims=k pairs a's last k with b's first k;
    dims=(dims_a, dims_b) names them. As one matrix product of the two reshaped operands."""
    name = "tensordot"
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"{name}: dims={dims} is out of range for shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
        dims_a = [d % a.ndim for d in dims_a]
        dims_b = [d % b.ndim for d in dims_b]
    if len(dims_a) != len(dims_b) or any(a.shape[i] != b.shape[j]
                                         for i, j in zip(dims_a, dims_b)):
        raise RuntimeError(f"{name}: contracted dims {dims_a} of {tuple(a.shape)} and {dims_b} "
                           f"of {tuple(b.shape)} do not match")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = int(np.prod([a.shape[d] for d in dims_a]))
    left = a.permute(free_a + dims_a).reshape(-1, size)
    right = b.permute(dims_b + free_b).reshape(size, -1)
    return mm(left, right).reshape(tuple(a.shape[d] for d in free_a) +
                                   tuple(b.shape[d] for d in free_b))


def cross(input, other, dim=None):
    """The cross product of 3-vectors along dim (with dim=None, the first dim of size 3, as
    torch.cross): (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0); inputs of one rank broadcast."""
    from .shape import cat
    if input.ndim != other.ndim:
        raise RuntimeError(f"cross: inputs must have the same number of dimensions, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    shape = broadcast_shapes("cross", input.shape, other.shape)
    if dim is None:
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in shapes {tuple(input.shape)} "
                               f"and {tuple(other.shape)}")
    d = dim % len(shape) if shape else 0
    if not shape or shape[d] != 3:
        raise RuntimeError(f"cross: dimension {dim} does not have size 3 (shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)})")
    a, b = input.expand(shape), other.expand(shape)
    part = [(a.narrow(d, i, 1), b.narrow(d, i, 1)) for i in range(3)]
    (a0, b0), (a1, b1), (a2, b2) = part
    return cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)
