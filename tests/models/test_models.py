"""The ready models: shapes, parameter counts against PyTorch-built twins, and a learning step."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.models import MLP, LeNet5, ResNet, SimpleCNN, SmallVGG


@pytest.mark.parametrize("make,params", [
    (lambda: LeNet5(), 61706), (lambda: SimpleCNN(), 421642),
    (lambda: SmallVGG(), None), (lambda: ResNet(blocks_per_stage=1), None),
    (lambda: ResNet(blocks_per_stage=3), None), (lambda: MLP(784, [256, 128], 10), 235146)])
def test_forward_shape_and_size(make, params):
    ember.manual_seed(0)
    model = make()
    out = model(ember.randn(2, 1, 28, 28))
    assert out.shape == (2, 10)
    if params is not None:
        assert sum(p.numel() for p in model.parameters()) == params


def test_resnet20_has_nineteen_convs_and_a_linear():
    convs = [m for m in ResNet(blocks_per_stage=3).modules() if isinstance(m, nn.Conv2d)]
    assert len([c for c in convs if c.kernel_size == (3, 3)]) == 19


@pytest.mark.parametrize("make", [LeNet5, SimpleCNN, SmallVGG, lambda: ResNet(blocks_per_stage=1)])
def test_a_few_steps_fit_a_small_batch(make):
    ember.manual_seed(0)
    model = make()
    x = ember.randn(16, 1, 28, 28)
    y = ember.tensor(np.arange(16) % 10)
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.8
