"""ember.nn.init.orthogonal_: (semi-)orthogonal, scaled by gain, seeded, PyTorch's QR recipe."""
import numpy as np
import pytest

import ember
import ember.nn as nn


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8), (6, 2, 3, 3), (1, 4)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_is_orthogonal_times_gain(shape, gain):
    t = nn.init.orthogonal_(ember.empty(*shape, dtype=ember.float64), gain=gain)
    assert t.shape == shape
    m = t.numpy().reshape(shape[0], -1)
    small = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(small, gain ** 2 * np.eye(len(small)), atol=1e-12)


def test_orthogonal_follows_pytorchs_recipe_and_the_seed():
    """Q of the QR of a seeded normal matrix, each column's sign set by R's diagonal."""
    ember.manual_seed(3)
    t = nn.init.orthogonal_(ember.empty(4, 6, dtype=ember.float64))
    ember.manual_seed(3)
    a = ember.backend.rng().standard_normal((4, 6)).T  # rows < cols: the transpose is factored
    r = t.numpy() @ a  # Q^T A = R: upper triangular with a positive diagonal
    assert np.all(np.diag(r) > 0)
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    ember.manual_seed(3)
    np.testing.assert_array_equal(nn.init.orthogonal_(ember.empty(4, 6, dtype=ember.float64))
                                  .numpy(), t.numpy())


def test_orthogonal_in_place_and_errors():
    layer = nn.Linear(4, 4)
    w = layer.weight
    version = w._version[0]
    assert nn.init.orthogonal_(layer.weight) is w and w.dtype == np.float32
    assert w._version[0] > version
    assert nn.init.orthogonal_(ember.empty(0, 3)).shape == (0, 3)
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more dims"):
        nn.init.orthogonal_(ember.empty(3))
