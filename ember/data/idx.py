"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a header followed by the array, all big-endian:

    bytes 0-1   zero (0x00 0x00)
    byte  2     the element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     the number of dimensions, ndim
    then        ndim sizes, each a big-endian uint32
    then        prod(sizes) elements in C (row-major) order, big-endian

So the magic number of an image file is 0x00000803 (uint8, 3 dims: N, rows, cols) and that of a
label file 0x00000801 (uint8, 1 dim: N). MNIST's images are N x 28 x 28 with 0 = background and
255 = ink; its labels are 0..9. The file size is therefore exactly 4 + 4 * ndim + prod(sizes) *
itemsize bytes; a file that is shorter (truncated) or longer is rejected. Files may be gzipped
(recognised by gzip's own magic bytes, whatever their name).
"""
import gzip
import os
import struct
import zlib

import numpy as np

IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:  # truncated stream, bad CRC, corrupt data
        raise ValueError(f"read_idx: {path}: the gzip data is truncated or corrupt ({e})") from None


def read_idx(path):
    """The array stored in the IDX file at `path` (raw or gzipped), in native byte order.

    Raises ValueError naming the file for a wrong magic number, an unknown element type, or a
    size that does not match the header (truncated or trailing bytes).
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path}: file is {len(raw)} bytes, too short for an IDX "
                         f"header (4 bytes of magic number)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"read_idx: {path}: not an IDX file: the magic number "
                         f"0x{raw[:4].hex()} must start with two zero bytes")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"read_idx: {path}: unknown element type code 0x{code:02X} (magic "
                         f"number 0x{raw[:4].hex()}); IDX type codes are {known}")
    if ndim == 0:
        raise ValueError(f"read_idx: {path}: the header says 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path}: truncated header: {ndim} dimensions need {header} "
                         f"bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise ValueError(f"read_idx: {path}: truncated: shape {shape} of {dtype.newbyteorder('=')}"
                         f" needs {expected} bytes of data, the file has {found}")
    if found > expected:
        raise ValueError(f"read_idx: {path}: {found - expected} unexpected bytes after the data "
                         f"of shape {shape} (expected {expected} data bytes): not an IDX file, "
                         f"or a wrong header")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    # a writable array in native byte order (frombuffer over bytes is read-only)
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path, array):
    """Write `array` as an IDX file; gzipped when `path` ends in '.gz'."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(f"write_idx: IDX stores uint8, int8, int16, int32, float32 or float64, "
                        f"got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: IDX stores 1 to 255 dimensions, got {array.ndim}")
    if any(s >= 2 ** 32 for s in array.shape):
        raise ValueError(f"write_idx: IDX sizes are uint32, got shape {array.shape}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header)
        f.write(body)
