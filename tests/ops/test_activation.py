"""Activations and the softmax family: gradcheck, PyTorch parity (values, dtypes, gradients),
second derivatives, extreme inputs (no overflow, no NaN, no warning), clear errors, and the
vectorized erf behind exact GELU."""
import math
import warnings

import numpy as np
import pytest

import ember
from ember.ops import activation
from harness import Case, op_tests, torch

# any RuntimeWarning (overflow in exp, 0/0, ...) fails the test that raised it
pytestmark = pytest.mark.filterwarnings("error")


def F(m):
    """The functional namespace: torch.nn.functional for torch, ember itself for ember."""
    return m.nn.functional if m is torch else m


UNARY = [((),), ((5,),), ((2, 3),), ((1, 4, 1),), ((0, 2),)]
SHORT = [((),), ((2, 3),), ((0, 2),)]
WIDE = (-30.0, 30.0)  # reaches the saturated and thresholded branches


def softmax_cases(name, call):
    return [
        Case(f"{name}_dim0", lambda m, x: call(m, x, 0),
             [((),), ((5,),), ((2, 3),), ((3, 1, 4),), ((0, 3),), ((1,),)]),
        Case(f"{name}_dim1", lambda m, x: call(m, x, 1),
             [((2, 3),), ((3, 1, 4),), ((3, 0),), ((0, 3),), ((4, 1),)]),
        Case(f"{name}_dim-1", lambda m, x: call(m, x, -1),
             [((),), ((5,),), ((2, 3),), ((2, 3, 4),), ((2, 1),), ((2, 0),)]),
        Case(f"{name}_wide", lambda m, x: call(m, x, -1), [((3, 4),)], domain=(-60.0, 60.0)),
    ]


CASES = [
    Case("sigmoid", lambda m, x: m.sigmoid(x), UNARY),
    Case("sigmoid_method_wide", lambda m, x: x.sigmoid(), SHORT, domain=WIDE),
    Case("tanh", lambda m, x: m.tanh(x), UNARY),
    Case("tanh_method_wide", lambda m, x: x.tanh(), SHORT, domain=WIDE),
    Case("relu", lambda m, x: m.relu(x), UNARY),
    Case("relu_method", lambda m, x: x.relu(), SHORT),
    Case("leaky_relu", lambda m, x: F(m).leaky_relu(x), UNARY),
    Case("leaky_relu_0.2", lambda m, x: F(m).leaky_relu(x, 0.2), UNARY),
    Case("leaky_relu_neg_slope", lambda m, x: F(m).leaky_relu(x, negative_slope=-0.5), SHORT),
    Case("leaky_relu_steep_slope", lambda m, x: F(m).leaky_relu(x, negative_slope=1.5), SHORT),
    Case("elu", lambda m, x: F(m).elu(x), UNARY),
    Case("elu_alpha0.5", lambda m, x: F(m).elu(x, alpha=0.5), UNARY),
    Case("elu_alpha2_wide", lambda m, x: F(m).elu(x, 2.0), SHORT, domain=WIDE),
    Case("selu", lambda m, x: F(m).selu(x), UNARY),
    Case("gelu", lambda m, x: F(m).gelu(x), UNARY, domain=(-4.0, 4.0)),
    Case("gelu_wide", lambda m, x: F(m).gelu(x), SHORT, domain=(-12.0, 12.0)),
    Case("gelu_tanh", lambda m, x: F(m).gelu(x, approximate="tanh"), UNARY, domain=(-4.0, 4.0)),
    Case("gelu_tanh_wide", lambda m, x: F(m).gelu(x, approximate="tanh"), SHORT,
         domain=(-12.0, 12.0)),
    Case("silu", lambda m, x: F(m).silu(x), UNARY, domain=(-6.0, 6.0)),
    Case("softplus", lambda m, x: F(m).softplus(x), UNARY),
    Case("softplus_wide", lambda m, x: F(m).softplus(x), SHORT, domain=WIDE),
    Case("softplus_beta2_thr1.5", lambda m, x: F(m).softplus(x, beta=2.0, threshold=1.5), UNARY),
    Case("softplus_beta0.5_thr3", lambda m, x: F(m).softplus(x, 0.5, 3.0), SHORT,
         domain=(-10.0, 10.0)),
    Case("hardtanh", lambda m, x: F(m).hardtanh(x), UNARY),
    Case("hardtanh_-0.5_1.5", lambda m, x: F(m).hardtanh(x, -0.5, 1.5), UNARY),
    Case("hardtanh_relu6", lambda m, x: F(m).hardtanh(x, min_val=0.0, max_val=6.0), SHORT,
         domain=(-3.0, 9.0)),
    *softmax_cases("softmax", lambda m, x, d: m.softmax(x, dim=d)),
    *softmax_cases("log_softmax", lambda m, x, d: m.log_softmax(x, dim=d)),
    Case("softmax_method", lambda m, x: x.softmax(1), [((2, 3),)]),
    Case("log_softmax_method", lambda m, x: x.log_softmax(-1), [((2, 3),)]),
    Case("softmax_dtype", lambda m, x: m.softmax(x, dim=-1, dtype=m.float64), [((2, 3),)]),
    Case("log_softmax_dtype", lambda m, x: m.log_softmax(x, 0, dtype=m.float64), [((2, 3),)]),
    Case("softmax_logsoftmax_chain",
         lambda m, x: m.softmax(x, dim=1) * m.log_softmax(x, dim=0), [((3, 4),)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


# ---- extreme inputs: finite, equal to torch, finite gradients, no warning ----------------------

ELEMENTWISE_EXTREMES = {
    "sigmoid": lambda m, x: m.sigmoid(x),
    "tanh": lambda m, x: m.tanh(x),
    "softplus": lambda m, x: F(m).softplus(x),
    "softplus_beta2": lambda m, x: F(m).softplus(x, beta=2.0),
    "silu": lambda m, x: F(m).silu(x),
    "elu": lambda m, x: F(m).elu(x),
    "selu": lambda m, x: F(m).selu(x),
    "gelu": lambda m, x: F(m).gelu(x),
    "gelu_tanh": lambda m, x: F(m).gelu(x, approximate="tanh"),
    "relu": lambda m, x: m.relu(x),
    "hardtanh": lambda m, x: F(m).hardtanh(x),
}
ROW_EXTREMES = {
    "softmax": lambda m, x: m.softmax(x, dim=-1),
    "log_softmax": lambda m, x: m.log_softmax(x, dim=-1),
    "softmax_dim0": lambda m, x: m.softmax(x.T, dim=0),
    "log_softmax_dim0": lambda m, x: m.log_softmax(x.T, dim=0),
}
EXTREME_VALUES = [-1000.0, -100.0, -89.0, -30.0, 30.0, 89.0, 100.0, 1000.0]
EXTREME_ROWS = [[1000.0, 0.0], [-1000.0, 0.0], [0.0, 1000.0], [1000.0, 1000.0],
                [-1000.0, -1000.0], [1e30, -1e30]]


def _check_extreme(fn, values, dtype):
    if torch is None:
        pytest.skip("torch is not installed")
    a = np.asarray(values, dtype=dtype)
    e, t = ember.tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    t_out = fn(torch, t)
    w = np.random.default_rng(0).standard_normal(t_out.shape).astype(dtype)
    (t_out * torch.tensor(w)).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e_out = fn(ember, e)
        (e_out * ember.tensor(w)).sum().backward()
    got, want = e_out.detach().numpy(), t_out.detach().numpy()
    assert np.all(np.isfinite(got)), f"non-finite output {got} for {values}"
    assert got.dtype == want.dtype
    # atol: ember keeps gelu(-30) = -1.5e-196 where torch flushes it to -0
    tol = dict(rtol=1e-6, atol=1e-30) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-30)
    np.testing.assert_allclose(got, want, **tol)
    g = e.grad.numpy()
    assert np.all(np.isfinite(g)), f"non-finite gradient {g} for {values}"
    np.testing.assert_allclose(g, t.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ELEMENTWISE_EXTREMES))
def test_extreme_elementwise(name, dtype):
    _check_extreme(ELEMENTWISE_EXTREMES[name], EXTREME_VALUES, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ROW_EXTREMES))
def test_extreme_softmax(name, dtype):
    _check_extreme(ROW_EXTREMES[name], EXTREME_ROWS, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_values_exact(dtype):
    x = ember.tensor(np.array([-1000.0, 1000.0], dtype=dtype))
    np.testing.assert_array_equal(ember.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(ember.tanh(x).numpy(), [-1.0, 1.0])
    np.testing.assert_array_equal(ember.softplus(x).numpy(), [0.0, 1000.0])
    rows = ember.tensor(np.array([[1000.0, 0.0], [-1000.0, 0.0]], dtype=dtype))
    np.testing.assert_array_equal(ember.softmax(rows, dim=1).numpy(), [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(ember.log_softmax(rows, dim=1).numpy(),
                                  [[0.0, -1000.0], [-1000.0, 0.0]])


NONFINITE_ROWS = [[np.inf, 0.0], [-np.inf, 0.0], [-np.inf, -np.inf], [np.nan, 1.0],
                  [np.inf, np.inf]]


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("row", NONFINITE_ROWS, ids=str)
def test_softmax_nonfinite_rows_like_torch(fn, row):
    if torch is None:
        pytest.skip("torch is not installed")
    got = getattr(ember, fn)(ember.tensor(row), dim=0).numpy()
    want = getattr(torch, fn)(torch.tensor(row), dim=0).numpy()
    np.testing.assert_array_equal(got, want)


def test_nonfinite_elementwise_like_torch():
    if torch is None:
        pytest.skip("torch is not installed")
    x = np.array([-np.inf, np.inf, np.nan, -0.0, 0.0])
    for name, fn in ELEMENTWISE_EXTREMES.items():  # silu and gelu at -inf: nan in both
        got = fn(ember, ember.tensor(x)).numpy()
        want = fn(torch, torch.tensor(x)).numpy()
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_gelu_left_tail_is_not_flushed_to_zero():
    x = np.array([-6.0, -10.0, -20.0, -30.0])
    got = ember.gelu(ember.tensor(x)).numpy()
    want = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    assert np.all(got < 0)
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ---- errors that name the op -------------------------------------------------------------------

@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_needs_dim(fn):
    x = ember.randn(2, 3)
    with pytest.raises(TypeError, match=f"{fn}: pass dim="):
        getattr(ember, fn)(x)
    with pytest.raises(TypeError, match=fn):
        getattr(x, fn)()


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_bad_dim(fn):
    with pytest.raises(IndexError, match=f"{fn}: dim 2 is out of range"):
        getattr(ember, fn)(ember.randn(2, 3), dim=2)
    with pytest.raises(IndexError, match=f"{fn}: dim 1 is out of range"):
        getattr(ember, fn)(ember.tensor(1.0), dim=1)
    with pytest.raises(TypeError, match=f"{fn}: dim must be an int"):
        getattr(ember, fn)(ember.randn(2, 3), dim=1.0)


FLOAT_ONLY = {
    "sigmoid": lambda x: ember.sigmoid(x),
    "tanh": lambda x: x.tanh(),
    "leaky_relu": lambda x: ember.leaky_relu(x),
    "elu": lambda x: ember.elu(x),
    "selu": lambda x: ember.selu(x),
    "gelu": lambda x: ember.gelu(x),
    "silu": lambda x: ember.silu(x),
    "softplus": lambda x: ember.softplus(x),
    "hardtanh": lambda x: ember.hardtanh(x),
    "softmax": lambda x: ember.softmax(x, dim=0),
    "log_softmax": lambda x: ember.log_softmax(x, dim=0),
}


@pytest.mark.parametrize("name", list(FLOAT_ONLY))
def test_int_input_is_a_clear_type_error(name):
    with pytest.raises(TypeError, match=rf"^{name}: expected a floating-point tensor, got int64"):
        FLOAT_ONLY[name](ember.tensor([1, 2, 3]))


def test_softmax_dtype_casts_int_input():
    y = ember.softmax(ember.tensor([1, 2, 3]), dim=0, dtype=ember.float32)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy().sum(), 1.0, rtol=1e-6)


def test_relu_keeps_int_dtype():
    y = ember.relu(ember.tensor([-2, 0, 3]))
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), [0, 0, 3])


def test_gelu_bad_approximate():
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'tan'"):
        ember.gelu(ember.randn(3), approximate="tan")


def test_hardtanh_bounds_in_wrong_order():
    with pytest.raises(ValueError, match="hardtanh: min_val 1.0 is greater than max_val -1.0"):
        ember.hardtanh(ember.randn(3), 1.0, -1.0)


def test_selu_node_is_named_selu():
    y = ember.selu(ember.randn(3, requires_grad=True))
    assert y.grad_fn.name == "selu"


# ---- erf and erfc: accurate, vectorized, any shape ---------------------------------------------

def _relative_error(got, want):
    return np.abs(got - want) / np.maximum(np.abs(want), np.finfo(np.float64).tiny)


def _erf_grid():
    rng = np.random.default_rng(0)
    joins = np.array([0.5, 0.75, -0.5, -0.75])  # where the Taylor and Chebyshev forms meet
    return np.concatenate([
        np.linspace(-6.0, 6.0, 120_001),
        rng.uniform(-1.0, 1.0, 20_000),
        joins, np.nextafter(joins, 0.0), np.nextafter(joins, 2 * joins),
        10.0 ** rng.uniform(-310, 0, 2_000) * rng.choice([-1.0, 1.0], 2_000),
    ])


def test_erf_matches_math_erf():
    x = _erf_grid()
    want = np.array([math.erf(v) for v in x])
    err = _relative_error(activation._erf(x), want)
    assert err.max() < 1e-15, f"erf: relative error {err.max():.3g} at x = {x[err.argmax()]!r}"


def test_erfc_matches_math_erfc():
    x = np.concatenate([_erf_grid(), np.linspace(6.0, 26.5, 20_001)])
    want = np.array([math.erfc(v) for v in x])
    normal = want > np.finfo(np.float64).tiny  # below it erfc is subnormal: relative error is moot
    err = _relative_error(activation._erfc(x), want)[normal]
    worst = x[normal][err.argmax()]
    assert err.max() < 1e-15, f"erfc: relative error {err.max():.3g} at x = {worst!r}"


def test_erf_matches_torch_erf():
    if torch is None:
        pytest.skip("torch is not installed")
    x = np.linspace(-8.0, 8.0, 50_001)
    np.testing.assert_allclose(activation._erf(x), torch.erf(torch.tensor(x)).numpy(),
                               rtol=1e-15, atol=1e-300)
    x32 = x.astype(np.float32)
    got = activation._erf(x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, torch.erf(torch.tensor(x32)).numpy(), rtol=2e-7, atol=1e-37)


def test_erf_special_values_and_shapes():
    erf, erfc = activation._erf, activation._erfc
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 30.0, -30.0, 1e300])
    np.testing.assert_array_equal(erf(x), [1.0, -1.0, np.nan, 0.0, -0.0, 1.0, -1.0, 1.0])
    assert np.signbit(erf(x)[4])
    np.testing.assert_array_equal(erfc(x), [0.0, 2.0, np.nan, 1.0, 1.0, 0.0, 2.0, 0.0])
    assert erf(np.array(0.3)).shape == () and erf(np.zeros((0, 3))).shape == (0, 3)
    assert erf(np.ones((2, 1, 3), dtype=np.float16)).dtype == np.float16
    np.testing.assert_array_equal(erf(np.array([[0.1, 2.0], [-3.0, 0.7]])),
                                  [[math.erf(0.1), math.erf(2.0)], [math.erf(-3.0), math.erf(0.7)]])


def test_erfc_chebyshev_coefficients_rederive():
    """The constants in activation._ERFC_CHEB are the Chebyshev coefficients of
    h(s) = (x + 1) e^(x^2) erfc(x), x = 3 / (1 - s) - 1, by interpolation at 80 nodes."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        m = 80
        nodes = [mp.cos(mp.pi * (j + mp.mpf(1) / 2) / m) for j in range(m)]
        xs = [3 / (1 - s) - 1 for s in nodes]
        h = [(x + 1) * mp.exp(x * x) * mp.erfc(x) for x in xs]
        coef = [2 * mp.fsum(v * mp.cos(mp.pi * n * (j + mp.mpf(1) / 2) / m)
                            for j, v in enumerate(h)) / m
                for n in range(len(activation._ERFC_CHEB))]
        coef[0] /= 2
    np.testing.assert_allclose(activation._ERFC_CHEB, [float(c) for c in coef], rtol=1e-15,
                               atol=0)
