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
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, centered=True)),  # lr=0.01 here turns chaotic
    ("RMSprop", dict(lr=0.005, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, alpha=0.95, eps=1e-6, weight_decay=0.05, momentum=0.8,
                     centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.2, lr_decay=0.05, weight_decay=0.02, initial_accumulator_value=0.1,
                     eps=1e-8, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.05, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.05, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.05)),  # rectified from step 6
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.05, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-4, 0.2), maximize=True)),
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


STATEFUL = [
    ("Adamax", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01)),
    ("Adadelta", dict(weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.2)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Rprop", dict(lr=0.02)),
]


def _make(lib, name, kw):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((4, 1))]
    params = [lib.tensor(a, requires_grad=True) for a in init]
    opt = getattr(optim if lib is ember else torch.optim, name)(params, **kw)
    return params, opt


def _run(params, opt, lib, steps):
    for _ in range(steps):
        opt.zero_grad()
        problem(lib, params).backward()
        opt.step()


@pytest.mark.parametrize("name,kw", STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_matches_torch_and_round_trips(name, kw):
    ep, eo = _make(ember, name, kw)
    tp, to = _make(torch, name, kw)
    _run(ep, eo, ember, 7)
    _run(tp, to, torch, 7)
    es, ts = eo.state_dict()["state"], to.state_dict()["state"]
    assert sorted(es) == sorted(ts)
    for i in es:
        assert sorted(es[i]) == sorted(ts[i])                 # PyTorch's state names
        for k, v in es[i].items():
            np.testing.assert_allclose(np.asarray(v.data if hasattr(v, "data") else v),
                                       ts[i][k].detach().numpy(), rtol=1e-9, atol=1e-12)
    # a fresh optimizer loaded mid-run continues exactly like the uninterrupted one
    ep2, eo2 = _make(ember, name, kw)
    for a, b in zip(ep2, ep):
        a.data[...] = b.data
    eo2.load_state_dict(eo.state_dict())
    assert all(isinstance(s["step"], int) and s["step"] == 7 for s in eo2.state.values())
    _run(ep, eo, ember, 5)
    _run(ep2, eo2, ember, 5)
    for a, b in zip(ep, ep2):
        np.testing.assert_array_equal(a.data, b.data)


def test_load_state_dict_takes_step_as_a_tensor():
    """Checkpoints (and PyTorch) store 'step' as a 0-d tensor; it comes back as a number."""
    ep, eo = _make(ember, "Adagrad", dict(lr=0.1))
    _run(ep, eo, ember, 3)
    state = eo.state_dict()
    for s in state["state"].values():
        s["step"] = ember.tensor(float(s["step"]))
    ep2, eo2 = _make(ember, "Adagrad", dict(lr=0.1))
    eo2.load_state_dict(state)
    assert all(s["step"] == 3 and isinstance(s["step"], int) for s in eo2.state.values())


def test_adagrad_has_state_from_the_start_like_torch():
    ep, eo = _make(ember, "Adagrad", dict(initial_accumulator_value=0.3))
    tp, to = _make(torch, "Adagrad", dict(initial_accumulator_value=0.3))
    assert sorted(eo.state_dict()["state"]) == sorted(to.state_dict()["state"])
    np.testing.assert_array_equal(eo.state[ep[0]]["sum"], np.full((3, 4), 0.3))


@pytest.mark.parametrize("name,kw,match", [
    ("RMSprop", dict(lr=-1), "RMSprop: invalid learning rate"),
    ("RMSprop", dict(alpha=-0.5), "RMSprop: invalid alpha"),
    ("RMSprop", dict(momentum=-0.1), "RMSprop: invalid momentum"),
    ("RMSprop", dict(eps=-1e-8), "RMSprop: invalid eps"),
    ("Adagrad", dict(lr=-0.1), "Adagrad: invalid learning rate"),
    ("Adagrad", dict(lr_decay=-1), "Adagrad: invalid lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Adagrad: invalid initial_accumulator_value"),
    ("Adagrad", dict(weight_decay=-1), "Adagrad: invalid weight_decay"),
    ("NAdam", dict(betas=(0.9, 1.0)), "NAdam: betas must be in"),
    ("RAdam", dict(eps=-1.0), "RAdam: invalid eps"),
    ("Adamax", dict(weight_decay=-0.1), "Adamax: invalid weight_decay"),
    ("NAdam", dict(momentum_decay=-1.0), "NAdam: invalid momentum_decay"),
    ("Rprop", dict(etas=(1.2, 0.5)), "Rprop: invalid eta values"),
])
def test_bad_rmsprop_adagrad_arguments(name, kw, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([ember.tensor([1.0], requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=match):   # also a group's own value
        getattr(optim, name)([{"params": [ember.tensor([1.0], requires_grad=True)], **kw}])


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1)),
                                     ("Adamax", dict(weight_decay=0.01)),
                                     ("NAdam", dict(weight_decay=0.01, maximize=True)),
                                     ("RAdam", dict(decoupled_weight_decay=True,
                                                    weight_decay=0.01)),
                                     ("Adadelta", dict(weight_decay=0.01)),
                                     ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True,
                                                  weight_decay=0.01)),
                                     ("Adam", dict(lr=0.01, weight_decay=0.01)),
                                     ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True)),
                                     ("RMSprop", dict(lr=0.01, weight_decay=0.01)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True,
                                                      maximize=True)),
                                     ("Adagrad", dict(lr=0.01, weight_decay=0.01,
                                                      maximize=True))])
def test_a_step_allocates_no_parameter_sized_arrays(name, kw):
    """After the first step (which creates the state), a step allocates nothing big."""
    import tracemalloc
    p = ember.zeros(1000, 1000, requires_grad=True)  # 4 MB
    p.grad = ember.ones(1000, 1000)
    opt = getattr(optim, name)([p], **kw)
    opt.step()
    tracemalloc.start()
    opt.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100_000, f"{name} allocated {peak} bytes in one step"
