"""Module hooks against PyTorch: each scenario is written once, runs in ember and in torch on the
same weights, and the two logs of what the hooks saw (and the gradients that came out) agree."""
import numpy as np
import pytest

import ember
import ember.nn as enn

torch = pytest.importorskip("torch")
# torch tells when a full backward hook fires with no input requiring grad; ember does not warn
pytestmark = pytest.mark.filterwarnings("ignore:Full backward hook is firing:UserWarning")

LIBS = {"ember": ember, "torch": torch}


def arr(t):
    return None if t is None else np.asarray(t.detach().numpy(), dtype=np.float64)


def same(a, b, path="log"):
    """Two logs (nested tuples/lists of arrays, None and plain values) agree."""
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for k, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{k}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{path}: {b!r} is not an array"
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=path)
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def both(scenario):
    """Run scenario(lib) in ember and torch with the same seeded weights; compare the logs."""
    logs = {}
    for name, lib in LIBS.items():
        logs[name] = scenario(lib)
    same(logs["ember"], logs["torch"])
    return logs["ember"]


def mlp(lib, sizes=(3, 4, 2)):
    """Linear-tanh-Linear with fixed weights, the same in both libraries."""
    rng = np.random.default_rng(0)
    net = lib.nn.Sequential(lib.nn.Linear(sizes[0], sizes[1]), lib.nn.Tanh(),
                            lib.nn.Linear(sizes[1], sizes[2]))
    state = {k: rng.standard_normal(tuple(v.shape)).astype(np.float32)
             for k, v in net.state_dict().items()}
    net.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    return net


def data(lib, shape=(5, 3), seed=1, requires_grad=False):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return lib.tensor(x, requires_grad=requires_grad)


def test_forward_hooks_see_every_layer_and_backward_hooks_every_gradient():
    """The course's picture: each layer's output forward, each layer's gradients backward."""
    def scenario(lib):
        net, log = mlp(lib), []
        for i, layer in enumerate(net):
            layer.register_forward_hook(
                lambda m, args, out, i=i: log.append(("fwd", i, arr(args[0]), arr(out))))
            layer.register_full_backward_hook(
                lambda m, gi, go, i=i: log.append(("bwd", i, [arr(g) for g in gi],
                                                   [arr(g) for g in go])))
        net.register_full_backward_hook(
            lambda m, gi, go: log.append(("bwd", "net", [arr(g) for g in gi], arr(go[0]))))
        net(data(lib)).pow(2).sum().backward()
        return log, [arr(p.grad) for p in net.parameters()]

    log, _ = both(scenario)
    # the data does not require grad: grad_input is (None,), and the whole net's hook runs
    # as soon as the gradient of its output is known
    assert [e[:2] for e in log] == [("fwd", 0), ("fwd", 1), ("fwd", 2), ("bwd", "net"),
                                    ("bwd", 2), ("bwd", 1), ("bwd", 0)]
    assert log[-1][2] == [None] and log[3][2] == [None]


def test_backward_hooks_with_an_input_that_requires_grad():
    def scenario(lib):
        net, log = mlp(lib), []
        net.register_full_backward_pre_hook(lambda m, go: log.append(("pre", [arr(g) for g in go])))
        net.register_full_backward_hook(
            lambda m, gi, go: log.append(("full", [arr(g) for g in gi], [arr(g) for g in go])))
        x = data(lib, requires_grad=True)
        (net(x) * 3).sum().backward()
        return log, arr(x.grad)

    both(scenario)


class Two:
    """A module of two tensors and a number, with two outputs (written for either library)."""

    @staticmethod
    def make(lib):
        class TwoOut(lib.nn.Module):
            def forward(self, a, k, b):
                return a * b * k, a + b
        return TwoOut()


def test_several_inputs_and_outputs():
    def scenario(lib):
        m, log = Two.make(lib), []
        m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", [arr(g) for g in go])))
        m.register_full_backward_hook(
            lambda mod, gi, go: log.append(("full", [arr(g) for g in gi], [arr(g) for g in go])))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        o1, o2 = m(a, 2.0, b)
        o1.sum().backward()                           # o2 gets no gradient: None
        o1, o2 = m(a, 2.0, b)
        (o1.sum() + 3 * o2.sum()).backward()
        return log, arr(a.grad), arr(b.grad)

    log = both(scenario)[0]
    assert log[1][1][1] is None and log[1][2][1] is None


def test_hooks_replace_grad_input_and_grad_output():
    def scenario(lib):
        m = Two.make(lib)
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10, None, gi[2]))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        o1, _ = m(a, 2.0, b)
        o1.sum().backward()
        lin = mlp(lib)
        lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 0.5,))
        x = data(lib, requires_grad=True)
        lin(x).sum().backward()
        return arr(a.grad), arr(b.grad), arr(x.grad), [arr(p.grad) for p in lin.parameters()]

    both(scenario)


def test_forward_pre_hooks_and_forward_hooks_replace_values_in_order():
    def scenario(lib):
        net, log = mlp(lib), []
        first = net[0]
        first.register_forward_pre_hook(lambda m, args: args[0] * 2)  # not a tuple: wrapped
        first.register_forward_pre_hook(lambda m, args: log.append(("second", arr(args[0]))))
        first.register_forward_pre_hook(lambda m, args: log.append(("first", arr(args[0]))),
                                        prepend=True)
        first.register_forward_pre_hook(
            lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
        first.register_forward_hook(lambda m, args, out: out - 1)
        first.register_forward_hook(
            lambda m, args, kwargs, out: log.append(("kw", arr(args[0]), kwargs, arr(out))),
            with_kwargs=True)
        out = net(data(lib))
        return log, arr(out)

    both(scenario)


def test_handles_remove_hooks():
    def scenario(lib):
        net, log = mlp(lib), []
        h = net.register_forward_hook(lambda m, args, out: log.append("forward"))
        hb = net.register_full_backward_hook(lambda m, gi, go: log.append("backward"))
        net(data(lib)).sum().backward()
        h.remove()
        hb.remove()
        h.remove()  # twice is fine
        net(data(lib)).sum().backward()
        with net.register_forward_pre_hook(lambda m, args: log.append("pre")):
            net(data(lib))
        net(data(lib))
        return log

    assert both(scenario) == ["forward", "backward", "pre"]
    a, b = enn.Linear(1, 1), enn.Linear(1, 1)
    ha, hb = (m.register_forward_hook(lambda *_: None) for m in (a, b))
    assert hb.id > ha.id


def test_always_call_hooks_run_when_forward_raises():
    class Fails(enn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m, seen = Fails(), []
    m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("plain"))
    with pytest.raises(ValueError, match="boom"):
        m(ember.ones(1))
    assert seen == [("always", None)]
    m.register_forward_hook(lambda mod, args, out: 1 / 0, always_call=True)
    with pytest.warns(UserWarning, match="Fails: a forward hook with always_call=True raised"), \
            pytest.raises(ValueError, match="boom"):
        m(ember.ones(1))


def test_hook_errors_name_the_module():
    m = Two.make(ember)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0],))
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    o1, _ = m(a, 2.0, a * 1)
    with pytest.raises(RuntimeError, match="TwoOut: a backward hook returned 1 grad_input "
                                           "entries, expected 3"):
        o1.sum().backward()
    lin = enn.Linear(2, 2)
    lin.register_full_backward_pre_hook(lambda mod, go: (ember.ones(3),))
    with pytest.raises(RuntimeError, match="Linear: a backward pre-hook returned grad_output\\[0\\] "
                                           "of shape \\(3,\\), expected \\(1, 2\\)"):
        lin(ember.ones(1, 2)).sum().backward()
    lin = enn.Linear(2, 2)
    lin.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="Linear: a forward pre-hook with kwargs must return"):
        lin(ember.ones(1, 2))
    lin = enn.Linear(2, 2)
    lin.register_full_backward_hook(lambda mod, gi, go: (ember.ones(1, 2),))
    with pytest.raises(RuntimeError, match="no input of this module requires grad"):
        lin(ember.ones(1, 2)).sum().backward()


def test_hooks_run_again_on_a_second_backward_of_a_retained_graph():
    def scenario(lib):
        net, log = mlp(lib), []
        net.register_full_backward_hook(lambda m, gi, go: log.append([arr(g) for g in go]))
        x = data(lib, requires_grad=True)
        y = net(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return log, arr(x.grad)

    log = both(scenario)[0]
    assert len(log) == 2


def test_hooks_under_create_graph_give_second_derivatives():
    def scenario(lib):
        net, log = mlp(lib), []
        net.register_full_backward_hook(lambda m, gi, go: log.append(arr(gi[0])))
        x = data(lib, requires_grad=True)
        (g,) = lib.autograd.grad(net(x).sum(), x, create_graph=True)
        g.pow(2).sum().backward()
        return log, arr(x.grad)

    both(scenario)


def test_lstm_output_tuple_hooks_the_top_level_tensor():
    def scenario(lib):
        lib.manual_seed(0)
        rnn, log = lib.nn.LSTM(3, 4), []
        rng = np.random.default_rng(2)
        rnn.load_state_dict({k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32))
                             for k, v in rnn.state_dict().items()})
        rnn.register_full_backward_hook(
            lambda m, gi, go: log.append(([arr(g) for g in gi], [arr(g) for g in go])))
        out, (h, _c) = rnn(data(lib, (5, 2, 3), requires_grad=True))
        (out.sum() + h.sum()).backward()
        return log

    log = both(scenario)
    assert log[0][1][1] is None  # grad_output: (d out, None for the (h, c) tuple)


def test_no_hooks_no_cost_and_no_grad_calls_skip_backward_hooks():
    lin = enn.Linear(2, 2)
    assert lin._hooks is None
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(1))
    with ember.no_grad():
        y = lin(ember.ones(1, 2, requires_grad=True))
    assert y.grad_fn is None and seen == []
    x = ember.ones(1, 2, requires_grad=True)
    y = lin(x)
    assert y.grad_fn.name == "backward_hook"
    y.sum().backward()
    assert seen == [1]


def test_sequential_honours_hooks_and_an_own_call_of_its_children():
    """Sequential calls a plain child's forward directly (cheaper); a child with hooks, or with a
    __call__ of its own, is called as a module."""
    class Doubling(enn.Identity):
        def __call__(self, x):
            return super().__call__(x) * 2

    seen = []
    lin = enn.Linear(2, 2)
    net = enn.Sequential(Doubling(), lin)
    x = ember.ones(1, 2)
    expected = lin.forward(x * 2).detach().numpy()
    np.testing.assert_allclose(net(x).detach().numpy(), expected)
    lin.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    np.testing.assert_allclose(net(x).detach().numpy(), expected)
    assert seen == [(1, 2)]
    assert Doubling._plain_call is False and enn.Linear._plain_call is True
