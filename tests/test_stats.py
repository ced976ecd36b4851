"""Streaming quantiles and confidence intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from simulator.results import t_interval, verdict
from simulator.results.intervals import t_prediction_interval
from simulator.stats import StreamingQuantiles


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99])
def test_sketch_quantiles_within_relative_error(q):
    rng = np.random.default_rng(5)
    x = rng.lognormal(1.0, 1.2, 50_000)
    x[:10_000] = 0.0  # a point mass at zero, as walk-ins who did not wait
    sketch = StreamingQuantiles(batch=1000)
    for v in x:
        sketch.add(float(v))
    exact = np.quantile(x, q, method="inverted_cdf")
    assert sketch.quantile(q) == pytest.approx(exact, rel=0.0026)
    assert sketch.mean() == pytest.approx(x.mean(), rel=1e-12)
    assert sketch.max() == x.max()
    assert sketch.share_positive() == pytest.approx(0.8)


def test_sketch_zero_quantile_and_empty():
    s = StreamingQuantiles()
    assert math.isnan(s.quantile(0.5)) and math.isnan(s.mean())
    for _ in range(10):
        s.add(0.0)
    s.add(5.0)
    assert s.quantile(0.5) == 0.0
    assert s.quantile(1.0) == pytest.approx(5.0, rel=0.003)


def test_sketch_memory_is_bounded():
    s = StreamingQuantiles(batch=100)
    for v in np.linspace(0, 1000, 10_000):
        s.add(float(v))
    assert len(s.buffer) < 100
    before = s.counts.nbytes
    for v in np.linspace(0, 1000, 10_000):
        s.add(float(v))
    assert s.counts.nbytes == before


def test_t_interval_matches_scipy():
    x = np.array([3.1, 2.7, 3.5, 2.9, 3.3])
    mean, low, high = t_interval(x)
    ref = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert mean == pytest.approx(x.mean())
    assert (low, high) == pytest.approx(ref)


def test_t_interval_coverage_is_about_95_percent():
    rng = np.random.default_rng(1)
    hits = sum(
        low <= 10 <= high
        for low, high in (t_interval(rng.exponential(10, 20))[1:] for _ in range(2000))
    )
    # exponential samples of 20 undercover slightly; binomial sd is ~0.5 %
    assert 0.91 <= hits / 2000 <= 0.97


def test_t_interval_ignores_nan_and_needs_two_values():
    mean, low, high = t_interval([1.0, math.nan, 3.0])
    assert mean == 2.0 and low < 2.0 < high
    assert math.isnan(t_interval([1.0])[1])


def test_prediction_interval_is_wider():
    x = np.arange(10.0)
    _, low, high = t_interval(x)
    _, plow, phigh = t_prediction_interval(x)
    assert plow < low and phigh > high


@pytest.mark.parametrize(
    "op,threshold,low,high,expected",
    [
        ("<=", 15, 10, 14, "pass"),
        ("<=", 15, 16, 18, "fail"),
        ("<=", 15, 14, 16, "inconclusive"),
        (">=", 0.95, 0.96, 0.99, "pass"),
        (">=", 0.95, 0.90, 0.94, "fail"),
        (">=", 0.95, 0.94, 0.96, "inconclusive"),
        ("<=", 15, math.nan, math.nan, "inconclusive"),
    ],
)
def test_three_valued_verdict(op, threshold, low, high, expected):
    assert verdict(op, threshold, low, high) == expected


def test_t_quantile_table_is_stdtrit_to_the_last_bit():
    from scipy.special import stdtrit

    from simulator.results.intervals import _P975, _T975, t_quantile

    df = np.arange(1, _T975.size + 1)
    assert np.array_equal(_T975, stdtrit(df, _P975))  # every entry, exactly
    for d in (1, 29, _T975.size, np.int64(4), 9.0, df, df.reshape(4, -1), np.array(7)):
        q = t_quantile(_P975, d)
        assert type(q) is type(stdtrit(d, _P975)) and np.array_equal(q, stdtrit(d, _P975))
    # outside the table (another probability, a fraction, 0, beyond 100): scipy itself
    for p, d in ((0.95, 5), (_P975, 2.5), (_P975, 0), (_P975, 101), (_P975, np.array([0, 1]))):
        assert np.array_equal(t_quantile(p, d), stdtrit(d, p), equal_nan=True)
