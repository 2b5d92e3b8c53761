"""Reductions: gradcheck, PyTorch parity (values, dtypes, gradients), second derivatives, ties,
zeros in prod, stability of logsumexp and norm, and the errors bad dims give."""
import numpy as np
import pytest

import ember
from harness import Case, TOL, op_tests, torch

INF = float("inf")
# var/std with N - correction <= 0 and the inf/nan arithmetic of the extreme rows warn by design
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom", "ignore::RuntimeWarning")

# (label, keyword arguments, input shapes): every dim form a reduction takes
DIMS = [
    ("all", {}, [(), (5,), (2, 3), (1, 4, 1), (0, 3)]),
    ("dim0", dict(dim=0), [(), (5,), (2, 3), (1, 4, 1), (3, 0)]),
    ("dim-1_keep", dict(dim=-1, keepdim=True), [(), (5,), (2, 3), (1, 4, 1), (0, 3)]),
    ("dim1", dict(dim=1), [(2, 3), (4, 1, 2), (0, 3)]),
    ("dims(0,2)", dict(dim=(0, 2)), [(2, 3, 4), (1, 4, 1), (2, 0, 3)]),
    ("dims(-1,0)_keep", dict(dim=(-1, 0), keepdim=True), [(2, 3, 4), (3, 1), (0, 2)]),
    ("dims()", dict(dim=()), [(2, 3)]),  # PyTorch reads an empty dim list as every dim
]
INT_DIMS = [d for d in DIMS if not isinstance(d[1].get("dim", 0), tuple)]


def rows(*labels):
    """A part of DIMS, for ops whose dim handling is shared with one tested in full."""
    return [d for d in DIMS if d[0] in labels]


def _reduced_sizes(shape, kw):
    """The sizes a reduction with these arguments takes its max/min over."""
    dim = kw.get("dim")
    if dim is None or dim == ():
        return list(shape) or [1]
    dims = dim if isinstance(dim, tuple) else (dim,)
    return [shape[d] for d in dims] if shape else [1]


def reduction_cases(name, call, table=DIMS, empty_reduce=True, **case_kw):
    """One Case per row of `table`; `empty_reduce=False` drops shapes that reduce a size-0 dim
    (PyTorch refuses max/min over nothing)."""
    cases = []
    for label, kw, shapes in table:
        keep = [s for s in shapes if empty_reduce or 0 not in _reduced_sizes(s, kw)]
        if keep:
            cases.append(Case(f"{name}_{label}", lambda m, a, kw=kw: call(a, **kw),
                              [(s,) for s in keep], **case_kw))
    return cases


UNARY = [((),), ((5,),), ((2, 3),), ((1, 4, 1),), ((0, 3),)]


# ---- crafted inputs -------------------------------------------------------------------------
def _away_from_zero(rng, shape, dtype):
    """|x| in [0.5, 1.5], random signs: products stay moderate, zeros are placed on purpose."""
    return (rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)


def prod_rows_with_zeros(rng, shapes, dtype):
    """Rows of (4, 5): no zero, one zero, two zeros, three zeros."""
    x = _away_from_zero(rng, shapes[0], dtype)
    x[1, 2] = 0
    x[2, [0, 3]] = 0
    x[3, [1, 2, 4]] = 0
    return [x]


def prod_cols_with_zeros(rng, shapes, dtype):
    """(3, 4, 2) reduced over dim 1: slices with zero, one and two zeros, in both last columns."""
    x = _away_from_zero(rng, shapes[0], dtype)
    x[1, 3, 0] = 0
    x[2, [0, 2], 1] = 0
    x[0, 1, 1] = 0
    return [x]


def with_zeros(*positions):
    def make(rng, shapes, dtype):
        x = _away_from_zero(rng, shapes[0], dtype)
        for p in positions:
            x[p] = 0
        return [x]
    return make


def ties(rng, shapes, dtype):
    """Values from {-1, 0, 1}: most slices hold their max and min two or more times."""
    return [rng.integers(-1, 2, size=shapes[0]).astype(dtype)]


def max_ties(rng, shapes, dtype):
    """Each row of (3, 4) holds its max twice or three times and its min twice."""
    x = np.array([[1., 3., 3., -2.], [2., 2., 2., -1.], [-1., 5., -1., 5.]], dtype)
    return [x]


def fn_ties(rng, shapes, dtype):
    return [np.array([[1.5, -2.0, 1.5], [0.5, 0.5, -0.5]], dtype)]


CASES = [
    *reduction_cases("sum", lambda a, **kw: a.sum(**kw)),
    *reduction_cases("mean", lambda a, **kw: a.mean(**kw)),
    *reduction_cases("amax", lambda a, **kw: a.amax(**kw), empty_reduce=False),
    *reduction_cases("amin", lambda a, **kw: a.amin(**kw), empty_reduce=False,
                     table=rows("all", "dim-1_keep", "dims(0,2)", "dims()")),
    # var/std over dim=() are left to test_var_std_empty_dim_list: PyTorch's backward reads
    # () as no dims while its forward reads it as every dim
    *reduction_cases("var", lambda a, **kw: a.var(**kw), table=DIMS[:-1]),
    *reduction_cases("var_correction0", lambda a, **kw: a.var(correction=0, **kw),
                     table=rows("all", "dim1", "dims(0,2)")),
    *reduction_cases("std", lambda a, **kw: a.std(**kw),
                     table=rows("dim1", "dims(0,2)", "dims(-1,0)_keep")),
    *reduction_cases("std_unbiased_false", lambda a, **kw: a.std(unbiased=False, **kw),
                     table=rows("all", "dim0")),
    *reduction_cases("logsumexp", lambda a, **kw: a.logsumexp(**kw),
                     table=[d for d in DIMS if "dim" in d[1] and d[0] != "dims()"]),
    *reduction_cases("norm2", lambda a, **kw: a.norm(2, **kw)),
    *reduction_cases("norm_fro", lambda a, **kw: a.norm("fro", **kw),
                     table=rows("all", "dims(0,2)", "dim1")),
    *reduction_cases("norm1", lambda a, **kw: a.norm(1, **kw),
                     table=rows("all", "dim0", "dims(-1,0)_keep")),
    *reduction_cases("norm3", lambda a, **kw: a.norm(3, **kw)),
    *reduction_cases("norm_inf", lambda a, **kw: a.norm(INF, **kw), empty_reduce=False),
    *reduction_cases("norm_-inf", lambda a, **kw: a.norm(-INF, **kw), empty_reduce=False,
                     table=rows("all", "dim1", "dims(-1,0)_keep")),
    *reduction_cases("prod", lambda a, **kw: a.prod(**kw), table=INT_DIMS[:-1],
                     domain=(0.5, 1.5)),
    Case("var_correction2", lambda m, a: a.var(1, correction=2), [((3, 5),)]),
    Case("var_legacy_positional", lambda m, a: a.var(1, False, True), [((3, 5),)]),
    Case("var_unbiased_as_first_arg", lambda m, a: a.var(False), [((3, 5),)]),
    Case("var_single_element", lambda m, a: a.var(), [((1,),), ((),)], gradcheck=False),
    Case("mean_of_mean", lambda m, a: a.mean(0).mean(), [((3, 4),)]),
    Case("sum_int", lambda m, a: a.sum(0), [((3, 4),)], ints={0: (-5, 5)}),
    Case("sum_bool", lambda m, a: a.sum(), [((3, 4),)], bools=(0,)),
    Case("sum_dtype", lambda m, a: a.sum(1, dtype=m.float64), [((3, 4),)]),
    Case("prod_int", lambda m, a: a.prod(1), [((3, 4),)], ints={0: (-3, 4)}),
    # prod with zeros: the gradient of a slice with one zero is nonzero at the zero only; with
    # two zeros it is zero everywhere, but its second derivative is not
    Case("prod_zeros_dim1", lambda m, a: a.prod(1), [((4, 5),)], make=prod_rows_with_zeros),
    Case("prod_zeros_dim-1_keep", lambda m, a: a.prod(-1, keepdim=True), [((4, 5),)],
         make=prod_rows_with_zeros),
    Case("prod_zeros_dim0", lambda m, a: a.prod(0), [((5, 4),)],
         make=lambda rng, s, dt: [prod_rows_with_zeros(rng, [(4, 5)], dt)[0].T.copy()]),
    Case("prod_zeros_dim1_3d", lambda m, a: a.prod(1), [((3, 4, 2),)],
         make=prod_cols_with_zeros),
    Case("prod_all_one_zero", lambda m, a: a.prod(), [((3, 4),)], make=with_zeros((1, 2))),
    Case("prod_all_two_zeros", lambda m, a: a.prod(), [((3, 4),)],
         make=with_zeros((1, 2), (2, 0))),
    Case("prod_all_three_zeros", lambda m, a: a.prod(), [((3, 4),)],
         make=with_zeros((1, 2), (2, 0), (0, 3))),
    Case("prod_scalar_zero", lambda m, a: a.prod(), [((),)],
         make=lambda rng, s, dt: [np.zeros((), dt)]),
    Case("prod_chain", lambda m, a: (a.prod(1) * a.sum(1)).prod(), [((3, 4),)],
         make=with_zeros((1, 2))),
    # max/min: without dim the gradient is shared evenly among ties; with dim it goes to the index
    Case("max_all", lambda m, a: a.max(), [((),), ((5,),), ((2, 3),)]),
    Case("min_all", lambda m, a: a.min(), [((),), ((5,),), ((2, 3),)]),
    Case("max_dim1", lambda m, a: a.max(1), [((2, 3),), ((4, 1, 2),), ((0, 3),)]),
    Case("max_dim-1_keep", lambda m, a: a.max(-1, keepdim=True), [((),), ((5,),), ((2, 3),)]),
    Case("max_dim0", lambda m, a: a.max(dim=0), [((),), ((2, 3),), ((3, 0),)]),
    Case("min_dim1", lambda m, a: a.min(1), [((2, 3),), ((4, 1, 2),), ((0, 3),)]),
    Case("min_dim0_keep", lambda m, a: a.min(0, keepdim=True), [((),), ((2, 3),)]),
    Case("max_binary", lambda m, a, b: m.max(a, b), [((3,), (3,)), ((2, 3), (3,))]),
    Case("min_binary", lambda m, a, b: m.min(a, b), [((3,), (3,)), ((2, 3), (3,))]),
    Case("amax_ties", lambda m, a: a.amax(1), [((3, 4),)], make=max_ties, gradcheck=False),
    Case("amin_ties", lambda m, a: a.amin(1), [((3, 4),)], make=max_ties, gradcheck=False),
    Case("amax_ties_dims", lambda m, a: a.amax((0, 2), keepdim=True), [((3, 4, 5),)],
         make=ties, gradcheck=False),
    Case("amax_ties_all", lambda m, a: a.amax(), [((3, 4),)], make=ties, gradcheck=False),
    Case("amin_ties_all", lambda m, a: a.amin(), [((3, 4),)], make=ties, gradcheck=False),
    Case("max_ties_all", lambda m, a: a.max(), [((3, 4),)], make=ties, gradcheck=False),
    Case("max_dim_ties", lambda m, a: a.max(1), [((3, 4),)], make=max_ties, gradcheck=False),
    Case("min_dim_ties", lambda m, a: a.min(1), [((3, 4),)], make=max_ties, gradcheck=False),
    Case("norm_inf_ties", lambda m, a: a.norm(INF, 1), [((2, 3),)], make=fn_ties,
         gradcheck=False),
    Case("norm_-inf_ties", lambda m, a: a.norm(-INF), [((2, 3),)], make=fn_ties,
         gradcheck=False),
    # cumsum and the index reductions
    Case("cumsum_dim0", lambda m, a: a.cumsum(0), UNARY),
    Case("cumsum_dim-1", lambda m, a: a.cumsum(-1), UNARY),
    Case("cumsum_dim1_3d", lambda m, a: m.cumsum(a, dim=1), [((2, 3, 4),), ((2, 1, 3),)]),
    Case("cumsum_int", lambda m, a: a.cumsum(1), [((3, 4),)], ints={0: (-5, 5)}),
    Case("argmax_all", lambda m, a: a.argmax(), [((),), ((5,),), ((2, 3),)]),
    Case("argmax_all_keep", lambda m, a: a.argmax(keepdim=True), [((),), ((2, 3),)]),
    Case("argmax_dim1", lambda m, a: a.argmax(1), [((2, 3),), ((4, 1, 2),), ((0, 3),)]),
    Case("argmax_dim-1_keep", lambda m, a: a.argmax(-1, keepdim=True), [((),), ((2, 3),)]),
    Case("argmin_all", lambda m, a: a.argmin(), [((),), ((5,),), ((2, 3),)]),
    Case("argmin_dim0", lambda m, a: m.argmin(a, dim=0), [((),), ((2, 3),), ((3, 0),)]),
    Case("argmax_ties", lambda m, a: a.argmax(1), [((3, 4),)], make=max_ties, gradcheck=False),
    Case("argmin_ties", lambda m, a: a.argmin(1), [((3, 4),)], make=max_ties, gradcheck=False),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


# ---- stability ------------------------------------------------------------------------------
def _both(values, dtype, fn):
    """fn on ember and torch from the same values; returns (outputs, input grads) for each."""
    results = []
    for lib, make in ((ember, ember.tensor), (torch, torch.tensor)):
        x = make(np.array(values, dtype), requires_grad=True)
        y = fn(lib, x)
        y.backward(make(np.linspace(0.5, 1.5, y.numel()).reshape(y.shape).astype(dtype)))
        results.append((y.detach().numpy(), x.grad.numpy()))
    return results


def _assert_same(results, dtype):
    (ey, eg), (ty, tg) = results
    for got, want in ((ey, ty), (eg, tg)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, equal_nan=True, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_extremes(dtype):
    if torch is None:
        pytest.skip("torch is not installed")
    rows = [[1000.0, 0.0], [-INF, -INF], [-1000.0, -1000.0], [INF, 1.0], [-INF, 2.0]]
    results = _both(rows, dtype, lambda m, x: x.logsumexp(1))
    (ey, eg), _ = results
    np.testing.assert_allclose(ey[:3], [1000.0, -INF, -1000.0 + np.log(2)], rtol=1e-6)
    assert np.all(np.isfinite(eg[0])) and eg[0][1] == 0  # softmax of [1000, 0]: no overflow
    _assert_same(results, dtype)
    _assert_same(_both([[1000.0, 0.0], [0.0, 1000.0]], dtype,
                       lambda m, x: x.logsumexp((0, 1), keepdim=True)), dtype)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, INF, -INF])
def test_norm_of_zero_has_zero_gradient(p):
    if torch is None:
        pytest.skip("torch is not installed")
    for dtype in (np.float32, np.float64):
        results = _both(np.zeros(4), dtype, lambda m, x: x.norm(p))
        assert np.all(np.isfinite(results[0][1])) and not np.any(results[0][1])
        _assert_same(results, dtype)
        rows = [[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]]
        _assert_same(_both(rows, dtype, lambda m, x: x.norm(p, dim=1)), dtype)


def test_norm_of_zero_double_backward_is_finite():
    x = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(x.norm(), x, create_graph=True)
    (gg,) = ember.autograd.grad((g * ember.tensor([1.0, 2.0, 3.0])).sum(), x, allow_unused=True)
    assert not np.any(g.detach().numpy())
    assert gg is None or np.all(np.isfinite(gg.detach().numpy()))


def test_prod_one_zero_gradient_values():
    x = ember.tensor([2.0, 0.0, 3.0, -1.0], requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, -6.0, 0.0, 0.0])


def test_prod_two_zeros_hessian():
    """prod(a, 0, 0, b) has zero gradient but d2/dx1 dx2 = a b."""
    x = ember.tensor([2.0, 0.0, 0.0, 3.0], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(x.prod(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), 0.0)
    (h1,) = ember.autograd.grad(g[1], x)
    np.testing.assert_array_equal(h1.numpy(), [0.0, 0.0, 6.0, 0.0])


def test_var_std_empty_dim_list():
    x = np.random.default_rng(0).standard_normal((2, 3))
    for fn in ("var", "std"):
        got = getattr(ember.tensor(x), fn)(())
        np.testing.assert_allclose(got.numpy(), getattr(x, fn)(ddof=1), rtol=1e-12)
        assert got.shape == ()


def test_var_warns_when_no_degrees_of_freedom_are_left():
    with pytest.warns(UserWarning, match="var: degrees of freedom"):
        ember.ones(1, 3).var(0)
    with pytest.warns(UserWarning, match="std: degrees of freedom"):
        ember.ones(3).std(correction=3)


def test_max_dim_returns_named_values_and_indices():
    x = ember.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    out = x.max(1)
    assert out.values.tolist() == [5.0, 7.0] and out.indices.tolist() == [1, 0]
    s = ember.tensor(2.0, requires_grad=True)
    assert s.max(0).values is not s and s.max(0).values.grad_fn is not None
    values, indices = x.min(dim=0)
    assert values.tolist() == [1.0, 0.0, 2.0] and indices.dtype == np.int64


# ---- errors ---------------------------------------------------------------------------------
X = ember.ones(2, 3)


@pytest.mark.parametrize("call,name", [
    (lambda: X.sum(3), "sum"), (lambda: X.mean(3), "mean"), (lambda: X.max(3), "max"),
    (lambda: X.sum((0, 3)), "sum"), (lambda: X.amax(3), "amax"), (lambda: X.prod(3), "prod"),
    (lambda: X.var(3), "var"), (lambda: X.norm(2, 3), "norm"), (lambda: X.cumsum(3), "cumsum"),
    (lambda: X.argmax(3), "argmax"), (lambda: X.logsumexp(3), "logsumexp"),
    (lambda: X.min(3), "min"),
])
def test_dim_out_of_range(call, name):
    with pytest.raises(IndexError, match=f"{name}: dim 3 is out of range"):
        call()


def test_scalar_dim_out_of_range():
    with pytest.raises(IndexError, match="cumsum: dim 2 is out of range"):
        ember.tensor(1.0).cumsum(2)
    with pytest.raises(IndexError, match="sum: dim 1 is out of range"):
        ember.tensor(1.0).sum(1)


def test_reduction_errors():
    with pytest.raises(ValueError, match="sum: dim .* names a dim twice"):
        X.sum((0, -2))
    with pytest.raises(RuntimeError, match="max: .*empty"):
        ember.zeros(0, 3).max()
    with pytest.raises(IndexError, match="max: dim 0 has size 0"):
        ember.zeros(0, 3).max(0)
    with pytest.raises(IndexError, match="amax: dim 0 has size 0"):
        ember.zeros(0, 3).amax(0)
    with pytest.raises(RuntimeError, match="amin: .*empty"):
        ember.zeros(0, 3).amin()
    with pytest.raises(RuntimeError, match="argmax: .*empty"):
        ember.zeros(0, 3).argmax()
    with pytest.raises(TypeError, match="mean: expected a floating-point tensor"):
        ember.tensor([1, 2]).mean()
    with pytest.raises(ValueError, match="norm: unsupported p='nuc'"):
        X.norm("nuc")
