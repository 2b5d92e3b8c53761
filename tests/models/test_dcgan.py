"""DCGAN generator and discriminator: shapes, init, errors, and parity with PyTorch twins built
from the same weights (forward, backward, and the WGAN-GP penalty's double backward)."""
import numpy as np
import pytest

import ember
from ember.autograd import grad
from ember.models import DCGANDiscriminator, DCGANGenerator
from ember.projects.gan import gradient_penalty


def test_generator_makes_images_in_tanh_range():
    ember.manual_seed(0)
    g = DCGANGenerator(z_dim=10, width=8)
    out = g(ember.randn(5, 10))
    assert out.shape == (5, 1, 28, 28)
    assert np.abs(out.data).max() <= 1


def test_discriminator_gives_one_logit_per_image_and_critic_has_no_batchnorm():
    d = DCGANDiscriminator(width=8)
    assert d(ember.randn(3, 1, 28, 28)).shape == (3,)
    critic = DCGANDiscriminator(width=8, batchnorm=False)
    assert not any(isinstance(m, ember.nn.BatchNorm2d) for m in critic.modules())
    assert any(isinstance(m, ember.nn.BatchNorm2d) for m in d.modules())


def test_dcgan_init_draws_weights_from_n0_002():
    ember.manual_seed(0)
    g = DCGANGenerator(width=32)
    w = g[0].weight.data
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001
    assert np.all(g[-2].bias.data == 0)


def test_bad_shapes_name_the_model():
    with pytest.raises(ValueError, match=r"DCGANGenerator: expected noise \(N, 100\)"):
        DCGANGenerator()(ember.randn(2, 7))
    with pytest.raises(ValueError, match=r"DCGANDiscriminator: expected images \(N, C, 28, 28\)"):
        DCGANDiscriminator(width=4)(ember.randn(2, 1, 32, 32))


def _torch_twin(torch, model, layers):
    twin = torch.nn.Sequential(*layers)
    twin.load_state_dict({k: torch.tensor(v.data) for k, v in model.state_dict().items()})
    return twin.double()


def _torch_generator(torch, width, z_dim):
    nn = torch.nn
    return [nn.Linear(z_dim, 2 * width * 49, bias=False), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(), nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh()]


def _torch_discriminator(torch, width, batchnorm):
    nn = torch.nn
    layers = [nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
              nn.Conv2d(width, 2 * width, 4, 2, 1, bias=not batchnorm)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(2 * width))
    return layers + [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * width * 49, 1)]


def test_gan_step_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    g, d = DCGANGenerator(z_dim=6, width=4).double(), DCGANDiscriminator(width=4).double()
    tg = _torch_twin(torch, g, _torch_generator(torch, 4, 6))
    td = _torch_twin(torch, d, _torch_discriminator(torch, 4, True))
    z = np.random.default_rng(0).standard_normal((5, 6))
    e_loss = ember.nn.BCEWithLogitsLoss()(d(g(ember.tensor(z))), ember.ones(5, dtype=ember.float64))
    t_loss = torch.nn.BCEWithLogitsLoss()(td(tg(torch.tensor(z))).reshape(-1),
                                          torch.ones(5, dtype=torch.float64))
    e_loss.backward()
    t_loss.backward()
    assert np.isclose(e_loss.item(), t_loss.item(), rtol=1e-10)
    for (name, p), tp in zip(list(g.named_parameters()) + list(d.named_parameters()),
                             list(tg.parameters()) + list(td.parameters())):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-7, atol=1e-12,
                                   err_msg=name)


def test_gradient_penalty_double_backward_matches_pytorch():
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    critic = DCGANDiscriminator(width=4, batchnorm=False).double()
    twin = _torch_twin(torch, critic, _torch_discriminator(torch, 4, False))
    r = np.random.default_rng(1)
    real, fake = r.standard_normal((2, 3, 1, 28, 28))
    ember.manual_seed(5)
    penalty = gradient_penalty(critic, ember.tensor(real), ember.tensor(fake))
    penalty.backward()
    ember.manual_seed(5)  # the same mixing weights e
    e = ember.rand(3, 1, 1, 1, dtype=ember.float64).data
    mix = torch.tensor(e * real + (1 - e) * fake, requires_grad=True)
    (gx,) = torch.autograd.grad(twin(mix).sum(), mix, create_graph=True)
    t_penalty = ((gx.reshape(3, -1).norm(dim=1) - 1) ** 2).mean()
    t_penalty.backward()
    assert np.isclose(penalty.item(), t_penalty.item(), rtol=1e-10)
    weights = [(n, p) for n, p in critic.named_parameters() if n.endswith("weight")]
    t_weights = [p for n, p in twin.named_parameters() if n.endswith("weight")]
    for (name, p), tp in zip(weights, t_weights):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-7, atol=1e-12,
                                   err_msg=name)


def test_gradient_penalty_is_a_second_derivative_checked_by_finite_differences():
    ember.manual_seed(0)
    critic = DCGANDiscriminator(width=2, batchnorm=False).double()
    w = critic[2].weight
    x = ember.randn(2, 1, 28, 28, dtype=ember.float64, requires_grad=True)

    def penalty_of_w(weight):
        critic[2].weight.data[...] = weight.data
        (gx,) = grad(critic(x).sum(), x, create_graph=True)
        return (gx.reshape(2, -1).norm(dim=1) ** 2).mean()

    base = w.data.copy()
    p = penalty_of_w(w)
    (analytic,) = grad(p, w)
    idx, h = (1, 0, 2, 3), 1e-6
    plus, minus = base.copy(), base.copy()
    plus[idx] += h
    minus[idx] -= h
    numeric = (penalty_of_w(ember.tensor(plus)).item()
               - penalty_of_w(ember.tensor(minus)).item()) / (2 * h)
    critic[2].weight.data[...] = base
    assert np.isclose(analytic.data[idx], numeric, rtol=1e-5)
