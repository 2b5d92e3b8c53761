"""Embedding and F.embedding against PyTorch: lookups, weight gradients (repeated indices,
padding_idx, scale_grad_by_freq), max_norm renormalization, from_pretrained, gradients of
gradients, float64 gradcheck, init and errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck

torch = pytest.importorskip("torch")

IDX = np.array([[1, 2, 2, 0], [3, 1, 9, 2]])

OPTIONS = [{}, dict(padding_idx=2), dict(padding_idx=-1), dict(scale_grad_by_freq=True),
           dict(padding_idx=1, scale_grad_by_freq=True), dict(max_norm=1.0),
           dict(max_norm=1.5, norm_type=1.0, padding_idx=0)]


def _pair(**kwargs):
    ember.manual_seed(0)
    e = nn.Embedding(10, 3, dtype=ember.float64, **kwargs)
    t = torch.nn.Embedding(10, 3, **kwargs).double()
    t.load_state_dict({"weight": torch.tensor(e.weight.detach().numpy().copy())})
    return e, t


@pytest.mark.parametrize("kwargs", OPTIONS, ids=str)
@pytest.mark.parametrize("idx", [IDX, IDX[0], np.array(4)], ids=["2d", "1d", "0d"])
def test_embedding_matches_torch(kwargs, idx):
    e, t = _pair(**kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    ey, ty = e(ember.tensor(idx)), t(torch.tensor(idx))
    assert ey.shape == tuple(ty.shape)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    # max_norm renormalizes the table in place, as torch does
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(e.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-12)


def test_padding_row_is_zero_at_init_and_gets_no_gradient():
    ember.manual_seed(0)
    e = nn.Embedding(6, 4, padding_idx=3)
    assert e.weight.dtype == np.float32
    np.testing.assert_array_equal(e.weight.detach().numpy()[3], 0)
    e(ember.tensor(np.array([3, 3, 1]))).sum().backward()
    np.testing.assert_array_equal(e.weight.grad.numpy()[3], 0)
    np.testing.assert_array_equal(e.weight.grad.numpy()[1], 1)


def test_default_init_is_standard_normal():
    ember.manual_seed(0)
    w = nn.Embedding(2000, 50).weight.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_gradcheck():
    w = ember.tensor(np.random.default_rng(0).standard_normal((10, 3)), requires_grad=True)
    assert gradcheck(lambda w: F.embedding(ember.tensor(IDX), w), [w])


def _grad_of_grad(lib, w, u, v, **kwargs):
    """d/du of <dW, v> where dW is the weight gradient of <embedding(IDX, w), u>."""
    wt = lib.tensor(w.copy(), requires_grad=True)
    ut = lib.tensor(u.copy(), requires_grad=True)
    fe = F.embedding if lib is ember else torch.nn.functional.embedding
    (gw,) = lib.autograd.grad((fe(lib.tensor(IDX), wt, **kwargs) * ut).sum(), [wt],
                              create_graph=True)
    (gw * lib.tensor(v)).sum().backward()
    return ut.grad.detach().numpy()


@pytest.mark.parametrize("kwargs", [{}, dict(padding_idx=2)], ids=str)
def test_double_backward_matches_torch(kwargs):
    r = np.random.default_rng(0)
    w, u, v = r.standard_normal((10, 3)), r.standard_normal(IDX.shape + (3,)), \
        r.standard_normal((10, 3))
    np.testing.assert_allclose(_grad_of_grad(ember, w, u, v, **kwargs),
                               _grad_of_grad(torch, w, u, v, **kwargs), rtol=1e-12)


def test_double_backward_with_scale_grad_by_freq():
    """dW[r] = sum of g_i / count(r), so d<dW, v>/dg_i = v[idx_i] / count(idx_i) (torch's own
    double backward leaves the 1/count out)."""
    r = np.random.default_rng(0)
    w, u, v = r.standard_normal((10, 3)), r.standard_normal(IDX.shape + (3,)), \
        r.standard_normal((10, 3))
    counts = np.bincount(IDX.ravel(), minlength=10)
    expected = v[IDX] / counts[IDX][..., None]
    expected[IDX == 2] = 0
    np.testing.assert_allclose(_grad_of_grad(ember, w, u, v, padding_idx=2,
                                             scale_grad_by_freq=True), expected, rtol=1e-12)


@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained(freeze):
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    e = nn.Embedding.from_pretrained(ember.tensor(table), freeze=freeze, padding_idx=1)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=freeze, padding_idx=1)
    assert e.weight.requires_grad == t.weight.requires_grad == (not freeze)
    assert (e.num_embeddings, e.embedding_dim, e.padding_idx) == (4, 3, 1)
    assert repr(e) == repr(t)
    np.testing.assert_array_equal(e(ember.tensor(np.array([1, 3]))).detach().numpy(),
                                  table[[1, 3]])
    table[0, 0] = 100  # from_pretrained keeps a copy
    assert e.weight.detach().numpy()[0, 0] == 0


def test_functional_embedding_in_all():
    assert "embedding" in F.__all__


ERRORS = [
    (lambda: nn.Embedding(5, 2)(ember.tensor(np.array([0.0, 1.0]))), TypeError,
     "embedding: expected integer indices"),
    (lambda: nn.Embedding(5, 2)(ember.tensor(np.array([0, 5]))), IndexError,
     r"embedding: index 5 is out of range for a weight with 5 rows"),
    (lambda: nn.Embedding(5, 2)(ember.tensor(np.array([-1]))), IndexError,
     "embedding: index -1 is out of range"),
    (lambda: nn.Embedding(5, 2, sparse=True), NotImplementedError,
     "Embedding: sparse=True .sparse gradients. is not supported"),
    (lambda: nn.Embedding(5, 2, padding_idx=5), ValueError,
     "Embedding: padding_idx=5 must be within num_embeddings=5"),
    (lambda: nn.Embedding.from_pretrained(ember.tensor(np.ones(3))), ValueError,
     "Embedding.from_pretrained: embeddings must be 2-D"),
    (lambda: F.embedding(ember.tensor(np.array([0])), ember.tensor(np.ones(3))), RuntimeError,
     "embedding: weight must be a 2-D Tensor"),
    (lambda: F.embedding(ember.tensor(np.array([0])), ember.tensor(np.ones((3, 2))),
                         sparse=True), NotImplementedError, "embedding: sparse=True"),
]


@pytest.mark.parametrize("make,exc,match", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
