"""Pooling and upsampling layers against PyTorch: printed form, outputs (and indices), input
gradients."""
import numpy as np
import pytest

import ember
import ember.nn as nn

torch = pytest.importorskip("torch")

LAYERS = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3, 2, 1), {}),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "dilation": (1, 2), "ceil_mode": True}),
    ("MaxPool2d", (2,), {"return_indices": True}),
    ("MaxPool1d", (3,), {}),
    ("MaxPool1d", (3, 2, 1), {"dilation": 2, "ceil_mode": True, "return_indices": True}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 1, 1), {"count_include_pad": False}),
    ("AvgPool2d", ((3, 2), (2, 1), (1, 0)), {"ceil_mode": True}),
    ("AvgPool2d", (2,), {"divisor_override": 3}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool2d", ((3, None),), {}),
    ("AdaptiveAvgPool2d", ((4, 3),), {}),
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"scale_factor": (2, 3), "mode": "nearest"}),
    ("Upsample", ((5, 9),), {}),
    ("Upsample", (), {"size": 4}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS,
                         ids=[f"{n}{a}{k}".replace(" ", "") for n, a, k in LAYERS])
def test_pool_layers_match_torch(name, args, kwargs):
    e_mod, t_mod = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict()) == []
    shape = (2, 3, 10) if name == "MaxPool1d" else (2, 3, 7, 8)
    x = np.random.default_rng(0).standard_normal(shape)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = e_mod(ex), t_mod(tx)
    if kwargs.get("return_indices"):
        (ey, ei), (ty, ti) = ey, ty
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    assert ey.shape == tuple(ty.shape) and ey.dtype == np.float64
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(ty.shape)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_pool_layers_float32_and_3d_input():
    x = np.random.default_rng(2).standard_normal((3, 8, 8)).astype(np.float32)
    for e_mod, t_mod in [(nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
                         (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
                         (nn.AdaptiveAvgPool2d(3), torch.nn.AdaptiveAvgPool2d(3)),
                         (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2))]:
        ey, ty = e_mod(ember.tensor(x[None])), t_mod(torch.tensor(x[None]))
        assert ey.dtype == np.float32
        np.testing.assert_allclose(ey.numpy(), ty.numpy(), rtol=1e-6, atol=1e-6)
        if not isinstance(e_mod, nn.Upsample):  # torch's Upsample wants a batch dim
            np.testing.assert_allclose(e_mod(ember.tensor(x)).numpy(),
                                       t_mod(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)


def test_pool_layers_in_a_sequential_cnn_head():
    model = nn.Sequential(nn.MaxPool2d(2), nn.Upsample(scale_factor=2), nn.AvgPool2d(2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
    x = ember.randn(4, 3, 8, 8, requires_grad=True)
    y = model(x)
    assert y.shape == (4, 3)
    y.sum().backward()
    assert x.grad.shape == x.shape
    assert "MaxPool2d(kernel_size=2, stride=2" in repr(model)
