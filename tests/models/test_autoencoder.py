"""The autoencoders: shapes, PyTorch parity on the same weights (the state_dict names mirror
PyTorch's), the VAE's reparameterization and loss (gradcheck, parity), errors, a learning step."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck
from ember.models import VAE, ConvAutoencoder, DenseAutoencoder, VAELoss, kl_divergence


def _images(n=4, seed=0):
    return ember.tensor(np.random.default_rng(seed).random((n, 1, 28, 28)).astype(np.float32))


@pytest.mark.parametrize("make", [DenseAutoencoder, ConvAutoencoder, VAE])
def test_reconstruction_has_the_input_shape_and_pixel_range(make):
    ember.manual_seed(0)
    model = make()
    recon = model.reconstruct(_images())
    assert recon.shape == (4, 1, 28, 28)
    assert 0 <= recon.data.min() and recon.data.max() <= 1


def test_layer_sizes_follow_the_arguments():
    model = DenseAutoencoder((1, 28, 28), hidden=(128, 64), latent=8)
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(128, 784), (128,), (64, 128), (64,), (8, 64), (8,),
                      (64, 8), (64,), (128, 64), (128,), (784, 128), (784,)]
    assert model.encoder(_images()).shape == (4, 8)
    assert ConvAutoencoder(latent=5).encoder(_images()).shape == (4, 5)
    assert VAE(latent=3).encode(_images())[0].shape == (4, 3)


def _torch_twin(model, torch):
    """The same layers in PyTorch, with ember's weights loaded under ember's own names."""
    tnn = torch.nn
    if isinstance(model, DenseAutoencoder):
        twin = tnn.Module()
        twin.encoder = tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 256), tnn.ReLU(),
                                      tnn.Linear(256, 32))
        twin.decoder = tnn.Sequential(tnn.Linear(32, 256), tnn.ReLU(), tnn.Linear(256, 784),
                                      tnn.Sigmoid(), tnn.Unflatten(1, (1, 28, 28)))
    else:
        twin = tnn.Module()
        twin.encoder = tnn.Sequential(
            tnn.Conv2d(1, 16, 3, stride=2, padding=1), tnn.ReLU(),
            tnn.Conv2d(16, 32, 3, stride=2, padding=1), tnn.ReLU(), tnn.Flatten(),
            tnn.Linear(32 * 7 * 7, 32))
        twin.decoder = tnn.Sequential(
            tnn.Linear(32, 32 * 7 * 7), tnn.ReLU(), tnn.Unflatten(1, (32, 7, 7)),
            tnn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), tnn.ReLU(),
            tnn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), tnn.Sigmoid())
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    return twin


@pytest.mark.parametrize("make", [DenseAutoencoder, ConvAutoencoder])
def test_forward_and_gradients_match_pytorch(make):
    torch = pytest.importorskip("torch")
    ember.manual_seed(1)
    model = make()
    twin = _torch_twin(model, torch)
    x = _images(3)
    loss = nn.MSELoss()(model(x), x)
    loss.backward()
    tx = torch.tensor(x.numpy())
    tloss = torch.nn.functional.mse_loss(twin.decoder(twin.encoder(tx)), tx)
    tloss.backward()
    assert abs(loss.item() - tloss.item()) < 1e-6
    tgrads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)


def test_vae_samples_z_with_embers_generator_and_uses_the_mean_in_eval():
    ember.manual_seed(0)
    model = VAE(latent=4)
    x = _images(2)
    mu, logvar = model.encode(x)
    ember.manual_seed(7)
    logits, _, _ = model(x)
    ember.manual_seed(7)
    eps = ember.randn(2, 4)
    z = mu.data + np.exp(0.5 * logvar.data) * eps.data
    np.testing.assert_allclose(logits.data, model.decoder(ember.tensor(z)).data, rtol=1e-5,
                               atol=1e-6)
    model.eval()
    np.testing.assert_allclose(model(x)[0].data, model(x)[0].data)  # deterministic
    np.testing.assert_allclose(model(x)[0].data, model.decoder(mu).data, rtol=1e-6)


def test_reparameterization_gradients():
    """z = mu + exp(logvar / 2) eps: dz/dmu = 1, dz/dlogvar = exp(logvar / 2) eps / 2."""
    model = VAE()
    mu = ember.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    logvar = ember.tensor(np.linspace(-2, 1, 6).reshape(2, 3), requires_grad=True)
    ember.manual_seed(3)
    model.reparameterize(mu, logvar).sum().backward()
    ember.manual_seed(3)
    eps = ember.randn(2, 3).data
    np.testing.assert_allclose(mu.grad.data, np.ones((2, 3)))
    np.testing.assert_allclose(logvar.grad.data, 0.5 * np.exp(0.5 * logvar.data) * eps,
                               rtol=1e-6)


def _loss_inputs(dtype=np.float64):
    rng = np.random.default_rng(0)
    logits = ember.tensor(rng.normal(size=(3, 1, 4, 4)).astype(dtype), requires_grad=True)
    mu = ember.tensor(rng.normal(size=(3, 2)).astype(dtype), requires_grad=True)
    logvar = ember.tensor(rng.normal(size=(3, 2)).astype(dtype), requires_grad=True)
    target = ember.tensor(rng.random((3, 1, 4, 4)).astype(dtype))
    return logits, mu, logvar, target


def test_vae_loss_gradcheck():
    logits, mu, logvar, target = _loss_inputs()
    loss = VAELoss(beta=2.5)
    assert gradcheck(lambda a, b, c: loss((a, b, c), target), (logits, mu, logvar))


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_vae_loss_matches_pytorch(beta):
    torch = pytest.importorskip("torch")
    logits, mu, logvar, target = _loss_inputs()
    loss = VAELoss(beta)((logits, mu, logvar), target)
    loss.backward()
    t = [torch.tensor(v.detach().numpy(), requires_grad=True) for v in (logits, mu, logvar)]
    tt = torch.tensor(target.numpy())
    recon = torch.nn.functional.binary_cross_entropy_with_logits(t[0], tt, reduction="sum") / 3
    kl = -0.5 * torch.sum(1 + t[2] - t[1].pow(2) - t[2].exp(), dim=1)
    tloss = recon + beta * kl.mean()
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    for mine, theirs in zip((logits, mu, logvar), t):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_kl_is_zero_for_the_prior_and_positive_otherwise():
    zero = ember.zeros(2, 3)
    np.testing.assert_allclose(kl_divergence(zero, zero).data, [0, 0])
    assert (kl_divergence(ember.ones(2, 3), zero).data > 0).all()
    assert (kl_divergence(zero, ember.ones(2, 3)).data > 0).all()


def test_errors_name_the_model_and_the_shapes():
    with pytest.raises(ValueError, match=r"DenseAutoencoder: expected images of shape "
                                         r"\(N, 1, 28, 28\), got \(2, 784\)"):
        DenseAutoencoder()(ember.zeros(2, 784))
    with pytest.raises(ValueError, match="ConvAutoencoder: height and width must be divisible"):
        ConvAutoencoder((1, 30, 30))
    with pytest.raises(ValueError, match="VAE: expected images"):
        VAE()(ember.zeros(2, 1, 32, 32))
    with pytest.raises(TypeError, match=r"VAELoss: expected the VAE's output"):
        VAELoss()(ember.zeros(2, 1, 28, 28), ember.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="VAELoss: beta must be >= 0"):
        VAELoss(-1)
    logits, mu, logvar, target = _loss_inputs()
    with pytest.raises(ValueError, match=r"VAELoss: the reconstruction has shape \(3, 1, 4, 4\)"):
        VAELoss()((logits, mu, logvar), ember.zeros(3, 16))


@pytest.mark.parametrize("make,loss_fn", [
    (lambda: DenseAutoencoder(hidden=(64,), latent=8), nn.MSELoss()),
    (lambda: ConvAutoencoder(latent=8, width=4), nn.MSELoss()),
    (lambda: VAE(hidden=64, latent=4), VAELoss())])
def test_a_few_steps_lower_the_loss(make, loss_fn):
    ember.manual_seed(0)
    model = make()
    blocks = np.random.default_rng(0).random((4, 1, 7, 7)) > 0.5  # 4 blocky binary images
    x = ember.tensor(np.repeat(np.kron(blocks, np.ones((4, 4))), 2, axis=0).astype(np.float32))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]
