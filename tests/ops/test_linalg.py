"""Matrix products: gradcheck, PyTorch parity (values, dtypes, gradients), second derivatives, and
the errors that shape mistakes give."""
import numpy as np
import pytest

import ember
from harness import Case, op_tests


def linear(m, *args):
    """ember's linear op or torch.nn.functional.linear."""
    return (ember.ops.linear if m is ember else m.nn.functional.linear)(*args)


MATMUL = [
    ((4,), (4,)),                  # 1-D @ 1-D: a dot product
    ((3,), (3, 5)),                # 1-D @ 2-D
    ((3, 4), (4,)),                # 2-D @ 1-D
    ((3, 4), (4, 2)),              # 2-D @ 2-D
    ((2, 3, 4), (2, 4, 5)),        # batched
    ((2, 1, 3, 4), (5, 4, 2)),     # batch dims broadcast both ways
    ((3, 4), (2, 4, 5)),           # a matrix against a batch
    ((2, 3, 4), (4, 5)),           # a batch against a matrix
    ((2, 3, 4), (4,)),             # a batch against a vector
    ((2, 1, 3, 4), (4,)),
    ((1, 3, 4), (2, 4, 5)),        # a size-1 batch dim broadcast
    ((4,), (2, 4, 3)),             # a vector against a batch
    ((1, 4), (4, 1)),
    ((0, 3), (3, 2)),              # zero rows
    ((2, 0), (0, 3)),              # empty inner dim: zeros
    ((0,), (0,)),
    ((2, 0, 3), (3, 4)),
]

CASES = [
    Case("matmul", lambda m, a, b: m.matmul(a, b), MATMUL),
    Case("matmul_operator", lambda m, a, b: a @ b, [((3, 4), (4, 2)), ((2, 3, 4), (4,))]),
    Case("matmul_then_square", lambda m, a, b: (a @ b) ** 2, [((3, 4), (4, 2)), ((4,), (4,)),
                                                             ((2, 1, 3, 4), (5, 4, 2))]),
    Case("mm", lambda m, a, b: m.mm(a, b), [((3, 4), (4, 2)), ((1, 1), (1, 5)), ((0, 2), (2, 3))]),
    Case("mm_transposed", lambda m, a, b: a.t().mm(b.t()), [((4, 3), (2, 4))]),
    Case("bmm", lambda m, a, b: m.bmm(a, b), [((2, 3, 4), (2, 4, 5)), ((1, 2, 2), (1, 2, 3)),
                                             ((0, 2, 3), (0, 3, 4))]),
    Case("dot", lambda m, a, b: m.dot(a, b), [((5,), (5,)), ((1,), (1,)), ((0,), (0,))]),
    Case("dot_squared", lambda m, a, b: m.dot(a, b) ** 2, [((5,), (5,))]),
    Case("outer", lambda m, a, b: m.outer(a, b), [((3,), (4,)), ((1,), (2,)), ((0,), (3,))]),
    Case("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [((3, 4), (4, 2))]),
    Case("einsum_bmm", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [((2, 3, 4), (2, 4, 5))]),
    Case("einsum_transpose", lambda m, a: m.einsum("ij->ji", a), [((3, 4),), ((1, 2),)]),
    Case("einsum_sum", lambda m, a: m.einsum("ij->", a), [((3, 4),), ((0, 2),)]),
    Case("einsum_dot", lambda m, a, b: m.einsum("i,i->", a, b), [((5,), (5,))]),
    Case("einsum_mv", lambda m, a, b: m.einsum("ij,j->i", a, b), [((3, 4), (4,))]),
    Case("einsum_batch_outer", lambda m, a, b: m.einsum("bi,bj->bij", a, b),
         [((2, 3), (2, 4))]),
    Case("einsum_implicit", lambda m, a, b: m.einsum("ij,jk", a, b), [((3, 4), (4, 2))]),
    Case("einsum_implicit_order", lambda m, a, b: m.einsum("kj,ji", a, b), [((3, 4), (4, 2))]),
    Case("einsum_frobenius", lambda m, a, b: m.einsum("ij,ij->", a, b), [((3, 4), (3, 4))]),
    Case("einsum_rowwise_dot", lambda m, a, b: m.einsum("ij,ij->i", a, b), [((3, 4), (3, 4))]),
    Case("einsum_permute", lambda m, a: m.einsum("abc->cab", a), [((2, 3, 4),)]),
    Case("einsum_row_sum", lambda m, a: m.einsum("ij->i", a), [((3, 4),)]),
    Case("einsum_spaces_list", lambda m, a, b: m.einsum("i j , j k -> k i", [a, b]),
         [((3, 4), (4, 2))]),
    Case("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
         [((2, 3), (3, 4), (4, 2))]),
    Case("einsum_summed_alone", lambda m, a, b: m.einsum("ij,k->ik", a, b), [((3, 4), (2,))]),
    Case("einsum_squared", lambda m, a, b: m.einsum("bij,bjk->bik", a, b) ** 2,
         [((2, 3, 4), (2, 4, 5))]),
    # '...' (broadcast dims, right-aligned; size-1 dims broadcast) and repeated subscripts
    Case("einsum_ellipsis_batch", lambda m, a, b: m.einsum("...ij,jk->...ik", a, b),
         [((2, 3, 4), (4, 5)), ((3, 4), (4, 5)), ((2, 1, 3, 4), (4, 2))]),
    Case("einsum_ellipsis_summed", lambda m, a, b: m.einsum("...ij,jk->ik", a, b),
         [((2, 3, 4), (4, 5))]),
    Case("einsum_ellipsis_implicit", lambda m, a, b: m.einsum("ba,...b", a, b),
         [((2, 3), (4, 2)), ((2, 3), (2,))]),
    Case("einsum_ellipsis_broadcast", lambda m, a, b: m.einsum("i...,i...->...", a, b),
         [((3, 1, 4), (3, 2, 1)), ((3, 4), (3, 2, 1))]),
    Case("einsum_ellipsis_trailing", lambda m, a, b: m.einsum("ij...,jk...->ik...", a, b),
         [((2, 3, 1), (3, 4, 5))]),
    Case("einsum_diagonal", lambda m, a: m.einsum("ii->i", a), [((3, 3),)]),
    Case("einsum_trace", lambda m, a: m.einsum("ii", a), [((3, 3),), ((1, 1),)]),
    Case("einsum_diagonal_3d", lambda m, a: m.einsum("iij->j", a) + m.einsum("iji", a.transpose(1, 2)),
         [((3, 3, 2),)]),
    Case("einsum_batch_diagonals", lambda m, a, b: m.einsum("bii,bjj->bij", a, b),
         [((2, 3, 3), (2, 4, 4))]),
    Case("linear", lambda m, x, w, b: linear(m, x, w, b),
         [((4,), (3, 4), (3,)), ((2, 4), (3, 4), (3,)), ((2, 5, 4), (3, 4), (3,)),
          ((0, 4), (3, 4), (3,)), ((2, 4), (1, 4), (1,))]),
    Case("linear_no_bias", lambda m, x, w: linear(m, x, w),
         [((4,), (3, 4)), ((2, 4), (3, 4)), ((2, 5, 4), (3, 4))]),
    Case("linear_bias_none", lambda m, x, w: linear(m, x, w, None), [((2, 4), (3, 4))]),
    Case("linear_broadcast_bias", lambda m, x, w, b: linear(m, x, w, b),
         [((2, 4), (3, 4), ()), ((2, 5, 4), (3, 4), (1,))]),
    Case("linear_squared", lambda m, x, w, b: linear(m, x, w, b) ** 2,
         [((2, 4), (3, 4), (3,)), ((4,), (3, 4), (3,))]),
    Case("linear_int", lambda m, x, w: linear(m, x, w), [((2, 4), (3, 4))],
         ints={0: (-3, 3), 1: (-3, 3)}),
    Case("matmul_int", lambda m, a, b: m.matmul(a, b), [((2, 4), (4, 3))],
         ints={0: (-3, 3), 1: (-3, 3)}),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_matmul_grad_of_one_input_only():
    a = ember.randn(3, 4, requires_grad=True)
    b = ember.randn(4, 2)
    (a @ b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones((3, 2)) @ b.numpy().T, rtol=1e-5)
    assert b.grad is None


def test_matmul_shared_weight_gradient_folds_the_batch():
    """(B, n, k) @ (k, m): B's gradient is one GEMM over the folded batch; same as the sum."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 5, 4)), rng.standard_normal((4, 2))
    eb = ember.tensor(b, requires_grad=True)
    (ember.tensor(a) @ eb).sum().backward()
    np.testing.assert_allclose(eb.grad.numpy(), np.einsum("bnk,bnm->km", a, np.ones((3, 5, 2))))


# ---- errors ---------------------------------------------------------------------------------
def _t(*shape):
    return ember.ones(*shape)


@pytest.mark.parametrize("call,match", [
    (lambda: _t(4, 3) @ _t(2, 2), r"matmul: shapes \(4, 3\) and \(2, 2\) cannot be multiplied"),
    (lambda: ember.matmul(_t(3), _t(4)), r"matmul: shapes \(3,\) and \(4,\)"),
    (lambda: ember.matmul(_t(3, 4), _t(3)), r"matmul: shapes \(3, 4\) and \(3,\)"),
    (lambda: ember.matmul(ember.tensor(2.0), _t(3)), r"matmul: .*at least 1 dim.*\(\) and \(3,\)"),
    (lambda: ember.mm(_t(3), _t(3, 2)), r"mm: expected two 2-D tensors, got shapes \(3,\)"),
    (lambda: ember.mm(_t(3, 4), _t(3, 2)), r"mm: shapes \(3, 4\) and \(3, 2\) cannot be"),
    (lambda: ember.bmm(_t(3, 4), _t(4, 2)),
     r"bmm: expected two 3-D tensors.*\(3, 4\) and \(4, 2\)"),
    (lambda: ember.bmm(_t(2, 3, 4), _t(3, 4, 2)), r"bmm: .*same batch size.*\(2, 3, 4\)"),
    (lambda: ember.bmm(_t(2, 3, 4), _t(2, 3, 2)), r"bmm: shapes \(2, 3, 4\) and \(2, 3, 2\)"),
    (lambda: ember.dot(_t(3), _t(4)), r"dot: .*\(3,\) and \(4,\)"),
    (lambda: ember.dot(_t(3, 1), _t(3)), r"dot: expected two 1-D tensors"),
    (lambda: ember.outer(_t(3, 1), _t(3)), r"outer: expected two 1-D tensors"),
    (lambda: ember.einsum("ij,jk->ik", _t(2, 3)), r"einsum: 'ij,jk->ik' names 2 operands, got 1"),
    (lambda: ember.einsum("ij->ji", _t(2, 3), _t(3, 2)), r"einsum: .*names 1 operands, got 2"),
    (lambda: ember.einsum("ij,jk->ik", _t(2, 3), _t(4, 2)), r"einsum: subscript 'j' has size 3"),
    (lambda: ember.einsum("ijk->i", _t(2, 3)), r"einsum: subscripts 'ijk' have 3 letters"),
    (lambda: ember.einsum("ij->iz", _t(2, 3)), r"einsum: output subscript 'z'"),
    (lambda: ember.einsum("ii->i", _t(3, 2)), r"einsum: subscript i is repeated .* 2 != 3"),
    (lambda: ember.einsum("ij->ii", _t(3, 3)), r"einsum: output subscript i appears more than"),
    (lambda: ember.einsum("ij", _t(2, 3, 4)), r"einsum: subscripts 'ij' have 2 letters for an op"),
    (lambda: ember.einsum("...i,...i", _t(2, 3), _t(4, 3)), r"einsum: the '\.\.\.' dims .* do not"),
    (lambda: ember.einsum("i1->i", _t(2, 3)), r"einsum: bad subscripts 'i1'"),
    (lambda: ember.einsum("...i...->i", _t(2, 3)), r"einsum: bad subscripts"),
])
def test_shape_errors(call, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        call()


def test_batch_dims_that_do_not_broadcast():
    with pytest.raises((RuntimeError, ValueError), match=r"matmul.*\(2,\) and \(3,\)"):
        ember.matmul(_t(2, 3, 4), _t(3, 4, 5))


@pytest.mark.parametrize("x,w,b,match", [
    ((2, 4), (3, 5), None,
     r"linear: input of shape \(2, 4\) does not match weight of shape \(3, 5\)"),
    ((4,), (4, 3), None, r"linear: input of shape \(4,\) does not match weight of shape \(4, 3\)"),
    ((2, 4), (3, 4, 1), None, r"linear: .*weight of shape \(3, 4, 1\)"),
    ((2, 4), (3, 4), (4,), r"linear: bias of shape \(4,\) does not match weight of shape \(3, 4\)"),
    ((), (3, 4), None, r"linear: input of shape \(\)"),
])
def test_linear_errors(x, w, b, match):
    with pytest.raises(RuntimeError, match=match):
        ember.ops.linear(_t(*x), _t(*w), None if b is None else _t(*b))


def test_linear_dtype_mismatch():
    with pytest.raises(TypeError, match="linear: dtypes differ"):
        ember.ops.linear(_t(2, 4), _t(3, 4).double())
