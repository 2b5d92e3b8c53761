"""The Module tree against PyTorch: walking order (named_modules, apply), buffers in
state_dict, to(dtype), attribute rules, the printed form, and a model that uses every layer
type: same repr, same state_dict, same outputs and gradients on the same weights."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn

torch = pytest.importorskip("torch")


def copy_weights(ember_module, torch_module):
    ember_module.load_state_dict({k: v.detach().numpy() for k, v in
                                  torch_module.state_dict().items()})


def make_model(lib):
    """One model, written once for ember and torch, that uses every layer type."""
    tnn = lib.nn

    class Block(tnn.Module):
        def __init__(self, width):
            super().__init__()
            self.proj = tnn.Linear(width, width)
            self.acts = tnn.ModuleDict({"prelu": tnn.PReLU(width), "gelu": tnn.GELU("tanh")})
            self.register_buffer("scale", lib.ones(width) * 0.5)
            self.register_buffer("calls", lib.zeros(1), persistent=False)
            self.width = width

        def forward(self, x):
            return self.acts["gelu"](self.acts["prelu"](self.proj(x))) * self.scale

        def extra_repr(self):
            return f"width={self.width}"

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.stem = tnn.Sequential(
                tnn.Softmax2d(), tnn.Flatten(), tnn.Linear(12, 8), tnn.Unflatten(1, (2, 4)),
                tnn.Softmax(-1), tnn.LogSoftmax(-1), tnn.Softmin(-1), tnn.Flatten(),
                tnn.Dropout(0.3), tnn.Identity())
            self.acts = tnn.Sequential(OrderedDict([
                ("relu", tnn.ReLU()), ("relu6", tnn.ReLU6()), ("leaky", tnn.LeakyReLU(0.1)),
                ("elu", tnn.ELU(0.8)), ("celu", tnn.CELU(0.5)), ("selu", tnn.SELU()),
                ("gelu", tnn.GELU()), ("silu", tnn.SiLU()), ("mish", tnn.Mish()),
                ("hswish", tnn.Hardswish()), ("htanh", tnn.Hardtanh(-2.0, 2.0)),
                ("softplus", tnn.Softplus(2.0)), ("softsign", tnn.Softsign()),
                ("tanhshrink", tnn.Tanhshrink()), ("logsigmoid", tnn.LogSigmoid()),
                ("threshold", tnn.Threshold(-3.0, -3.0)), ("hshrink", tnn.Hardshrink(0.01)),
                ("sshrink", tnn.Softshrink(0.01)), ("rrelu", tnn.RReLU()),
                ("sigmoid", tnn.Sigmoid()), ("tanh", tnn.Tanh())]))
            self.blocks = tnn.ModuleList([Block(8), Block(8)])
            self.head = tnn.Sequential(tnn.Linear(8, 6), tnn.GLU(), tnn.Hardsigmoid())
            self.loss = tnn.CrossEntropyLoss(weight=lib.ones(3) * 2.0, label_smoothing=0.1)

        def forward(self, x, target):
            x = self.acts(self.stem(x))
            for block in self.blocks:
                x = block(x)
            return self.loss(self.head(x), target)

    return Net()


@pytest.fixture
def twins():
    torch.manual_seed(0)
    return make_model(ember), make_model(torch)


def test_every_layer_prints_and_saves_like_torch(twins):
    e, t = twins
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())  # buffers too, in torch's order
    assert "blocks.0.scale" in e.state_dict() and "blocks.0.calls" not in e.state_dict()
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    e_order, t_order = [], []
    e.apply(lambda m: e_order.append(type(m).__name__))
    t.apply(lambda m: t_order.append(type(m).__name__))
    assert e_order == t_order


def test_every_layer_computes_like_torch_on_the_same_weights(twins):
    e, t = twins
    e.double(), t.double()
    copy_weights(e, t)
    e.eval(), t.eval()  # dropout off, rrelu at its mean slope
    r = np.random.default_rng(0)
    x, target = r.standard_normal((5, 2, 3, 2)), r.integers(0, 3, 5)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    el, tl = e(ex, ember.tensor(target)), t(tx, torch.tensor(target))
    np.testing.assert_allclose(el.item(), tl.item(), rtol=1e-10)
    el.backward()
    tl.backward()
    # rtol: torch's Hardsigmoid backward scales by a float32 1/6
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-14)
    for (name, p), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-14,
                                   err_msg=name)


def test_named_modules_is_depth_first_and_skips_shared_modules():
    def build(m):
        shared = m.Linear(2, 2)
        return m.Sequential(m.Sequential(shared, m.ReLU()), shared, m.Sequential(m.Tanh()))
    e, t = build(nn), build(torch.nn)
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()] == [
        "", "0", "0.0", "0.1", "2", "2.0"]
    assert [n for n, _ in e.named_modules(prefix="net", remove_duplicate=False)] == [
        n for n, _ in t.named_modules(prefix="net", remove_duplicate=False)]
    assert [n for n, _ in e.named_parameters()] == ["0.0.weight", "0.0.bias"]
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.get_submodule("0.1") is e[0][1]
    with pytest.raises(AttributeError, match="Sequential has no submodule '7'"):
        e.get_submodule("0.7")


def test_to_casts_parameters_and_float_buffers_in_place():
    m = nn.Sequential(nn.Linear(2, 3), nn.PReLU())
    m[0].register_buffer("running", ember.zeros(3))
    m[0].register_buffer("count", ember.zeros(1, dtype=ember.int64))
    w = m[0].weight
    assert m.to(ember.float64) is m
    assert m[0].weight is w and w.dtype == np.float64 and m[1].weight.dtype == np.float64
    assert m[0].running.dtype == np.float64 and m[0].count.dtype == np.int64
    m.to("cpu", ember.float32)
    assert w.dtype == np.float32
    m.to(ember.zeros(1, dtype=ember.float64))
    assert w.dtype == np.float64
    m.to(dtype=ember.float32, device="cpu")
    assert w.dtype == np.float32
    m.to("cpu")
    assert w.dtype == np.float32
    with pytest.raises(TypeError, match="to: a module casts only to a floating dtype"):
        m.to(ember.int64)
    with pytest.raises(ValueError, match="to: ember runs on the CPU only"):
        m.to("cuda")
    m(ember.ones(1, 2)).sum().backward()
    m.half()
    assert w.dtype == np.float16 and w.grad.dtype == np.float16


def test_buffers_in_state_dict_round_trip():
    def build(lib):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("mean", lib.ones(2) * 3.0)
        m.register_buffer("scratch", lib.zeros(2), persistent=False)
        m.register_buffer("nothing", None)
        return m
    e, t = build(ember), build(torch)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "bias", "mean"]
    sd = {k: v.numpy() for k, v in e.state_dict().items()}
    sd["mean"] = np.full(2, 7.0, np.float32)
    e2 = build(ember)
    e2.load_state_dict(sd)
    np.testing.assert_array_equal(e2.mean.numpy(), [7.0, 7.0])
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    e.mean = ember.zeros(2)  # assigning to a buffer's name keeps it a buffer
    assert "mean" in e.state_dict() and not e.state_dict()["mean"].numpy().any()


def test_attribute_rules_match_torch():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        m.weight = ember.zeros(2, 2)
    m.bias = None  # a parameter's slot takes None
    assert list(m.state_dict()) == ["weight"] and m.bias is None
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="cannot assign int as child module '0'"):
        setattr(seq, "0", 3)
    with pytest.raises(KeyError, match="must be non-empty and contain no '.'"):
        m.register_buffer("a.b", ember.zeros(1))
    with pytest.raises(TypeError, match="cannot assign list as buffer 'c'"):
        m.register_buffer("c", [1, 2])
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_parameter("forward", nn.Parameter(ember.zeros(1)))
    with pytest.raises(ValueError, match="train: mode must be a bool"):
        m.train("no")


def test_repr_with_extra_repr_and_children_matches_torch():
    def build(lib):
        class Wrapper(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = lib.nn.Linear(1, 1)
                self.none = None

            def extra_repr(self):
                return "mode=fast\nsecond line"

        class Leaf(lib.nn.Module):
            def extra_repr(self):
                return "a=1\nb=2"

        return lib.nn.Sequential(Wrapper(), Leaf(), lib.nn.ModuleList([Leaf(), Leaf()]))
    assert repr(build(ember)) == repr(build(torch))


def test_loss_modules_keep_their_weights_as_buffers():
    w = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    e = nn.CrossEntropyLoss(weight=ember.tensor(w))
    t = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert repr(e) == repr(t) == "CrossEntropyLoss()"
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=ember.ones(2)).state_dict()) == ["pos_weight"]
    assert list(nn.NLLLoss().state_dict()) == []
    e.double()
    assert e.weight.dtype == np.float64
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be one of"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of 'mean', "
                                         "'sum', 'none'; got 'batchmean'"):
        nn.CrossEntropyLoss(reduction="batchmean")
