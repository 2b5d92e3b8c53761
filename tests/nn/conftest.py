"""Fixtures shared by the layer tests."""
import pytest


@pytest.fixture(scope="module")
def torch_one_thread():
    """torch's small RNN kernels spend seconds waiting for OpenMP threads on a busy machine:
    one thread for the module's tests."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
