"""Conv1d, Conv2d, ConvTranspose1d and ConvTranspose2d against PyTorch on the same weights: outputs, input and
parameter gradients, parameter names and shapes, printed form, init bounds and errors."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn

torch = pytest.importorskip("torch")

LAYERS = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("Conv1d", (4, 6, 2), dict(stride=2, padding=1, groups=2, bias=False), (2, 4, 9)),
    ("Conv1d", (2, 4, 3), dict(padding="same", dilation=2), (1, 2, 7)),
    ("Conv1d", (2, 3, 3), dict(padding=2, padding_mode="reflect"), (2, 2, 6)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 6, 6)),
    ("Conv2d", (3, 4, (2, 3)), dict(stride=(2, 1), padding=(1, 0)), (2, 3, 7, 6)),
    ("Conv2d", (4, 4, 3), dict(groups=4, padding=1, bias=False), (2, 4, 5, 5)),
    ("Conv2d", (2, 4, 3), dict(padding="same", dilation=2), (1, 2, 7, 6)),
    ("Conv2d", (2, 3, 2), dict(padding="valid"), (2, 2, 4, 4)),
    ("Conv2d", (2, 3, 3), dict(padding=1, padding_mode="replicate"), (2, 2, 5, 4)),
    ("Conv2d", (2, 3, 3), dict(padding=(1, 2), padding_mode="circular"), (2, 2, 5, 4)),
    ("Conv2d", (2, 3, 3), dict(padding=1, padding_mode="reflect"), (2, 5, 4)),  # unbatched
    ("ConvTranspose2d", (3, 4, 3), {}, (2, 3, 4, 4)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 3, 4)),
    ("ConvTranspose2d", (2, 3, (2, 3)), dict(stride=(1, 2), dilation=2, bias=False),
     (1, 2, 3, 3)),
    ("ConvTranspose1d", (3, 4, 3), {}, (2, 3, 5)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 6)),
    ("ConvTranspose1d", (2, 3, 2), dict(stride=3, dilation=2, bias=False), (2, 4)),  # unbatched
]


def _pair(name, args, kwargs, x_shape):
    t_mod = getattr(torch.nn, name)(*args, **kwargs).double()
    e_mod = getattr(nn, name)(*args, **kwargs, dtype=ember.float64)
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                           for k, v in t_mod.state_dict().items()})
    return e_mod, t_mod


@pytest.mark.parametrize("name,args,kwargs,x_shape", LAYERS,
                         ids=[f"{n}{a}{k}" for n, a, k, _ in LAYERS])
def test_conv_layers_match_torch(name, args, kwargs, x_shape):
    e_mod, t_mod = _pair(name, args, kwargs, x_shape)
    assert repr(e_mod) == repr(t_mod)
    assert [(k, tuple(v.shape)) for k, v in e_mod.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t_mod.state_dict().items()]
    x = np.random.default_rng(0).standard_normal(x_shape)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = e_mod(ex), t_mod(tx)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (n, p), (_, tp) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=n)


def test_conv_transpose2d_output_size():
    e_mod, t_mod = _pair("ConvTranspose2d", (2, 3, 3), dict(stride=3, padding=1), (1, 2, 3, 3))
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3))
    ey = e_mod(ember.tensor(x), output_size=(8, 9))
    ty = t_mod(torch.tensor(x), output_size=[1, 3, 8, 9])
    assert ey.shape == (1, 3, 8, 9)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="ConvTranspose2d: requested an output size"):
        e_mod(ember.tensor(x), output_size=(12, 9))
    e1, t1 = _pair("ConvTranspose1d", (2, 3, 3), dict(stride=3, padding=1), (1, 2, 4))
    x1 = np.random.default_rng(3).standard_normal((1, 2, 4))
    np.testing.assert_allclose(e1(ember.tensor(x1), output_size=[11]).detach().numpy(),
                               t1(torch.tensor(x1), output_size=[11]).detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="ConvTranspose1d: requested an output size"):
        e1(ember.tensor(x1), output_size=(13,))
    assert not isinstance(e1, nn.ConvTranspose2d)


@pytest.mark.parametrize("name,args,kwargs", [
    ("Conv1d", (3, 8, 5), {}), ("Conv2d", (4, 6, 3), dict(groups=2)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(groups=2)),
])
def test_default_init_bounds(name, args, kwargs):
    """kaiming_uniform(a=sqrt(5)) gives W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); b the same."""
    ember.manual_seed(0)
    m = getattr(nn, name)(*args, **kwargs)
    fan_in = m.weight.shape[1] * math.prod(m.kernel_size)
    bound = 1 / math.sqrt(fan_in)
    for p in (m.weight, m.bias):
        v = p.detach().numpy()
        assert v.dtype == np.float32
        assert np.all(np.abs(v) <= bound) and np.abs(v).max() > 0.5 * bound


@pytest.mark.parametrize("call,match", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"Conv2d: in_channels=3 must be divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), r"Conv2d: out_channels=3 must be divisible"),
    (lambda: nn.Conv2d(4, 4, 3, stride=2, padding="same"), r"Conv2d: padding='same' is not"),
    (lambda: nn.Conv2d(4, 4, 3, padding="full"), r"Conv2d: padding must be an int"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), r"Conv2d: padding_mode must be one of"),
    (lambda: nn.Conv1d(4, 4, (3, 3)), r"Conv1d: kernel_size must be an int or a tuple of 1"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
     r'ConvTranspose2d: only "zeros" padding_mode'),
])
def test_layer_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_input_channels_names_the_op():
    with pytest.raises(RuntimeError, match=r"conv2d: input of shape \(2, 5, 6, 6\) has 5"):
        nn.Conv2d(3, 4, 3)(ember.randn(2, 5, 6, 6))
