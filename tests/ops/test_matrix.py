"""diagonal, diag, diag_embed, trace and cumprod: gradcheck, PyTorch parity (values, shapes,
dtypes, gradients, second derivatives) and clear errors. cumprod's backward is exact with zeros
in the input (one, several, the first or the last element)."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember


def with_zeros(rng, shapes, dtype):
    """Inputs with zeros at chosen places: a row with one zero, one with two, one starting
    with a zero, one ending with it."""
    (shape,) = shapes
    x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1, 1], size=shape)
    flat = x.reshape(-1, shape[-1])
    for row, cols in zip(range(flat.shape[0]), ([1], [1, 3], [0], [shape[-1] - 1])):
        flat[row, cols] = 0.0
    return [x.astype(dtype)]


CASES = [
    Case("diagonal", lambda m, a: m.diagonal(a), [((3, 3),), ((2, 4),), ((4, 2),)]),
    Case("diagonal_offsets", lambda m, a: a.diagonal(1) * 2 + a.diagonal(-2).sum(),
         [((4, 5),), ((3, 3),)]),
    Case("diagonal_dims", lambda m, a: m.diagonal(a, 1, 0, 2) + a.diagonal(-1, -1, 0).sum(),
         [((3, 4, 5),)]),
    Case("diagonal_past_the_edge", lambda m, a: a.diagonal(5), [((3, 4),)]),
    Case("diag_of_vector", lambda m, a: m.diag(a) + m.diag(a, 0).T,
         [((3,),), ((1,),), ((0,),)]),
    Case("diag_offsets", lambda m, a: m.diag(a, 2).sum(0)[:5] + a.diag(-1).sum(1), [((4,),)]),
    Case("diag_of_matrix", lambda m, a: m.diag(a) * 3 + a.diag(1).sum(), [((3, 4),), ((4, 3),)]),
    Case("diag_embed", lambda m, a: m.diag_embed(a), [((3,),), ((2, 3),)]),
    Case("diag_embed_dims", lambda m, a: m.diag_embed(a, 1, 0, 2) + a.diag_embed(-1, 2, 0).sum(),
         [((2, 3),)]),
    Case("trace", lambda m, a: m.trace(a) * a.trace(), [((3, 3),), ((2, 4),), ((1, 1),)]),
    Case("trace_int", lambda m, a: a.trace(), [((3, 3),)], ints={0: (-5, 5)}),
    Case("cumprod", lambda m, a: a.cumprod(0) + m.cumprod(a, dim=-1),
         [((4,),), ((3, 4),), ((),)], domain=(0.5, 1.5)),
    Case("cumprod_signs", lambda m, a: m.cumprod(a, 1), [((2, 3, 4),)]),
    Case("cumprod_zeros", lambda m, a: a.cumprod(-1), [((4, 5),)], make=with_zeros),
    Case("cumprod_zeros_dim0", lambda m, a: a.cumprod(0), [((5, 4),)],
         make=lambda r, s, d: [with_zeros(r, [(4, 5)], d)[0].T.copy()]),
    Case("cumprod_int", lambda m, a: a.cumprod(1), [((3, 4),)], ints={0: (-3, 3)}),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_cumprod_gradient_at_zeros_by_hand():
    """x = [2, 0, 3, 0]: y = [2, 0, 0, 0]; dy/dx summed: d/dx0 = 1, d/dx1 = 2 + 2*3 = 8,
    d/dx2 = 2*0 = 0, d/dx3 = 0."""
    x = ember.tensor([2.0, 0.0, 3.0, 0.0], requires_grad=True)
    x.cumprod(0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 8.0, 0.0, 0.0])


def test_results_are_copies_and_dtypes_follow_torch():
    a = ember.arange(9.0).reshape(3, 3)
    d = a.diagonal()
    d[0] = 100.0
    assert a[0, 0].item() == 0.0
    assert ember.tensor([[1, 2], [3, 4]]).trace().dtype == ember.int64
    assert ember.tensor([True, True, False]).cumprod(0).tolist() == [1, 1, 0]


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ember.diagonal(ember.ones(3)), RuntimeError,
     "diagonal: expected a tensor with at least 2 dims"),
    (lambda: ember.ones(2, 3).diagonal(0, 1, -1), RuntimeError, "dim1 and dim2 cannot be the same"),
    (lambda: ember.ones(2, 3).diagonal(0, 0, 2), IndexError, "diagonal: dim 2 is out of range"),
    (lambda: ember.diag(ember.ones(2, 2, 2)), RuntimeError, "diag: expected a 1-D or 2-D"),
    (lambda: ember.trace(ember.ones(3)), RuntimeError, r"trace: expected a matrix .*\(3,\)"),
    (lambda: ember.diag_embed(ember.tensor(1.0)), RuntimeError, "diag_embed: expected a tensor"),
    (lambda: ember.ones(3).cumprod(1), IndexError, "cumprod: dim 1 is out of range"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
