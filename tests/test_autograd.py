"""The graph walk: chains, reuse, accumulation, freeing, retain_graph, grad modes, hooks, the
version counter, create_graph and gradcheck's report."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

def leaf(values, dtype=np.float64):
    return ember.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_long_chain_has_no_recursion_limit():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_tensor_used_twice():
    x = leaf([1.0, 2.0, 3.0])
    ((x + x) * x).sum().backward()  # d/dx 2x^2 = 4x
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0, 12.0])


def test_residual_branch():
    x = leaf([0.5, -1.0])
    h = x.tanh()
    (h + h * x).sum().backward()  # d/dx [tanh x + x tanh x]
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad.numpy(), (1 - t ** 2) * (1 + x.data) + t)


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])
    x.grad = None
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_leaf_grads_do_not_alias():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).sum().backward()  # add's backward hands the same gradient to both
    a.grad.data[0] = 100.0
    assert b.grad.item() == 1.0


def test_seed_gradient_is_not_aliased():
    x = leaf([1.0, 2.0])
    g = ember.tensor([1.0, 1.0], dtype=ember.float64)
    (x + 0.0).backward(g)
    x.grad.data[0] = 7.0
    assert g.data[0] == 1.0


def test_second_backward_through_freed_graph_is_a_clear_error():
    x = leaf([1.0, 2.0])
    y = (x.sigmoid() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_saved_arrays_are_freed_after_backward():
    x = leaf(np.ones(3))
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._to_save is None


def test_backward_of_non_scalar_needs_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for scalar outputs.*shape \\(2,\\)"):
        (x * 2).backward()
    (x * 2).backward(ember.ones(2, dtype=ember.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_backward_with_wrong_gradient_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 2).backward(ember.ones(3, dtype=ember.float64))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.tensor([1.0]).sum().backward()


def test_no_grad_context_and_decorator():
    x = leaf([1.0])
    with ember.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert ember.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with ember.no_grad():
        with ember.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled():
    x = leaf([1.0])
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert ember.is_grad_enabled()


def test_hooks_on_leaf_and_intermediate():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3.0
    handle = y.register_hook(lambda g: g * 10.0)  # replaces y's gradient
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    np.testing.assert_allclose(seen[0], [30.0, 30.0])
    handle.remove()
    x.grad = None
    y = x * 3.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_retain_grad_on_intermediate():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])


def test_in_place_change_of_saved_tensor_is_an_error():
    w = leaf([1.0, 2.0])
    x = ember.tensor([3.0, 4.0], dtype=ember.float64)
    y = (w * x).sum()  # mul saves x for w's gradient
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_in_place_change_of_saved_output_is_an_error():
    w = leaf([1.0, 2.0])
    y = w.exp()  # exp saves its output
    z = y.sum()
    with ember.no_grad():
        y.data[...] = 0  # data access bypasses the counter, as in PyTorch ...
        y.mul_(2.0)      # ... in-place ops do not
    with pytest.raises(RuntimeError, match="exp.*modified by an in-place operation"):
        z.backward()


def test_in_place_changes_before_the_op_or_of_unsaved_tensors_are_fine():
    """Only a change of a saved tensor after it was saved is an error: a change before the op,
    or of a tensor no node saved (which still moves the clock), is not."""
    w = leaf([1.0, 2.0])
    x = ember.tensor([3.0, 4.0], dtype=ember.float64)
    other = ember.tensor([0.0], dtype=ember.float64)
    x.add_(1.0)          # before the op that saves x
    y = (w * x).sum()
    other.add_(1.0)      # saved by nothing
    b = ember.tensor([1.0, 1.0], dtype=ember.float64)
    z = y + (w + b).sum()  # add saves nothing: changing b is fine
    b.mul_(3.0)
    z.backward()
    np.testing.assert_allclose(w.grad.numpy(), [5.0, 6.0])


def test_in_place_change_between_two_backwards_is_an_error():
    w = leaf([1.0, 2.0])
    x = ember.tensor([3.0, 4.0], dtype=ember.float64)
    y = (w * x).sum()
    y.backward(retain_graph=True)
    x.mul_(2.0)
    with pytest.raises(RuntimeError, match="mul: .*modified by an in-place operation"):
        y.backward()


def test_in_place_change_of_a_saved_zero_d_output_is_an_error():
    x = leaf(1.0)
    y = x.exp()  # exp saves its output, which NumPy returns as a scalar for a 0-d input
    assert y.grad_fn._to_save[0] is y._data
    z = y * 1.0
    with ember.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()


def test_in_place_change_is_caught_on_the_tensor_path_too():
    w = leaf([1.0, 2.0])
    x = ember.tensor([3.0, 4.0], dtype=ember.float64)
    y = (w * x).sum()
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="mul: .*modified by an in-place operation"):
        ember.autograd.grad(y, w, create_graph=True)

def test_in_place_on_leaf_requiring_grad_is_refused():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1.0)
    with ember.no_grad():
        w.add_(1.0)
    assert w.item() == 2.0


def test_augmented_assignment_on_graph_tensor_is_out_of_place():
    x = leaf([1.0, 2.0])
    y = x * 2
    y += 1  # rebinds y; the graph stays correct
    (y * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.data + 1)


def test_requires_grad_on_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match="only floating-point tensors"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only floating-point tensors"):
        ember.tensor([1, 2]).requires_grad_()


def test_grad_function_returns_without_accumulating():
    x = leaf([1.0, 2.0])
    (g,) = ember.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), 3 * x.data ** 2)
    assert x.grad is None


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    y = (h * h).sum()
    gh, gx = ember.autograd.grad(y, (h, x))
    np.testing.assert_allclose(gh.numpy(), 2 * h.data)
    np.testing.assert_allclose(gx.numpy(), 18 * x.data)


def test_create_graph_gives_second_derivatives():
    x = leaf([0.5, -1.5])
    y = (x.sin() * x ** 2).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    v = x.data
    second = 2 * np.sin(v) + 4 * v * np.cos(v) - v ** 2 * np.sin(v)
    np.testing.assert_allclose(x.grad.numpy(), second, rtol=1e-12)


def test_gradient_penalty_matches_torch():
    """WGAN-GP style: the gradient of a penalty on an input gradient, through tanh and matmul."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    w, x = leaf(w0), leaf(x0)
    (gx,) = ember.autograd.grad((x @ w).tanh().sum(), x, create_graph=True)
    ((gx * gx).sum(1).sqrt() - 1.0).pow(2).mean().backward()
    tw = torch.tensor(w0, requires_grad=True)
    tx = torch.tensor(x0, requires_grad=True)
    (tgx,) = torch.autograd.grad((tx @ tw).tanh().sum(), tx, create_graph=True)
    ((tgx * tgx).sum(1).sqrt() - 1.0).pow(2).mean().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck_passes_and_reports_the_worst_element():
    class WrongSquare(ember.autograd.Function):
        name = "wrong_square"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x * 3.0  # should be 2x

    x = leaf([1.0, 2.0, 3.0])
    assert gradcheck(lambda t: t * t, (x,))
    with pytest.raises(AssertionError, match=r"input 0 \(shape \(3,\)\) mismatch at index \(2,\)"):
        gradcheck(lambda t: WrongSquare.apply(t), (x,))
    assert gradcheck(lambda t: WrongSquare.apply(t), (x,), raise_exception=False) is False


def test_gradcheck_of_a_function_that_takes_gradients():
    x = leaf([0.3, -0.7])
    assert gradcheck(lambda t: ember.autograd.grad((t ** 3).sum(), t, create_graph=True)[0], (x,))


def test_gradcheck_needs_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, (ember.tensor([1.0], requires_grad=True),))


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 2
    assert y.detach().data.base is y.data or y.detach().data is y.data


def test_graph_nodes_carry_op_names_and_inputs():
    x = leaf(np.ones((2, 3)))
    y = x.sum(1)
    assert y.grad_fn.name == "sum"
    assert y.grad_fn.inputs[0] is x
    assert "SumBackward" in repr(y)


F_ = ember.nn.functional
ARRAY_PATH_CASES = [  # (name, fn, input shapes, positive inputs); every case broadcasts or reduces
    ("add", lambda a, b: a + b, [(3, 1), (1, 4)], False),
    ("sub", lambda a, b: a - b, [(3, 1), (4,)], False),
    ("mul", lambda a, b: a * b, [(3, 1), (1, 4)], False),
    ("div", lambda a, b: a / b, [(2, 3, 1), (1, 4)], True),
    ("pow_tensor", lambda a, b: a ** b, [(3, 1), (1, 4)], True),
    ("pow_scalar", lambda a: a ** 3 + a ** 2 + a ** 0.5, [(3, 4)], True),
    ("neg_exp_log", lambda a: (-a).exp() + a.log(), [(3, 4)], True),
    ("relu_tanh_leaky", lambda a: a.relu() * a.tanh() + F_.leaky_relu(a, 0.2), [(3, 4)], False),
    ("softmax_log_softmax", lambda a: a.softmax(1) * a.log_softmax(0), [(3, 4)], False),
    ("sum_mean", lambda a: a.sum(0, keepdim=True) * a.mean(1, keepdim=True) + a.mean(), [(3, 4)],
     False),
    ("reshape_permute_expand", lambda a, b: a.reshape(4, 3).permute(1, 0) * b.expand(3, 4),
     [(3, 4), (3, 1)], False),
    ("cross_entropy", lambda a: F_.cross_entropy(a * 2.0 + 1.0, ember.tensor([0, 2, 1]),
                                                 label_smoothing=0.1), [(3, 4)], False),
    ("cross_entropy_probs", lambda a, t: F_.cross_entropy(a, t.softmax(1), reduction="sum"),
     [(3, 4), (3, 4)], False),
]


@pytest.mark.parametrize("name,fn,shapes,positive", ARRAY_PATH_CASES,
                         ids=[c[0] for c in ARRAY_PATH_CASES])
def test_array_backward_matches_tensor_backward(name, fn, shapes, positive):
    """Without create_graph, ops with an array_backward compute gradients on plain arrays; with
    it, their Tensor-mode backward does: both must give the very same values."""
    rng = np.random.default_rng(7)
    arrays = [rng.uniform(0.5, 2.0, s) if positive else rng.standard_normal(s) for s in shapes]
    grads = {}
    for create_graph in (False, True):
        xs = [leaf(a) for a in arrays]
        out = fn(*xs)
        assert out.grad_fn.fn.array_backward is not None, name
        w = ember.tensor(np.random.default_rng(8).standard_normal(out.shape))
        grads[create_graph] = ember.autograd.grad((out * w).sum(), xs, create_graph=create_graph)
    for i, (ga, gt) in enumerate(zip(grads[False], grads[True])):
        assert not ga.requires_grad
        assert ga.dtype == gt.dtype == np.float64 and ga.shape == gt.shape == shapes[i]
        np.testing.assert_array_equal(ga.numpy(), gt.detach().numpy(), err_msg=f"{name}: input {i}")


def test_a_training_step_backward_builds_nothing(monkeypatch):
    """The backward of an MLP step (linear, relu, tanh, sigmoid, the losses) runs on arrays: no
    Function.apply, so no Tensor or node per gradient (the cost that dominates tiny networks)."""
    import ember.nn as nn
    import ember.nn.functional as F
    from ember.autograd import Function

    ember.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))
    x, y = ember.randn(5, 3), ember.tensor(np.array([0, 1, 1, 0, 1]))
    z = net(x)
    loss = (F.cross_entropy(z, y) + F.mse_loss(z.sigmoid(), ember.zeros(5, 2))
            + F.binary_cross_entropy_with_logits(z, ember.ones(5, 2)))
    calls = []
    original = Function.apply.__func__
    monkeypatch.setattr(Function, "apply", classmethod(
        lambda cls, *a, **k: calls.append(cls.name) or original(cls, *a, **k)))
    loss.backward()
    assert calls == []
    assert all(p.grad is not None for p in net.parameters())


def test_grad_results_are_writable_and_not_shared():
    """grad() without create_graph hands out arrays of their own: not a read-only broadcast
    view, not one array for two inputs, not the seed."""
    x = leaf(np.ones((3, 4)))
    (g,) = ember.autograd.grad(x.sum(0), [x], grad_outputs=ember.ones(4, dtype=ember.float64))
    g.add_(1.0)
    np.testing.assert_array_equal(g.numpy(), np.full((3, 4), 2.0))
    a, b = leaf(np.ones(3)), leaf(np.ones(3))
    ga, gb = ember.autograd.grad((a + b).sum(), [a, b])
    ga.add_(1.0)
    np.testing.assert_array_equal(gb.numpy(), np.ones(3))
    seed = ember.ones(3, dtype=ember.float64)
    (gs,) = ember.autograd.grad(a + 0.0, [a], grad_outputs=seed)  # add passes g through
    gs.add_(1.0)
    np.testing.assert_array_equal(seed.numpy(), np.ones(3))
