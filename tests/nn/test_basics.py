"""Module tree, Linear, activations and losses against PyTorch on the same weights."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

torch = pytest.importorskip("torch")


def copy_weights(ember_module, torch_module):
    ember_module.load_state_dict({k: v.detach().numpy() for k, v in
                                  torch_module.state_dict().items()})


def test_module_registration_and_state_dict_keys():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert repr(net) == repr(tnet)
    assert len(list(net.modules())) == 4 and len(list(net.children())) == 3


def test_load_state_dict_reports_every_problem():
    net = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"weight: checkpoint \(2, 4\), model \(2, 3\)"):
        net.load_state_dict({"weight": np.zeros((2, 4)), "bias": np.zeros(2)})
    with pytest.raises(RuntimeError, match="missing keys: bias.*unexpected keys: extra"):
        net.load_state_dict({"weight": np.zeros((2, 3)), "extra": np.zeros(1)})
    keys = net.load_state_dict({"weight": np.zeros((2, 3))}, strict=False)
    assert keys.missing_keys == ["bias"]


def test_train_eval_freeze_and_zero_grad():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_(True)
    net(ember.ones(1, 2)).sum().backward()
    assert net[0].weight.grad is not None
    net.zero_grad()
    assert net[0].weight.grad is None


def test_linear_default_init_is_pytorchs_distribution():
    ember.manual_seed(0)
    w = nn.Linear(100, 50).weight.data
    bound = 1 / np.sqrt(100)
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.01


@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    tl = torch.nn.Linear(3, 4, bias=bias).double()
    el = nn.Linear(3, 4, bias=bias, dtype=ember.float64)
    copy_weights(el, tl)
    x = np.random.default_rng(0).standard_normal(shape)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = el(ex), tl(tx)
    np.testing.assert_allclose(ey.data, ty.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(1).standard_normal(ty.shape)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(el.weight.grad.numpy(), tl.weight.grad.numpy(), rtol=1e-12)
    if bias:
        np.testing.assert_allclose(el.bias.grad.numpy(), tl.bias.grad.numpy(), rtol=1e-12)


def test_linear_errors_name_the_layer():
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(2, 5\) does not match weight"):
        nn.Linear(3, 4)(ember.ones(2, 5))


@pytest.mark.parametrize("name,args", [("Sigmoid", ()), ("Tanh", ()), ("ReLU", ()),
                                       ("LeakyReLU", (0.2,)), ("ELU", (0.5,)), ("SELU", ()),
                                       ("GELU", ()), ("SiLU", ()), ("Softplus", (2.0,)),
                                       ("Hardtanh", (-0.5, 0.5)), ("Softmax", (1,)),
                                       ("LogSoftmax", (1,))])
def test_activation_modules_match_torch(name, args):
    x = np.random.default_rng(0).standard_normal((3, 4))
    e = getattr(nn, name)(*args)(ember.tensor(x))
    t = getattr(torch.nn, name)(*args)(torch.tensor(x))
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


LOSSES = [
    ("MSELoss", "mse_loss", lambda r: r.standard_normal((4, 3)), {}),
    ("L1Loss", "l1_loss", lambda r: r.standard_normal((4, 3)), {}),
    ("BCELoss", "binary_cross_entropy", lambda r: r.uniform(0.05, 0.95, (4, 3)), {}),
    ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits",
     lambda r: r.standard_normal((4, 3)) * 3, {}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("cls,fn,make,kw", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses_match_torch(cls, fn, make, kw, reduction):
    r = np.random.default_rng(0)
    x, y = make(r), r.uniform(0, 1, (4, 3))
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    el = getattr(nn, cls)(reduction=reduction)(ex, ember.tensor(y))
    tl = getattr(torch.nn, cls)(reduction=reduction)(tx, torch.tensor(y))
    np.testing.assert_allclose(el.data, tl.detach().numpy(), rtol=1e-10)
    el.sum().backward()
    tl.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    fe = getattr(F, fn)(ember.tensor(x), ember.tensor(y), reduction=reduction)
    np.testing.assert_allclose(fe.data, tl.detach().numpy(), rtol=1e-10)


def test_bce_with_logits_weight_and_pos_weight_match_torch():
    r = np.random.default_rng(0)
    x, y = r.standard_normal((4, 3)) * 3, r.uniform(0, 1, (4, 3))
    w, pw = r.uniform(0.5, 2, (3,)), r.uniform(0.5, 3, (3,))
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    el = F.binary_cross_entropy_with_logits(ex, ember.tensor(y), weight=ember.tensor(w),
                                            pos_weight=ember.tensor(pw))
    tl = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.tensor(y), weight=torch.tensor(w), pos_weight=torch.tensor(pw))
    el.backward()
    tl.backward()
    np.testing.assert_allclose(el.item(), tl.item(), rtol=1e-12)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


def test_bce_with_logits_is_stable_at_extremes():
    z = ember.tensor([1000.0, -1000.0, 0.0], requires_grad=True)
    y = ember.tensor([0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    tl = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor([1000.0, -1000.0, 0.0]), torch.tensor([0.0, 1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.data, tl.numpy(), rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [1.0, -1.0, -0.5])


def test_loss_errors():
    with pytest.raises(ValueError, match="mse_loss: target shape"):
        F.mse_loss(ember.ones(3), ember.ones(4))
    with pytest.raises(ValueError, match="binary_cross_entropy: input must hold probabilities"):
        F.binary_cross_entropy(ember.tensor([2.0]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("fn,args", [("xavier_uniform_", ()), ("xavier_normal_", ()),
                                     ("kaiming_uniform_", ()), ("kaiming_normal_", ()),
                                     ("uniform_", (-0.3, 0.3)), ("normal_", (0.0, 0.2))])
def test_init_distributions(fn, args):
    t = ember.empty(200, 300)
    getattr(nn.init, fn)(t, *args)
    fan_in, fan_out = 300, 200
    expected_std = {"xavier_uniform_": np.sqrt(2 / (fan_in + fan_out)),
                    "xavier_normal_": np.sqrt(2 / (fan_in + fan_out)),
                    "kaiming_uniform_": np.sqrt(2 / fan_in), "kaiming_normal_": np.sqrt(2 / fan_in),
                    "uniform_": 0.6 / np.sqrt(12), "normal_": 0.2}[fn]
    assert abs(t.data.std() / expected_std - 1) < 0.03
    nn.init.zeros_(t)
    assert not t.data.any()
    nn.init.constant_(t, 0.5)
    assert np.all(t.data == 0.5)
