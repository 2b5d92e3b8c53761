"""Normalization layers against PyTorch on the same weights: outputs, gradients and running stats
over several training steps, eval mode, state_dict keys and interchange, repr, momentum=None,
affine=False, track_running_stats=False; Dropout2d; errors that name the layer."""
import numpy as np
import pytest

import ember
import ember.nn as nn

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-4, atol=1e-5)

LAYERS = [
    ("BatchNorm1d", (3,), {}, (8, 3)),
    ("BatchNorm1d", (3,), {}, (4, 3, 5)),
    ("BatchNorm1d", (3,), dict(momentum=None), (4, 3, 5)),
    ("BatchNorm1d", (3,), dict(affine=False, eps=1e-3), (6, 3)),
    ("BatchNorm1d", (3,), dict(track_running_stats=False), (4, 3, 2)),
    ("BatchNorm2d", (4,), {}, (3, 4, 5, 5)),
    ("BatchNorm2d", (4,), dict(momentum=None), (3, 4, 3, 2)),
    ("BatchNorm2d", (4,), dict(momentum=0.5, affine=False), (2, 4, 3, 3)),
    ("BatchNorm2d", (4,), dict(bias=False, momentum=0.2), (2, 4, 2, 3)),
    ("BatchNorm2d", (4,), dict(track_running_stats=False, affine=False), (2, 4, 3, 3)),
    ("LayerNorm", (5,), {}, (4, 5)),
    ("LayerNorm", ((3, 4),), dict(eps=1e-3), (2, 5, 3, 4)),
    ("LayerNorm", (4,), dict(bias=False), (3, 2, 4)),
    ("LayerNorm", (4,), dict(elementwise_affine=False), (3, 4)),
    ("GroupNorm", (2, 6), {}, (3, 6, 4)),
    ("GroupNorm", (3, 6), dict(affine=False), (2, 6, 2, 2)),
    ("GroupNorm", (1, 4), dict(eps=1e-3), (2, 4, 3, 3)),
    ("GroupNorm", (2, 4), dict(bias=False), (3, 4, 5)),
]
IDS = [f"{n}{a}{k}{s}" for n, a, k, s in LAYERS]


def _pair(name, args, kwargs, seed=0):
    """The ember and torch layer with the same random weights (PyTorch's are 1 and 0)."""
    e_mod, t_mod = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    rng = np.random.default_rng(seed)
    for (en, ep), (tn, tp) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        assert en == tn
        v = rng.uniform(0.5, 1.5, ep.shape).astype(np.float32)
        ep._data[...] = v
        with torch.no_grad():
            tp.copy_(torch.tensor(v))
    return e_mod, t_mod


def _close(got, want, what):
    want = want.detach().numpy()
    got = got.detach().numpy() if hasattr(got, "detach") else got
    assert got.shape == want.shape and got.dtype == want.dtype, what
    np.testing.assert_allclose(got, want, err_msg=what, **TOL)


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=IDS)
def test_layer_matches_torch_over_training_steps_and_eval(name, args, kwargs, shape):
    e_mod, t_mod = _pair(name, args, kwargs)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    rng = np.random.default_rng(1)
    for step in range(3):  # train steps: forward, backward, SGD on the same weights
        x = (rng.standard_normal(shape) * 2 + step).astype(np.float32)
        seed = rng.standard_normal(shape).astype(np.float32)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ey, ty = e_mod(ex), t_mod(tx)
        _close(ey, ty, f"step {step} output")
        (ey * ember.tensor(seed)).sum().backward()
        (ty * torch.tensor(seed)).sum().backward()
        _close(ex.grad, tx.grad, f"step {step} input grad")
        for (n, ep), tp in zip(e_mod.named_parameters(), t_mod.parameters()):
            _close(ep.grad, tp.grad, f"step {step} grad of {n}")
            ep._data -= 0.1 * ep.grad._data
            ep.grad = None
        with torch.no_grad():
            for tp in t_mod.parameters():
                tp -= 0.1 * tp.grad
                tp.grad = None
    # running stats after 3 training batches, and every other state entry
    e_state, t_state = e_mod.state_dict(), t_mod.state_dict()
    assert list(e_state) == list(t_state)
    for k in t_state:
        got, want = e_state[k].numpy(), t_state[k].numpy()
        assert got.dtype == want.dtype, k
        np.testing.assert_allclose(got, want, err_msg=k, **TOL)
    e_mod.eval(), t_mod.eval()
    x = (rng.standard_normal(shape) * 2).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = e_mod(ex), t_mod(tx)
    _close(ey, ty, "eval output")
    ey.sum().backward(), ty.sum().backward()
    _close(ex.grad, tx.grad, "eval input grad")
    for k, v in t_mod.state_dict().items():  # eval leaves the running stats alone
        np.testing.assert_array_equal(e_mod.state_dict()[k].numpy(), e_state[k].numpy())


@pytest.mark.parametrize("name,args", [("BatchNorm1d", (3,)), ("BatchNorm2d", (3,)),
                                       ("LayerNorm", ((2, 3),)), ("GroupNorm", (3, 3))])
def test_defaults_repr_and_state_dict_match_torch(name, args):
    e_mod, t_mod = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(e_mod) == repr(t_mod)
    for (k, ev), (tk, tv) in zip(e_mod.state_dict().items(), t_mod.state_dict().items()):
        assert k == tk
        assert ev.shape == tuple(tv.shape) and str(ev.dtype) == str(tv.dtype).split(".")[-1]
        np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    assert [n for n, _ in e_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]


def test_state_dict_interchanges_with_torch():
    t_mod = torch.nn.BatchNorm2d(3)
    t_mod(torch.randn(4, 3, 2, 2) * 3 + 1)
    t_mod.eval()
    e_mod = nn.BatchNorm2d(3)
    e_mod.load_state_dict({k: v.numpy() for k, v in t_mod.state_dict().items()})
    assert int(e_mod.num_batches_tracked.item()) == 1
    e_mod.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 2)).astype(np.float32)
    _close(e_mod(ember.tensor(x)), t_mod(torch.tensor(x)), "eval output after load")
    back = torch.nn.BatchNorm2d(3)
    back.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e_mod.state_dict().items()})


def test_momentum_none_is_the_cumulative_average():
    m = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).standard_normal((5, 2)).astype(np.float32) + i
               for i in range(4)]
    for b in batches:
        m(ember.tensor(b))
    np.testing.assert_allclose(m.running_mean.numpy(), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.running_var.numpy(),
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-5)
    assert m.num_batches_tracked.item() == 4


def test_without_running_stats_eval_uses_the_batch():
    m = nn.BatchNorm2d(3, track_running_stats=False).eval()
    assert m.running_mean is None and list(m.state_dict()) == ["weight", "bias"]
    y = m(ember.randn(4, 3, 2, 2) * 3 + 5).detach().numpy()
    np.testing.assert_allclose(y.mean((0, 2, 3)), 0, atol=1e-5)


def test_module_to_float64_and_reset():
    m = nn.BatchNorm1d(3).double()
    y = m(ember.randn(4, 3, dtype=ember.float64))
    assert y.dtype == np.float64 and m.running_var.dtype == np.float64
    m.reset_parameters()
    assert m.running_mean.tolist() == [0, 0, 0] and m.num_batches_tracked.item() == 0


def test_dropout2d_module():
    m = nn.Dropout2d(0.25)
    assert repr(m) == repr(torch.nn.Dropout2d(0.25)) == "Dropout2d(p=0.25, inplace=False)"
    ember.manual_seed(0)
    y = m(ember.ones(16, 8, 2, 2)).numpy().reshape(16, 8, 4)
    assert np.all((y == 0).all(-1) | np.isclose(y, 4 / 3).all(-1))
    assert 0.1 < (y[..., 0] == 0).mean() < 0.4
    x = ember.randn(2, 3, 2, 2)
    assert m.eval()(x) is x
    with pytest.raises(ValueError, match="Dropout2d: probability"):
        nn.Dropout2d(2.0)


@pytest.mark.parametrize("make,shape,match", [
    (lambda: nn.BatchNorm2d(4), (2, 3, 5, 5), "BatchNorm2d: expected input with 4 channels"),
    (lambda: nn.BatchNorm1d(4), (2, 3), "BatchNorm1d: expected input with 4 channels"),
    (lambda: nn.BatchNorm1d(4), (2, 3, 4, 4), "BatchNorm1d: expected 2D or 3D input, got 4D"),
    (lambda: nn.BatchNorm2d(4), (2, 4), "BatchNorm2d: expected 4D input, got 2D"),
    (lambda: nn.GroupNorm(2, 4), (2, 6, 3), "GroupNorm: expected input \\(N, 4, \\*\\)"),
    (lambda: nn.LayerNorm(5), (2, 4), "LayerNorm: expected input whose last dims are \\(5,\\)"),
])
def test_wrong_input_errors_name_the_layer(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make()(ember.randn(*shape))


def test_group_norm_groups_must_divide_channels():
    with pytest.raises(ValueError, match="GroupNorm: num_channels \\(6\\) must be divisible"):
        nn.GroupNorm(4, 6)


def test_batch_norm_single_sample_training_error():
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
