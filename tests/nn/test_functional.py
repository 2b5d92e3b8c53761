"""ember.nn.functional: the activations composed from ops (harness: gradcheck, parity with
torch in float32/float64 with gradients, double backward), dropout, one_hot, normalize, and the
names shared with torch.nn.functional."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from harness import Case, op_tests

torch = pytest.importorskip("torch")

SHAPES = [((4, 3),), ((2, 3, 2),), ((),), ((0, 3),)]

CASES = [
    Case("relu6", lambda m, x: m.nn.functional.relu6(x * 4), SHAPES),
    # alpha = 0.5: with 0.7, torch's float64 gradient is off by ~3e-8 (a float32 1/alpha)
    Case("celu", lambda m, x: m.nn.functional.celu(x, 0.5), SHAPES),
    Case("mish", lambda m, x: m.nn.functional.mish(x), SHAPES, domain=(-5.0, 5.0)),
    # torch's hardsigmoid backward scales by a float32 1/6 (3e-8 off in float64) and has no
    # second derivative
    Case("hardsigmoid", lambda m, x: m.nn.functional.hardsigmoid(x), SHAPES, domain=(-4.0, 4.0),
         double=False, tol={np.float32: dict(rtol=1e-4, atol=1e-5),
                            np.float64: dict(rtol=1e-7, atol=1e-10)}),
    Case("hardswish", lambda m, x: m.nn.functional.hardswish(x), SHAPES, domain=(-4.0, 4.0)),
    Case("logsigmoid", lambda m, x: m.nn.functional.logsigmoid(x), SHAPES, domain=(-30.0, 30.0)),
    Case("softsign", lambda m, x: m.nn.functional.softsign(x), SHAPES),
    Case("tanhshrink", lambda m, x: m.nn.functional.tanhshrink(x), SHAPES),
    Case("threshold", lambda m, x: m.nn.functional.threshold(x, 0.3, -1.5), SHAPES),
    Case("hardshrink", lambda m, x: m.nn.functional.hardshrink(x, 0.7), SHAPES),
    Case("softshrink", lambda m, x: m.nn.functional.softshrink(x, 0.7), SHAPES),
    Case("leaky_relu", lambda m, x: m.nn.functional.leaky_relu(x, 0.2), SHAPES[:2]),
    Case("rrelu_eval", lambda m, x: m.nn.functional.rrelu(x, 0.1, 0.3), SHAPES[:2]),
    Case("glu", lambda m, x: m.nn.functional.glu(x), [((4, 6),), ((2,),)]),
    Case("glu_dim1", lambda m, x: m.nn.functional.glu(x, 1), [((2, 4, 3),)]),
    Case("softmin", lambda m, x: m.nn.functional.softmin(x, 1), [((4, 3),), ((2, 3, 2),)]),
    Case("prelu", lambda m, x, w: m.nn.functional.prelu(x, w),
         [((4, 3), (3,)), ((2, 3, 2), (1,)), ((5,), (1,)), ((2, 3, 2, 2), (3,))]),
    Case("normalize", lambda m, x: m.nn.functional.normalize(x), [((4, 3),), ((2, 3, 2),)]),
    Case("normalize_p1_dim0", lambda m, x: m.nn.functional.normalize(x, p=1.0, dim=0),
         [((4, 3),)]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


def test_logsigmoid_is_finite_at_extremes():
    x = np.array([-1000.0, -100.0, -20.5, 0.0, 20.5, 100.0, 1000.0], dtype=np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        e = F.logsigmoid(ex)
        e.sum().backward()
    t = torch.nn.functional.logsigmoid(tx)
    t.sum().backward()
    np.testing.assert_allclose(e.data, t.detach().numpy(), rtol=1e-6, atol=1e-40)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-40)


def test_functional_names_match_torch():
    """Every name ember.nn.functional offers is torch.nn.functional's, with its parameters."""
    import inspect
    for name in F.__all__:
        assert hasattr(torch.nn.functional, name), name
        try:
            want = list(inspect.signature(getattr(torch.nn.functional, name)).parameters)
        except ValueError:  # a C builtin: no signature to compare
            continue
        if want == ["args", "kwargs"]:  # a dispatch wrapper (max_pool1d/2d): nothing to compare
            continue
        got = [p for p in inspect.signature(getattr(F, name)).parameters if p[0] != "_"]
        want = [p for p in want if p[0] != "_" and p != "out"]
        assert got[:len(want)] == want, f"{name}: {got} vs torch {want}"


@pytest.mark.parametrize("fn", ["relu", "relu6", "elu", "selu", "silu", "mish", "hardswish",
                                "hardsigmoid", "hardtanh", "leaky_relu", "celu"])
def test_inplace_writes_into_a_tensor_outside_the_graph(fn):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    out = getattr(F, fn)(e, inplace=True)
    getattr(torch.nn.functional, fn)(t, inplace=True)
    assert out is e
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)
    # inside the graph the result is a new tensor and the input keeps its values
    leaf = ember.tensor(x, requires_grad=True)
    out = getattr(F, fn)(leaf, inplace=True)
    assert out is not leaf and np.array_equal(leaf.detach().numpy(), x)


# ---- dropout ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_statistics(dtype):
    ember.manual_seed(0)
    p = 0.3
    y = F.dropout(ember.ones(400, 250, dtype=dtype), p).numpy()
    assert y.dtype == dtype
    zero = y == 0
    assert abs(zero.mean() - p) < 0.006  # 4 sigma for 100,000 draws
    np.testing.assert_array_equal(y[~zero], dtype(1 / (1 - p)))  # inverted: kept ones scaled
    assert abs(y.mean() - 1) < 0.01  # the expectation is unchanged


def test_dropout_masks_follow_manual_seed():
    x = ember.ones(50, 40)
    ember.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    ember.manual_seed(7)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_gradient_is_mask_over_keep_probability():
    p = 0.25
    x = ember.tensor(np.random.default_rng(0).uniform(1, 2, (30, 20)), requires_grad=True)
    g = np.random.default_rng(1).standard_normal((30, 20))
    y = F.dropout(x, p)
    y.backward(ember.tensor(g))
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), g * kept / (1 - p), rtol=1e-15)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * kept / (1 - p),
                               rtol=1e-15)
    # double backward: the gradient is linear in the incoming gradient, constant in x
    x.grad = None
    (gx,) = ember.autograd.grad(F.dropout(x, p).sum(), x, create_graph=True)
    assert set(np.unique(gx.detach().numpy())) <= {0.0, 1 / (1 - p)}


def test_dropout_edge_cases():
    x = ember.randn(20, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()
    with pytest.raises(ValueError, match="dropout: probability has to be between 0 and 1, but "
                                         "got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(TypeError, match="dropout: expected a floating-point tensor"):
        F.dropout(ember.tensor([1, 2]), 0.5)
    empty = F.dropout(ember.zeros(0, 3), 0.5)
    assert empty.shape == (0, 3)


def test_dropout_inplace():
    ember.manual_seed(3)
    x = ember.ones(10, 10)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and (x.numpy() == 0).any()


# ---- one_hot, normalize -------------------------------------------------------------------------

@pytest.mark.parametrize("idx,n", [([0, 2, 1], -1), ([[0], [3]], 5), ([], 3), (4, 6)])
def test_one_hot_matches_torch(idx, n):
    e = F.one_hot(ember.tensor(np.array(idx, dtype=np.int64)), n)
    t = torch.nn.functional.one_hot(torch.tensor(np.array(idx, dtype=np.int64)), n)
    assert e.dtype == np.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.one_hot(ember.tensor([0.0, 1.0])), TypeError, "one_hot: expected an integer"),
    (lambda: F.one_hot(ember.tensor([0, 5]), 3), ValueError,
     "one_hot: class value 5 is not smaller than num_classes=3"),
    (lambda: F.one_hot(ember.tensor([0, -1])), ValueError, "one_hot: class values must be "
                                                           "non-negative"),
    (lambda: F.one_hot(ember.zeros(0, dtype=ember.int64)), ValueError,
     "one_hot: cannot infer the number of classes"),
    (lambda: F.glu(ember.randn(3, 5)), RuntimeError, "glu: the halved dim must have an even "
                                                     "size"),
    (lambda: F.prelu(ember.randn(2, 4), ember.ones(3)), ValueError,
     r"prelu: weight has 3 entries but the input of shape \(2, 4\) has 4 channels"),
    (lambda: F.softmin(ember.randn(2, 3)), TypeError, "softmax: pass dim="),
])
def test_functional_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_rrelu_training_slopes_are_seeded_and_in_range():
    x = ember.tensor(-np.ones((100, 10)))
    ember.manual_seed(1)
    a = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    ember.manual_seed(1)
    b = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert -a.min() <= 0.3 and -a.max() >= 0.1 and a.std() > 0.03
