"""Arrays: which array module runs the math, the dtype rules, and ember's random generator."""
import threading

import numpy as np

xp = np

float32 = np.float32
float64 = np.float64
float16 = np.float16
int32 = np.int32
int64 = np.int64
bool_ = np.bool_

_default_float = np.dtype(np.float32)


def get_default_dtype():
    return _default_float


def set_default_dtype(dtype):
    """Default floating dtype for tensors made from Python floats (float32 unless changed)."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_float = dtype


def is_floating(dtype):
    return dtype.kind == "f"


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def result_dtype(a, b):
    """PyTorch's promotion for a binary op on arrays or Python scalars.

    Two arrays promote as NumPy does, except that integer with float gives the float's dtype (not
    float64) and a 0-d array of the same category does not widen a dimensioned one. A Python
    scalar only lifts the category: int tensor * 2.5 -> the default float dtype.
    """
    a_arr, b_arr = isinstance(a, np.ndarray), isinstance(b, np.ndarray)
    if a_arr and b_arr:
        da, db = a.dtype, b.dtype
        if da == db:
            return da
        ca, cb = _CATEGORY[da.kind], _CATEGORY[db.kind]
        if ca != cb:
            return da if ca > cb else db
        if (a.ndim == 0) != (b.ndim == 0):  # a 0-d tensor does not widen a dimensioned one
            return db if a.ndim == 0 else da
        return np.promote_types(da, db)
    arr, scalar = (a, b) if a_arr else (b, a)
    ca = _CATEGORY[arr.dtype.kind]
    cs = 0 if isinstance(scalar, (bool, np.bool_)) else 1 if isinstance(scalar, (int, np.integer)) else 2
    if cs <= ca:
        return arr.dtype
    return np.dtype(np.int64) if cs == 1 else _default_float


class Generator:
    """ember's own random generator (PCG64 behind NumPy's Generator API)."""

    def __init__(self, seed=None):
        self.initial_seed = seed
        self._rng = None  # made on first use: `import ember` then skips numpy.random (~15 ms)

    @property
    def rng(self):
        """The NumPy Generator behind this one."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.initial_seed)
        return self._rng

    def manual_seed(self, seed):
        self.initial_seed = seed
        self._rng = np.random.default_rng(seed)
        return self

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state


default_generator = Generator()


_CONSTANTS = {}


def constant(value, dtype):
    """`value` as a 0-d array of `dtype`, cached. As an operand on small arrays NumPy takes it
    about twice as fast as a Python number (measured: x * 0.9 on a (4, 2) float32 array 0.94 us,
    with a 0-d float32 array 0.51 us); the result is the same, value cast to dtype."""
    key = (value, dtype)
    c = _CONSTANTS.get(key)
    if c is None:
        if len(_CONSTANTS) > 256:  # learning-rate schedules make a new value per step
            _CONSTANTS.clear()
        c = _CONSTANTS[key] = np.array(value, dtype=dtype)
        c.flags.writeable = False
    return c


def manual_seed(seed):
    """Seed ember's generator: init, shuffling and dropout become reproducible. In a thread with
    its own generator (a DataLoader worker) it seeds that one only, as torch.manual_seed in a
    worker process seeds that worker."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
    if _thread_rng.rng is not None:
        own = Generator(int(seed))
        _thread_rng.rng = own.rng
        return own
    return default_generator.manual_seed(int(seed))


class _ThreadRng(threading.local):
    rng = None  # None: this thread draws from default_generator


_thread_rng = _ThreadRng()


def rng():
    """The NumPy generator ember draws from: the default one, or the calling thread's own when
    `set_thread_rng` gave it one (DataLoader worker threads do)."""
    own = _thread_rng.rng
    return default_generator.rng if own is None else own


def set_thread_rng(generator):
    """Make `rng()` return `generator` (a NumPy Generator) in the calling thread only, so a
    worker thread's draws do not depend on thread timing; None goes back to the default."""
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"set_thread_rng: expected a numpy Generator or None, got "
                        f"{type(generator).__name__}")
    _thread_rng.rng = generator


def tune_malloc():
    """On glibc, keep freed memory for reuse instead of returning it to the OS: big per-step
    temporaries (gradients, im2col columns) then stop page-faulting on every step (measured:
    conv2d forward+backward 2.3x PyTorch's time instead of 3.2x, ~3,750 page faults per step
    gone). Set EMBER_NO_MALLOPT=1 to leave malloc alone. Returns whether it was applied."""
    import ctypes
    import os
    import sys
    if os.environ.get("EMBER_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    limit = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit systems
    return bool(mallopt(M_MMAP_THRESHOLD, limit)) and bool(mallopt(M_TRIM_THRESHOLD, 4 * limit))


MALLOC_TUNED = tune_malloc()
