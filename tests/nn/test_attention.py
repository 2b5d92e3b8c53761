"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against PyTorch on
the same weights (loaded through state_dict): outputs, attention weights and the gradients of
every input and parameter, for each option and mask kind; errors; a small model learning."""
import numpy as np
import pytest
from harness import Case, op_tests

import ember
from ember import nn

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _sdpa(m, q, k, v, *rest, **kwargs):
    return m.nn.functional.scaled_dot_product_attention(q, k, v, *rest, **kwargs)


SDPA_CASES = [
    Case("sdpa", lambda m, q, k, v: _sdpa(m, q, k, v),
         [((5, 4), (6, 4), (6, 3)), ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)),
          ((2, 1, 5, 4), (3, 6, 4), (1, 6, 2))]),
    Case("sdpa_bool_mask", lambda m, q, k, v, mask: _sdpa(m, q, k, v, mask),
         [((2, 5, 4), (2, 6, 4), (2, 6, 3), (5, 6))], bools=(3,),
         make=lambda r, s, d: [r.uniform(-2, 2, s[0]).astype(d), r.uniform(-2, 2, s[1]).astype(d),
                               r.uniform(-2, 2, s[2]).astype(d),
                               np.eye(5, 6, dtype=bool) | (r.random((5, 6)) > 0.5)]),
    Case("sdpa_float_mask", lambda m, q, k, v, mask: _sdpa(m, q, k, v, attn_mask=mask),
         [((2, 5, 4), (2, 6, 4), (2, 6, 3), (2, 5, 6))]),
    Case("sdpa_causal_scale", lambda m, q, k, v: _sdpa(m, q, k, v, is_causal=True, scale=0.3),
         [((2, 5, 4), (2, 5, 4), (2, 5, 3)), ((4, 4), (6, 4), (6, 2))]),
    # (torch's CPU kernel for this case has no second derivative to compare with)
    Case("sdpa_gqa", lambda m, q, k, v: _sdpa(m, q, k, v, enable_gqa=True),
         [((2, 4, 5, 3), (2, 2, 6, 3), (2, 2, 6, 3))], double=False),
]

test_gradcheck, test_parity, test_double_backward = op_tests(SDPA_CASES)

E, HEADS = 8, 2


def _load(e_mod, t_mod):
    t_mod.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e_mod.state_dict().items()})
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    return t_mod


def _mha(**kwargs):
    ember.manual_seed(0)
    e = nn.MultiheadAttention(E, HEADS, dtype=ember.float64, **kwargs)
    return e, _load(e, torch.nn.MultiheadAttention(E, HEADS, **kwargs).double())


def _inputs(shapes, seed=0):
    r = np.random.default_rng(seed)
    arrays = [r.standard_normal(s) for s in shapes]
    return ([ember.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _masks(spec, lib, batch, tgt, src):
    """The masks a case names, the same values in both libraries."""
    r = np.random.default_rng(3)
    out = {}
    for name, kind in spec.items():
        shape = {"kpm": (batch, src), "attn": (tgt, src),
                 "attn3": (batch * HEADS, tgt, src)}[name]
        if kind == "bool":
            values = r.random(shape) > 0.7
            values[..., 0] = False  # every query keeps a key: no all-masked row (NaN)
        else:
            values = r.standard_normal(shape)
        key = "key_padding_mask" if name == "kpm" else "attn_mask"
        out[key] = lib.tensor(values)
    return out


def _compare(e_outs, t_outs, e_leaves, t_leaves, rtol=1e-10, atol=1e-12):
    e_outs = [o for o in e_outs if o is not None]
    t_outs = [o for o in t_outs if o is not None]
    assert len(e_outs) == len(t_outs)
    r = np.random.default_rng(1)
    weights = []
    for k, (e, t) in enumerate(zip(e_outs, t_outs)):
        assert tuple(e.shape) == tuple(t.shape), k
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"output {k}")
        weights.append(r.standard_normal(tuple(t.shape)))
    sum((e * ember.tensor(w)).sum() for e, w in zip(e_outs, weights)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(t_outs, weights)).backward()
    for name, e in e_leaves.items():
        t = t_leaves[name]
        if t.grad is None:
            assert e.grad is None or not np.any(e.grad.numpy()), name
            continue
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


MHA_CASES = [  # (constructor kwargs, forward kwargs, masks, batched)
    ({}, {}, {}, True),
    ({}, {}, {"kpm": "bool", "attn": "bool"}, True),
    ({}, {"average_attn_weights": False}, {"kpm": "float", "attn3": "float"}, True),
    ({"batch_first": True}, {"need_weights": False}, {"attn": "float"}, True),
    ({"kdim": 5, "vdim": 3}, {}, {"kpm": "bool"}, True),
    ({"add_bias_kv": True}, {}, {"kpm": "bool", "attn": "bool"}, True),
    ({"add_zero_attn": True, "bias": False}, {}, {"attn3": "bool"}, True),
    ({"add_bias_kv": True, "add_zero_attn": True}, {}, {}, True),
    ({}, {}, {"kpm": "bool", "attn": "float"}, False),
    ({"batch_first": True, "kdim": 6}, {"average_attn_weights": False}, {}, False),
]


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")  # (torch's)
@pytest.mark.parametrize("ctor,fwd,masks,batched", MHA_CASES,
                         ids=[f"{c}-{f}-{m}-{'b' if b else 'u'}" for c, f, m, b in MHA_CASES])
def test_multihead_attention_matches_torch(ctor, fwd, masks, batched):
    e_mod, t_mod = _mha(**ctor)
    tgt, src, batch = 5, 4, 3
    kdim, vdim = ctor.get("kdim", E), ctor.get("vdim", E)

    def shape(length, features):
        if not batched:
            return (length, features)
        return (batch, length, features) if ctor.get("batch_first") else (length, batch,
                                                                          features)

    (eq, ek, ev), (tq, tk, tv) = _inputs([shape(tgt, E), shape(src, kdim), shape(src, vdim)])
    e_masks = _masks(masks, ember, batch, tgt, src)
    t_masks = _masks(masks, torch, batch, tgt, src)
    if not batched and "key_padding_mask" in e_masks:
        e_masks["key_padding_mask"] = e_masks["key_padding_mask"][0]
        t_masks["key_padding_mask"] = t_masks["key_padding_mask"][0]
    e_out = e_mod(eq, ek, ev, **fwd, **e_masks)
    t_out = t_mod(tq, tk, tv, **fwd, **t_masks)
    e_leaves = {"q": eq, "k": ek, "v": ev, **dict(e_mod.named_parameters())}
    t_leaves = {"q": tq, "k": tk, "v": tv, **dict(t_mod.named_parameters())}
    _compare(e_out, t_out, e_leaves, t_leaves)


def test_causal_hint_with_its_mask_and_unmasked_queries_give_nan_as_torch():
    e_mod, t_mod = _mha()
    (eq,), (tq,) = _inputs([(4, 2, E)])
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == ember.float32 and np.isinf(mask.numpy()[0, 1])
    e_out = e_mod(eq, eq, eq, attn_mask=mask.double(), is_causal=True)
    t_out = t_mod(tq, tq, tq, attn_mask=torch.tensor(mask.numpy()).double(), is_causal=True)
    _compare(e_out, t_out, {"q": eq}, {"q": tq})
    blocked = np.zeros((2, 4), bool)
    blocked[0] = True  # the first sequence may attend to nothing
    e_y, _ = e_mod(eq.detach(), eq.detach(), eq.detach(), key_padding_mask=ember.tensor(blocked))
    t_y, _ = t_mod(tq.detach(), tq.detach(), tq.detach(), key_padding_mask=torch.tensor(blocked))
    e_y, t_y = e_y.detach().numpy(), t_y.detach().numpy()
    np.testing.assert_array_equal(np.isnan(e_y), np.isnan(t_y))
    assert np.isnan(e_y[:, 0]).all() and not np.isnan(e_y[:, 1]).any()


def test_init_follows_torch():
    ember.manual_seed(0)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6.0 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) in_proj_weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not m.in_proj_bias.detach().numpy().any()
    assert not m.out_proj.bias.detach().numpy().any()
    assert m.bias_k.shape == (1, 1, 64) and m.bias_k.detach().numpy().std() > 0
    assert m.head_dim == 16 and m._qkv_same_embed_dim


def _layers(cls_name, **kwargs):
    ember.manual_seed(0)
    e = getattr(nn, cls_name)(E, HEADS, dim_feedforward=16, dropout=0.0, dtype=ember.float64,
                              **kwargs)
    t = getattr(torch.nn, cls_name)(E, HEADS, dim_feedforward=16, dropout=0.0,
                                    **kwargs).double()
    return e, _load(e, t)


LAYER_CASES = [
    ({}, {}),
    ({"norm_first": True, "activation": "gelu"}, {"kpm": "bool", "attn": "bool"}),
    ({"batch_first": True, "layer_norm_eps": 1e-3}, {"attn": "float"}),
    ({"bias": False}, {"kpm": "float"}),
]


@pytest.mark.parametrize("kwargs,masks", LAYER_CASES, ids=[f"{k}-{m}" for k, m in LAYER_CASES])
def test_encoder_layer_matches_torch(kwargs, masks):
    e_mod, t_mod = _layers("TransformerEncoderLayer", **kwargs)
    batch, length = 3, 5
    shape = (batch, length, E) if kwargs.get("batch_first") else (length, batch, E)
    (es,), (ts,) = _inputs([shape])
    e_m = {("src_key_padding_mask" if k == "key_padding_mask" else "src_mask"): v
           for k, v in _masks(masks, ember, batch, length, length).items()}
    t_m = {("src_key_padding_mask" if k == "key_padding_mask" else "src_mask"): v
           for k, v in _masks(masks, torch, batch, length, length).items()}
    e_leaves = {"src": es, **dict(e_mod.named_parameters())}
    t_leaves = {"src": ts, **dict(t_mod.named_parameters())}
    _compare([e_mod(es, **e_m)], [t_mod(ts, **t_m)], e_leaves, t_leaves)


@pytest.mark.parametrize("kwargs,masks", LAYER_CASES, ids=[f"{k}-{m}" for k, m in LAYER_CASES])
def test_decoder_layer_matches_torch(kwargs, masks):
    e_mod, t_mod = _layers("TransformerDecoderLayer", **kwargs)
    batch, tgt, src = 3, 5, 4
    bf = kwargs.get("batch_first")
    (et, em), (tt, tm) = _inputs([(batch, tgt, E) if bf else (tgt, batch, E),
                                  (batch, src, E) if bf else (src, batch, E)])
    rename = {"key_padding_mask": "memory_key_padding_mask", "attn_mask": "memory_mask"}
    e_m = {rename[k]: v for k, v in _masks(masks, ember, batch, tgt, src).items()}
    t_m = {rename[k]: v for k, v in _masks(masks, torch, batch, tgt, src).items()}
    causal = nn.Transformer.generate_square_subsequent_mask(tgt, dtype=ember.float64)
    e_out = e_mod(et, em, tgt_mask=causal, tgt_is_causal=True, **e_m)
    t_out = t_mod(tt, tm, tgt_mask=torch.tensor(causal.numpy()), tgt_is_causal=True, **t_m)
    e_leaves = {"tgt": et, "memory": em, **dict(e_mod.named_parameters())}
    t_leaves = {"tgt": tt, "memory": tm, **dict(t_mod.named_parameters())}
    _compare([e_out], [t_out], e_leaves, t_leaves)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # (torch's, about its fast path)
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first):
    ember.manual_seed(0)
    kwargs = {"num_encoder_layers": 2, "num_decoder_layers": 2, "dim_feedforward": 16,
              "dropout": 0.0, "batch_first": batch_first}
    e_mod = nn.Transformer(E, HEADS, dtype=ember.float64, **kwargs)
    t_mod = _load(e_mod, torch.nn.Transformer(E, HEADS, **kwargs).double())
    bounds = [np.sqrt(6.0 / sum(p.shape)) for p in e_mod.parameters() if p.ndim > 1]
    assert all(np.abs(p.detach().numpy()).max() <= b for p, b in
               zip([p for p in e_mod.parameters() if p.ndim > 1], bounds))
    shapes = [(3, 6, E), (3, 5, E)] if batch_first else [(6, 3, E), (5, 3, E)]
    (es, et), (ts, tt) = _inputs(shapes)
    kpm = np.zeros((3, 6), bool)
    kpm[2, 4:] = True
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=ember.float64)
    e_out = e_mod(es, et, tgt_mask=mask, src_key_padding_mask=ember.tensor(kpm),
                  memory_key_padding_mask=ember.tensor(kpm))
    t_out = t_mod(ts, tt, tgt_mask=torch.tensor(mask.numpy()),
                  src_key_padding_mask=torch.tensor(kpm), memory_key_padding_mask=torch.tensor(kpm))
    e_leaves = {"src": es, "tgt": et, **dict(e_mod.named_parameters())}
    t_leaves = {"src": ts, "tgt": tt, **dict(t_mod.named_parameters())}
    _compare([e_out], [t_out], e_leaves, t_leaves)


def test_encoder_stack_has_independent_layers_and_a_final_norm():
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, dtype=ember.float64)
    e_mod = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(E, dtype=ember.float64))
    assert e_mod.layers[0].linear1.weight is not e_mod.layers[1].linear1.weight
    t_layer = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0).double()
    t_mod = _load(e_mod, torch.nn.TransformerEncoder(t_layer, 3, norm=torch.nn.LayerNorm(E),
                                                      enable_nested_tensor=False).double())
    (es,), (ts,) = _inputs([(5, 2, E)])
    _compare([e_mod(es)], [t_mod(ts)], {"src": es, **dict(e_mod.named_parameters())},
             {"src": ts, **dict(t_mod.named_parameters())})


def test_dropout_is_active_in_training_only():
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.5)
    x = ember.randn(5, 2, E)
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_an_encoder_learns_to_count_a_symbol():
    """Is symbol 0 the most frequent of 4 in the sequence? Order does not matter: attention
    without positions can tell."""
    ember.manual_seed(0)
    r = np.random.default_rng(0)
    tokens = r.integers(0, 4, size=(256, 8))
    counts = np.stack([(tokens == s).sum(1) for s in range(4)], 1)
    labels = (counts[:, 0] > counts[:, 1:].max(1)).astype(np.int64)
    embed = nn.Embedding(4, 16)
    encoder = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    head = nn.Linear(16, 2)
    params = [*embed.parameters(), *encoder.parameters(), *head.parameters()]
    opt = ember.optim.Adam(params, lr=1e-2)
    x, y = ember.tensor(tokens), ember.tensor(labels)
    for _ in range(150):
        loss = nn.functional.cross_entropy(head(encoder(embed(x)).mean(1)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy = (head(encoder(embed(x)).mean(1)).argmax(1).numpy() == labels).mean()
    assert accuracy > 0.95, accuracy


@pytest.mark.parametrize("call,exc,match", [
    (lambda: nn.MultiheadAttention(10, 3), AssertionError, r"embed_dim \(10\) must be divisible"),
    (lambda: nn.MultiheadAttention(0, 1), ValueError, "must be greater than 0"),
    (lambda: nn.MultiheadAttention(E, 2)(ember.randn(3, E), ember.randn(3, E), ember.randn(3, E),
                                         is_causal=True), RuntimeError, "Need attn_mask"),
    (lambda: nn.MultiheadAttention(E, 2)(ember.randn(3, 2, E), ember.randn(4, 2, E),
                                         ember.randn(4, 2, E), attn_mask=ember.zeros(3, 3)),
     RuntimeError, r"attn_mask should be of shape \(3, 4\) or \(4, 3, 4\)"),
    (lambda: nn.MultiheadAttention(E, 2)(ember.randn(3, 2, E), ember.randn(4, 2, E),
                                         ember.randn(4, 2, E),
                                         key_padding_mask=ember.zeros(2, 3, dtype=ember.bool)),
     RuntimeError, r"key_padding_mask of shape \(2, 4\)"),
    (lambda: nn.MultiheadAttention(E, 2)(ember.randn(3, 2, 5), ember.randn(3, 2, E),
                                         ember.randn(3, 2, E)),
     RuntimeError, "expected query with 8 features"),
    (lambda: nn.MultiheadAttention(E, 2)(ember.randn(3, 2, E), ember.randn(3, E),
                                         ember.randn(3, E)), RuntimeError, "all be 3-D"),
    (lambda: nn.MultiheadAttention(E, 2)(ember.randn(3, 2, E), ember.randn(4, 2, E),
                                         ember.randn(4, 2, E), attn_mask=ember.zeros(3, 4,
                                                                                     dtype=ember.int64)),
     TypeError, "masks must be bool or floating point"),
    (lambda: nn.functional.scaled_dot_product_attention(
        ember.randn(2, 3), ember.randn(2, 3), ember.randn(2, 3), ember.ones(2, 2,
                                                                            dtype=ember.bool),
        is_causal=True), RuntimeError, "either attn_mask or is_causal"),
    (lambda: nn.functional.scaled_dot_product_attention(
        ember.randn(2, 3), ember.randn(2, 4), ember.randn(2, 3)), RuntimeError, "do not fit"),
    (lambda: nn.TransformerEncoderLayer(E, 2, activation="tanh"), RuntimeError,
     "activation should be relu/gelu"),
    (lambda: nn.Transformer(E, 2, 1, 1, 16)(ember.randn(3, 2, E), ember.randn(3, 4, E)),
     RuntimeError, "batch number of src and tgt must be equal"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_attention_weights_example_learns_and_checks_the_weights_by_hand():
    import pathlib
    import subprocess
    import sys
    script = pathlib.Path(__file__).parents[2] / "examples" / "attention_weights.py"
    out = subprocess.run([sys.executable, str(script), "--steps", "200"], capture_output=True,
                         text=True, check=True).stdout
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.95, out
    assert "agree: True; every row sums to 1: True" in out
    weights = {int(line.split()[1][:-1]): float(line.split()[2])
               for line in out.splitlines() if line.strip().startswith("symbol")}
    assert weights[0] > max(weights[1], weights[2], weights[3]), out  # what it learned to read
