"""Optimizers follow PyTorch's trajectory: 100 steps on the same problem, float64, 1e-9."""
import numpy as np
import pytest

import ember
import ember.optim as optim

torch = pytest.importorskip("torch")

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]


def problem(lib, params):
    """A small non-convex loss: a two-layer tanh net on fixed data."""
    w1, b1, w2 = params
    rng = np.random.default_rng(1)
    x, y = lib.tensor(rng.standard_normal((8, 3))), lib.tensor(rng.standard_normal((8, 1)))
    return (((x @ w1 + b1).tanh() @ w2 - y) ** 2).mean()


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_trajectory_matches_torch(name, kw):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((4, 1))]
    ep = [ember.tensor(a, requires_grad=True) for a in init]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    eo, to = getattr(optim, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)
    for _ in range(100):
        eo.zero_grad()
        to.zero_grad()
        sign = -1.0 if kw.get("maximize") else 1.0  # maximize the negated loss: a stable path
        (problem(ember, ep) * sign).backward()
        (problem(torch, tp) * sign).backward()
        eo.step()
        to.step()
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.data, t.detach().numpy(), rtol=1e-9, atol=1e-9)


def test_updates_are_in_place():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    before = p.data
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.data is before


def test_param_groups_and_state_dict_round_trip():
    a = ember.tensor([1.0], requires_grad=True)
    b = ember.tensor([2.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    (a * b).sum().backward()
    opt.step()
    state = opt.state_dict()
    opt2 = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1, momentum=0.9)
    opt2.load_state_dict(state)
    np.testing.assert_array_equal(opt2.state[a]["momentum_buffer"], opt.state[a]["momentum_buffer"])
    c = ember.tensor([3.0], requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert opt.param_groups[-1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="two groups"):
        opt.add_param_group({"params": [a]})


def test_zero_grad_set_to_none_or_zeros():
    p = ember.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.item() == 0
    opt.zero_grad()
    assert p.grad is None


def test_bad_hyper_parameters():
    p = [ember.tensor([1.0], requires_grad=True)]
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(p, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
