"""Classic convolutional networks for 28x28 (or 32x32) images: LeNet-5, the course's CNN, a small
VGG-style net and a ResNet with basic blocks."""
from .. import nn


class LeNet5(nn.Sequential):
    """LeCun et al. 1998, for 28x28 inputs (padding 2 on the first conv, as usual for MNIST):
    conv 6@5x5 - tanh - avgpool - conv 16@5x5 - tanh - avgpool - 120 - 84 - classes."""

    def __init__(self, in_channels=1, num_classes=10):
        super().__init__(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes))


class SimpleCNN(nn.Sequential):
    """conv(1->32, 3x3, pad 1) - ReLU - maxpool 2 - conv(32->64, 3x3, pad 1) - ReLU - maxpool 2 -
    linear(3136->128) - ReLU - linear(128->classes)."""

    def __init__(self, in_channels=1, num_classes=10, dropout=0.0):
        layers = [nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(128, num_classes))
        super().__init__(*layers)


def _vgg_block(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.MaxPool2d(2)]


class SmallVGG(nn.Sequential):
    """Two VGG blocks (two 3x3 conv-BN-ReLU, then maxpool) of 32 and 64 channels, global average
    pooling and a linear classifier."""

    def __init__(self, in_channels=1, num_classes=10, width=32):
        super().__init__(*_vgg_block(in_channels, width), *_vgg_block(width, 2 * width),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(2 * width, num_classes))


class BasicBlock(nn.Module):
    """y = relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)), the ResNet basic block."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR-style ResNet (He et al. 2016): a 3x3 stem, three stages of `blocks_per_stage` basic
    blocks (16, 32, 64 channels; stride 2 between stages), global average pooling, linear.
    blocks_per_stage=1 is ResNet-8, 3 is ResNet-20."""

    def __init__(self, in_channels=1, num_classes=10, blocks_per_stage=1, width=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        stages, c = [], width
        for i, c_out in enumerate((width, 2 * width, 4 * width)):
            for b in range(blocks_per_stage):
                stages.append(BasicBlock(c, c_out, stride=2 if (i > 0 and b == 0) else 1))
                c = c_out
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.stages(self.stem(x)))))
