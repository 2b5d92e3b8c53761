"""ember.io: safetensors checkpoints — exact round trips, atomic writes under SIGKILL, clear
errors for damaged or foreign files, and PyTorch interchange in both directions."""
import json
import math
import os
import random
import signal
import struct
import time
from collections import OrderedDict

import numpy as np
import pytest
import safetensors
import safetensors.numpy

import ember
import ember.io as eio
import ember.nn as nn
import ember.optim as optim



def assert_same(a, b, where="obj"):
    """Same structure, same Python/NumPy types, same dtypes, shapes and values (NaN-aware)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, ember.Tensor):
        a, b = a.data, b.data
        assert type(a) is np.ndarray and type(b) is np.ndarray, where
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape, \
            f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        np.testing.assert_array_equal(a, b, err_msg=where)
        # and bit for bit (tells -0.0 from 0.0 and keeps NaN payloads)
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            assert type(k) is type(next(kb for kb in b if kb == k)), f"{where}: key {k!r} type"
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert repr(a) == repr(b) and math.copysign(1, a) == math.copysign(1, b), where
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def roundtrip(obj, tmp_path, name="ckpt.safetensors"):
    path = tmp_path / name
    eio.save(obj, path)
    return eio.load(path)


# ---- exact round trips ---------------------------------------------------------------------------
def test_nested_dict_with_every_leaf_type(tmp_path):
    obj = {
        "tensor": ember.tensor([[1.5, -2.0], [0.0, 3.0]]),
        "array": np.arange(6, dtype=np.int64).reshape(2, 3),
        "np_scalars": [np.float32(2.5), np.int64(-7), np.bool_(True), np.float64(-0.0)],
        "int": 3, "big_int": 2 ** 70, "neg": -1, "float": 0.1, "whole_float": 2.0,
        "neg_zero": -0.0, "nan": float("nan"), "inf": float("inf"), "ninf": -math.inf,
        "tiny": 5e-324, "true": True, "false": False, "none": None,
        "str": "héllo \"quoted\" \n ünïcode ✓", "empty_str": "",
        "list": [1, 2.0, "3", None, True, [ember.tensor(1.0)], ()],
        "tuple": (0.9, 0.999), "nested_tuple": ((1, 2), [3, (4,)]),
        "empty": {}, "empty_list": [],
        "int_keys": {0: {"step": 3, "exp_avg": ember.zeros(4)}, 1: {"step": 3}},
        "mixed_keys": {1: "int", "1": "str", 1.5: "float", None: "none", False: "bool"},
        "odict": OrderedDict([("b", 1), ("a", ember.ones(2, 2))]),
        "deep": {"a": {"b": {"c": {"d": [ember.tensor([1, 2, 3])]}}}},
        "same_tensor_twice": None,
    }
    t = ember.randn(3)
    obj["same_tensor_twice"] = [t, t]  # saved twice, comes back as two equal tensors
    back = roundtrip(obj, tmp_path)
    assert_same(obj, back)


DTYPES = [np.float32, np.float64, np.int64, np.bool_, np.uint8, np.float16, np.int32, np.int8,
          np.int16, np.uint16, np.uint32, np.uint64, np.complex64]
SHAPES = [(), (0,), (3, 0, 2), (1,), (2, 3), (2, 1, 4)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_dtypes_and_shapes(tmp_path, dtype):
    rng = np.random.default_rng(0)
    obj = {}
    for i, shape in enumerate(SHAPES):
        a = np.asarray(rng.standard_normal(shape) * 100)  # 0-d stays an array
        if np.dtype(dtype).kind == "c":
            a = np.asarray(a + 1j * rng.standard_normal(shape))
        obj[f"t{i}"] = ember.tensor(a.astype(dtype))
        obj[f"a{i}"] = a.astype(dtype)
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        obj["extremes"] = ember.tensor(np.array([info.min, info.max, 0], dtype=dtype))
    if np.dtype(dtype).kind == "f":
        obj["special"] = ember.tensor(np.array([np.nan, np.inf, -np.inf, -0.0,
                                                np.finfo(dtype).tiny, np.finfo(dtype).max],
                                               dtype=dtype))
    obj["np_scalar"] = np.asarray(3).astype(dtype)[()]
    back = roundtrip(obj, tmp_path)
    assert_same(obj, back)
    assert type(back["np_scalar"]) is np.dtype(dtype).type and type(back["a0"]) is np.ndarray
    del back["np_scalar"]
    for k, v in back.items():
        arr = v.data if isinstance(v, ember.Tensor) else v
        assert arr.flags.writeable, k  # loaded tensors can be trained in place
    back["t4"] += back["t4"]


def test_non_contiguous_and_big_endian_arrays(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    obj = {"transposed": ember.tensor(base).data.T, "strided": base[::2, ::3],
           "fortran": np.asfortranarray(base), "negative_stride": base[::-1],
           "big_endian": base.astype(">f4"), "tensor_T": ember.Tensor(base.T)}
    back = roundtrip(obj, tmp_path)
    for k in obj:
        got = back[k].data if isinstance(back[k], ember.Tensor) else back[k]
        want = obj[k].data if isinstance(obj[k], ember.Tensor) else obj[k]
        np.testing.assert_array_equal(got, want, err_msg=k)
        assert got.dtype == want.dtype.newbyteorder("=") and got.shape == want.shape, k


def test_module_state_dict_round_trip(tmp_path):
    ember.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    sd = net.state_dict()
    path = tmp_path / "model.safetensors"
    eio.save(sd, path)
    back = eio.load(path)
    assert_same(sd, back)  # an OrderedDict, same key order
    with safetensors.safe_open(str(path), framework="np") as f:  # plain names, as torch expects
        assert sorted(f.keys()) == sorted(sd)
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    other.load_state_dict(back)
    x = ember.randn(5, 4)
    np.testing.assert_array_equal(other(x).data, net(x).data)


def test_adam_state_dict_round_trip_and_resume(tmp_path):
    def make():
        ember.manual_seed(1)
        net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
        opt = optim.Adam(net.parameters(), lr=0.01, betas=(0.8, 0.99), amsgrad=True)
        return net, opt

    x, y = ember.randn(16, 3), ember.randn(16, 1)

    def step(net, opt):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()

    net, opt = make()
    for _ in range(4):
        step(net, opt)
    ckpt = {"model": net.state_dict(), "optim": opt.state_dict(), "epoch": 4}
    back = roundtrip(ckpt, tmp_path)
    assert_same(ckpt, back)
    st = back["optim"]["state"]
    assert set(st) == {0, 1, 2, 3} and type(st[0]["step"]) is int and st[0]["step"] == 4
    assert back["optim"]["param_groups"][0]["betas"] == (0.8, 0.99)
    assert type(back["optim"]["param_groups"][0]["amsgrad"]) is bool

    # resuming from the checkpoint follows the same trajectory as never stopping
    net2, opt2 = make()
    net2.load_state_dict(back["model"])
    opt2.load_state_dict(back["optim"])
    for _ in range(3):
        step(net, opt)
        step(net2, opt2)
    for (k, a), b in zip(net.state_dict().items(), net2.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)


def test_colliding_tensor_names_stay_apart(tmp_path):
    a, b, c = ember.ones(2), ember.zeros(3), ember.full((1,), 7.0)
    obj = {"a.b": a, "a": {"b": b, "__metadata__": c}, "__metadata__": {"x": [c]}}
    back = roundtrip(obj, tmp_path)
    assert_same(obj, back)


def test_plain_safetensors_file_loads_as_flat_dict(tmp_path):
    path = tmp_path / "plain.safetensors"
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(3, dtype=np.int64),
              "z": np.zeros((0, 2), dtype=np.uint8)}
    safetensors.numpy.save_file(arrays, str(path), metadata={"format": "np", "note": "hi"})
    back = eio.load(path)
    assert type(back) is dict and set(back) == set(arrays)
    for k, a in arrays.items():
        assert isinstance(back[k], ember.Tensor)
        assert_same(a, back[k].data, k)


# ---- what save refuses ---------------------------------------------------------------------------
@pytest.mark.parametrize("obj,match", [
    ({"f": lambda: 0}, r"obj\['f'\] is a builtins.function"),
    ({"s": {1, 2}}, r"obj\['s'\] is a builtins.set"),
    ({"a": [1, object()]}, r"obj\['a'\]\[1\] is a builtins.object"),
    ({"c": np.zeros(2, np.complex128)}, r"obj\['c'\] has dtype complex128"),
    ({"o": np.array([None])}, r"obj\['o'\] has dtype object"),
    ({(1, 2): 3}, r"obj has a key of type tuple"),
])
def test_save_refuses_what_it_cannot_store(tmp_path, obj, match):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=match):
        eio.save(obj, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_save_refuses_non_dict_and_cycles(tmp_path):
    with pytest.raises(TypeError, match="expected a dict"):
        eio.save([ember.ones(2)], tmp_path / "x")
    with pytest.raises(TypeError, match="expected a dict"):
        eio.save(ember.ones(2), tmp_path / "x")
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match="reference cycle"):
        eio.save(loop, tmp_path / "x")


# ---- atomic writes -------------------------------------------------------------------------------
def test_save_replaces_atomically_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    eio.save({"v": 1, "w": ember.ones(3)}, path)
    eio.save({"v": 2, "w": ember.zeros(3)}, path)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    assert eio.load(path)["v"] == 2
    if os.name == "posix":  # the mode follows the umask, like any new file (not mkstemp's 0600)
        mask = os.umask(0)
        os.umask(mask)
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    eio.save({"v": 1}, path)

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(eio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        eio.save({"v": 2, "w": ember.ones(1000)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # the temp file was removed
    assert eio.load(path) == {"v": 1}


N = 2_000_000  # 8 MB of float32 a save


def writer_loop(path, v, report):
    """Save version after version to `path`, reporting each one done: killed from outside."""
    base = np.arange(N, dtype=np.float32)
    while True:
        v += 1
        eio.save({"version": v, "w": base + v, "b": np.full(1000, v, np.int64),
                  "meta": {"tag": [v, str(v)], "t": (float(v),)}}, path)
        os.write(report, b"%d\n" % v)


def check_version(obj, where):
    v = obj["version"]
    assert type(v) is int, where
    assert obj["meta"] == {"tag": [v, str(v)], "t": (float(v),)}, where
    assert obj["b"].dtype == np.int64 and (obj["b"] == v).all(), where
    w = obj["w"]
    assert w.dtype == np.float32 and w.shape == (N,), where
    assert w[0] == v and w[-1] == np.float32(N - 1 + v), where
    np.testing.assert_array_equal(w, np.arange(N, dtype=np.float32) + v, err_msg=where)
    return v


def check_leftovers(directory, target):
    """Temp files a killed writer left: either refused (partial) or complete, never wrong."""
    for name in os.listdir(directory):
        if name == target.name or not name.startswith(f".{target.name}."):
            continue
        assert name.endswith(".tmp"), name
        try:
            check_version(eio.load(directory / name), name)  # complete, not yet renamed
        except ValueError as e:  # partial: refused with a message naming it
            assert name in str(e)
        os.unlink(directory / name)


@pytest.mark.skipif(not (hasattr(signal, "SIGKILL") and hasattr(os, "fork")),
                    reason="needs fork and SIGKILL")
def test_sigkill_during_saves_never_leaves_a_broken_checkpoint(tmp_path):
    """A child process saving in a loop is killed (SIGKILL) at a random moment, 20 times: the
    checkpoint always loads and is one complete version, no older than the last one the writer
    reported done. (A plain open-and-write saver fails this test.)"""
    path = tmp_path / "ckpt.safetensors"
    eio.save({"version": 0, "w": np.arange(N, dtype=np.float32), "b": np.zeros(1000, np.int64),
              "meta": {"tag": [0, "0"], "t": (0.0,)}}, path)
    rnd = random.Random(0)
    for kill in range(20):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            try:
                os.close(read)
                writer_loop(str(path), 1000 * kill, write)
            except BaseException:
                import traceback
                traceback.print_exc()
            finally:
                os._exit(1)
        os.close(write)
        with os.fdopen(read, "rb") as report:
            try:
                first = report.readline()  # one save done: the loop is running
                time.sleep(rnd.uniform(0.0, 0.08))
                os.kill(pid, signal.SIGKILL)
            finally:
                _, status = os.waitpid(pid, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
                "the writer died by itself (see its traceback above)"
            done = [int(line) for line in (first + report.read()).split()]
        v = check_version(eio.load(path), f"after kill {kill}")
        assert done[-1] <= v <= done[-1] + 1, (done[-1], v)  # nothing reported done was lost
        check_leftovers(tmp_path, path)
    # a later save over a killed writer's leftovers works as usual
    eio.save({"version": -1}, path)
    assert eio.load(path) == {"version": -1}


# ---- damaged and foreign files -------------------------------------------------------------------
def small_file(tmp_path):
    path = tmp_path / "good.safetensors"
    eio.save({"w": ember.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)),
              "b": ember.tensor(np.array([1, 2], dtype=np.int64)), "step": 5}, path)
    return path, path.read_bytes()


def parts(data):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def build(header, body):
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body


def write(tmp_path, data, name="bad.safetensors"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file.*nothing.safetensors"):
        eio.load(tmp_path / "nothing.safetensors")


def test_every_truncation_is_refused(tmp_path):
    path, data = small_file(tmp_path)
    assert eio.load(path)["step"] == 5
    for cut in range(len(data)):
        bad = write(tmp_path, data[:cut])
        with pytest.raises(ValueError, match="bad.safetensors"):
            eio.load(bad)


def test_extra_bytes_are_refused(tmp_path):
    _, data = small_file(tmp_path)
    with pytest.raises(ValueError, match="bad.safetensors.*extra bytes"):
        eio.load(write(tmp_path, data + b"\0" * 8))


def test_tampered_header(tmp_path):
    _, data = small_file(tmp_path)
    header, body = parts(data)
    (n,) = struct.unpack("<Q", data[:8])
    cases = {
        "not valid JSON": data[:8] + b"[" + data[9:],
        "header of": struct.pack("<Q", n + 10 ** 6) + data[8:],
        "header of 18446744073709551615": b"\xff" * 8 + data[8:],
        "not valid JSON ": struct.pack("<Q", n - 9) + data[8:],  # length cuts the JSON short
        "not an object": build([1, 2], body),
    }
    h = json.loads(json.dumps(header))
    h["w"]["shape"] = [2, 2]  # data length no longer matches dtype*shape
    cases[r"tensor 'w': its data is 24 bytes but dtype F32 and shape \[2, 2\] need 16"] = \
        build(h, body)
    h = json.loads(json.dumps(header))
    h["w"]["dtype"] = "F64"
    cases["tensor 'w': its data is 24 bytes but dtype F64"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["w"]["dtype"] = "BF16"
    cases["tensor 'w' has dtype BF16, which NumPy"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["w"]["shape"] = [2, -3]
    cases["tensor 'w' has a malformed header entry"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["w"]["data_offsets"] = [h["w"]["data_offsets"][0] + 8, h["w"]["data_offsets"][1] + 8]
    cases["tensor 'w' ends at byte|overlapping or gapped"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["__metadata__"]["ember_structure"] = h["__metadata__"]["ember_structure"][:-5]
    cases["ember structure in the metadata is missing or not JSON"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["__metadata__"]["ember_structure"] = h["__metadata__"]["ember_structure"].replace(
        '{"tensor":"w"}', '{"tensor":"nope"}')
    cases["corrupt.*tensor 'nope' that is not in the file"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["__metadata__"]["ember_structure"] = json.dumps({"dict": [["b", {"tensor": "b"}]]})
    cases["corrupt.*tensors not placed by the structure: w"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["__metadata__"]["ember_structure"] = json.dumps({"set": []})
    cases["corrupt.*unknown node kind 'set'"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["__metadata__"]["ember_format"] = "2"
    cases["ember format '2'.*newer ember"] = build(h, body)
    h = json.loads(json.dumps(header))
    h["__metadata__"]["x"] = 3
    cases["__metadata__ is not a map of strings"] = build(h, body)
    for i, (match, bad) in enumerate(cases.items()):
        path = write(tmp_path, bad, f"bad{i}.safetensors")
        with pytest.raises(ValueError, match=f"bad{i}.safetensors") as info:
            eio.load(path)
        assert info.match(match), (match, str(info.value))


def test_flipped_data_bytes_are_not_structure_errors(tmp_path):
    """Damage inside tensor data cannot be detected without a checksum: the file still loads with
    the right structure, shapes and dtypes (documented limit of the format)."""
    _, data = small_file(tmp_path)
    bad = bytearray(data)
    bad[-1] ^= 0xFF
    back = eio.load(write(tmp_path, bytes(bad)))
    assert back["step"] == 5 and back["w"].shape == (2, 3)


@pytest.mark.parametrize("content", [
    b"", b"\x00", b"hello world, this is a text file\n", bytes(range(256)) * 10,
    b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"{\"not\": \"safetensors\"}",
    b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.",  # a pickle
    b"PK\x03\x04" + b"\0" * 100,  # a zip (torch.save's format)
    struct.pack("<Q", 2) + b"{}",  # a valid, empty safetensors file: loads
])
def test_foreign_files(tmp_path, content):
    path = write(tmp_path, content, "foreign.bin")
    if content == struct.pack("<Q", 2) + b"{}":
        assert eio.load(path) == {}
        return
    with pytest.raises(ValueError, match="foreign.bin") as info:
        eio.load(path)
    if content[:2] in (b"PK", b"\x80\x04"):
        assert info.match("pickle/zip checkpoint")


# ---- PyTorch interchange -------------------------------------------------------------------------
def torch_mlp(torch):
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def ember_mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_torch_checkpoint_loads_in_ember(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    tnet = torch_mlp(torch)
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(tnet.state_dict(), str(path))
    sd = eio.load(path)
    assert set(sd) == set(tnet.state_dict())
    assert all(isinstance(v, ember.Tensor) and v.dtype == np.float32 for v in sd.values())
    enet = ember_mlp()
    enet.load_state_dict(sd, strict=True)
    x = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    want = tnet(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(enet(ember.tensor(x)).data, want, rtol=1e-6, atol=1e-6)


def test_ember_checkpoint_loads_in_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    ember.manual_seed(3)
    enet = ember_mlp()
    path = tmp_path / "ember.safetensors"
    eio.save(enet.state_dict(), path)
    sd = st_torch.load_file(str(path))
    tnet = torch_mlp(torch)
    tnet.load_state_dict(sd, strict=True)
    x = np.random.default_rng(1).standard_normal((7, 4)).astype(np.float32)
    want = enet(ember.tensor(x)).data
    np.testing.assert_allclose(tnet(torch.from_numpy(x)).detach().numpy(), want, rtol=1e-6,
                               atol=1e-6)


def test_torch_pickle_checkpoint_is_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save(torch_mlp(torch).state_dict(), path)
    with pytest.raises(ValueError, match="model.pt' looks like a pickle/zip checkpoint"):
        eio.load(path)


def test_torch_bfloat16_file_is_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    path = tmp_path / "bf16.safetensors"
    st_torch.save_file({"w": torch.ones(2, 2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(ValueError, match="bf16.safetensors.*tensor 'w' has dtype BF16"):
        eio.load(path)
