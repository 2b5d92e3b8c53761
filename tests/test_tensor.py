"""Tensor basics: creation, dtypes and promotion, conversion, printing, seeding, errors."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def test_python_data_gets_pytorch_default_dtypes():
    assert ember.tensor([1.5, 2.0]).dtype == ember.float32
    assert ember.tensor([1, 2]).dtype == ember.int64
    assert ember.tensor([True, False]).dtype == ember.bool
    assert ember.tensor(np.zeros(2)).dtype == ember.float64  # arrays keep their dtype
    assert ember.tensor([1, 2], dtype=ember.float64).dtype == ember.float64


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3, dtype=np.float32)
    t, s = ember.tensor(a), ember.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 0 and s[0].item() == 5
    assert ember.as_tensor(a).data is a


def test_attributes():
    t = ember.zeros(2, 3, requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.size(1) == 3
    assert t.numel() == 6 and t.is_leaf and t.grad_fn is None and t.grad is None
    assert t.dim() == 2 and len(t) == 2


def test_creation_functions_match_torch():
    pairs = [
        (ember.zeros(2, 3), torch.zeros(2, 3)), (ember.ones((2,)), torch.ones((2,))),
        (ember.full((2, 2), 7.0), torch.full((2, 2), 7.0)), (ember.full((2,), 3), torch.full((2,), 3)),
        (ember.arange(5), torch.arange(5)), (ember.arange(1, 2, 0.25), torch.arange(1, 2, 0.25)),
        (ember.linspace(0, 1, 5), torch.linspace(0, 1, 5)), (ember.eye(3), torch.eye(3)),
        (ember.eye(2, 3), torch.eye(2, 3)),
        (ember.zeros_like(ember.ones(2, dtype=ember.float64)), torch.zeros(2, dtype=torch.float64)),
        (ember.ones_like(ember.ones(2)), torch.ones(2)),
        (ember.full_like(ember.ones(2), 4.0), torch.full((2,), 4.0)),
    ]
    for e, t in pairs:
        assert e.shape == tuple(t.shape) and str(e.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(e.numpy(), t.numpy())
    assert ember.empty(2, 3).shape == (2, 3)
    assert ember.empty_like(ember.ones(4)).shape == (4,)


def test_random_creation_is_seeded_and_in_range():
    ember.manual_seed(7)
    a = (ember.rand(100), ember.randn(100), ember.randint(0, 10, (100,)))
    ember.manual_seed(7)
    b = (ember.rand(100), ember.randn(100), ember.randint(0, 10, (100,)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert 0 <= a[0].numpy().min() and a[0].numpy().max() < 1
    assert a[2].dtype == ember.int64 and 0 <= a[2].numpy().min() and a[2].numpy().max() < 10
    assert abs(float(ember.randn(10000).numpy().std()) - 1) < 0.05
    assert ember.rand_like(ember.ones(3)).shape == (3,)
    assert ember.randn_like(ember.ones(3, dtype=ember.float64)).dtype == ember.float64
    assert ember.randint_like(ember.ones(3, dtype=ember.int64), 5).dtype == ember.int64


def test_manual_seed_rejects_bad_seeds():
    with pytest.raises(ValueError, match="manual_seed"):
        ember.manual_seed(-1)


@pytest.mark.parametrize("a_dtype,b", [
    ("int64", 2.5), ("float32", 2), ("int64", 2), ("bool", 1), ("float64", 1.5), ("float32", True)])
def test_scalar_promotion_matches_torch(a_dtype, b):
    a = np.array([1, 2, 3]).astype(a_dtype)
    e, t = ember.tensor(a) * b, torch.tensor(a) * b
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")


@pytest.mark.parametrize("a_dtype,b_dtype,b_shape", [
    ("int64", "float32", (3,)), ("float32", "float64", (3,)), ("float32", "float64", ()),
    ("int32", "int64", (3,)), ("bool", "float32", (3,)), ("float64", "float32", ())])
def test_tensor_promotion_matches_torch(a_dtype, b_dtype, b_shape):
    a = np.array([1, 2, 3]).astype(a_dtype)
    b = np.ones(b_shape).astype(b_dtype)
    e = ember.tensor(a) + ember.tensor(b)
    t = torch.tensor(a) + torch.tensor(b)
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")


def test_true_division_of_integers():
    e = ember.tensor([1, 2]) / ember.tensor([2, 4])
    assert e.dtype == ember.float32 and e.tolist() == [0.5, 0.5]


def test_numpy_scalars_act_like_python_numbers():
    x = ember.ones(2)
    assert (x * np.float64(2.0)).dtype == ember.float32
    assert (np.float64(2.0) * x).dtype == ember.float32
    assert isinstance(np.float32(2.0) * x, ember.Tensor)


def test_conversions():
    t = ember.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]]
    assert ember.tensor([3.0]).item() == 3.0 and isinstance(ember.tensor(3).item(), int)
    assert float(ember.tensor(2.5)) == 2.5 and int(ember.tensor(4)) == 4
    assert t.numpy().dtype == np.float32
    assert t.double().dtype == ember.float64 and t.long().dtype == ember.int64
    assert t.to(ember.float64).dtype == ember.float64 and t.bool().dtype == ember.bool
    with pytest.raises(RuntimeError, match="item: a tensor with 2 elements"):
        t.item()
    with pytest.raises(RuntimeError, match="requires grad.*detach"):
        ember.ones(2, requires_grad=True).numpy()
    assert np.asarray(ember.ones(2)).shape == (2,)


def test_to_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(ember.float64) * 3
    y.sum().backward()
    assert x.grad.dtype == ember.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_repr_like_pytorch():
    assert repr(ember.tensor([1.0, 2.5])) == repr(torch.tensor([1.0, 2.5]))
    assert repr(ember.tensor([[1, 2], [3, 4]])) == repr(torch.tensor([[1, 2], [3, 4]]))
    assert repr(ember.tensor([1.0, 2.0])) == repr(torch.tensor([1.0, 2.0]))
    assert repr(ember.tensor(3.25)) == repr(torch.tensor(3.25))
    assert repr(ember.tensor([True, False])) == repr(torch.tensor([True, False]))
    assert repr(ember.ones(2, requires_grad=True)) == "tensor([1., 1.], requires_grad=True)"
    assert repr(ember.ones(2, dtype=ember.float64)) == "tensor([1., 1.], dtype=ember.float64)"
    y = ember.ones(2, requires_grad=True) * 2
    assert repr(y) == "tensor([2., 2.], grad_fn=<MulBackward>)"


def test_setitem_on_plain_tensors():
    t = ember.zeros(3, 3)
    t[0] = 1.0
    t[1:, 1] = ember.tensor([5.0, 6.0])
    t[t > 5.5] = -1.0
    np.testing.assert_array_equal(t.numpy(), [[1, 1, 1], [0, 5, 0], [0, -1, 0]])


def test_in_place_arithmetic_bumps_the_version():
    t = ember.zeros(2)
    v = t._version[0]
    t += 1
    t.mul_(3)
    assert t._version[0] == v + 2 and t.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="add_: the result has dtype float32"):
        ember.zeros(2, dtype=ember.int64).add_(0.5)


def test_iteration_and_bool():
    t = ember.tensor([[1, 2], [3, 4]])
    assert [r.tolist() for r in t] == [[1, 2], [3, 4]]
    assert bool(ember.tensor([1]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.tensor([1, 2]))


def test_binary_op_shape_error_names_the_op():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        ember.ones(2, 3) + ember.ones(4)
    with pytest.raises(ValueError, match="mul: shapes"):
        ember.ones(2, 3) * ember.ones(2)



def test_floating_point_overflow_in_ops_is_silent_as_in_pytorch():
    """inf and nan come out as in PyTorch, without NumPy's RuntimeWarnings from ember's modules;
    a warning raised in the user's own code still shows. (In a fresh interpreter: pytest undoes
    filters that are added while it imports test modules.)"""
    import subprocess
    import sys
    code = """
import numpy as np
import ember
t = ember.tensor([1e30, -1e30, 0.0, 3.0], requires_grad=True)
big = t * 1e30
assert np.isinf(big.detach().numpy()[:2]).all()
assert np.isinf((t / 0.0).detach().numpy()[:2]).all()
(t.log() + t.sqrt() + t ** 5).sum().backward()
(t.reshape(1, 4) @ t.reshape(4, 1)).detach()
users_own = np.float32(1e30) * np.float32(1e30)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    warned = [line for line in out.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "scalar multiply" in warned[0], out.stderr


IN_PLACE_UNARY = ["abs", "neg", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "sigmoid",
                  "tanh", "relu", "floor", "ceil", "round", "trunc", "frac", "reciprocal", "square",
                  "sign", "expm1", "log1p", "erf"]


@pytest.mark.parametrize("name", IN_PLACE_UNARY)
def test_in_place_unary_ops_match_torch_and_bump_the_version(name):
    torch = pytest.importorskip("torch")
    a = np.array([0.3, 1.7, 2.5, 0.05], dtype=np.float32)
    if name not in ("log", "sqrt", "rsqrt", "log1p"):
        a = a * np.array([1, -1, 1, -1], dtype=np.float32)
    x = ember.tensor(a)
    v = x._version[0]
    assert getattr(x, name + "_")() is x and x._version[0] == v + 1
    want = getattr(torch.tensor(a), name + "_")().numpy()
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-5, atol=1e-6)


def test_stride_and_data_ptr_follow_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(24.0).reshape(2, 3, 4)
    for view in (lambda t: t, lambda t: t.transpose(0, 2), lambda t: t[:, 1:, ::2],
                 lambda t: t.permute(1, 2, 0)):
        e, t = view(ember.tensor(a)), view(torch.tensor(a))
        assert e.stride() == t.stride() and e.stride(-1) == t.stride(-1)
        assert e.is_contiguous() == t.is_contiguous()
    x = ember.tensor(a)
    assert x.transpose(0, 1).data_ptr() == x.data_ptr()
    assert x[1].data_ptr() == x.data_ptr() + 12 * 8
    with pytest.raises(IndexError, match="stride: dim 3 is out of range"):
        x.stride(3)
