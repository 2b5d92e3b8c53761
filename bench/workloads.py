"""Benchmark workloads, each written once for both frameworks: `build(lib)` returns a function
that does one unit of work (a train step, a forward pass) with `lib` = ember or torch."""
import numpy as np

from bench.gan import dcgan_step
from bench.rnn import char_gru_step, char_lstm_step

BATCH = 128


def _opt(lib, params):
    return lib.optim.Adam(params, lr=1e-3)


def _train_step(lib, model, x, y, loss_fn):
    opt = _opt(lib, model.parameters())

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def _data(lib, shape, classes=10, seed=0):
    r = np.random.default_rng(seed)
    x = lib.tensor(r.standard_normal(shape).astype(np.float32))
    y = lib.tensor(r.integers(0, classes, shape[0]))
    return x, y


def xor_step(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1))
    x = lib.tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32))
    y = lib.tensor(np.array([[0], [1], [1], [0]], np.float32))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad()
        loss(model(x), y).backward()
        opt.step()
    return step


def mlp_step(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    x, y = _data(lib, (BATCH, 784))
    return _train_step(lib, model, x, y, nn.CrossEntropyLoss())


def simple_cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn_step(lib):
    x, y = _data(lib, (BATCH, 1, 28, 28))
    return _train_step(lib, simple_cnn(lib), x, y, lib.nn.CrossEntropyLoss())


def _conv(lib, n, c_in, c_out, hw):
    conv = lib.nn.Conv2d(c_in, c_out, 3, padding=1)
    x = lib.tensor(np.random.default_rng(0).standard_normal((n, c_in, hw, hw)).astype(np.float32),
                   requires_grad=True)

    def step():
        conv.zero_grad()
        x.grad = None
        conv(x).sum().backward()
    return step


def conv_1_32_28(lib):
    return _conv(lib, BATCH, 1, 32, 28)


def conv_32_64_14(lib):
    return _conv(lib, BATCH, 32, 64, 14)


def conv_64_128_7(lib):
    return _conv(lib, BATCH, 64, 128, 7)


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
                         nn.Linear(84, 10))


def _infer(lib, batch):
    model = lenet(lib)
    model.eval()
    x, _ = _data(lib, (batch, 1, 28, 28))

    def step():
        with lib.no_grad():
            model(x)
    return step


def lenet_infer_b1(lib):
    return _infer(lib, 1)


def lenet_infer_b256(lib):
    return _infer(lib, 256)


WORKLOADS = {"xor_step": (xor_step, 2000), "mlp_step": (mlp_step, 50),
             "cnn_step": (cnn_step, 5), "conv2d 1->32 28x28": (conv_1_32_28, 10),
             "conv2d 32->64 14x14": (conv_32_64_14, 10), "conv2d 64->128 7x7": (conv_64_128_7, 10),
             "lenet infer b1": (lenet_infer_b1, 500), "lenet infer b256": (lenet_infer_b256, 20),
             "char lstm step": (char_lstm_step, 5), "char gru step": (char_gru_step, 5),
             "dcgan step": (dcgan_step, 3)}
# name: (builder, calls per timed repeat)

# multiply-adds of one CNN train step (forward 1x, backward 2x), for its achieved GFLOP/s
CNN_STEP_FLOP = 3 * 2 * BATCH * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 128 + 128 * 10)
