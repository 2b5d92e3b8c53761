"""Distances, padding modules, metric-learning losses, RMSNorm and parameter containers against
PyTorch: same outputs and the same gradients for every input, in float64."""
import numpy as np
import pytest

import ember
import ember.nn as enn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape)


def signs(*shape):
    return RNG.choice([-1.0, 1.0], shape)


# name: (constructor for lib.nn -> module, list of input arrays, indices of inputs needing grad)
CASES = {
    "CosineSimilarity": (lambda nn: nn.CosineSimilarity(dim=1), [rand(4, 5), rand(4, 5)], (0, 1)),
    "CosineSimilarity_dim0_broadcast": (lambda nn: nn.CosineSimilarity(dim=-1, eps=1e-6),
                                        [rand(3, 1, 5), rand(4, 5)], (0, 1)),
    "PairwiseDistance": (lambda nn: nn.PairwiseDistance(), [rand(4, 5), rand(4, 5)], (0, 1)),
    "PairwiseDistance_p1_keepdim": (lambda nn: nn.PairwiseDistance(p=1.0, keepdim=True),
                                    [rand(4, 5), rand(4, 5)], (0, 1)),
    "TripletMarginLoss": (lambda nn: nn.TripletMarginLoss(margin=2.0),
                          [rand(6, 4), rand(6, 4), rand(6, 4)], (0, 1, 2)),
    "TripletMarginLoss_swap_sum": (lambda nn: nn.TripletMarginLoss(swap=True, reduction="sum"),
                                   [rand(6, 4), rand(6, 4), rand(6, 4)], (0, 1, 2)),
    "MarginRankingLoss": (lambda nn: nn.MarginRankingLoss(margin=0.5),
                          [rand(7), rand(7), signs(7)], (0, 1)),
    "CosineEmbeddingLoss": (lambda nn: nn.CosineEmbeddingLoss(margin=0.2),
                            [rand(6, 5), rand(6, 5), signs(6)], (0, 1)),
    "CosineEmbeddingLoss_none": (lambda nn: nn.CosineEmbeddingLoss(reduction="none"),
                                 [rand(6, 5), rand(6, 5), signs(6)], (0, 1)),
    "HingeEmbeddingLoss": (lambda nn: nn.HingeEmbeddingLoss(margin=0.7),
                           [rand(3, 5), signs(3, 5)], (0,)),
    "SoftMarginLoss": (lambda nn: nn.SoftMarginLoss(), [rand(3, 5) * 4, signs(3, 5)], (0,)),
    "MultiLabelSoftMarginLoss": (lambda nn: nn.MultiLabelSoftMarginLoss(),
                                 [rand(4, 6) * 3, RNG.integers(0, 2, (4, 6)).astype(float)], (0,)),
    "MultiLabelSoftMarginLoss_weight": (
        lambda nn: nn.MultiLabelSoftMarginLoss(
            weight=(ember if nn is enn else torch).tensor(np.linspace(0.5, 2, 6)),
            reduction="none"),
        [rand(4, 6), RNG.integers(0, 2, (4, 6)).astype(float)], (0,)),
    "RMSNorm": (lambda nn: nn.RMSNorm(5, dtype=_dtype(nn)), [rand(3, 4, 5)], (0,)),
    "RMSNorm_2d_eps": (lambda nn: nn.RMSNorm((4, 5), eps=1e-3, elementwise_affine=False),
                       [rand(3, 4, 5)], (0,)),
    "ZeroPad2d": (lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), [rand(2, 3, 4, 4)], (0,)),
    "ConstantPad1d": (lambda nn: nn.ConstantPad1d(2, 3.5), [rand(2, 3, 4)], (0,)),
    "ConstantPad2d_negative": (lambda nn: nn.ConstantPad2d((-1, 2, 1, -1), -1.0),
                               [rand(1, 4, 4)], (0,)),
    "ZeroPad1d": (lambda nn: nn.ZeroPad1d((0, 2)), [rand(3, 4)], (0,)),
    "ReflectionPad1d": (lambda nn: nn.ReflectionPad1d((2, 1)), [rand(2, 3, 5)], (0,)),
    "ReflectionPad2d": (lambda nn: nn.ReflectionPad2d(2), [rand(2, 2, 4, 5)], (0,)),
    "ReplicationPad1d": (lambda nn: nn.ReplicationPad1d(3), [rand(2, 3, 4)], (0,)),
    "ReplicationPad2d": (lambda nn: nn.ReplicationPad2d((1, 0, 2, 1)), [rand(1, 2, 3, 3)], (0,)),
    "Upsample_bilinear": (lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"),
                          [rand(2, 3, 4, 5)], (0,)),
    "Upsample_linear_corners": (lambda nn: nn.Upsample(size=7, mode="linear", align_corners=True),
                                [rand(2, 3, 4)], (0,)),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(size=(5, 3)), [rand(1, 2, 3, 4)],
                             (0,)),
    "UpsamplingNearest2d": (lambda nn: nn.UpsamplingNearest2d(scale_factor=3), [rand(1, 2, 3, 4)],
                            (0,)),
    "InstanceNorm2d": (lambda nn: nn.InstanceNorm2d(3), [rand(2, 3, 4, 5)], (0,)),
    "InstanceNorm1d_affine": (lambda nn: nn.InstanceNorm1d(3, affine=True), [rand(2, 3, 6)], (0,)),
    "InstanceNorm1d_unbatched": (lambda nn: nn.InstanceNorm1d(3, eps=1e-3), [rand(3, 6)], (0,)),
    "InstanceNorm2d_running": (lambda nn: nn.InstanceNorm2d(3, momentum=0.3,
                                                            track_running_stats=True),
                               [rand(2, 3, 4, 5)], (0,)),
    "AvgPool1d": (lambda nn: nn.AvgPool1d(3, 2, 1), [rand(2, 3, 9)], (0,)),
    "AvgPool1d_ceil": (lambda nn: nn.AvgPool1d(2, ceil_mode=True, count_include_pad=False),
                       [rand(3, 7)], (0,)),
    "AdaptiveAvgPool1d": (lambda nn: nn.AdaptiveAvgPool1d(4), [rand(2, 3, 9)], (0,)),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), [rand(2, 8, 3, 5)], (0,)),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(3), [rand(1, 2, 6, 9)], (0,)),
    "Dropout1d_eval_like_p0": (lambda nn: nn.Dropout1d(0.0), [rand(2, 3, 5)], (0,)),
}


def _dtype(nn):
    return ember.float64 if nn is enn else torch.float64


@pytest.mark.parametrize("name", list(CASES))
def test_module_matches_torch_with_gradients(name):
    make, arrays, grads = CASES[name]
    results = {}
    for lib, nn in ((ember, enn), (torch, torch.nn)):
        module = make(nn)
        if lib is torch:
            module = module.double()
        else:
            module = module.to(ember.float64)
        xs = [lib.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
        out = module(*xs)
        (out * lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        results[lib.__name__] = (out.detach().numpy(), [xs[i].grad.numpy() for i in grads],
                                 [p.grad.numpy() for p in module.parameters()], repr(module))
    e, t = results["ember"], results["torch"]
    np.testing.assert_allclose(e[0], t[0], rtol=1e-10, atol=1e-12)
    for ge, gt in zip(e[1] + e[2], t[1] + t[2]):
        np.testing.assert_allclose(ge, gt, rtol=1e-9, atol=1e-12)
    if any(k in name for k in ("Pad", "Distance", "Similarity", "Upsampl", "Norm", "Pool",
                               "Shuffle", "Dropout")):
        assert e[3] == t[3]


def test_functional_forms_match_torch():
    import torch.nn.functional as TF
    F = ember.nn.functional
    a, b, c = rand(5, 4), rand(5, 4), rand(5, 4)
    E, T = (ember.tensor(v) for v in (a, b, c)), (torch.tensor(v) for v in (a, b, c))
    ea, eb, ec = E
    ta, tb, tc = T
    pairs = [
        (F.cosine_similarity(ea, eb, dim=0), TF.cosine_similarity(ta, tb, dim=0)),
        (F.pairwise_distance(ea, eb, p=3.0), TF.pairwise_distance(ta, tb, p=3.0)),
        (F.triplet_margin_loss(ea, eb, ec, margin=0.3, p=1.0),
         TF.triplet_margin_loss(ta, tb, tc, margin=0.3, p=1.0)),
        (F.rms_norm(ea, (4,)), TF.rms_norm(ta, (4,))),
        (F.soft_margin_loss(ea, ember.tensor(np.sign(b))),
         TF.soft_margin_loss(ta, torch.tensor(np.sign(b)))),
    ]
    for e, t in pairs:
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)


def test_parameter_containers_register_like_torch():
    shapes = [(2, 3), (4,)]
    e = enn.ParameterList([enn.Parameter(ember.ones(*shapes[0])), ember.ones(*shapes[1])])
    t = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(*shapes[0])), torch.ones(4)])
    assert list(e.state_dict()) == list(t.state_dict()) == ["0", "1"]
    assert isinstance(e[1], enn.Parameter) and e[1].requires_grad and len(e) == 2
    e.append(ember.zeros(5))
    assert [tuple(p.shape) for p in e] == [(2, 3), (4,), (5,)] and e[-1].shape == (5,)

    class Owner(enn.Module):
        def __init__(self):
            super().__init__()
            self.scales = enn.ParameterDict({"a": ember.ones(2), "b": ember.zeros(3)})

    owner = Owner()
    assert [n for n, _ in owner.named_parameters()] == ["scales.a", "scales.b"]
    owner.scales["a"] = ember.full((2,), 7.0)
    assert owner.scales["a"].tolist() == [7.0, 7.0] and "b" in owner.scales
    assert owner.scales.pop("b").shape == (3,) and list(owner.scales.keys()) == ["a"]
    with pytest.raises(IndexError, match="ParameterList: index 3 is out of range"):
        e[3]
    with pytest.raises(TypeError, match="expected a Parameter or a Tensor"):
        e.append(np.ones(2))


def test_padding_and_rms_norm_errors_name_the_layer():
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be an int or 4 ints"):
        enn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match="ReflectionPad1d: expected a 2-D or 3-D input"):
        enn.ReflectionPad1d(1)(ember.ones(1, 2, 3, 4))
    with pytest.raises(Exception, match="rms_norm"):
        enn.RMSNorm(3)(ember.ones(2, 4))
    with pytest.raises(RuntimeError, match="pixel_shuffle: expected an input of at least 3 dims"):
        enn.PixelShuffle(2)(ember.ones(4, 4))
    with pytest.raises(RuntimeError, match="pixel_unshuffle: .*divide by downscale_factor = 2"):
        enn.PixelUnshuffle(2)(ember.ones(1, 3, 5))
    with pytest.raises(TypeError, match="cosine_similarity: expected Tensors"):
        ember.nn.functional.cosine_similarity(ember.ones(2), np.ones(2))


def test_instance_norm_running_stats_and_eval_match_torch():
    a = rand(4, 3, 5, 5)
    got = {}
    for lib in (ember, torch):
        m = lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
        m = m.double() if lib is torch else m.to(ember.float64)
        for _ in range(3):
            m(lib.tensor(a))
        m.eval()
        got[lib.__name__] = (m.running_mean.numpy().copy(), m.running_var.numpy().copy(),
                             m(lib.tensor(a)).detach().numpy())
    for e, t in zip(got["ember"], got["torch"]):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


def test_dropout1d_zeroes_whole_channels():
    ember.manual_seed(0)
    x = ember.ones(200, 8, 5)
    y = enn.Dropout1d(0.25)(x).numpy()
    per_channel = y.reshape(200 * 8, 5)
    assert set(np.unique(per_channel.std(axis=1))) == {0.0}  # a channel is all kept or all zero
    kept = (per_channel[:, 0] != 0).mean()
    assert 0.7 < kept < 0.8 and np.allclose(per_channel[per_channel != 0], 1 / 0.75)
    assert enn.Dropout1d(0.5).eval()(x) is x
