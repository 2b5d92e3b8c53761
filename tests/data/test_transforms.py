"""ToTensor, Normalize, Flatten, Compose, Lambda."""
import numpy as np
import pytest

import ember
from ember.data import transforms as T


def test_to_tensor_uint8_gray_and_color():
    gray = np.array([[0, 51], [255, 102]], np.uint8)
    out = T.ToTensor()(gray)
    assert isinstance(out, ember.Tensor) and out.shape == (1, 2, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out.data[0], [[0, 0.2], [1, 0.4]], rtol=1e-7)
    color = np.zeros((4, 5, 3), np.uint8)
    color[..., 2] = 255
    out = T.ToTensor()(color)
    assert out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out.data[2], 1.0)
    np.testing.assert_array_equal(out.data[:2], 0.0)


def test_to_tensor_float_is_not_scaled_and_bad_input_is_clear():
    out = T.ToTensor()(np.full((2, 2), 3.0))
    assert out.dtype == np.float32 and out.data.max() == 3.0
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\).*\(2, 2, 2, 2\)"):
        T.ToTensor()(np.zeros((2, 2, 2, 2), np.uint8))
    with pytest.raises(TypeError, match="expected a numpy image array, got list"):
        T.ToTensor()([[1, 2]])


def test_normalize_scalar_and_per_channel():
    x = ember.tensor(np.arange(12, dtype=np.float32).reshape(3, 2, 2))
    out = T.Normalize(2.0, 4.0)(x)
    np.testing.assert_allclose(out.data, (x.data - 2) / 4)
    out = T.Normalize([0.0, 1.0, 2.0], [1.0, 2.0, 4.0])(x)
    np.testing.assert_allclose(out.data[1], (x.data[1] - 1) / 2)
    np.testing.assert_allclose(out.data[2], (x.data[2] - 2) / 4)
    assert out.dtype == np.float32
    batch = ember.tensor(np.ones((5, 3, 2, 2), np.float32))
    assert T.Normalize([0, 0, 0], [1, 2, 4])(batch).data[0, 2, 0, 0] == pytest.approx(0.25)
    y = x.clone()
    assert T.Normalize(1.0, 2.0, inplace=True)(y) is y
    np.testing.assert_allclose(y.data, (x.data - 1) / 2)


def test_normalize_errors():
    with pytest.raises(ValueError, match="std must be nonzero"):
        T.Normalize(0.5, 0.0)
    with pytest.raises(ValueError, match="3 channel means need .* got shape \\(2, 4, 4\\)"):
        T.Normalize([0, 0, 0], [1, 1, 1])(ember.zeros(2, 4, 4))
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.Normalize(0.5, 0.5)(np.zeros((1, 2, 2), np.uint8))


def test_flatten():
    x = ember.zeros(1, 28, 28)
    assert T.Flatten()(x).shape == (784,)
    assert T.Flatten(start_dim=1)(ember.zeros(2, 3, 4)).shape == (2, 12)
    with pytest.raises(ValueError, match="out of range"):
        T.Flatten(start_dim=3)(x)


def test_compose_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Flatten(),
                          T.Lambda(lambda t: t * 2)])
    out = pipeline(np.full((28, 28), 255, np.uint8))
    assert out.shape == (784,)
    np.testing.assert_allclose(out.data, 2.0)
    assert "ToTensor()" in repr(pipeline) and "Flatten" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Compose([T.ToTensor(), 3])
