"""``spread_over_hours``: the minutes of intervals in each hour, as the hourly table
counts them (queue length, busy staff)."""

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


def one_interval_at_a_time(start, end, weight, n_bins):
    """The same, adding interval by interval in the order the model logged them: the
    floating-point sums the hourly table has always had (a faster way must not move
    a single bit, or every stored hourly table would change)."""
    out = np.zeros(n_bins)
    w = np.ones(len(start)) if weight is None else weight
    same, one, longer = [], [], []
    clipped = zip(np.maximum(start, 0.0), np.minimum(end, n_bins * HOUR), w, strict=True)
    for s, e, x in clipped:
        if e <= s:
            continue
        a, b = int(np.floor(s / HOUR)), int(np.floor(np.nextafter(e, -np.inf) / HOUR))
        (same if a == b else one if b == a + 1 else longer).append((s, e, a, b, x))
    for s, e, a, _, x in same:
        out[a] += (e - s) * x
    for s, _, a, _, x in one:
        out[a] += ((a + 1) * HOUR - s) * x
    for _, e, _, b, x in one:
        out[b] += (e - b * HOUR) * x
    for s, e, a, b, x in longer:
        out[a] += ((a + 1) * HOUR - s) * x
        out[a + 1 : b] += HOUR * x
        out[b] += (e - b * HOUR) * x
    return out


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
    # Sums of a few thousand minutes: any error beyond 1e-9 is a wrong overlap.
    np.testing.assert_allclose(got, brute_force(start, end, weight, n_bins), rtol=0, atol=1e-9)
    assert got.tobytes() == one_interval_at_a_time(start, end, weight, n_bins).tobytes()


def test_parts_outside_the_bins_are_dropped():
    got = spread_over_hours(np.array([-30.0, 100.0]), np.array([30.0, 500.0]), None, 2)
    assert got.tolist() == [30.0, 20.0]
