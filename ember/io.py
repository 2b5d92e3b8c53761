"""Checkpoints: `save(obj, path)` / `load(path)` for state dicts, as safetensors files.

    ckpt = {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}
    ember.io.save(ckpt, "ckpt.safetensors")
    ckpt = ember.io.load("ckpt.safetensors")

The file is one plain safetensors file (https://github.com/huggingface/safetensors):

- every tensor leaf (ember Tensor, NumPy array, NumPy scalar) is a safetensors tensor, named by the
  dotted path of dict keys and list indices that leads to it ("0.weight", "state.0.exp_avg"); a
  path that would repeat a name already taken gets a "~N" suffix. A flat dict of tensors (a
  module's state_dict) is therefore exactly what `safetensors.torch.load_file` expects.
- everything else (the nesting, dict keys and their order, ints, floats, bools, strings, None,
  lists vs tuples, and which tensor goes where) is one JSON document in the safetensors metadata,
  under "ember_structure", next to "ember_format" (the format version, "1").

Loading never runs code (no pickle): the header is JSON and the data is raw little-endian arrays.
A file without ember metadata (say one written by `safetensors.torch.save_file`) loads as a flat
dict {name: Tensor}. Writes are atomic: the bytes go to a temporary file in the same directory,
which is flushed, fsync'ed and renamed onto the target (then the directory is fsync'ed), so a crash
or kill at any moment leaves either the old complete file or the new complete one. A truncated,
tampered or foreign file is refused with a ValueError that names the file and what is wrong.
"""
import json
import math
import os
import secrets
import struct
from collections import OrderedDict

import numpy as np
import safetensors.numpy

from .tensor import Tensor

__all__ = ["save", "load"]

FORMAT_VERSION = "1"
_FORMAT_KEY = "ember_format"
_STRUCTURE_KEY = "ember_structure"

# safetensors dtype codes that NumPy (and so ember) can hold, with their NumPy dtype.
_DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8),
           "U16": np.dtype(np.uint16), "I16": np.dtype(np.int16), "U32": np.dtype(np.uint32),
           "I32": np.dtype(np.int32), "U64": np.dtype(np.uint64), "I64": np.dtype(np.int64),
           "F16": np.dtype(np.float16), "F32": np.dtype(np.float32), "F64": np.dtype(np.float64),
           "C64": np.dtype(np.complex64)}
_SAVABLE = {dt.name for dt in _DTYPES.values()}
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header


# ---- save -------------------------------------------------------------------------------------
def save(obj, path):
    """Write a state dict to `path` as one safetensors file, atomically.

    obj: a dict (nested freely) whose leaves are ember Tensors, NumPy arrays or scalars, ints,
    floats, bools, strings, None, and lists/tuples/dicts of those. Dict keys may be str, int,
    float, bool or None. Tensors are saved detached (data only).
    """
    if type(obj) not in (dict, OrderedDict):
        raise TypeError(f"ember.save: expected a dict (a state dict), got {type(obj).__name__}")
    tensors = {}
    structure = _encode(obj, [], tensors, set())
    metadata = {_FORMAT_KEY: FORMAT_VERSION,
                _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}
    path = os.fspath(path)
    # save() (bytes) rather than save_file(): save_file replaces the file itself, mode 0600.
    _atomic_write(path, safetensors.numpy.save(tensors, metadata=metadata))


def _where(keys):
    return "obj" + "".join(f"[{k!r}]" for k in keys)


def _encode(obj, keys, tensors, active):
    """The JSON form of obj; tensor leaves go into `tensors` under a fresh name."""
    t = type(obj)
    if obj is None or t in (bool, int, str):
        return obj
    if t is float:
        return obj  # json writes repr(float): exact round trip, NaN/Infinity included
    if isinstance(obj, Tensor):
        return _encode_array(np.asarray(obj.data), "tensor", keys, tensors)
    if t is np.ndarray:
        return _encode_array(obj, "ndarray", keys, tensors)
    if isinstance(obj, np.generic):
        return _encode_array(np.asarray(obj), "scalar", keys, tensors)
    if t in (list, tuple, dict, OrderedDict):
        if id(obj) in active:
            raise ValueError(f"ember.save: {_where(keys)} contains itself (a reference cycle)")
        active.add(id(obj))
        try:
            if t is list or t is tuple:
                items = [_encode(v, keys + [i], tensors, active) for i, v in enumerate(obj)]
                return {t.__name__: items}
            pairs = []
            for k, v in obj.items():
                if not (k is None or type(k) in (str, int, float, bool)):
                    raise TypeError(f"ember.save: {_where(keys)} has a key of type "
                                    f"{type(k).__name__} ({k!r}); keys must be str, int, float, "
                                    f"bool or None")
                pairs.append([k, _encode(v, keys + [k], tensors, active)])
            return {"odict" if t is OrderedDict else "dict": pairs}
        finally:
            active.discard(id(obj))
    raise TypeError(f"ember.save: {_where(keys)} is a {t.__module__}.{t.__qualname__}; a "
                    f"checkpoint holds Tensors, NumPy arrays and scalars, int, float, bool, str, "
                    f"None and dicts/lists/tuples of them (no pickle)")


def _encode_array(arr, kind, keys, tensors):
    if arr.dtype.name not in _SAVABLE:
        raise TypeError(f"ember.save: {_where(keys)} has dtype {arr.dtype}, which a safetensors "
                        f"file cannot hold (supported: {', '.join(sorted(_SAVABLE))})")
    # safetensors.numpy writes nbytes from the array's data pointer: it must be C-contiguous.
    if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into 1-d)
        arr = arr.copy(order="C")
    base = ".".join(str(k) for k in keys)
    name, n = base, 0
    while name in tensors or name == "__metadata__":
        n += 1
        name = f"{base}~{n}"
    tensors[name] = arr
    return {kind: name}


def _atomic_write(path, data):
    """Write `data` to a fresh file next to `path`, fsync it, rename it onto path, fsync the dir."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    while True:
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:  # O_EXCL: never reuse someone else's file; 0o666 lets the umask set the mode
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory):
    """Make the rename durable. Not possible on every platform (Windows): then skipped."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- load -------------------------------------------------------------------------------------
def load(path):
    """Read a checkpoint written by `save` (the same structure and types back; tensors as ember
    Tensors of the saved dtype and shape), or any safetensors file (a flat dict {name: Tensor}).

    Raises FileNotFoundError for a missing file and ValueError, naming the file, for one that is
    truncated, tampered with, or not a safetensors file.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"ember.load: no such file: {path!r}") from None
    header = _check_header(data, path)
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # SafetensorError: whatever our own checks did not name
        raise ValueError(f"ember.load: {path!r} is not a valid safetensors file ({e})") from None
    meta = header.get("__metadata__") or {}
    if _FORMAT_KEY not in meta:  # a plain safetensors file: a flat dict, in file order
        names = sorted(arrays, key=lambda k: header[k]["data_offsets"][0])
        return {k: Tensor(arrays[k]) for k in names}
    if meta[_FORMAT_KEY] != FORMAT_VERSION:
        raise ValueError(f"ember.load: {path!r} has ember format {meta[_FORMAT_KEY]!r}; this "
                         f"ember reads format {FORMAT_VERSION!r} (written by a newer ember?)")
    try:
        structure = json.loads(meta[_STRUCTURE_KEY])
    except (KeyError, ValueError, RecursionError) as e:
        raise ValueError(f"ember.load: {path!r}: the ember structure in the metadata is missing "
                         f"or not JSON ({e})") from None
    used = set()
    try:
        obj = _decode(structure, arrays, used)
        if type(obj) not in (dict, OrderedDict):
            raise ValueError("the top level is not a dict")
        unused = sorted(set(arrays) - used)
        if unused:
            raise ValueError(f"tensors not placed by the structure: {', '.join(unused)}")
    except (ValueError, RecursionError) as e:
        raise ValueError(f"ember.load: {path!r}: the ember structure in the metadata is corrupt "
                         f"({e})") from None
    return obj


def _check_header(data, path):
    """Parse and check the safetensors header ourselves, so every problem gets a clear message."""
    where = f"ember.load: {path!r}"
    if len(data) < 8:
        raise ValueError(f"{where} is {len(data)} bytes long, too short for a safetensors file "
                         f"(truncated, or not a checkpoint)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        _refuse_foreign(data, where)
        raise ValueError(f"{where}: the first 8 bytes give a header of {n} bytes but the file has "
                         f"{len(data) - 8} after them: truncated, or not a safetensors file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        _refuse_foreign(data, where)
        raise ValueError(f"{where}: the header is not valid JSON ({e}): tampered with, or not a "
                         f"safetensors file") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: the header is JSON but not an object: not a safetensors file")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ValueError(f"{where}: the header's __metadata__ is not a map of strings")
    size = len(data) - 8 - n
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        bad = f"{where}: tensor {name!r}"
        if not (isinstance(info, dict) and isinstance(info.get("dtype"), str)
                and isinstance(info.get("shape"), list)
                and all(type(d) is int and d >= 0 for d in info["shape"])
                and isinstance(info.get("data_offsets"), list) and len(info["data_offsets"]) == 2
                and all(type(o) is int for o in info["data_offsets"])):
            raise ValueError(f"{bad} has a malformed header entry {info!r}")
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{bad} has dtype {info['dtype']}, which NumPy (and so ember) cannot "
                             f"hold; supported: {', '.join(_DTYPES)}")
        begin, end = info["data_offsets"]
        need = math.prod(info["shape"]) * _DTYPES[info["dtype"]].itemsize
        if not 0 <= begin <= end:
            raise ValueError(f"{bad} has invalid data offsets [{begin}, {end}]")
        if end - begin != need:
            raise ValueError(f"{bad}: its data is {end - begin} bytes but dtype {info['dtype']} "
                             f"and shape {info['shape']} need {need}")
        if end > size:
            raise ValueError(f"{bad} ends at byte {end} of the data but the file holds only "
                             f"{size} bytes of data: truncated")
        spans.append((begin, end, name))
    spans.sort()
    at = 0
    for begin, end, name in spans:
        if begin != at:
            raise ValueError(f"{where}: tensor {name!r} starts at byte {begin} of the data, "
                             f"expected {at} (overlapping or gapped data: corrupt)")
        at = end
    if at != size:
        raise ValueError(f"{where}: the tensors cover {at} bytes of data but the file holds "
                         f"{size}: extra bytes at the end (corrupt, or two writes mixed)")
    return header


def _refuse_foreign(data, where):
    """A clearer message for the checkpoints people most often hand us by mistake."""
    if data[:4] == b"PK\x03\x04" or (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03",
                                                                        b"\x04", b"\x05")):
        raise ValueError(f"{where} looks like a pickle/zip checkpoint (torch.save), not a "
                         f"safetensors file; ember never unpickles. Convert it in PyTorch with "
                         f"safetensors.torch.save_file(state_dict, path)")


_ARRAY_KINDS = ("tensor", "ndarray", "scalar")


def _decode(node, arrays, used):
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not dict or len(node) != 1:
        raise ValueError(f"unexpected node {node!r:.80}")
    (kind, value), = node.items()
    if kind in _ARRAY_KINDS:
        if type(value) is not str or value not in arrays:
            raise ValueError(f"refers to a tensor {value!r} that is not in the file")
        if value in used:
            raise ValueError(f"places tensor {value!r} twice")
        used.add(value)
        arr = arrays[value]
        if kind == "tensor":
            return Tensor(arr)
        if kind == "ndarray":
            return arr
        if arr.ndim != 0:
            raise ValueError(f"scalar {value!r} has shape {arr.shape}")
        return arr[()]
    if type(value) is not list:
        raise ValueError(f"{kind} node does not hold a list")
    if kind == "list":
        return [_decode(v, arrays, used) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, arrays, used) for v in value)
    if kind in ("dict", "odict"):
        out = {} if kind == "dict" else OrderedDict()
        for pair in value:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError(f"dict entry {pair!r:.80} is not a [key, value] pair")
            k, v = pair
            if not (k is None or type(k) in (str, int, float, bool)):
                raise ValueError(f"dict key {k!r:.80} is not a str, int, float, bool or None")
            out[k] = _decode(v, arrays, used)
        return out
    raise ValueError(f"unknown node kind {kind!r}")
