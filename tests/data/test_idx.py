"""The IDX reader and writer, and the MNIST / Fashion-MNIST datasets built on them."""
import gzip
import os
import struct

import numpy as np
import pytest

import ember
from ember.data import FASHION_MNIST_ROOT, MNIST, DataLoader, FashionMNIST, read_idx, write_idx
from ember.data import transforms as T


def idx_bytes(array, code=None):
    """An IDX file written by hand from the format, independent of write_idx."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    code = codes[array.dtype] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, gz=False):
    if gz:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_read_handwritten_idx(tmp_path, dtype, gz):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = write(tmp_path / ("a.idx.gz" if gz else "a.idx"), idx_bytes(array), gz)
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, array)
    got[0, 0, 0] = 1  # writable


@pytest.mark.parametrize("name", ["x-idx1-ubyte", "x-idx1-ubyte.gz"])
def test_write_idx_round_trip_and_bytes(tmp_path, name):
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    write_idx(tmp_path / name, labels)
    np.testing.assert_array_equal(read_idx(tmp_path / name), labels)
    raw = (tmp_path / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    assert raw == b"\x00\x00\x08\x01\x00\x00\x00\x05" + labels.tobytes()


def test_gzip_recognised_by_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.uint8)
    path = write(tmp_path / "plain-name", idx_bytes(array), gz=True)
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data_is_a_clear_error(tmp_path, gz):
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))[:-100]
    path = write(tmp_path / "short", data, gz)
    with pytest.raises(ValueError, match=rf"{path}.*truncated.*\(10, 28, 28\).*7840 bytes.*7740"):
        read_idx(path)


def test_truncated_gzip_stream_is_a_clear_error(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32)))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"{path}.*gzip data is truncated or corrupt"):
        read_idx(path)


def test_truncated_header_and_tiny_files(tmp_path):
    with pytest.raises(ValueError, match="too short for an IDX header"):
        read_idx(write(tmp_path / "a", b"\x00\x00"))
    with pytest.raises(ValueError, match="truncated header: 3 dimensions need 16 bytes"):
        read_idx(write(tmp_path / "b", b"\x00\x00\x08\x03\x00\x00\x00\x0a"))
    with pytest.raises(ValueError, match="0 dimensions"):
        read_idx(write(tmp_path / "c", b"\x00\x00\x08\x00"))


def test_wrong_magic_and_dtype_code(tmp_path):
    good = idx_bytes(np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"not an IDX file: the magic number 0x12340801"):
        read_idx(write(tmp_path / "magic", b"\x12\x34" + good[2:]))
    with pytest.raises(ValueError, match=r"unknown element type code 0x07"):
        read_idx(write(tmp_path / "code", good[:2] + b"\x07" + good[3:]))


def test_dims_not_matching_size(tmp_path):
    # header says (4,) but 6 bytes follow: trailing bytes are an error, not silently ignored
    data = b"\x00\x00\x08\x01" + struct.pack(">I", 4) + bytes(6)
    with pytest.raises(ValueError, match="2 unexpected bytes after the data"):
        read_idx(write(tmp_path / "long", data))
    # a header claiming an enormous array fails on size before allocating anything
    data = b"\x00\x00\x08\x03" + struct.pack(">3I", 2 ** 31, 28, 28) + bytes(10)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(write(tmp_path / "huge", data))


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="got int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))


# ---- MNIST-style datasets from small files ---------------------------------------------------
def make_mnist_dir(root, n_train=12, n_test=5, gz=False, dot=False):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        sep = "." if dot else "-"
        for kind, arr in ((f"images{sep}idx3-ubyte", images), (f"labels{sep}idx1-ubyte", labels)):
            write(root / f"{prefix}-{kind}{'.gz' if gz else ''}", idx_bytes(arr), gz)
    return root


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_both_splits(tmp_path, gz):
    make_mnist_dir(tmp_path, gz=gz)
    train, test = MNIST(tmp_path), MNIST(root=str(tmp_path), train=False)
    assert len(train) == 12 and len(test) == 5
    assert train.data.shape == (12, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and train.targets.shape == (12,)
    image, label = train[3]
    assert isinstance(image, np.ndarray) and image.shape == (28, 28) and label == 3
    assert train.classes[3] == "3 - three" and train.class_to_idx["9 - nine"] == 9


def test_mnist_alternative_file_layouts(tmp_path):
    for sub in ("dotted", "tv/FashionMNIST/raw"):
        (tmp_path / sub).mkdir(parents=True)
    make_mnist_dir(tmp_path / "dotted", dot=True)
    assert len(MNIST(tmp_path / "dotted")) == 12
    make_mnist_dir(tmp_path / "tv" / "FashionMNIST" / "raw", gz=True)
    assert len(FashionMNIST(tmp_path / "tv", train=False)) == 5


def test_missing_files_name_the_files_and_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        FashionMNIST(root=tmp_path)
    msg = str(err.value)
    assert os.path.join(str(tmp_path), "train-images-idx3-ubyte") in msg
    assert os.path.join(str(tmp_path), "train-labels-idx1-ubyte") in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "root=" in msg
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(FileNotFoundError, match="test split.*t10k-labels-idx1-ubyte") as err:
        MNIST(tmp_path, train=False)
    assert "t10k-images" not in str(err.value) and "--data-dir" in str(err.value)
    with pytest.raises(TypeError, match="pass root="):
        MNIST()


def test_mnist_checks_the_files_fit_together(tmp_path):
    make_mnist_dir(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte"
    write(labels, idx_bytes(np.zeros(11, np.uint8)))
    with pytest.raises(ValueError, match="12 images in .* but 11 labels"):
        MNIST(tmp_path)
    write(labels, idx_bytes(np.full(12, 10, np.uint8)))
    with pytest.raises(ValueError, match=r"label 10 is out of range 0..9"):
        MNIST(tmp_path)
    write(labels, idx_bytes(np.zeros((12, 1), np.uint8)))
    with pytest.raises(ValueError, match=r"expected \(N,\) uint8 labels, got shape \(12, 1\)"):
        MNIST(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((12, 784), np.uint8)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: expected \(N, rows, cols\)"):
        MNIST(tmp_path)


def test_mnist_transforms_and_whole_split_tensors(tmp_path):
    make_mnist_dir(tmp_path)
    ds = MNIST(tmp_path, transform=T.Compose([T.ToTensor(), T.Normalize(0.5, 0.25)]),
               target_transform=lambda t: t + 100)
    image, label = ds[2]
    expected = (ds.data.data[2].astype(np.float32) / 255 - 0.5) / 0.25
    assert image.shape == (1, 28, 28) and label == 102
    np.testing.assert_allclose(image.data, expected[None], rtol=1e-6, atol=1e-6)

    X, y = ds.tensors()
    assert X.shape == (12, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X.data[2], T.ToTensor()(ds.data.data[2]).data)
    Xf, _ = ds.tensors(flatten=True, normalize=True)
    assert Xf.shape == (12, 784)
    np.testing.assert_allclose(Xf.data, (X.data.reshape(12, -1) - 0.1307) / 0.3081, rtol=1e-5,
                               atol=1e-5)
    tds = ds.as_tensor_dataset(flatten=True)
    ember.manual_seed(0)
    xb, yb = next(iter(DataLoader(tds, batch_size=5, shuffle=True)))
    assert xb.shape == (5, 784) and yb.shape == (5,)


def test_mnist_per_sample_loader_with_transform(tmp_path):
    make_mnist_dir(tmp_path)
    loader = DataLoader(MNIST(tmp_path, transform=T.ToTensor()), batch_size=5)
    xb, yb = next(iter(loader))
    assert xb.shape == (5, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    assert len(loader) == 3


@pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_ROOT),
                    reason=f"{FASHION_MNIST_ROOT} is absent (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist():
    train, test = FashionMNIST(), FashionMNIST(train=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(train.targets.data), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(test.targets.data), [1000] * 10)
    pixels = train.data.data
    assert pixels.min() == 0 and pixels.max() == 255
    assert pixels.mean() / 255 == pytest.approx(FashionMNIST.mean, abs=1e-3)
    assert train.classes[9] == "Ankle boot" and len(train.classes) == 10
