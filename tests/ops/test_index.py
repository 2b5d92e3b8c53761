"""Indexing ops: gradcheck, PyTorch parity (values, dtypes, gradients), second derivatives;
clear errors; __setitem__ rules; views of an indexed base and its version counter."""
import numpy as np
import pytest

import ember
from harness import Case, op_tests


def with_ties(rng, shapes, dtype):
    """Small integers as floats: many equal values, so the order of ties is tested too."""
    return [rng.integers(-2, 3, size=s).astype(dtype) for s in shapes]


def with_nans(rng, shapes, dtype):
    out = []
    for s in shapes:
        a = rng.uniform(-2, 2, s).astype(dtype)
        a[rng.random(s) < 0.3] = np.nan
        out.append(a)
    return out


V, M, C = ((5,),), ((3, 4),), ((2, 3, 4),)

CASES = [
    # basic indexing: ints (negative too), slices with steps, None, Ellipsis (views)
    Case("int", lambda m, x: x[1], [V, M, C]),
    Case("negative_int", lambda m, x: x[-1], [V, M, ((1, 2),)]),
    Case("two_ints", lambda m, x: x[1, -2], [M, C]),
    Case("slice_step_none", lambda m, x: x[1:, ::2, None], [M, C, ((3, 5, 2),), ((0, 3),)]),
    Case("slice_negative", lambda m, x: x[-2:, 1:-1], [M, C, ((1, 3),)]),
    Case("slice_empty", lambda m, x: x[5:], [V, M]),
    Case("ellipsis_last", lambda m, x: x[..., 0], [V, M, C, ((0, 2),)]),
    Case("none_ellipsis_int", lambda m, x: x[None, ..., -1], [V, M, C]),
    Case("ellipsis_of_scalar", lambda m, x: x[...], [((),), V]),
    Case("none_of_scalar", lambda m, x: x[None], [((),), M]),
    Case("slice_then_int", lambda m, x: x[::2][:, 1], [M, C]),
    Case("true", lambda m, x: x[True], [((),), M]),
    # advanced: integer arrays (repeats add up in the gradient), negative, lists, masks, mixed
    Case("int_tensor_repeated", lambda m, x: x[m.tensor([0, 2, 0, 0])], [((3,),), ((3, 2),),
                                                                         ((3, 0),)]),
    Case("int_tensor_2d", lambda m, x: x[m.tensor([[1, 0], [1, 1]])], [((2,),), ((2, 3),)]),
    Case("int_list_negative", lambda m, x: x[[0, -1, 0]], [((3,),), ((2, 3),)]),
    Case("empty_list", lambda m, x: x[[]], [((3,),), ((2, 3),)]),
    Case("index_input", lambda m, x, i: x[i], [((4,), (6,)), ((4, 2), (3, 2)), ((4, 3), ())],
         ints={1: (-4, 4)}),
    Case("index_input_dim1", lambda m, x, i: x[:, i], [((2, 4), (7,)), ((2, 4, 1), (2, 2))],
         ints={1: (-4, 4)}),
    Case("index_empty", lambda m, x, i: x[i], [((4, 2), (0,))], ints={1: (0, 4)}),
    Case("pairs", lambda m, x: x[m.tensor([0, 1, 0]), m.tensor([2, 2, 2])], [M, C]),
    Case("pairs_broadcast", lambda m, x: x[m.tensor([[0], [1]]), m.tensor([2, 0, 2])], [M, C]),
    Case("mask", lambda m, x, mk: x[mk], [((3, 4), (3, 4)), ((3, 4), (3,)), ((2, 3, 4), (2, 3)),
                                          ((0, 3), (0, 3)), ((), ())], bools=(1,)),
    Case("mask_from_data", lambda m, x: x[x > 0] * 2, [M, C]),
    Case("mask_then_slice", lambda m, x, mk: x[mk, 1:], [((3, 4), (3,)), ((2, 3, 4), (2, 3))],
         bools=(1,)),
    Case("int_slice_array", lambda m, x: x[1, :, m.tensor([0, 2, 2])], [((2, 3, 4, 5),),
                                                                        ((2, 1, 3),)]),
    Case("slice_int_slice_array", lambda m, x: x[:, 1, :, m.tensor([0, 1, 1])], [((2, 3, 4, 5),)]),
    Case("scalar_tensor_is_int", lambda m, x: x[m.tensor(1), :, m.tensor([0, 1])],
         [((2, 3, 4, 5),)]),
    Case("arrays_split_by_slice", lambda m, x: x[m.tensor([0, 1]), :, m.tensor([1, 1])],
         [((2, 3, 4, 5),), ((2, 3, 2),)]),
    Case("arrays_split_by_none", lambda m, x: x[:, m.tensor([0, 1]), None, m.tensor([1, 2])],
         [((2, 3, 4, 5),)]),
    Case("array_int_adjacent", lambda m, x: x[:, 1, m.tensor([0, 1, 0])], [((2, 3, 4),)]),
    Case("ellipsis_array", lambda m, x: x[..., m.tensor([1, 0, 1])], [M, C]),
    Case("none_array_slice", lambda m, x: x[None, m.tensor([1, 1]), 1:], [M, C]),
    Case("mask_and_int", lambda m, x, mk: x[mk, 1], [((3, 4), (3,)), ((2, 3, 4), (2, 3))],
         bools=(1,)),
    # gather / scatter_add / index_select
    Case("gather_0", lambda m, x, i: x.gather(0, i), [((3, 4), (5, 4)), ((3, 4), (2, 3)),
                                                      ((3,), (6,)), ((3, 4), (0, 4))],
         ints={1: (0, 3)}),
    Case("gather_last", lambda m, x, i: m.gather(x, -1, i),
         [((2, 5), (2, 7)), ((2, 3, 5), (1, 2, 3)), ((2, 5), (2, 1))], ints={1: (0, 5)}),
    Case("gather_scalar", lambda m, x, i: x.gather(0, i), [((), ())], ints={1: (0, 1)}),
    Case("scatter_add_0", lambda m, x, i, s: x.scatter_add(0, i, s),
         [((3, 4), (5, 4), (5, 4)), ((3, 4), (2, 3), (2, 3)), ((3,), (7,), (7,)),
          ((3, 2), (0, 2), (0, 2))], ints={1: (0, 3)}),
    Case("scatter_add_last", lambda m, x, i, s: m.scatter_add(x, -1, i, s),
         [((2, 4), (2, 6), (2, 6)), ((2, 2, 4), (1, 2, 3), (1, 2, 3))], ints={1: (0, 4)}),
    Case("scatter_add_scalar", lambda m, x, i, s: x.scatter_add(0, i, s), [((), (), ())],
         ints={1: (0, 1)}),
    Case("index_select_0", lambda m, x, i: x.index_select(0, i), [((3, 4), (5,)), ((3,), (2,)),
                                                                  ((3, 2), (0,)), ((3, 0), (4,))],
         ints={1: (0, 3)}),
    Case("index_select_last", lambda m, x, i: m.index_select(x, -1, i),
         [((2, 3), (4,)), ((2, 1, 3), (3,)), ((2, 3), ())], ints={1: (0, 3)}),
    Case("index_select_scalar", lambda m, x, i: m.index_select(x, 0, i), [((), (1,)), ((), ())],
         ints={1: (0, 1)}),
    # masked_fill (the mask broadcasts; the value is cast to x's dtype)
    Case("masked_fill", lambda m, x, mk: x.masked_fill(mk, -1.5),
         [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3), (2, 1)), ((), ()), ((0, 3), (3,)),
          ((3,), (2, 3))], bools=(1,)),
    Case("masked_fill_tensor_value", lambda m, x, mk, v: m.masked_fill(x, mk, v),
         [((3, 4), (3, 4), ()), ((2, 3), (3,), ())], bools=(1,)),
    Case("masked_fill_int", lambda m, x, mk: x.masked_fill(mk, 2.7), [((3, 4), (3, 4))],
         ints={0: (-5, 5)}, bools=(1,)),
    # sort / topk / argmax
    Case("sort", lambda m, x: x.sort(), [V, M, ((),), ((0, 3),), ((2, 1, 3),)]),
    Case("sort_descending_dim0", lambda m, x: m.sort(x, dim=0, descending=True),
         [V, M, ((0, 3),), ((2, 1, 3),)]),
    Case("sort_ties_stable", lambda m, x: x.sort(stable=True), [((9,),), ((3, 6),)],
         make=with_ties, gradcheck=False, double=False),
    Case("sort_ties_descending", lambda m, x: x.sort(descending=True, stable=True),
         [((9,),), ((3, 6),)], make=with_ties, gradcheck=False, double=False),
    Case("sort_nan", lambda m, x: x.sort(), [((8,),), ((3, 5),)], make=with_nans,
         gradcheck=False, double=False),
    Case("sort_nan_descending", lambda m, x: x.sort(descending=True), [((8,),), ((3, 5),)],
         make=with_nans, gradcheck=False, double=False),
    Case("topk", lambda m, x: x.topk(2), [V, M, ((2, 1, 3),)]),
    Case("topk_smallest_dim0", lambda m, x: x.topk(2, dim=0, largest=False), [V, M, ((2, 1, 3),)]),
    Case("topk_all", lambda m, x: m.topk(x, x.shape[-1]), [V, M, ((2, 0),)]),
    Case("topk_zero", lambda m, x: x.topk(0), [V, M]),
    Case("topk_nan", lambda m, x: x.topk(3), [((8,),)], make=with_nans, gradcheck=False,
         double=False),
    Case("topk_nan_smallest", lambda m, x: x.topk(3, largest=False), [((8,),)], make=with_nans,
         gradcheck=False, double=False),
    Case("argmax", lambda m, x: x.argmax(), [((),), V, M, C]),
    Case("argmax_dim", lambda m, x: x.argmax(1), [M, C, ((2, 1),)]),
    Case("argmax_keepdim", lambda m, x: m.argmax(x, -1, keepdim=True), [V, M, C]),
    Case("argmax_ties", lambda m, x: x.argmax(-1), [((9,),), ((3, 6),)], make=with_ties,
         gradcheck=False),
    Case("argmax_nan", lambda m, x: x.argmax(-1), [((8,),), ((3, 5),)], make=with_nans,
         gradcheck=False),
]

# Squared outputs: the first derivative then depends on x, so the second derivative runs each
# op's backward (IndexBackward, ScatterAdd, ...) through its own backward.
SQUARED = [
    Case("basic_squared", lambda m, x: x[1:, ::2, None] ** 2, [M]),
    Case("int_squared", lambda m, x: x[1, -1] ** 2, [M]),
    Case("advanced_squared", lambda m, x: x[m.tensor([0, 2, 0])] ** 2, [M]),
    Case("mixed_squared", lambda m, x: x[1, :, m.tensor([0, 2, 2])] ** 2, [C]),
    Case("mask_squared", lambda m, x, mk: x[mk] ** 2, [((3, 4), (3,))], bools=(1,)),
    Case("gather_squared", lambda m, x, i: x.gather(1, i) ** 2, [((3, 4), (3, 6))],
         ints={1: (0, 4)}),
    Case("scatter_add_squared", lambda m, x, i, s: x.scatter_add(0, i, s) ** 2,
         [((3, 4), (5, 4), (5, 4))], ints={1: (0, 3)}),
    Case("index_select_squared", lambda m, x, i: x.index_select(1, i) ** 2, [((3, 4), (6,))],
         ints={1: (0, 4)}),
    Case("masked_fill_squared", lambda m, x, mk, v: x.masked_fill(mk, v) ** 2,
         [((3, 4), (4,), ())], bools=(1,)),
    Case("sort_squared", lambda m, x: x.sort(descending=True).values ** 2, [M]),
    Case("topk_squared", lambda m, x: x.topk(2, dim=0).values ** 2, [M]),
]
CASES += SQUARED

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


# ---- clear errors --------------------------------------------------------------------------

def test_getitem_out_of_bounds():
    x = ember.zeros(3, 4)
    for key in (3, -4, (0, 4), (slice(None), -5), ember.tensor([0, 3]), [1, -4],
                (ember.tensor([0]), ember.tensor([4])), (ember.tensor(3),)):
        with pytest.raises(IndexError, match=r"getitem: .*out of bounds.*\(3, 4\)"):
            x[key]
    with pytest.raises(IndexError, match=r"getitem: .*out of bounds.*\(2, 3, 4\)"):
        ember.zeros(2, 3, 4)[1, :, ember.tensor([0, 4])]


def test_getitem_bad_keys():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="getitem: too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="getitem: .*boolean index did not match"):
        x[ember.ones(2, dtype=ember.bool)]
    with pytest.raises(IndexError, match="getitem: tensors used as indices must be integer or "
                                         "bool, got float32"):
        x[ember.zeros(2)]
    with pytest.raises(IndexError, match="getitem: unsupported index"):
        x["a"]
    with pytest.raises(ValueError, match="getitem: slice step must be positive"):
        x[::-1]
    with pytest.raises(IndexError, match="getitem: too many indices"):
        ember.tensor(1.0)[0]


def test_gather_scatter_index_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="gather: index 3 is out of bounds for dim 0 with size 3"):
        x.gather(0, ember.tensor([[0, 3]]))
    with pytest.raises(IndexError, match="gather: index -1 is out of bounds"):  # as in PyTorch
        x.gather(1, ember.tensor([[-1]]))
    with pytest.raises(RuntimeError, match="gather: index has 1 dims but the input has 2"):
        x.gather(0, ember.tensor([0]))
    with pytest.raises(RuntimeError, match=r"gather: index shape \(1, 5\) is larger"):
        x.gather(0, ember.zeros(1, 5, dtype=ember.int64))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor"):
        x.gather(0, ember.zeros(1, 1))
    with pytest.raises(IndexError, match="scatter_add: index 4 is out of bounds"):
        x.scatter_add(1, ember.tensor([[4]]), ember.ones(1, 1))
    with pytest.raises(RuntimeError, match="scatter_add: src of shape"):
        x.scatter_add(0, ember.tensor([[0, 1]]), ember.ones(1, 1))
    with pytest.raises(TypeError, match="scatter_add: src dtype float64 differs"):
        x.scatter_add(0, ember.tensor([[0]]), ember.ones(1, 1, dtype=ember.float64))
    with pytest.raises(IndexError, match="index_select: index 3 is out of bounds for dim 0"):
        x.index_select(0, ember.tensor([0, 3]))
    with pytest.raises(IndexError, match="index_select: index -1 is out of bounds"):
        x.index_select(1, ember.tensor([-1]))
    with pytest.raises(TypeError, match="index_select: index must be a 1-D integer tensor"):
        x.index_select(0, ember.tensor([[0]]))


def test_dim_out_of_range():
    x = ember.zeros(3, 4)
    i = ember.zeros(1, 1, dtype=ember.int64)
    for call in (lambda: x.gather(2, i), lambda: x.scatter_add(-3, i, x),
                 lambda: x.index_select(2, ember.tensor([0])), lambda: x.sort(2),
                 lambda: x.topk(1, dim=-3), lambda: x.argmax(2)):
        with pytest.raises(IndexError, match=r"\w+: dim -?\d is out of range for a tensor with 2"):
            call()


def test_other_bad_arguments():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match="topk: k=5 is out of range for dim 1 of size 4"):
        x.topk(5)
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor"):
        x.masked_fill(ember.zeros(3, 4), 1.0)
    with pytest.raises(ValueError, match=r"masked_fill: shapes \(3,\) and \(3, 4\) cannot be "
                                         "broadcast"):
        x.masked_fill(ember.ones(3, dtype=ember.bool), 1.0)
    with pytest.raises(RuntimeError, match="masked_fill: value must be a number or a 0-dim"):
        x.masked_fill(ember.ones(4, dtype=ember.bool), ember.ones(4))


# ---- __setitem__ -----------------------------------------------------------------------------

def test_setitem_like_torch():
    torch = pytest.importorskip("torch")
    x, t = ember.zeros(3, 4, 5), torch.zeros(3, 4, 5)
    keys = [(1,), (slice(None), 2), (Ellipsis, 0), (slice(None, None, 2), None, 1),
            ([0, 2, 0],), (1, slice(None), [0, 3]), ([0, 1], slice(None), [4, 4])]
    for k, key in enumerate(keys):
        value = np.arange(np.prod(t[key].shape), dtype=np.float32).reshape(t[key].shape) + k
        x[tuple(ember.tensor(i) if isinstance(i, list) else i for i in key)] = ember.tensor(value)
        t[tuple(torch.tensor(i) if isinstance(i, list) else i for i in key)] = torch.tensor(value)
        np.testing.assert_array_equal(x.numpy(), t.numpy(), err_msg=str(key))
    x[x > 3] = -1.0  # a mask and a broadcast scalar
    t[t > 3] = -1.0
    x[0] = ember.tensor([1.0, 2, 3, 4, 5])  # broadcast over a dim
    t[0] = torch.tensor([1.0, 2, 3, 4, 5])
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_setitem_bumps_the_version():
    x = ember.zeros(4)
    x[1] = 2.0
    x[ember.tensor([0, 0])] = 1.0
    assert x._version[0] == 2
    np.testing.assert_array_equal(x.numpy(), [1, 2, 0, 0])


def test_setitem_requires_grad_is_an_error():
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: cannot assign into a tensor of shape "
                                           r"\(3,\) that requires grad"):
        w[0] = 1.0
    y = w * 2
    with pytest.raises(RuntimeError, match="setitem: cannot assign .* requires grad"):
        y[1:] = 0.0
    x = ember.zeros(3)
    with pytest.raises(RuntimeError, match="setitem: the assigned value .* requires grad"):
        x[0] = w[1]  # the gradient of w would be lost silently
    x[0] = w[1].detach()


def test_setitem_under_no_grad():
    w = ember.zeros(2, 3, requires_grad=True)
    with ember.no_grad():
        w[0, 1] = 5.0
        w[1] = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    np.testing.assert_array_equal(w.detach().numpy(), [[0, 5, 0], [1, 2, 3]])
    assert w.requires_grad and w.is_leaf
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * w.detach().numpy())


def test_setitem_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=r"setitem: .*out of bounds.*\(3, 4\)"):
        x[3] = 1.0
    with pytest.raises(ValueError, match=r"setitem: cannot assign a value of shape \(3,\)"):
        x[0] = ember.ones(3)
    with pytest.raises(RuntimeError, match="setitem: .* read-only view .* clone"):
        ember.zeros(3).expand(2, 3)[0] = 1.0


# ---- views, copies and the version counter -------------------------------------------------

def test_basic_index_is_a_view_sharing_the_version():
    w = ember.ones(2, requires_grad=True)
    x = ember.arange(6.0).reshape(3, 2)
    y = w * x[1]  # saves the view x[1]
    x[2] = 0.0  # bumps the base's counter: PyTorch counts per base, not per element
    with pytest.raises(RuntimeError, match="mul: .* modified by an in-place operation"):
        y.sum().backward()


def test_in_place_through_an_int_index_writes_the_base():
    x = ember.zeros(2, 3)
    x[1][2].add_(4)  # NumPy alone returns a scalar copy for x[1][2]
    x[0, 1].fill_(3)
    np.testing.assert_array_equal(x.numpy(), [[0, 3, 0], [0, 0, 4]])


def test_advanced_index_is_a_copy():
    x = ember.arange(4.0)
    y = x[ember.tensor([1, 2])]
    y.add_(10)
    np.testing.assert_array_equal(x.numpy(), [0, 1, 2, 3])
    w = ember.ones(2, requires_grad=True)
    z = w * x[ember.tensor([1, 2])]
    x.add_(1)  # the copy saved for backward is untouched
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1, 2])


def test_gather_index_modified_in_place_is_caught():
    x = ember.randn(3, 4, requires_grad=True)
    i = ember.tensor([[0, 1, 2, 0]])
    y = x.gather(0, i)
    i.add_(1)
    with pytest.raises(RuntimeError, match="gather: .* modified by an in-place operation"):
        y.sum().backward()


# ---- exact scatter-add -----------------------------------------------------------------------

def test_repeated_indices_add_up_exactly():
    """Every read of a position adds its gradient, in the input's dtype (an embedding row used
    many times, a large index)."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        table = ember.tensor(rng.standard_normal((50, 8)).astype(dtype), requires_grad=True)
        idx = rng.integers(0, 50, size=(40, 30))
        g = rng.standard_normal((40, 30, 8)).astype(dtype)
        table[ember.tensor(idx)].backward(ember.tensor(g))
        want = np.zeros((50, 8))
        np.add.at(want, idx, g.astype(np.float64))
        np.testing.assert_allclose(table.grad.numpy(), want, rtol=1e-5 if dtype == np.float32
                                   else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)
        assert table.grad.dtype == dtype
        table.grad = None
        full = ember.tensor(np.broadcast_to(idx.reshape(-1, 1), (1200, 8)).copy())
        table.gather(0, full).backward(ember.tensor(g.reshape(1200, 8)))
        np.testing.assert_allclose(table.grad.numpy(), want, rtol=1e-5 if dtype == np.float32
                                   else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)


def test_scatter_add_src_larger_than_index():
    """src entries past index's shape are never added: their gradient is zero. (PyTorch
    computes the same forward, but its backward fails its own shape check here.)"""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    idx = rng.integers(0, 3, size=(2, 3))
    want = torch.tensor(x).scatter_add(0, torch.tensor(idx), torch.tensor(src))
    ex, es = ember.tensor(x, requires_grad=True), ember.tensor(src, requires_grad=True)
    out = ex.scatter_add(0, ember.tensor(idx), es)
    np.testing.assert_allclose(out.detach().numpy(), want.numpy(), rtol=1e-12)
    ember.autograd.gradcheck(lambda a, b: a.scatter_add(0, ember.tensor(idx), b), (ex, es))
    g = rng.standard_normal((3, 4))
    out.backward(ember.tensor(g))
    np.testing.assert_array_equal(es.grad.numpy()[2:], 0)
    np.testing.assert_array_equal(es.grad.numpy()[:, 3:], 0)
    np.testing.assert_array_equal(ex.grad.numpy(), g)


def test_scatter_add_integer_tensors():
    x = ember.zeros(3, dtype=ember.int64)
    out = x.scatter_add(0, ember.tensor([0, 2, 0, 0]), ember.tensor([1, 2, 3, 4]))
    np.testing.assert_array_equal(out.numpy(), [8, 0, 2])
    assert out.dtype == np.int64
