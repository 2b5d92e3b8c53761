"""weight_norm / remove_weight_norm, spectral_norm / remove_spectral_norm, parameters_to_vector /
vector_to_parameters, and the inits trunc_normal_, eye_, dirac_, against PyTorch."""
import numpy as np
import pytest

import ember
from ember.nn import init
from ember.nn.utils import (parameters_to_vector, remove_spectral_norm, remove_weight_norm,
                            spectral_norm, vector_to_parameters, weight_norm)

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")

RNG = np.random.default_rng(0)


def linear_pair(w, b):
    e = ember.nn.Linear(*w.shape[::-1]).to(ember.float64)
    e.load_state_dict({"weight": w, "bias": b})
    t = torch.nn.Linear(*w.shape[::-1]).double()
    t.load_state_dict({"weight": torch.tensor(w), "bias": torch.tensor(b)})
    return e, t


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch_and_comes_off(dim):
    w, b, x = RNG.standard_normal((3, 4)), RNG.standard_normal(3), RNG.standard_normal((5, 4))
    e, t = linear_pair(w, b)
    weight_norm(e, dim=dim)
    torch.nn.utils.weight_norm(t, dim=dim)
    assert list(e.state_dict()) == list(t.state_dict())
    for step in range(2):  # the weight is recomputed before each forward
        ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
        (ye ** 2).sum().backward()
        (yt ** 2).sum().backward()
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        for name in ("weight_g", "weight_v", "bias"):
            np.testing.assert_allclose(getattr(e, name).grad.numpy(),
                                       getattr(t, name).grad.numpy(), rtol=1e-10, atol=1e-12)
        with ember.no_grad(), torch.no_grad():  # move g so the next forward must recompute
            e.weight_g.mul_(1.5)
            t.weight_g.mul_(1.5)
    remove_weight_norm(e)
    torch.nn.utils.remove_weight_norm(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="remove_weight_norm: weight_norm of 'weight' not found"):
        remove_weight_norm(e)


def test_weight_norm_errors_and_a_sequential():
    lin = ember.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="weight_norm: Linear has no parameter 'kernel'"):
        weight_norm(lin, "kernel")
    weight_norm(lin)
    with pytest.raises(RuntimeError, match="already has weight norm"):
        weight_norm(lin)
    rnn_like = ember.nn.Linear(2, 2)  # two reparametrized parameters, removed in either order
    weight_norm(rnn_like)
    weight_norm(rnn_like, "bias")
    remove_weight_norm(rnn_like)
    assert "weight" in dict(rnn_like.named_parameters()) and "bias_g" in rnn_like.state_dict()
    remove_weight_norm(rnn_like, "bias")
    assert sorted(rnn_like.state_dict()) == ["bias", "weight"]
    net = ember.nn.Sequential(lin, ember.nn.Tanh())
    net(ember.ones(1, 2)).sum().backward()
    assert lin.weight_g.grad is not None and lin.weight_v.grad is not None


@pytest.mark.parametrize("layer,shape", [("Linear", (6, 4)), ("Conv2d", (2, 2, 5, 5)),
                                         ("ConvTranspose2d", (2, 3, 4, 4))])
def test_spectral_norm_matches_torch_in_training_and_eval(layer, shape):
    args = {"Linear": (4, 3), "Conv2d": (2, 3, 3), "ConvTranspose2d": (3, 2, 3)}[layer]
    t = getattr(torch.nn, layer)(*args).double()
    e = getattr(ember.nn, layer)(*args).to(ember.float64)
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    torch.nn.utils.spectral_norm(t, n_power_iterations=2)
    spectral_norm(e, n_power_iterations=2)
    assert sorted(e.state_dict()) == sorted(t.state_dict())
    for which in ("weight_u", "weight_v"):  # the random start vectors: torch's
        getattr(e, which)._data[...] = getattr(t, which).numpy()
    x = RNG.standard_normal(shape)
    for _ in range(3):  # each training forward runs the power iteration
        ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
        (ye ** 2).sum().backward()
        (yt ** 2).sum().backward()
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
    np.testing.assert_allclose(e.weight_orig.grad.numpy(), t.weight_orig.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(e.weight_u.numpy(), t.weight_u.numpy(), rtol=1e-12, atol=1e-14)
    e.eval()
    t.eval()
    u = e.weight_u.numpy().copy()
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(e.weight_u.numpy(), u)  # eval mode leaves u alone
    torch.nn.utils.remove_spectral_norm(t)
    remove_spectral_norm(e)
    assert sorted(e.state_dict()) == sorted(t.state_dict())
    assert isinstance(e.weight, ember.nn.Parameter) and e._hooks.forward_pre == {}
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    e.train()
    t.train()  # no power iteration any more: the same output in training
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in Linear"):
        remove_spectral_norm(ember.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="spectral_norm: Linear has no parameter 'w'"):
        spectral_norm(ember.nn.Linear(2, 2), "w")
    with pytest.raises(RuntimeError, match="Linear.weight already has spectral norm"):
        spectral_norm(spectral_norm(ember.nn.Linear(2, 2)))


def test_parameters_to_vector_and_back():
    e = ember.nn.Linear(3, 2)
    vec = parameters_to_vector(e.parameters())
    assert vec.shape == (8,)
    vec.sum().backward()  # gradients flow back to the parameters
    assert all(np.all(p.grad.numpy() == 1) for p in e.parameters())
    new = ember.arange(8, dtype=ember.float32)
    vector_to_parameters(new, e.parameters())
    assert e.weight.tolist() == [[0, 1, 2], [3, 4, 5]] and e.bias.tolist() == [6, 7]
    with pytest.raises(ValueError, match="the vector has 3 elements, the parameters 8"):
        vector_to_parameters(ember.ones(3), e.parameters())


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2),
                                          ((4, 2, 1, 3, 3), 2), ((2, 5, 3, 3), 1)])
def test_dirac_and_eye_match_torch(shape, groups):
    e, t = ember.empty(*shape), torch.empty(*shape)
    init.dirac_(e, groups)
    torch.nn.init.dirac_(t, groups)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    e2 = ember.empty(3, 5)
    init.eye_(e2)
    np.testing.assert_array_equal(e2.numpy(), torch.nn.init.eye_(torch.empty(3, 5)).numpy())


def test_trunc_normal_stays_in_bounds_with_the_right_moments():
    ember.manual_seed(0)
    x = init.trunc_normal_(ember.empty(20000, dtype=ember.float64), 1.0, 2.0, -1.0, 2.5).numpy()
    assert x.min() >= -1.0 and x.max() <= 2.5
    t = torch.nn.init.trunc_normal_(torch.empty(200000, dtype=torch.float64), 1.0, 2.0, -1.0,
                                    2.5).numpy()
    assert abs(x.mean() - t.mean()) < 0.03 and abs(x.std() - t.std()) < 0.03
