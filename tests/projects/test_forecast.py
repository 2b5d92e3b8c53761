"""`ember forecast`: the synthetic series, windows, baselines, scaling, the CSV reader, the command
line, and a GRU/LSTM that beats the baselines."""
import numpy as np
import pytest

from ember.cli import main
from ember.data.series import calendar_features, seasonal_series, sliding_windows
from ember.projects.forecast import (ForecastConfig, ForecastData, baselines, mae,
                                     read_csv_series, train_forecaster)


def test_seasonal_series_formula_seeding_and_errors():
    y = seasonal_series(500, periods=(24,), amplitudes=(2.0,), trend=0.01, level=3.0, noise=0.0)
    t = np.arange(500)
    phase = 2 * np.pi * t / 24
    expected = 3.0 + 0.01 * t + 2.0 * (np.sin(phase) + 0.5 * np.sin(2 * phase))
    assert y.dtype == np.float32 and y.shape == (500,)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    a, b, c = (seasonal_series(300, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    noise = seasonal_series(20000, periods=(), amplitudes=(), trend=0, level=0, noise=1.0,
                            ar=0.5, seed=0).astype(np.float64)
    assert np.corrcoef(noise[1:], noise[:-1])[0, 1] == pytest.approx(0.5, abs=0.03)  # AR(1)
    with pytest.raises(ValueError, match="2 periods but 1 amplitudes"):
        seasonal_series(10, periods=(24, 168), amplitudes=(1.0,))
    with pytest.raises(ValueError, match="ar"):
        seasonal_series(10, ar=1.0)


def test_calendar_features_are_periodic_phases():
    f = calendar_features(400, (24, 168))
    assert f.shape == (400, 4) and f.dtype == np.float32
    np.testing.assert_allclose(f[0], [0, 0, 1, 1], atol=1e-7)          # sin 0, cos 0
    np.testing.assert_allclose(f[6, 0], 1.0, atol=1e-6)                 # a quarter day
    np.testing.assert_allclose(f[24:48, [0, 2]], f[:24, [0, 2]], atol=1e-5)
    np.testing.assert_allclose(calendar_features(5, (24,), start=30),
                               calendar_features(35, (24,))[30:])


def test_sliding_windows_pair_history_with_what_follows():
    s = np.arange(20.0)
    X, Y = sliding_windows(s, window=4, horizon=3)
    assert X.shape == (14, 4) and Y.shape == (14, 3)
    np.testing.assert_array_equal(X[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(Y[0], [4, 5, 6])
    np.testing.assert_array_equal(Y[-1], [17, 18, 19])
    X, Y = sliding_windows(s, 4, 3, start=10, stop=18)                  # origins 14 and 15
    np.testing.assert_array_equal(X[:, 0], [10, 11])
    np.testing.assert_array_equal(Y[:, -1], [16, 17])
    feats = np.stack([s, -s], axis=1)
    X, _ = sliding_windows(feats, 4, 3)
    assert X.shape == (14, 4, 2)
    np.testing.assert_array_equal(X[2, :, 1], [-2, -3, -4, -5])
    with pytest.raises(ValueError, match="cannot hold a window of 15"):
        sliding_windows(s, 15, 6)
    with pytest.raises(ValueError, match="window and horizon"):
        sliding_windows(s, 0, 1)


def test_baselines_and_mae():
    s = np.sin(2 * np.pi * np.arange(100) / 10) + np.arange(100) * 0.0
    origins = np.array([50, 60, 73])
    naive, seasonal = baselines(s, origins, horizon=4, season=10)
    np.testing.assert_array_equal(naive, np.repeat(s[origins - 1][:, None], 4, axis=1))
    target = s[origins[:, None] + np.arange(4)]
    assert mae(seasonal, target) == pytest.approx(0, abs=1e-12)         # periodic: exact
    assert mae(naive, target) > 0.3
    assert mae([1, 2], np.array([2, 0])) == 1.5


def test_forecast_data_scales_and_restores_values():
    cfg = ForecastConfig(window=24, horizon=12, test=168, batch_size=16)
    series = seasonal_series(24 * 7 * 6, seed=0)
    data = ForecastData(series, cfg)
    x, y, last, origins = data.splits["test"]
    assert x.shape == (len(origins), 24, 5) and y.shape == (len(origins), 12)
    assert origins[0] == len(series) - 168 and origins[-1] == len(series) - 12
    np.testing.assert_allclose(x[:, -1, 0], 0)                          # relative to the last
    np.testing.assert_allclose(data.values("test", y), series[origins[:, None] + np.arange(12)],
                               rtol=1e-5, atol=1e-4)
    train_origins = data.splits["train"][3]
    assert train_origins[-1] + cfg.horizon <= data.val_start             # no peeking ahead
    with pytest.raises(ValueError, match="too short"):
        ForecastData(series[:380], cfg)


def test_read_csv_series(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("date,temp,wind\n2010-01-01,3.5,1\n2010-01-02,4.0,2\n")
    np.testing.assert_array_equal(read_csv_series(str(f)), [1, 2])
    np.testing.assert_array_equal(read_csv_series(str(f), "temp"), [3.5, 4.0])
    with pytest.raises(ValueError, match="no column 'rain'"):
        read_csv_series(str(f), "rain")
    with pytest.raises(ValueError, match="not numeric"):
        read_csv_series(str(f), "date")
    with pytest.raises(FileNotFoundError):
        read_csv_series(str(tmp_path / "none.csv"))


def test_gru_beats_both_baselines_on_a_short_series():
    cfg = ForecastConfig(model="gru", epochs=8, window=24, horizon=12, hidden=16, lr=1e-2,
                         test=168, length=24 * 7 * 8)
    scores, _, history = train_forecaster(seasonal_series(cfg.length, seed=0), cfg,
                                          verbose=False)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert scores["gru"] < 0.9 * scores["seasonal naive (168)"]
    assert scores["gru"] < 0.5 * scores["naive"]


@pytest.mark.slow
def test_command_defaults_lstm_beats_both_baselines(capsys):
    assert main(["forecast", "--model", "lstm", "--quiet"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("  ")]
    scores = {line[:25].strip(): float(line[25:].split()[0]) for line in rows}
    assert set(scores) == {"lstm", "naive", "seasonal naive (168)"}
    assert scores["lstm"] == min(scores.values()) and rows[0].endswith("<- best")


def test_cli_runs_and_rejects_bad_options(tmp_path, capsys):
    assert main(["forecast", "--epochs", "1", "--length", "900", "--test", "170", "--window",
                 "12", "--horizon", "6", "--hidden", "4", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "naive" in out and "seasonal naive (168)" in out and "gru" in out
    with pytest.raises(SystemExit, match="--periods must be comma-separated integers"):
        main(["forecast", "--periods", "24,a"])
    with pytest.raises(SystemExit, match="--epochs must be >= 1"):
        main(["forecast", "--epochs", "0"])
    with pytest.raises(SystemExit, match="no CSV file"):
        main(["forecast", "--csv", str(tmp_path / "none.csv")])
    with pytest.raises(SystemExit) as e:
        main(["forecast", "--model", "transformer"])
    assert e.value.code == 2
