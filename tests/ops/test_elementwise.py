"""Elementwise ops: gradcheck, PyTorch parity (values, dtypes, gradients), second derivatives."""
from harness import Case, op_tests

BROADCAST = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((4, 1, 3), (2, 1)),
             ((1,), ()), ((0, 3), (3,))]
UNARY = [((),), ((5,),), ((2, 3),), ((1, 4, 1),), ((0, 2),)]

CASES = [
    Case("add", lambda m, a, b: a + b, BROADCAST),
    Case("sub", lambda m, a, b: a - b, BROADCAST),
    Case("mul", lambda m, a, b: a * b, BROADCAST),
    Case("div", lambda m, a, b: a / b, BROADCAST, domain=(0.5, 2.0)),
    Case("pow_tensor", lambda m, a, b: a ** b, BROADCAST, domain=(0.5, 2.0)),
    Case("pow_scalar", lambda m, a: a ** 3, UNARY),
    Case("pow_half", lambda m, a: a ** 0.5, UNARY, domain=(0.5, 2.0)),
    Case("square", lambda m, a: a ** 2, UNARY),
    Case("rpow", lambda m, a: 2.0 ** a, UNARY),
    Case("radd_rsub_rmul_rdiv", lambda m, a: (1.5 - a) * 2.0 + 3.0 / (a + 3.0), UNARY),
    Case("neg", lambda m, a: -a, UNARY),
    Case("abs", lambda m, a: a.abs(), UNARY),
    Case("exp", lambda m, a: a.exp(), UNARY),
    Case("log", lambda m, a: a.log(), UNARY, domain=(0.1, 3.0)),
    Case("log1p", lambda m, a: a.log1p(), UNARY, domain=(-0.5, 3.0)),
    Case("sqrt", lambda m, a: a.sqrt(), UNARY, domain=(0.1, 3.0)),
    Case("rsqrt", lambda m, a: a.rsqrt(), UNARY, domain=(0.1, 3.0)),
    Case("sin", lambda m, a: a.sin(), UNARY),
    Case("cos", lambda m, a: a.cos(), UNARY),
    Case("maximum", lambda m, a, b: m.maximum(a, b), BROADCAST),
    Case("minimum", lambda m, a, b: m.minimum(a, b), BROADCAST),
    Case("clamp", lambda m, a: a.clamp(-0.5, 0.7), UNARY),
    Case("clamp_min", lambda m, a: a.clamp(min=0.1), UNARY),
    Case("where", lambda m, c, a, b: m.where(c, a, b),
         [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((2, 3), (), (2, 3))], bools=(0,)),
    # a cast to float64 (in the float32 parity run): the gradient is cast back
    Case("to_float64", lambda m, a: a.to(m.float64) * a, UNARY),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


# ---- hypothesis: any pair of broadcastable shapes, every binary op ---------------------------
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import ember  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
          "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b)}


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("op", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_broadcast_shapes_against_torch(op, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(0.5, 2.0, s) for s in shapes.input_shapes)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    eo, to = BINARY[op](ea, eb), BINARY[op](ta, tb)
    assert eo.shape == tuple(to.shape) == shapes.result_shape
    np.testing.assert_allclose(eo.data, to.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(to.shape)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    for e, t in ((ea, ta), (eb, tb)):
        assert e.grad.shape == e.shape
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stability_at_extremes_matches_torch(dtype):
    if torch is None:
        pytest.skip("torch is not installed")
    x = np.array([-1000.0, -300.0, -1.0, 0.0, 1.0, 300.0, 1000.0], dtype=dtype)
    pos = np.array([0.0, 1e-300 if dtype == np.float64 else 1e-38, 1.0, 300.0, 1e30], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no warning may escape
        cases = [(lambda m, t: t.exp(), x), (lambda m, t: t.log(), pos),
                 (lambda m, t: t.sqrt(), pos), (lambda m, t: t.log1p(), pos),
                 (lambda m, t: t.abs(), x), (lambda m, t: t.clamp(-5, 5), x)]
        for fn, data in cases:
            e, t = fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data))
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


def test_bad_operands_give_clear_errors():
    with pytest.raises(TypeError, match="mul: expected a Tensor or a number, got str"):
        ember.ones(2) * "a"
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        ember.where(ember.ones(2), ember.ones(2), ember.zeros(2))
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        ember.ones(2).clamp()
