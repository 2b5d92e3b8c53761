"""Layers against PyTorch: activation modules (values, gradients, printed form), Dropout,
Unflatten, and the containers Sequential, ModuleList and ModuleDict."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn

torch = pytest.importorskip("torch")

ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("ReLU6", (), {}), ("SELU", (), {}),
    ("SiLU", (), {"inplace": True}), ("Mish", (), {}), ("Hardswish", (), {}),
    ("Hardsigmoid", (), {"inplace": True}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (0.2, True), {}), ("ELU", (0.5,), {}),
    ("ELU", (), {"inplace": True}), ("CELU", (0.5,), {}), ("GELU", (), {}),
    ("GELU", ("tanh",), {}), ("Softplus", (2.0, 10.0), {}), ("Hardtanh", (-0.5, 0.5), {}),
    ("Hardtanh", (-2.0, 2.0, True), {}), ("Threshold", (0.1, -2.0), {}), ("RReLU", (), {}),
    ("RReLU", (0.1, 0.2, True), {}), ("PReLU", (), {}), ("PReLU", (4, 0.1), {}),
    ("Hardshrink", (0.3,), {}), ("Softshrink", (), {}), ("GLU", (), {}), ("GLU", (1,), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Softmax", (1,), {}), ("LogSoftmax", (1,), {}), ("Softmin", (1,), {}),
    ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS,
                         ids=[f"{a[0]}{a[1]}{a[2]}" for a in ACTIVATIONS])
def test_activation_modules_match_torch(name, args, kwargs):
    e_mod, t_mod = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    e_mod.eval(), t_mod.eval()  # RReLU: the mean slope
    x = np.random.default_rng(0).standard_normal((3, 4, 2, 2)) * 2
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if name == "PReLU":
        t_mod.double()
        e_mod.double()
    ey, ty = e_mod(ex * 1.0), t_mod(tx * 1.0)  # torch's inplace=True refuses a leaf
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(ty.shape)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    rtol = 1e-7 if name == "Hardsigmoid" else 1e-10  # torch scales by a float32 1/6
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-12)
    for (n, p), (_, tp) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, err_msg=n)


def test_prelu_learns_its_slope():
    m = nn.PReLU(3)
    x = ember.tensor(-np.ones((2, 3)))
    m(x).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), [-2.0, -2.0, -2.0])


# ---- Dropout ------------------------------------------------------------------------------------

def test_dropout_module_trains_and_evaluates():
    m = nn.Dropout(0.4)
    assert repr(m) == repr(torch.nn.Dropout(0.4)) == "Dropout(p=0.4, inplace=False)"
    x = ember.ones(200, 50)
    ember.manual_seed(0)
    y = m(x).numpy()
    assert abs((y == 0).mean() - 0.4) < 0.02
    ember.manual_seed(0)
    np.testing.assert_array_equal(m(x).numpy(), y)  # the seed reproduces the mask
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="Dropout: probability has to be between 0 and 1"):
        nn.Dropout(-0.1)


def test_dropout_in_a_model_follows_train_and_eval():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    x = ember.randn(8, 4)
    net.eval()
    with ember.no_grad():
        a, b = net(x).numpy(), net(x).numpy()
        np.testing.assert_array_equal(a, b)
        net.train()
        ember.manual_seed(1)
        c = net(x).numpy()
        ember.manual_seed(2)
        assert not np.array_equal(c, net(x).numpy())


def test_unflatten_and_flatten_match_torch():
    x = np.arange(24.0).reshape(2, 12)
    for e, t in [(nn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4))),
                 (nn.Flatten(0, -1), torch.nn.Flatten(0, -1)), (nn.Identity(5, a=1),
                                                                torch.nn.Identity(5, a=1))]:
        assert repr(e) == repr(t)
        np.testing.assert_array_equal(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy())
    with pytest.raises(TypeError, match="Unflatten: unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 12)


# ---- containers ---------------------------------------------------------------------------------

def pair(make):
    return make(nn), make(torch.nn)


def test_module_dict_matches_torch():
    e, t = pair(lambda m: m.ModuleDict({"enc": m.Linear(2, 3), "act": m.ReLU()}))
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["enc.weight", "enc.bias"]
    assert list(e) == ["enc", "act"] and list(e.keys()) == list(t.keys())
    assert "enc" in e and "dec" not in e and len(e) == 2
    e["dec"], t["dec"] = nn.Linear(3, 1), torch.nn.Linear(3, 1)
    e.update([("out", nn.Sigmoid())])
    t.update([("out", torch.nn.Sigmoid())])
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    popped = e.pop("enc")
    assert isinstance(popped, nn.Linear) and "enc" not in e and not hasattr(e, "enc")
    assert [n for n, _ in e.named_parameters()] == ["dec.weight", "dec.bias"]
    del e["dec"]
    assert list(e.keys()) == ["act", "out"]
    e.clear()
    assert len(e) == 0 and list(e.parameters()) == []
    # built from pairs, order kept; items() and values() as a dict's
    d = nn.ModuleDict([("b", nn.Tanh()), ("a", nn.ReLU())])
    assert [k for k, _ in d.items()] == ["b", "a"] and isinstance(list(d.values())[0], nn.Tanh)


def test_module_dict_errors():
    with pytest.raises(KeyError, match="attribute 'update' already exists"):
        nn.ModuleDict({"update": nn.ReLU()})
    with pytest.raises(KeyError, match="contain no '.'"):
        nn.ModuleDict({"a.b": nn.ReLU()})
    with pytest.raises(TypeError, match="int is not a Module"):
        nn.ModuleDict({"a": 3})
    with pytest.raises(ValueError, match=r"ModuleDict.update: element 0 must be a \(name, "
                                         "module\\) pair"):
        nn.ModuleDict([nn.ReLU()])


def test_module_list_matches_torch():
    e, t = pair(lambda m: m.ModuleList([m.Linear(2, 2) for _ in range(3)] + [m.ReLU()]))
    assert repr(e) == repr(t)  # a run of equal modules prints as (0-2): 3 x Linear(...)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert isinstance(e[1:], nn.ModuleList) and len(e[1:]) == 3 and e[-1] is e[3]
    e.insert(1, nn.Tanh())
    t.insert(1, torch.nn.Tanh())
    assert repr(e) == repr(t)
    del e[0]
    del t[0]
    assert repr(e) == repr(t) and [n for n, _ in e.named_parameters()] == [
        n for n, _ in t.named_parameters()]
    e += [nn.Sigmoid()]
    t += [torch.nn.Sigmoid()]
    e[0], t[0] = nn.SiLU(), torch.nn.SiLU()
    assert repr(e) == repr(t) and repr(e + e) == repr(t + t)
    assert isinstance(e.pop(0), nn.SiLU) and len(e) == 4
    with pytest.raises(IndexError, match="ModuleList: index 9 is out of range for 4 modules"):
        e[9]


def test_sequential_indexing_and_editing_match_torch():
    e, t = pair(lambda m: m.Sequential(m.Linear(3, 4), m.ReLU(), m.Linear(4, 2), m.Tanh()))
    assert isinstance(e[1:3], nn.Sequential) and repr(e[1:3]) == repr(t[1:3])
    assert e[-1] is list(e)[-1]
    del e[1]
    del t[1]
    e.append(nn.Sigmoid())
    t.append(torch.nn.Sigmoid())
    e.insert(0, nn.Identity())
    t.insert(0, torch.nn.Identity())
    e.extend([nn.ReLU()])
    t.extend([torch.nn.ReLU()])
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    named = OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())])
    tnamed = OrderedDict([("fc", torch.nn.Linear(2, 2)), ("act", torch.nn.ReLU())])
    assert repr(nn.Sequential(named)) == repr(torch.nn.Sequential(tnamed))
    assert nn.Sequential(named)[0] is named["fc"]
