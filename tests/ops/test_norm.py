"""Normalization ops: gradcheck, PyTorch parity (values, dtypes, gradients) and second derivatives
for batch_norm (training and eval), layer_norm and group_norm; the running-stat update; dropout2d;
the errors bad shapes give."""
import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from harness import Case, TOL, op_tests, torch

if torch is not None:
    import torch.nn.functional as TF


def F(m):
    return EF if m is ember else TF


def bn_inputs(rng, shapes, dtype):
    """x, w, b uniform in [-2, 2]; running mean in [-1, 1] and running var in [0.5, 2]."""
    x, w, b, rm, rv = shapes
    u = lambda s, lo, hi: rng.uniform(lo, hi, s).astype(dtype)
    return [u(x, -2, 2), u(w, -2, 2), u(b, -2, 2), u(rm, -1, 1), u(rv, 0.5, 2)]


def bn_shapes(c, *xs):
    return [(x, (c,), (c,), (c,), (c,)) for x in xs]


BN_SHAPES = bn_shapes(3, (4, 3), (3, 3, 5)) + bn_shapes(2, (3, 2, 4, 5), (2, 2, 1, 3))

CASES = [
    Case("batch_norm_train", lambda m, x, w, b, rm, rv: F(m).batch_norm(
        x, rm, rv, w, b, training=True), BN_SHAPES, make=bn_inputs, constant=(3, 4)),
    Case("batch_norm_train_momentum0.3_eps1e-3", lambda m, x, w, b, rm, rv: F(m).batch_norm(
        x, rm, rv, w, b, True, 0.3, 1e-3), bn_shapes(3, (5, 3, 2)), make=bn_inputs,
        constant=(3, 4)),
    Case("batch_norm_train_no_stats_no_affine", lambda m, x: F(m).batch_norm(
        x, None, None, training=True), [((4, 3),), ((2, 3, 2, 2),)]),
    Case("batch_norm_train_weight_only", lambda m, x, w: F(m).batch_norm(
        x, None, None, w, training=True), [((4, 3, 2), (3,))]),
    Case("batch_norm_eval", lambda m, x, w, b, rm, rv: F(m).batch_norm(
        x, rm, rv, w, b, training=False), BN_SHAPES, make=bn_inputs, constant=(3, 4)),
    Case("batch_norm_eval_no_affine", lambda m, x, w, b, rm, rv: F(m).batch_norm(
        x, rm, rv), bn_shapes(3, (4, 3, 2)), make=bn_inputs, constant=(1, 2, 3, 4)),
    Case("layer_norm_last1", lambda m, x, w, b: F(m).layer_norm(x, x.shape[-1:], w, b),
         [((4, 5), (5,), (5,)), ((2, 3, 4), (4,), (4,)), ((6,), (6,), (6,))]),
    Case("layer_norm_last2", lambda m, x, w, b: F(m).layer_norm(x, x.shape[-2:], w, b, 1e-3),
         [((2, 3, 4), (3, 4), (3, 4)), ((2, 2, 3, 2), (3, 2), (3, 2))]),
    Case("layer_norm_no_affine", lambda m, x: F(m).layer_norm(x, (x.shape[-1],)),
         [((3, 5),), ((2, 3, 4),)]),
    Case("layer_norm_weight_only", lambda m, x, w: F(m).layer_norm(x, (4,), w),
         [((3, 4), (4,))]),
    Case("group_norm", lambda m, x, w, b: F(m).group_norm(x, 2, w, b),
         [((2, 4, 3), (4,), (4,)), ((3, 6, 2, 2), (6,), (6,)), ((2, 4), (4,), (4,))]),
    Case("group_norm_one_group_no_affine", lambda m, x: F(m).group_norm(x, 1),
         [((2, 3, 4),)]),
    Case("group_norm_per_channel", lambda m, x, w, b: F(m).group_norm(x, 3, w, b, 1e-3),
         [((2, 3, 2, 3), (3,), (3,))]),
    Case("batch_norm_then_square", lambda m, x, w, b: (F(m).batch_norm(
        x, None, None, w, b, training=True) ** 2).sum(1), [((5, 3, 2), (3,), (3,))]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


# ---- running statistics -----------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_running_stats_update(shape, momentum, dtype):
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(0)
    e_rm, e_rv = ember.tensor(rng.uniform(-1, 1, 3).astype(dtype)), ember.ones(3, dtype=dtype)
    t_rm, t_rv = torch.tensor(e_rm.numpy().copy()), torch.ones(3, dtype=getattr(torch, str(
        np.dtype(dtype))))
    for step in range(3):
        x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
        EF.batch_norm(ember.tensor(x), e_rm, e_rv, training=True, momentum=momentum)
        TF.batch_norm(torch.tensor(x), t_rm, t_rv, training=True, momentum=momentum)
    np.testing.assert_allclose(e_rm.numpy(), t_rm.numpy(), **TOL[dtype])
    np.testing.assert_allclose(e_rv.numpy(), t_rv.numpy(), **TOL[dtype])


def test_first_derivative_is_the_same_with_and_without_create_graph():
    """backward has a create_graph branch (xhat rebuilt in ember ops): both give one gradient."""
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    w, b = (ember.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
    lw = ember.tensor(rng.standard_normal(2), requires_grad=True)
    v = ember.tensor(rng.standard_normal((4, 3, 2)))
    calls = [lambda: EF.batch_norm(x, None, None, w, b, training=True),
             lambda: EF.batch_norm(x, ember.zeros(3, dtype=ember.float64),
                                   ember.ones(3, dtype=ember.float64) * 2, w, b),
             lambda: EF.layer_norm(x, (2,), lw, lw * 0.5)]
    for call in calls:
        inputs = [x, w, b] if call is not calls[2] else [x, lw]
        plain = ember.autograd.grad((call() * v).sum(), inputs)
        graph = ember.autograd.grad((call() * v).sum(), inputs, create_graph=True)
        for p, g in zip(plain, graph):
            np.testing.assert_allclose(p.numpy(), g.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_running_stats_bump_version():
    rm, rv = ember.zeros(3), ember.ones(3)
    v = rm._version[0]
    EF.batch_norm(ember.randn(4, 3), rm, rv, training=True)
    assert rm._version[0] == v + 1
    EF.batch_norm(ember.randn(4, 3), rm, rv, training=False)
    assert rm._version[0] == v + 1


def test_eval_does_not_touch_running_stats():
    rm, rv = ember.tensor([0.5, -0.5]), ember.tensor([2.0, 3.0])
    EF.batch_norm(ember.randn(4, 2), rm, rv, training=False)
    assert rm.tolist() == [0.5, -0.5] and rv.tolist() == [2.0, 3.0]


def test_float32_input_keeps_dtype_with_float64_stats_update():
    x = ember.randn(8, 3)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    y = EF.batch_norm(x, rm, rv, training=True)
    assert y.dtype == np.float32 and rm.dtype == np.float64


def test_batch_norm_output_is_normalized():
    x = ember.randn(64, 4, 3) * 5 + 3
    y = EF.batch_norm(x, None, None, training=True).numpy()
    np.testing.assert_allclose(y.mean((0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var((0, 2)), 1, atol=1e-3)


# ---- dropout2d --------------------------------------------------------------------------------
def test_dropout2d_drops_whole_channels():
    ember.manual_seed(0)
    x = ember.ones(8, 16, 3, 3, requires_grad=True)
    y = EF.dropout2d(x, 0.5)
    planes = y.detach().numpy().reshape(8, 16, 9)
    assert np.all((planes == 0).all(-1) | (planes == 2).all(-1))
    kept = (planes[..., 0] == 2).mean()
    assert 0.3 < kept < 0.7
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_dropout2d_seeded_eval_and_extremes():
    ember.manual_seed(3)
    a = EF.dropout2d(ember.ones(2, 4, 2, 2), 0.3).numpy()
    ember.manual_seed(3)
    b = EF.dropout2d(ember.ones(2, 4, 2, 2), 0.3).numpy()
    np.testing.assert_array_equal(a, b)
    x = ember.randn(2, 3, 4, 4)
    assert EF.dropout2d(x, 0.5, training=False) is x
    assert not EF.dropout2d(x, 1.0).numpy().any()
    rows = EF.dropout2d(ember.ones(5, 3, 4), 0.5).numpy()  # 3-D is (N, C, L), as in torch 2.x
    assert np.all((rows == 0).all(-1) | (rows == 2).all(-1))
    assert rows[:, :, 0].std() > 0


def test_dropout2d_errors():
    with pytest.raises(ValueError, match="dropout2d: probability"):
        EF.dropout2d(ember.ones(1, 2, 2, 2), 1.5)
    with pytest.raises(ValueError, match="dropout2d: expected a 3-D .* got shape \\(2, 2\\)"):
        EF.dropout2d(ember.ones(2, 2), 0.5)


# ---- errors -----------------------------------------------------------------------------------
def test_batch_norm_errors():
    x = ember.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="batch_norm: running_mean has shape \\(4,\\), "
                                           "expected \\(3,\\)"):
        EF.batch_norm(x, ember.zeros(4), ember.ones(4), training=True)
    with pytest.raises(RuntimeError, match="batch_norm: weight has shape \\(2,\\)"):
        EF.batch_norm(x, None, None, ember.ones(2), training=True)
    with pytest.raises(RuntimeError, match="batch_norm: running_mean and running_var must be"):
        EF.batch_norm(x, None, None)
    with pytest.raises(TypeError, match="batch_norm: momentum must be a float"):
        EF.batch_norm(x, ember.zeros(3), ember.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match="batch_norm: expected more than 1 value per channel"):
        EF.batch_norm(ember.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm: expected an input with at least 2 dims"):
        EF.batch_norm(ember.randn(3), None, None, training=True)
    with pytest.raises(TypeError, match="batch_norm: expected a floating-point tensor"):
        EF.batch_norm(ember.tensor([[1, 2], [3, 4]]), None, None, training=True)


def test_layer_and_group_norm_errors():
    x = ember.randn(2, 6, 4)
    with pytest.raises(RuntimeError, match="layer_norm: normalized_shape \\(6,\\) does not "
                                           "match the last dims of the input of shape"):
        EF.layer_norm(x, (6,))
    with pytest.raises(RuntimeError, match="layer_norm: weight has shape \\(5,\\)"):
        EF.layer_norm(x, (4,), ember.ones(5))
    with pytest.raises(ValueError, match="group_norm: the 6 channels .* cannot be split into 4"):
        EF.group_norm(x, 4)
    with pytest.raises(RuntimeError, match="group_norm: bias has shape \\(3,\\)"):
        EF.group_norm(x, 3, None, ember.zeros(3))
