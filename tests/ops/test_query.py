"""allclose, isclose, equal, nonzero, argsort, count_nonzero, numel, is_tensor, narrow, unbind,
masked_select, Tensor.where and inference_mode, against PyTorch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def pair(shape=(3, 4), dtype=np.float32):
    a = RNG.standard_normal(shape).astype(dtype)
    return ember.tensor(a), torch.tensor(a)


def check(e, t):
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")


def test_closeness_and_equality():
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    b = a + np.float32(1e-6) * RNG.standard_normal((3, 4)).astype(np.float32)
    b[0, 0] = np.nan
    for x, y in ((a, a), (a, b), (a, a + 1e-3), (a, a[0])):
        ex, ey, tx, ty = ember.tensor(x), ember.tensor(y), torch.tensor(x), torch.tensor(y)
        for kw in ({}, {"rtol": 1e-3, "atol": 1e-3}, {"equal_nan": True}):
            assert ember.allclose(ex, ey, **kw) == torch.allclose(tx, ty, **kw)
            check(ember.isclose(ex, ey, **kw), torch.isclose(tx, ty, **kw))
            assert ex.allclose(ey, **kw) == tx.allclose(ty, **kw)
        if x.shape == y.shape:
            assert ember.equal(ex, ey) == torch.equal(tx, ty)
    assert not ember.equal(ember.ones(2), ember.ones(3))
    with pytest.raises(TypeError, match="allclose: expected two Tensors"):
        ember.allclose(ember.ones(2), np.ones(2))


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0, 3)])
def test_nonzero_argsort_count_nonzero(shape):
    a = RNG.integers(-1, 2, shape).astype(np.float32)
    e, t = ember.tensor(a), torch.tensor(a)
    check(e.nonzero(), t.nonzero())
    check(ember.nonzero(e), torch.nonzero(t))
    for got, want in zip(ember.nonzero(e, as_tuple=True), torch.nonzero(t, as_tuple=True)):
        check(got, want)
    check(ember.count_nonzero(e), torch.count_nonzero(t))
    if len(shape) >= 1 and 0 not in shape:
        for desc in (False, True):
            check(e.argsort(descending=desc, stable=True), t.argsort(descending=desc, stable=True))
            check(ember.argsort(e, dim=0, stable=True), torch.argsort(t, dim=0, stable=True))
        check(ember.count_nonzero(e, dim=-1), torch.count_nonzero(t, dim=-1))
    assert ember.numel(e) == torch.numel(t) == e.nelement()
    assert e.ndimension() == t.ndimension()
    assert ember.is_tensor(e) and not ember.is_tensor(a)


def views(m, x, mask):
    """narrow, unbind, masked_select and Tensor.where, summed with weights so every element's
    gradient is distinct."""
    n = x.narrow(1, 1, 2) * 2 + m.narrow(x, 0, -2, 2).narrow(1, 0, 2).sum()
    parts = x.unbind(1)
    picked = m.masked_select(x, mask)
    w = x.where(mask, x * 3)
    return (n.sum() + sum((k + 1) * p.sum() for k, p in enumerate(parts)) + picked.pow(2).sum()
            + (w * w).sum())


def test_narrow_unbind_masked_select_where_match_torch_with_gradients():
    a = RNG.standard_normal((3, 4)).astype(np.float64)
    mask = RNG.random(4) > 0.4
    got = {}
    for m in (ember, torch):
        x = m.tensor(a, requires_grad=True)
        y = views(m, x, m.tensor(mask))
        y.backward()
        got[m.__name__] = (y.item(), x.grad.numpy())
    np.testing.assert_allclose(got["ember"][0], got["torch"][0], rtol=1e-12)
    np.testing.assert_allclose(got["ember"][1], got["torch"][1], rtol=1e-12)
    assert [p.shape for p in ember.ones(2, 3).unbind()] == [(3,), (3,)]


def test_selection_errors_name_the_op():
    x = ember.ones(3, 4)
    with pytest.raises(IndexError, match="narrow: start 3 and length 2 do not fit in dim 0"):
        x.narrow(0, 3, 2)
    with pytest.raises(TypeError, match="masked_select: input must be a Tensor"):
        ember.masked_select(np.ones(4), ember.ones(4) > 0)
    with pytest.raises(TypeError, match="masked_select: mask must be a bool Tensor"):
        ember.masked_select(x, ember.ones(4))
    with pytest.raises(ValueError, match="masked_select"):
        ember.masked_select(x, ember.ones(5) > 0)


def test_inference_mode_is_no_grad():
    x = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        assert not (x * 2).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad
    with ember.no_grad(), ember.inference_mode(False):
        assert not (x * 2).requires_grad  # False leaves the mode as it is

    @ember.inference_mode
    def bare():
        return (x * 2).requires_grad

    @ember.inference_mode()
    def called():
        return (x * 2).requires_grad

    assert not bare() and not called() and (x * 2).requires_grad
