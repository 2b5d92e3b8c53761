"""Time series: a seeded synthetic multi-seasonal series, calendar features, sliding windows.

    y = seasonal_series(24 * 7 * 16, seed=0)          # 16 weeks of hourly values
    X, Y = sliding_windows(y, window=48, horizon=24)  # X (N, 48), Y (N, 24): Y[i] follows X[i]
"""
import numpy as np

from .synthetic import _generator


def seasonal_series(n=24 * 7 * 16, periods=(24, 168), amplitudes=(2.0, 1.0), trend=0.002,
                    level=10.0, noise=0.3, ar=0.7, seed=None):
    """Hourly-style values: level + trend t + seasonal terms + AR(1) noise, float32 (n,).

    Each period P with amplitude A adds A (sin(2 pi t / P) + 0.5 sin(4 pi t / P)) (a peaked,
    non-sinusoidal shape); the noise is e_t = ar e_{t-1} + u_t, u_t ~ N(0, noise^2), so it is
    partly predictable from recent values. seed: int, Generator or None (ember's generator).
    """
    if len(periods) != len(amplitudes):
        raise ValueError(f"seasonal_series: {len(periods)} periods but {len(amplitudes)} "
                         "amplitudes")
    if n < 0 or noise < 0 or not -1 < ar < 1:
        raise ValueError(f"seasonal_series: need n >= 0, noise >= 0 and |ar| < 1, got n={n}, "
                         f"noise={noise}, ar={ar}")
    gen = _generator(seed)
    t = np.arange(n, dtype=np.float64)
    y = level + trend * t
    for period, amp in zip(periods, amplitudes):
        phase = 2 * np.pi * t / period
        y += amp * (np.sin(phase) + 0.5 * np.sin(2 * phase))
    u = gen.normal(0.0, noise, size=n)
    e = np.empty(n)
    prev = 0.0
    for i in range(n):        # the AR(1) recursion is sequential by nature
        prev = ar * prev + u[i]
        e[i] = prev
    return (y + e).astype(np.float32)


def calendar_features(n, periods=(24, 168), start=0):
    """sin and cos of each period's phase at t = start .. start + n - 1: (n, 2 len(periods))."""
    t = np.arange(start, start + n, dtype=np.float64)[:, None]
    phase = 2 * np.pi * t / np.asarray(periods, dtype=np.float64)[None, :]
    return np.concatenate([np.sin(phase), np.cos(phase)], axis=1).astype(np.float32)


def sliding_windows(series, window, horizon, start=0, stop=None):
    """(X, Y) for every forecast origin o with start <= o - window and o + horizon <= stop:
    X[i] = series[o - window:o] (the history), Y[i] = series[o:o + horizon] (what follows).
    The leading axes of `series` beyond the first are kept: X (N, window, ...)."""
    series = np.asarray(series)
    stop = len(series) if stop is None else stop
    if window < 1 or horizon < 1:
        raise ValueError(f"sliding_windows: window and horizon must be >= 1, got {window} and "
                         f"{horizon}")
    origins = np.arange(start + window, stop - horizon + 1)
    if len(origins) == 0:
        raise ValueError(f"sliding_windows: {stop - start} values cannot hold a window of "
                         f"{window} followed by a horizon of {horizon}")
    view = np.lib.stride_tricks.sliding_window_view(series, window + horizon, axis=0)
    # sliding_window_view puts the window axis last; bring it back to axis 1
    view = np.moveaxis(view[origins - window], -1, 1)
    return np.ascontiguousarray(view[:, :window]), np.ascontiguousarray(view[:, window:])
