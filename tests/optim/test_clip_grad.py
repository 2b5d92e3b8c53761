"""ember.nn.utils.clip_grad_norm_ / clip_grad_value_ against PyTorch's."""
import math

import numpy as np
import pytest

import ember
from ember.nn.utils import clip_grad_norm_, clip_grad_value_

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), (), (2, 1, 3)]


def pair(dtype=np.float64, scale=1.0, none_at=(), seed=0):
    """The same parameters in both libraries, with gradients (None at positions none_at)."""
    rng = np.random.default_rng(seed)
    ep, tp = [], []
    for i, shape in enumerate(SHAPES):
        e = ember.tensor(np.zeros(shape, dtype), requires_grad=True)
        t = torch.zeros(shape, dtype=torch.from_numpy(np.zeros(0, dtype)).dtype,
                        requires_grad=True)
        if i not in none_at:
            g = (scale * rng.standard_normal(shape)).astype(dtype)
            e.grad = ember.tensor(g.copy())
            t.grad = torch.tensor(g.copy())
        ep.append(e)
        tp.append(t)
    return ep, tp


def assert_grads_equal(ep, tp, rtol):
    for e, t in zip(ep, tp):
        if t.grad is None:
            assert e.grad is None
        else:
            np.testing.assert_allclose(e.grad.data, t.grad.numpy(), rtol=rtol, atol=0)
            assert e.grad.dtype == t.grad.numpy().dtype


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, 0.5, math.inf, "inf", -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ep, tp = pair(none_at=(1,))
    e_total = clip_grad_norm_(ep, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert isinstance(e_total, ember.Tensor) and e_total.shape == ()
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-12)
    assert_grads_equal(ep, tp, rtol=1e-12)


def test_clip_grad_norm_float32_and_a_single_tensor():
    ep, tp = pair(np.float32, scale=10.0)
    e_total = clip_grad_norm_(ep, 1.0)
    t_total = torch.nn.utils.clip_grad_norm_(tp, 1.0)
    assert e_total.dtype == np.float32
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-6)
    assert_grads_equal(ep, tp, rtol=1e-6)
    e_total = clip_grad_norm_(ep[0], 0.1)                  # a tensor, not a list
    t_total = torch.nn.utils.clip_grad_norm_(tp[0], 0.1)
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-6)
    np.testing.assert_allclose(ep[0].grad.data, tp[0].grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_works_in_place_and_from_a_generator():
    model = ember.nn.Linear(3, 2)
    model(ember.randn(4, 3)).sum().backward()
    grads = [p.grad.data for p in model.parameters()]
    total = clip_grad_norm_(model.parameters(), 1e-3)
    assert total.item() > 1e-3
    assert all(p.grad.data is g for p, g in zip(model.parameters(), grads))
    after = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    assert after == pytest.approx(1e-3, rel=1e-3)


def test_clip_grad_norm_without_gradients_returns_zero():
    p = ember.tensor([1.0], requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    assert clip_grad_norm_([], 1.0).item() == 0.0


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_clip_grad_norm_non_finite(bad):
    ep, tp = pair()
    ep[0].grad.data[0, 0] = bad
    tp[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm .* non-finite"):
        clip_grad_norm_(ep, 1.0, error_if_nonfinite=True)
    e_total = clip_grad_norm_(ep, 1.0)
    t_total = torch.nn.utils.clip_grad_norm_(tp, 1.0)
    np.testing.assert_equal(e_total.item(), t_total.item())
    for e, t in zip(ep, tp):                                 # nan/0 just as torch leaves them
        np.testing.assert_array_equal(e.grad.data, t.grad.numpy())


@pytest.mark.parametrize("clip_value", [0.3, 2, 0.0])
def test_clip_grad_value_matches_torch(clip_value):
    ep, tp = pair(none_at=(2,))
    ep[0].grad.data[0, 0] = math.nan
    tp[0].grad[0, 0] = math.nan
    before = [e.grad.data if e.grad is not None else None for e in ep]
    assert clip_grad_value_(ep, clip_value) is None
    torch.nn.utils.clip_grad_value_(tp, clip_value)
    for e, t, b in zip(ep, tp, before):
        if t.grad is not None:
            np.testing.assert_array_equal(e.grad.data, t.grad.numpy())
            assert e.grad.data is b                          # in place


def test_clip_rejects_non_tensors():
    with pytest.raises(TypeError, match="clip_grad_norm_: expected tensors"):
        clip_grad_norm_([np.zeros(3)], 1.0)
    with pytest.raises(TypeError, match="clip_grad_value_: expected tensors"):
        clip_grad_value_([1.0], 1.0)
