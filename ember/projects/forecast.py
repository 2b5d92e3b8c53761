"""Forecasting a series with a GRU or LSTM, against the naive and seasonal-naive baselines
(`ember forecast`).

The series is split in time: training, then validation, then a held-out tail (the test). A
forecast at origin o sees the `window` values before o and predicts the next `horizon` values.
The network reads, per step, the value minus the window's last value (scaled by the training
standard deviation) and the calendar phase (sin, cos of t / period for each period), and predicts
the horizon's changes from that last value from its final hidden state. The baselines:

- naive: every future value equals the last one seen, y_hat[o + h] = y[o - 1];
- seasonal naive: the value one season earlier, y_hat[o + h] = y[o + h - P] (P the longest
  period with P >= horizon, so only seen values are used).

All are scored by the mean absolute error over every origin in the tail and every step ahead.
"""
import csv
import os
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..backend import manual_seed
from ..data import DataLoader, TensorDataset
from ..data.series import calendar_features, seasonal_series, sliding_windows
from ..train import fit, predict
from .options import require_at_least_one

MODELS = ("gru", "lstm")


class Forecaster(nn.Module):
    """x (N, window, features) -> (N, horizon): a Linear head on the last hidden state."""

    def __init__(self, features, hidden, horizon, cell="gru", layers=1):
        super().__init__()
        if cell not in MODELS:
            raise ValueError(f"Forecaster: cell must be one of {MODELS}, got {cell!r}")
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(features, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


@dataclass
class ForecastConfig:
    model: str = "gru"
    epochs: int = 20
    window: int = 48
    horizon: int = 24
    hidden: int = 32
    batch_size: int = 64
    lr: float = 5e-3
    periods: tuple = (24, 168)   # hours in a day and in a week
    length: int = 24 * 7 * 16    # synthetic series: 16 weeks of hourly values
    test: int = 24 * 7 * 2       # the held-out tail (and, before it, the validation part)
    seed: int = 0

    def check(self):
        if self.model not in MODELS:
            raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {self.model!r}")
        require_at_least_one(self, "epochs", "window", "horizon", "hidden", "batch_size", "test")
        if not self.lr > 0:
            raise ValueError(f"--lr must be > 0, got {self.lr}")


def read_csv_series(path, column=None):
    """One numeric column of a CSV file with a header (the last column when none is named)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no CSV file at {path}")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise ValueError(f"{path}: expected a header and values")
    header = rows[0]
    name = header[-1] if column is None else column
    if name not in header:
        raise ValueError(f"{path}: no column {name!r}; columns: {', '.join(header)}")
    j = header.index(name)
    try:
        return np.array([float(r[j]) for r in rows[1:] if r], dtype=np.float32)
    except ValueError as e:
        raise ValueError(f"{path}: column {name!r} is not numeric ({e})") from None


def baselines(series, origins, horizon, season):
    """(naive, seasonal naive) forecasts, each (len(origins), horizon)."""
    steps = np.arange(horizon)
    naive = np.repeat(series[origins - 1][:, None], horizon, axis=1)
    seasonal = series[origins[:, None] + steps[None, :] - season]
    return naive, seasonal


def mae(pred, target):
    return float(np.mean(np.abs(np.asarray(pred, np.float64) - target)))


class ForecastData:
    """The windows of each split as the network sees them, and what turns outputs into values."""

    def __init__(self, series, cfg):
        n = len(series)
        self.series = np.asarray(series, dtype=np.float32)
        self.test_start = n - cfg.test
        self.val_start = self.test_start - cfg.test
        if self.val_start - cfg.window - cfg.horizon < cfg.batch_size:
            raise ValueError(f"a series of {n} values is too short for a training part, a "
                             f"validation part and a tail of {cfg.test} each, with window "
                             f"{cfg.window} and horizon {cfg.horizon}")
        self.scale = float(self.series[:self.val_start].std()) or 1.0
        self.features = np.concatenate([self.series[:, None],
                                        calendar_features(n, cfg.periods)], axis=1)
        self.cfg = cfg
        bounds = {"train": (0, self.val_start), "val": (self.val_start - cfg.window,
                                                         self.test_start),
                  "test": (self.test_start - cfg.window, n)}
        self.splits = {k: self._windows(*b) for k, b in bounds.items()}

    def _windows(self, start, stop):
        cfg = self.cfg
        x, _ = sliding_windows(self.features, cfg.window, cfg.horizon, start, stop)
        _, y = sliding_windows(self.series, cfg.window, cfg.horizon, start, stop)
        last = x[:, -1:, 0].copy()                     # (N, 1): the last value seen
        x[:, :, 0] = (x[:, :, 0] - last) / self.scale
        origins = np.arange(start + cfg.window, stop - cfg.horizon + 1)
        return x, (y - last) / self.scale, last, origins

    def dataset(self, split):
        x, y, _, _ = self.splits[split]
        return TensorDataset(x.astype(np.float32), y.astype(np.float32))

    def values(self, split, outputs):
        """Network outputs (N, horizon) back in the series' units."""
        _, _, last, _ = self.splits[split]
        return last + np.asarray(outputs, np.float64) * self.scale


def train_forecaster(series, cfg, print_fn=print, verbose=True):
    """Train on the series' first part and return {name: test MAE} for the network and the two
    baselines, plus the fitted model and the history."""
    cfg.check()
    data = ForecastData(series, cfg)
    manual_seed(cfg.seed)
    model = Forecaster(data.features.shape[1], cfg.hidden, cfg.horizon, cfg.model)
    train_loader = DataLoader(data.dataset("train"), batch_size=cfg.batch_size, shuffle=True)
    val_loader = DataLoader(data.dataset("val"), batch_size=512)
    history = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=cfg.lr), train_loader,
                  val_loader, epochs=cfg.epochs, metrics=(), verbose=verbose, print_fn=print_fn)
    _, y_test, _, origins = data.splits["test"]
    out = predict(model, DataLoader(data.dataset("test"), batch_size=512)).data
    target = data.values("test", y_test)
    season = max((p for p in cfg.periods if p >= cfg.horizon), default=None)
    if season is None or origins[0] - season < 0:
        raise ValueError(f"no period in {cfg.periods} is >= the horizon {cfg.horizon} and fits "
                         "before the tail, so there is no seasonal-naive baseline")
    naive, seasonal = baselines(data.series, origins, cfg.horizon, season)
    scores = {cfg.model: mae(data.values("test", out), target), "naive": mae(naive, target),
              f"seasonal naive ({season})": mae(seasonal, target)}
    return scores, model, history


# ---- the command --------------------------------------------------------------------------------
def add_parser(sub):
    d = ForecastConfig()
    p = sub.add_parser("forecast", help="GRU/LSTM forecasting against naive baselines",
                       description="Forecast a noisy series with daily and weekly seasonality, "
                                   "a trend and AR(1) noise (or a column of --csv) with a GRU or "
                                   "LSTM, and compare its mean absolute error on the held-out "
                                   "tail with the naive (last value) and seasonal-naive "
                                   "forecasts.")
    p.add_argument("--model", choices=MODELS, default=d.model)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--window", type=int, default=d.window, help="values seen per forecast")
    p.add_argument("--horizon", type=int, default=d.horizon, help="values predicted")
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--batch-size", type=int, default=d.batch_size, dest="batch_size")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--periods", default=",".join(map(str, d.periods)),
                   help="seasonal periods in steps, comma-separated (default 24,168: hourly data)")
    p.add_argument("--length", type=int, default=d.length, help="synthetic series length")
    p.add_argument("--test", type=int, default=d.test,
                   help="values in the held-out tail (the validation part is as long)")
    p.add_argument("--csv", help="forecast a column of this CSV file instead (rows in time order)")
    p.add_argument("--column", help="the CSV column (default: the last)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.set_defaults(run=_run)
    return p


def _run(args, parser):
    try:
        periods = tuple(int(s) for s in args.periods.split(",") if s.strip())
    except ValueError:
        raise SystemExit(f"ember forecast: --periods must be comma-separated integers, got "
                         f"{args.periods!r}") from None
    cfg = ForecastConfig(args.model, args.epochs, args.window, args.horizon, args.hidden,
                         args.batch_size, args.lr, periods, args.length, args.test, args.seed)
    try:
        if not periods or min(periods) < 1:
            raise ValueError(f"--periods must be positive, got {args.periods!r}")
        if args.csv:
            series = read_csv_series(args.csv, args.column)
            what = f"{args.csv} ({len(series)} values)"
        else:
            series = seasonal_series(cfg.length, periods=periods[:2],
                                     amplitudes=(2.0, 1.0)[:len(periods[:2])], seed=cfg.seed)
            what = (f"synthetic series: {cfg.length} hourly values, periods "
                    f"{', '.join(map(str, periods[:2]))}, trend, AR(1) noise (seed {cfg.seed})")
        print(f"{what}; window {cfg.window}, horizon {cfg.horizon}, held-out tail {cfg.test}")
        scores, _, _ = train_forecaster(series, cfg, verbose=not args.quiet)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember forecast: {e}")
    best = min(scores, key=scores.get)
    print("mean absolute error on the held-out tail:")
    for name, v in scores.items():
        print(f"  {name:<22} {v:.4f}" + ("   <- best" if name == best else ""))
    return 0
