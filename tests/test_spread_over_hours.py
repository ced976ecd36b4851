"""``spread_over_hours``: the minutes of intervals in each hour, as the hourly table
counts them (queue length, busy staff): the overlaps, summed exactly."""

import numpy as np
import pytest

from simulator.model.tables import HOUR, spread_over_hours


def brute_force(start, end, weight, n_bins):
    """Each interval's overlap with each hour, summed: the definition itself."""
    lo = np.arange(n_bins) * HOUR
    overlap = np.clip(
        np.minimum(end[:, None], lo + HOUR) - np.maximum(start[:, None], lo), 0.0, None
    )
    w = np.ones(len(start)) if weight is None else weight
    return (overlap * w[:, None]).sum(axis=0)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_minutes_in_each_hour_are_the_intervals_overlaps(weighted):
    rng = np.random.default_rng(7)
    n, n_bins = 4000, 48
    start = rng.uniform(-120.0, n_bins * HOUR, n)
    # Mostly short (within an hour or across one boundary), some over many hours,
    # some empty, and some on hour boundaries exactly.
    length = np.concatenate(
        [rng.exponential(20.0, n // 2), rng.exponential(300.0, n // 4), np.zeros(n // 4)]
    )
    rng.shuffle(length)
    start[:100] = np.round(start[:100] / HOUR) * HOUR
    end = start + length
    end[100:200] = np.round(end[100:200] / HOUR) * HOUR
    weight = rng.integers(1, 4, n).astype(float) if weighted else None
    got = spread_over_hours(start, end, weight, n_bins)
    # Each of the 8,000 parts is rounded to 2**-30 minute (error at most 2**-31), so
    # an hour errs by at most 8,000 * 2**-31 < 4e-6 minute (the brute force's own
    # float sums by about 1e-12): beyond 1e-5 is a wrong overlap, not rounding.
    np.testing.assert_allclose(got, brute_force(start, end, weight, n_bins), rtol=0, atol=1e-5)
    # The sums are exact, so the order of the intervals does not matter, to the bit
    # (the recorder logs some intervals as they end, takes others from the records).
    order = rng.permutation(n)
    again = spread_over_hours(
        start[order], end[order], None if weight is None else weight[order], n_bins
    )
    assert again.tobytes() == got.tobytes()


def test_parts_outside_the_bins_are_dropped():
    got = spread_over_hours(np.array([-30.0, 100.0]), np.array([30.0, 500.0]), None, 2)
    assert got.tolist() == [30.0, 20.0]


def test_groups_are_spread_each_on_its_own_row_of_hours():
    rng = np.random.default_rng(11)
    n, n_bins, n_groups = 3000, 30, 4
    start = rng.uniform(-60.0, n_bins * HOUR, n)
    end = start + rng.exponential(90.0, n)  # many run past the last hour: dropped
    group = rng.integers(0, n_groups, n)
    got = spread_over_hours(start, end, None, n_bins, group, n_groups)
    assert got.shape == (n_groups, n_bins)
    for g in range(n_groups):
        alone = spread_over_hours(start[group == g], end[group == g], None, n_bins)
        assert got[g].tobytes() == alone.tobytes()  # exact sums: nothing leaks across rows
