"""Loss ops (ember/ops/loss.py): gradcheck, parity and second derivatives, with respect to the
input and the target, for every reduction."""
import numpy as np
import pytest

import ember
from harness import Case, op_tests

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning"),  # kl_div
              pytest.mark.filterwarnings("ignore:size_average and reduce:UserWarning")]

SHAPES = [((4, 3), (4, 3)), ((5,), (5,)), ((), ()), ((2, 1, 3), (2, 1, 3))]


def probabilities(rng, shapes, dtype):
    return [rng.uniform(0.05, 0.95, s).astype(dtype) for s in shapes]


CASES = []
for red in ("mean", "sum", "none"):
    CASES += [
        Case(f"bce_with_logits_{red}", lambda m, z, y, r=red:
             m.nn.functional.binary_cross_entropy_with_logits(z, y, reduction=r), SHAPES,
             domain=(-4.0, 4.0)),
        Case(f"bce_{red}", lambda m, p, y, r=red:
             m.nn.functional.binary_cross_entropy(p, y, reduction=r), SHAPES,
             make=probabilities, double=False),
        Case(f"mse_{red}", lambda m, a, b, r=red: m.nn.functional.mse_loss(a, b, reduction=r),
             SHAPES),
        Case(f"l1_{red}", lambda m, a, b, r=red: m.nn.functional.l1_loss(a, b, reduction=r),
             SHAPES),
    ]
CASES.append(Case("bce_with_logits_weighted", lambda m, z, y, w:
                  m.nn.functional.binary_cross_entropy_with_logits(
                      z, y, weight=w, pos_weight=w * 2),
                  [((4, 3), (4, 3), (3,))], domain=(-3.0, 3.0), constant=(2,)))

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_extremes_match_torch(dtype):
    z = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=dtype)
    y = np.array([0.0, 1.0, 0.5, 1.0, 0.0, 1.0, 0.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for r in ("mean", "none"):
            ez = ember.tensor(z, requires_grad=True)
            tz = torch.tensor(z, requires_grad=True)
            e = ember.nn.functional.binary_cross_entropy_with_logits(ez, ember.tensor(y), reduction=r)
            t = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor(y), reduction=r)
            np.testing.assert_allclose(e.data, t.detach().numpy(), rtol=1e-6, atol=1e-30)
            e.sum().backward()
            t.sum().backward()
            np.testing.assert_allclose(ez.grad.numpy(), tz.grad.numpy(), rtol=1e-6, atol=1e-12)


# ---- cross-entropy, nll, smooth l1, huber, kl ---------------------------------------------------

IGNORE = -100
CLASS_SHAPES = [((4, 5), (4,)), ((2, 3, 2, 2), (2, 2, 2)), ((5,), ()), ((1, 1), (1,))]
PROB_SHAPES = [((4, 5), (4, 5)), ((2, 3, 2), (2, 3, 2)), ((5,), (5,))]


def class_targets(ignore=False, weight=False, probs=False, ignore_index=IGNORE):
    """make(): logits, then class indices (some ignored) or class probabilities, then a
    positive weight per class."""
    def make(rng, shapes, dtype):
        x_shape, t_shape = shapes
        n_classes = x_shape[0 if len(x_shape) == 1 else 1]
        x = (rng.standard_normal(x_shape) * 2).astype(dtype)
        if probs:
            t = rng.uniform(0, 1, t_shape).astype(dtype)  # soft labels need not sum to one
        else:
            t = rng.integers(0, n_classes, t_shape)
            if ignore and t.ndim:
                t[rng.random(t_shape) < 0.4] = ignore_index
                t.reshape(-1)[0] = 0  # at least one target counts
        arrays = [x, t]
        if weight:
            arrays.append(rng.uniform(0.5, 2.0, n_classes).astype(dtype))
        return arrays
    return make


def positive_target(rng, shapes, dtype):
    x_shape, t_shape = shapes
    return [rng.uniform(-3, 0, x_shape).astype(dtype), rng.uniform(0.05, 1, t_shape).astype(dtype)]


def with_weight(rng, shapes, dtype):
    a, b = (rng.uniform(-2, 2, s).astype(dtype) for s in shapes)
    return [a, b, rng.uniform(0.5, 2.0, shapes[0]).astype(dtype)]


PAIR_SHAPES = [((4, 3), (4, 3)), ((5,), (5,)), ((), ()), ((0, 2), (0, 2))]

LOSS_CASES = []
for red in ("mean", "sum", "none"):
    LOSS_CASES += [
        Case(f"cross_entropy_{red}", lambda m, x, t, r=red:
             m.nn.functional.cross_entropy(x, t, reduction=r),
             CLASS_SHAPES + [((0, 3), (0,))], make=class_targets()),
        Case(f"cross_entropy_weight_ignore_smoothing_{red}", lambda m, x, t, w, r=red:
             m.nn.functional.cross_entropy(x, t, weight=w, reduction=r, label_smoothing=0.2),
             CLASS_SHAPES, make=class_targets(ignore=True, weight=True), constant=(2,)),
        Case(f"cross_entropy_probs_{red}", lambda m, x, t, r=red:
             m.nn.functional.cross_entropy(x, t, reduction=r), PROB_SHAPES,
             make=class_targets(probs=True)),
        Case(f"cross_entropy_probs_weight_smoothing_{red}", lambda m, x, t, w, r=red:
             m.nn.functional.cross_entropy(x, t, weight=w, reduction=r, label_smoothing=0.3),
             PROB_SHAPES, make=class_targets(probs=True, weight=True), constant=(2,)),
        Case(f"nll_loss_weight_ignore_{red}", lambda m, x, t, w, r=red:
             m.nn.functional.nll_loss(x, t, weight=w, reduction=r),
             CLASS_SHAPES, make=class_targets(ignore=True, weight=True), constant=(2,)),
        Case(f"smooth_l1_{red}", lambda m, a, b, r=red:
             m.nn.functional.smooth_l1_loss(a, b, reduction=r, beta=0.5), PAIR_SHAPES),
        Case(f"huber_{red}", lambda m, a, b, r=red:
             m.nn.functional.huber_loss(a, b, reduction=r, delta=1.5), PAIR_SHAPES),
        Case(f"kl_div_{red}", lambda m, x, y, r=red: m.nn.functional.kl_div(x, y, reduction=r),
             PAIR_SHAPES[:3], make=positive_target),
    ]
LOSS_CASES += [
    Case("cross_entropy_smoothing", lambda m, x, t:
         m.nn.functional.cross_entropy(x, t, label_smoothing=0.1), CLASS_SHAPES[:2],
         make=class_targets()),
    Case("cross_entropy_weight", lambda m, x, t, w:
         m.nn.functional.cross_entropy(x, t, weight=w), CLASS_SHAPES[:2],
         make=class_targets(weight=True), constant=(2,)),
    Case("cross_entropy_ignore", lambda m, x, t: m.nn.functional.cross_entropy(x, t),
         CLASS_SHAPES[:2], make=class_targets(ignore=True)),
    Case("cross_entropy_ignore_index_2", lambda m, x, t:
         m.nn.functional.cross_entropy(x, t, ignore_index=2, label_smoothing=0.1),
         CLASS_SHAPES[:2], make=class_targets(ignore=True, ignore_index=2)),
    Case("CrossEntropyLoss_module", lambda m, x, t, w:
         m.nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.05)(x, t),
         CLASS_SHAPES[:2], make=class_targets(ignore=True, weight=True, ignore_index=1),
         constant=(2,)),
    Case("cross_entropy_probs_float64_target", lambda m, x, t:
         m.nn.functional.cross_entropy(x, t.double()), PROB_SHAPES[:1],
         make=class_targets(probs=True), gradcheck=False, double=False),
    Case("nll_loss_log_softmax", lambda m, x, t:
         m.nn.functional.nll_loss(m.nn.functional.log_softmax(x, 1), t), CLASS_SHAPES[:2],
         make=class_targets(ignore=True)),
    Case("NLLLoss_module", lambda m, x, t: m.nn.NLLLoss(reduction="sum")(x, t),
         CLASS_SHAPES[:1], make=class_targets()),
    Case("smooth_l1_default_beta", lambda m, a, b: m.nn.functional.smooth_l1_loss(a, b),
         PAIR_SHAPES[:2]),
    Case("smooth_l1_beta_0", lambda m, a, b: m.nn.SmoothL1Loss(beta=0.0)(a, b), PAIR_SHAPES[:2]),
    Case("huber_default_delta", lambda m, a, b: m.nn.HuberLoss()(a, b), PAIR_SHAPES[:2]),
    Case("kl_div_batchmean", lambda m, x, y: m.nn.KLDivLoss(reduction="batchmean")(x, y),
         PAIR_SHAPES[:3], make=positive_target),
    Case("kl_div_log_target", lambda m, x, y:
         m.nn.functional.kl_div(x, y, reduction="sum", log_target=True), PAIR_SHAPES[:2]),
]
for red in ("mean", "sum", "none"):
    LOSS_CASES += [
        Case(f"mse_weight_{red}", lambda m, a, b, w, r=red:
             m.nn.functional.mse_loss(a, b, reduction=r, weight=w), PAIR_SHAPES[:2],
             make=with_weight, constant=(2,)),
        Case(f"l1_weight_{red}", lambda m, a, b, w, r=red:
             m.nn.functional.l1_loss(a, b, reduction=r, weight=w), PAIR_SHAPES[:2],
             make=with_weight, constant=(2,)),
        Case(f"huber_weight_{red}", lambda m, a, b, w, r=red:
             m.nn.functional.huber_loss(a, b, reduction=r, weight=w), PAIR_SHAPES[:2],
             make=with_weight, constant=(2,)),
    ]

test_loss_gradcheck, test_loss_parity, test_loss_double_backward = op_tests(LOSS_CASES)


def test_cross_entropy_is_one_fused_node():
    x = ember.randn(4, 3, requires_grad=True)
    loss = ember.nn.functional.cross_entropy(x, ember.tensor([0, 2, 1, 1]))
    assert loss.grad_fn.name == "cross_entropy"
    assert all(not isinstance(a, ember.Tensor) or a.grad_fn is None for a in loss.grad_fn.inputs)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_extremes_match_torch(dtype, smoothing):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0], [-1000.0, -1000.0, -1000.0],
                  [1000.0, 1000.0, -1000.0]], dtype=dtype)
    t = np.array([1, 1, 2, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for r in ("mean", "none"):
            ez, tz = ember.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
            e = ember.nn.functional.cross_entropy(ez, ember.tensor(t), reduction=r,
                                                  label_smoothing=smoothing)
            o = torch.nn.functional.cross_entropy(tz, torch.tensor(t), reduction=r,
                                                  label_smoothing=smoothing)
            assert np.all(np.isfinite(e.data))
            np.testing.assert_allclose(e.data, o.detach().numpy(), rtol=1e-6)
            e.sum().backward()
            o.sum().backward()
            np.testing.assert_allclose(ez.grad.numpy(), tz.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_cross_entropy_with_masked_logits_ignores_the_masked_items():
    """-inf logits (a mask) in an ignored item must not leak nan into the loss or gradient."""
    z = np.array([[0.5, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [2.0, 0.0, -np.inf],
                  [-np.inf, 1.0, 2.0]])
    t = np.array([0, IGNORE, 1, IGNORE])
    for fn in ("cross_entropy", "nll_loss"):
        ez, tz = ember.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
        e = getattr(ember.nn.functional, fn)(ez, ember.tensor(t))
        o = getattr(torch.nn.functional, fn)(tz, torch.tensor(t))
        np.testing.assert_allclose(e.item(), o.item(), rtol=1e-12)
        e.backward()
        o.backward()
        np.testing.assert_allclose(ez.grad.numpy(), tz.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn,kw", [("cross_entropy", {}), ("nll_loss", {}),
                                   ("cross_entropy", dict(label_smoothing=0.2)),
                                   ("cross_entropy", dict(weight=ember.ones(4)))])
def test_every_target_ignored_gives_nan_and_zero_gradient_like_torch(fn, kw):
    x = np.random.default_rng(0).standard_normal((3, 4))
    ex = ember.tensor(x, requires_grad=True)
    loss = getattr(ember.nn.functional, fn)(ex, ember.tensor([IGNORE] * 3), **kw)
    assert np.isnan(loss.item())
    loss.backward()
    assert not ex.grad.numpy().any()


def test_cross_entropy_empty_batch_matches_torch():
    for r in ("mean", "sum"):
        e = ember.nn.functional.cross_entropy(ember.zeros(0, 3), ember.zeros(0, dtype=ember.int64),
                                              reduction=r)
        o = torch.nn.functional.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long),
                                              reduction=r)
        np.testing.assert_equal(e.item(), o.item())


def test_legacy_size_average_and_reduce_flags():
    r = np.random.default_rng(0)
    x, y = r.standard_normal((4, 3)), r.standard_normal((4, 3))
    t = np.array([0, 2, 1, 1])
    for size_average, reduce in [(False, None), (None, False), (True, True), (False, True)]:
        kw = dict(size_average=size_average, reduce=reduce)
        pairs = [("mse_loss", x, y), ("l1_loss", x, y), ("smooth_l1_loss", x, y),
                 ("kl_div", x, np.abs(y)), ("cross_entropy", x, t), ("nll_loss", x, t)]
        for fn, a, b in pairs:
            e = getattr(ember.nn.functional, fn)(ember.tensor(a), ember.tensor(b), **kw)
            o = getattr(torch.nn.functional, fn)(torch.tensor(a), torch.tensor(b), **kw)
            np.testing.assert_allclose(e.data, o.numpy(), rtol=1e-12, err_msg=f"{fn} {kw}")


@pytest.mark.parametrize("call,error,match", [
    (lambda F: F.cross_entropy(ember.randn(4, 3), ember.tensor([0, 1, 3, 0])), IndexError,
     r"cross_entropy: target class 3 is out of range for 3 classes"),
    (lambda F: F.cross_entropy(ember.randn(4, 3), ember.tensor([0, -1, 2, 0])), IndexError,
     r"cross_entropy: target class -1 is out of range"),
    (lambda F: F.nll_loss(ember.randn(2, 3), ember.tensor([5, 0])), IndexError,
     r"nll_loss: target class 5 is out of range for 3 classes"),
    (lambda F: F.cross_entropy(ember.randn(4, 3), ember.tensor([0, 1])), ValueError,
     r"cross_entropy: target of class indices must have shape \(4,\) for input of shape "
     r"\(4, 3\), got \(2,\)"),
    (lambda F: F.cross_entropy(ember.randn(2, 3, 5), ember.tensor([[0] * 3] * 2)), ValueError,
     r"must have shape \(2, 5\)"),
    (lambda F: F.cross_entropy(ember.randn(4, 3), ember.tensor([0.0, 1.0, 2.0, 0.0])),
     ValueError, r"cross_entropy: target of shape \(4,\) and dtype float32 fits neither form"),
    (lambda F: F.nll_loss(ember.randn(4, 3), ember.randn(4, 3)), TypeError,
     r"nll_loss: target must hold class indices \(an integer tensor\), got dtype float32"),
    (lambda F: F.cross_entropy(ember.randn(2, 3), ember.tensor([True, False])), TypeError,
     r"cross_entropy: target must hold class indices"),
    (lambda F: F.cross_entropy(ember.randn(2, 3), ember.tensor([0, 1]), weight=ember.ones(2)),
     ValueError, r"cross_entropy: weight must be a 1-D tensor with one entry per class \(3\)"),
    (lambda F: F.cross_entropy(ember.randn(2, 3), ember.tensor([0, 1]), label_smoothing=1.5),
     ValueError, r"cross_entropy: label_smoothing must be between 0.0 and 1.0"),
    (lambda F: F.cross_entropy(ember.randn(2, 3), ember.rand(2, 3), ignore_index=0), ValueError,
     r"ignore_index is not supported with class-probability targets"),
    (lambda F: F.cross_entropy(ember.tensor(1.0), ember.tensor(0)), ValueError,
     r"cross_entropy: input must have a class dim"),
    (lambda F: F.cross_entropy(ember.tensor([[1, 2]]), ember.tensor([0])), TypeError,
     r"cross_entropy: expected a floating-point tensor"),
    (lambda F: F.cross_entropy(ember.randn(2, 3), ember.tensor([0, 1]), reduction="avg"),
     ValueError, r"cross_entropy: reduction must be one of 'mean', 'sum', 'none'; got 'avg'"),
    (lambda F: F.cross_entropy(ember.randn(2, 3), ember.tensor([0, 1]),
                               weight=ember.ones(3, requires_grad=True)), RuntimeError,
     r"cross_entropy: the gradient with respect to weight is not supported"),
    (lambda F: F.kl_div(ember.randn(2, 3), ember.rand(2, 3), reduction="batch"), ValueError,
     r"kl_div: reduction must be one of 'mean', 'sum', 'none', 'batchmean'"),
    (lambda F: F.kl_div(ember.randn(2, 3), ember.rand(3)), ValueError,
     r"kl_div: target shape \(3,\) differs from input shape \(2, 3\)"),
    (lambda F: F.smooth_l1_loss(ember.randn(2), ember.randn(2), beta=-1.0), ValueError,
     r"smooth_l1_loss: beta must be >= 0"),
    (lambda F: F.huber_loss(ember.randn(2), ember.randn(2), delta=0.0), ValueError,
     r"huber_loss: delta must be > 0"),
    (lambda F: F.huber_loss(ember.randn(2), ember.randn(3)), ValueError,
     r"huber_loss: target shape \(3,\) differs from input shape \(2,\)"),
    (lambda F: F.cross_entropy(ember.randn(2, 3), [0, 1]), TypeError,
     r"cross_entropy: target must be a Tensor, got list"),
    (lambda F: F.mse_loss(ember.randn(2), np.zeros(2)), TypeError,
     r"mse_loss: target must be a Tensor, got ndarray"),
    (lambda F: F.mse_loss(ember.randn(2), ember.randn(2), weight=ember.ones(3)), ValueError,
     r"mse_loss: weight of shape \(3,\) must have the input's shape \(2,\)"),
])
def test_loss_errors_name_the_loss(call, error, match):
    with pytest.raises(error, match=match):
        call(ember.nn.functional)


GRAD_OF_GRAD = [
    ("indices", dict(reduction="none")),
    ("indices", dict(reduction="mean", label_smoothing=0.2, weight=True)),
    ("indices", dict(reduction="sum", weight=True)),
    ("probs", dict(reduction="mean", label_smoothing=0.1, weight=True)),
    ("probs", dict(reduction="none")),
]


@pytest.mark.parametrize("kind,kw", GRAD_OF_GRAD)
def test_cross_entropy_gradient_of_gradient(kind, kw):
    """A penalty on the gradient of a function of the loss differentiates the fused backward
    node with respect to every input: its incoming gradient, the logits and soft targets."""
    make = class_targets(ignore=kind == "indices", probs=kind == "probs", weight=True)
    x, t, w = make(np.random.default_rng(0), ((2, 4, 3), (2, 4, 3) if kind == "probs" else (2, 3)),
                   np.float64)
    kw = dict(kw)
    use_weight = kw.pop("weight", False)

    def penalty(lib, x, t):
        weight = lib.tensor(w) if use_weight else None
        with lib.enable_grad():  # gradcheck evaluates fn under no_grad
            loss = lib.nn.functional.cross_entropy(x, t, weight=weight, **kw)
            grads = (x, t) if t.requires_grad else (x,)
            gs = lib.autograd.grad((loss * loss).sum(), grads, create_graph=True)
            return sum((g * g).sum() for g in gs)

    soft = kind == "probs"
    ember.autograd.gradcheck(lambda a, b: penalty(ember, a, b),
                             (ember.tensor(x, requires_grad=True),
                              ember.tensor(t, requires_grad=soft)))
    ex, et = ember.tensor(x, requires_grad=True), ember.tensor(t, requires_grad=soft)
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=soft)
    penalty(ember, ex, et).backward()
    penalty(torch, tx, tt).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    if soft:
        np.testing.assert_allclose(et.grad.numpy(), tt.grad.numpy(), rtol=1e-9, atol=1e-12)
