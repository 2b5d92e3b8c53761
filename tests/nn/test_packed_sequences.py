"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence,
unpad_sequence, unpack_sequence, PackedSequence) and RNN, LSTM, GRU on packed batches, against
PyTorch: values, batch sizes, indices, and gradients through every conversion and layer."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import rnn as R

torch = pytest.importorskip("torch")
TR = torch.nn.utils.rnn

I, H = 4, 5

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _pair_arrays(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _backward_both(e_outs, t_outs, seed=1):
    """Backward of the same random weighted sum of all outputs in both frameworks."""
    r = np.random.default_rng(seed)
    weights = [r.standard_normal(tuple(t.shape)) for t in t_outs]
    sum((e * ember.tensor(w.astype(e.dtype))).sum() for e, w in zip(e_outs, weights)).backward()
    sum((t * torch.tensor(w, dtype=t.dtype)).sum() for t, w in zip(t_outs, weights)).backward()


def _close(e, t, rtol=1e-12, atol=1e-13, what=""):
    assert tuple(e.shape) == tuple(t.shape), what
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg=what)


def _same_packing(e, t):
    _close(e.data, t.data, what="data")
    assert e.batch_sizes.dtype == ember.int64
    assert e.batch_sizes.tolist() == t.batch_sizes.tolist()
    for name in ("sorted_indices", "unsorted_indices"):
        ei, ti = getattr(e, name), getattr(t, name)
        assert (ei is None) == (ti is None), name
        if ei is not None:
            assert ei.tolist() == ti.tolist(), name


# lengths with ties (sorting must be stable, as torch's), already sorted, and one sequence
LENGTHS = [[3, 5, 1, 5, 2], [5, 3, 3, 1], [4]]


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_match_torch(lengths, batch_first):
    steps, batch = max(lengths) + 1, len(lengths)  # one step of pure padding too
    shape = (batch, steps, 3) if batch_first else (steps, batch, 3)
    ex, tx = _pair_arrays(shape)
    enforce = lengths == sorted(lengths, reverse=True)
    ep = R.pack_padded_sequence(ex, lengths, batch_first, enforce_sorted=enforce)
    tp = TR.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted=enforce)
    assert isinstance(ep, R.PackedSequence)
    _same_packing(ep, tp)
    outs = []
    for kwargs in ({}, {"padding_value": -2.5, "total_length": steps + 2}):
        ed, el = R.pad_packed_sequence(ep, batch_first, **kwargs)
        td, tl = TR.pad_packed_sequence(tp, batch_first, **kwargs)
        _close(ed, td, what=str(kwargs))
        assert el.dtype == ember.int64 and el.tolist() == tl.tolist() == lengths
        outs.append((ed, td))
    _backward_both([o[0] for o in outs], [o[1] for o in outs])
    _close(ex.grad, tx.grad, what="input gradient")


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(padding_side, batch_first):
    pairs = [_pair_arrays((n, 2, 3), seed=n) for n in (2, 4, 1)]
    ed = R.pad_sequence([p[0] for p in pairs], batch_first, 7.0, padding_side)
    td = TR.pad_sequence([p[1] for p in pairs], batch_first, 7.0, padding_side)
    _close(ed, td)
    _backward_both([ed], [td])
    for e, t in pairs:
        _close(e.grad, t.grad)


def test_pack_sequence_unpack_and_unpad_match_torch():
    pairs = [_pair_arrays((n, 3), seed=n) for n in (2, 4, 4, 1)]
    ep = R.pack_sequence([p[0] for p in pairs], enforce_sorted=False)
    tp = TR.pack_sequence([p[1] for p in pairs], enforce_sorted=False)
    _same_packing(ep, tp)
    e_list, t_list = R.unpack_sequence(ep), TR.unpack_sequence(tp)
    for e, t, (x, _) in zip(e_list, t_list, pairs):
        _close(e, t)
        _close(e, x)
    padded = R.pad_sequence([p[0] for p in pairs])
    for e, (x, _) in zip(R.unpad_sequence(padded, ember.tensor([2, 4, 4, 1])), pairs):
        _close(e, x)
    _backward_both(e_list, t_list)
    for e, t in pairs:
        _close(e.grad, t.grad)


def test_packed_sequence_construction_and_conversion():
    data = ember.randn(6, 3)
    p = R.PackedSequence(data, [3, 2, 1], sorted_indices=[2, 0, 1])
    assert p.batch_sizes.dtype == ember.int64
    assert p.unsorted_indices.tolist() == [1, 2, 0]  # the inverse permutation
    assert R.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    d = p.double()
    assert d.data.dtype == ember.float64 and d.batch_sizes is p.batch_sizes
    assert p.float() is p and p.cpu() is p and not p.is_cuda
    data_, _sizes, sorted_, _unsorted = p  # a named tuple, as torch's
    assert data_ is data and sorted_.tolist() == [2, 0, 1]


def _layers(name, kwargs, dtype=ember.float64):
    ember.manual_seed(0)
    e = getattr(nn, name)(I, H, **kwargs, dtype=dtype)
    t = getattr(torch.nn, name)(I, H, **kwargs).double()
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e.state_dict().items()})
    return e, (t.float() if dtype == ember.float32 else t)


CONFIGS = [
    ("LSTM", {}, [5, 3, 3, 1], False),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, [2, 5, 1, 3], True),
    ("LSTM", {"batch_first": True, "bidirectional": True}, [4, 4, 2], True),
    ("LSTM", {"bias": False}, [1, 1], False),
    ("GRU", {}, [2, 6, 6], True),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}, [3, 1, 4, 2], False),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}, [5, 2, 4], True),
    ("RNN", {"num_layers": 2, "batch_first": True}, [3, 3, 1], False),
]


@pytest.mark.parametrize("name,kwargs,lengths,with_hx", CONFIGS,
                         ids=[f"{n}-{k}-{ls}-hx{h}" for n, k, ls, h in CONFIGS])
def test_layer_on_packed_batch_matches_torch(name, kwargs, lengths, with_hx):
    """Outputs (the packed data itself), h_n (c_n) in the original batch order, and the
    gradients of the padded input, of hx and of every weight."""
    e_mod, t_mod = _layers(name, kwargs)
    bf = kwargs.get("batch_first", False)
    steps, batch = max(lengths), len(lengths)
    ex, tx = _pair_arrays((batch, steps, I) if bf else (steps, batch, I))
    leaves = {"x": (ex, tx)}
    e_hx = t_hx = None
    if with_hx:
        n_states = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
        hs = [_pair_arrays((n_states, batch, H), seed=s) for s in (2, 3)[:1 + (name == "LSTM")]]
        leaves.update({f"hx{k}": h for k, h in enumerate(hs)})
        e_hx = tuple(h[0] for h in hs) if name == "LSTM" else hs[0][0]
        t_hx = tuple(h[1] for h in hs) if name == "LSTM" else hs[0][1]
    enforce = lengths == sorted(lengths, reverse=True)
    ep = R.pack_padded_sequence(ex, lengths, bf, enforce_sorted=enforce)
    tp = TR.pack_padded_sequence(tx, lengths, bf, enforce_sorted=enforce)
    (e_out, e_state), (t_out, t_state) = e_mod(ep, e_hx), t_mod(tp, t_hx)
    assert isinstance(e_out, R.PackedSequence)
    _same_packing(e_out, t_out)
    e_states = list(e_state) if name == "LSTM" else [e_state]
    t_states = list(t_state) if name == "LSTM" else [t_state]
    for k, (e, t) in enumerate(zip(e_states, t_states)):
        _close(e, t, rtol=1e-10, atol=1e-12, what=f"state {k}")
    _backward_both([e_out.data] + e_states, [t_out.data] + t_states)
    for key, (e, t) in leaves.items():
        _close(e.grad, t.grad, rtol=1e-10, atol=1e-12, what=key)
    for (k, e), (_, t) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        _close(e.grad, t.grad, rtol=1e-10, atol=1e-12, what=k)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_packed_equals_each_sequence_alone(name):
    """The defining property: each sequence of a packed batch gets exactly what it gets when run
    alone, final states included, in both directions."""
    e_mod, _ = _layers(name, {"bidirectional": True, "num_layers": 2})
    seqs = [ember.randn(n, I, dtype=ember.float64) for n in (3, 6, 1, 6, 4)]
    out, state = e_mod(R.pack_sequence(seqs, enforce_sorted=False))
    states = state if name == "LSTM" else (state,)
    for b, (x, y) in enumerate(zip(seqs, R.unpack_sequence(out))):
        y_alone, s_alone = e_mod(x)
        s_alone = s_alone if name == "LSTM" else (s_alone,)
        np.testing.assert_allclose(y.detach().numpy(), y_alone.detach().numpy(), atol=1e-13)
        for s, a in zip(states, s_alone):
            np.testing.assert_allclose(s.detach().numpy()[:, b], a.detach().numpy(), atol=1e-13)


def test_float32_packed_lstm_matches_torch():
    e_mod, t_mod = _layers("LSTM", {"bidirectional": True}, ember.float32)
    a = np.random.default_rng(0).standard_normal((5, 3, I)).astype(np.float32)
    (eo, (eh, ec)) = e_mod(R.pack_padded_sequence(ember.tensor(a), [5, 2, 4],
                                                  enforce_sorted=False))
    (to, (th, tc)) = t_mod(TR.pack_padded_sequence(torch.tensor(a), [5, 2, 4],
                                                   enforce_sorted=False))
    for e, t in ((eo.data, to.data), (eh, th), (ec, tc)):
        assert e.dtype == ember.float32
        _close(e, t, rtol=1e-5, atol=1e-6)


def test_dropout_between_layers_on_packed_batches():
    ember.manual_seed(0)
    lstm = nn.LSTM(I, H, num_layers=2, dropout=0.5)
    packed = R.pack_sequence([ember.randn(n, I) for n in (4, 2)])
    out_train, _ = lstm(packed)
    lstm.eval()
    out_eval, _ = lstm(packed)
    assert out_train.data.shape == out_eval.data.shape == (6, H)
    assert not np.allclose(out_train.data.detach().numpy(), out_eval.data.detach().numpy())
    np.testing.assert_array_equal(out_eval.data.detach().numpy(),
                                  lstm(packed)[0].data.detach().numpy())


def test_a_packed_lstm_learns_the_last_element_of_variable_length_sequences():
    """Classify each sequence by the sign of its own last element: the padding after a short
    sequence must not leak into h_n (it would with a padded batch)."""
    ember.manual_seed(0)
    r = np.random.default_rng(0)
    lengths = r.integers(1, 9, size=64)
    x = r.standard_normal((8, 64, 1)).astype(np.float32)
    x[lengths - 1, np.arange(64), 0] += np.where(r.random(64) < 0.5, 2.0, -2.0)
    y = (x[lengths - 1, np.arange(64), 0] > 0).astype(np.int64)
    lstm, head = nn.LSTM(1, 8), nn.Linear(8, 2)
    opt = ember.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
    packed = R.pack_padded_sequence(ember.tensor(x), lengths, enforce_sorted=False)
    losses = []
    for _ in range(60):
        _, (h, _) = lstm(packed)
        loss = nn.functional.cross_entropy(head(h[-1]), ember.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    accuracy = (head(lstm(packed)[1][0][-1]).argmax(1).numpy() == y).mean()
    assert losses[-1] < 0.25 * losses[0] and accuracy >= 0.95


def _packed():
    return R.pack_sequence([ember.randn(3, I), ember.randn(2, I)])


@pytest.mark.parametrize("call,exc,match", [
    (lambda: R.pack_padded_sequence(ember.randn(4, 3, 2), [1, 3, 2]), RuntimeError,
     "sorted in decreasing order"),
    (lambda: R.pack_padded_sequence(ember.randn(4, 3, 2), [3, 0, 2], enforce_sorted=False),
     RuntimeError, "greater than 0"),
    (lambda: R.pack_padded_sequence(ember.randn(4, 3, 2), [5, 3, 2]), ValueError,
     "longer than the input's 4 time steps"),
    (lambda: R.pack_padded_sequence(ember.randn(4, 3, 2), [3, 2]), ValueError,
     "1-D list or tensor of 3 integers"),
    (lambda: R.pack_padded_sequence(ember.randn(4), [1]), ValueError, "time and a batch"),
    (lambda: R.pad_packed_sequence(_packed(), total_length=2), ValueError,
     "total_length=2 and max sequence length being 3"),
    (lambda: R.pad_packed_sequence(ember.randn(3, 2)), TypeError, "expected a PackedSequence"),
    (lambda: R.pad_sequence([ember.randn(2, 3), ember.randn(2, 4)]), RuntimeError,
     "same trailing shape"),
    (lambda: R.pad_sequence([]), RuntimeError, "empty list"),
    (lambda: R.pad_sequence([ember.randn(2)], padding_side="up"), ValueError, "padding_side"),
    (lambda: nn.LSTM(I + 1, H)(_packed()), RuntimeError, "input_size"),
    (lambda: nn.GRU(I, H)(_packed(), ember.zeros(1, 3, H)), RuntimeError,
     r"expected hidden size \(1, 2, 5\)"),
    (lambda: nn.RNN(I, H)(R.PackedSequence(ember.randn(5, 1, I), [3, 2])), ValueError,
     "2-D data"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
