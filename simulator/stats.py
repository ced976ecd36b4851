"""Streaming statistics whose memory does not grow with the horizon.

A replication of a commune-year sees tens of thousands of walk-ins; a
national run sees millions. Percentiles of the wait are kept in a
log-bucketed histogram (the idea of DDSketch / HDR histograms): every value
lands in a bucket whose edges are a factor ``gamma`` apart, so any quantile is
returned with a relative error below ``(gamma - 1) / 2`` (0.25 % by default)
while memory is a few thousand counters whatever the number of values.
"""

from __future__ import annotations

import math

import numpy as np


class StreamingQuantiles:
    """Mean, max and quantiles of a non-negative stream, in bounded memory.

    Values are buffered in a list (an append per record is the cheapest thing
    Python does; ``array('d').append`` parses its argument every time) and folded
    into the histogram in batches.
    """

    ZERO = 1e-9  # values at or below this count as exactly zero (no wait at all)

    def __init__(
        self, low: float = 1e-3, high: float = 1e7, gamma: float = 1.005, batch: int = 8192
    ):
        self.low, self.gamma = low, gamma
        self._log_gamma = math.log(gamma)
        self.n_buckets = int(math.ceil(math.log(high / low) / self._log_gamma)) + 1
        self.counts = np.zeros(self.n_buckets, dtype=np.int64)
        self.zeros = 0
        self.n = 0
        self.total = 0.0
        self.maximum = 0.0
        self.buffer: list[float] = []
        self._batch = batch

    def add(self, value: float) -> None:
        self.buffer.append(value)
        if len(self.buffer) >= self._batch:
            self.flush()

    def flush_if_full(self) -> None:
        """Fold the buffer into the histogram once it holds a batch of values."""
        if len(self.buffer) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        values = np.fromiter(self.buffer, dtype=float, count=len(self.buffer))
        self.buffer.clear()  # the same list: callers may hold its append
        self.n += values.size
        self.total += float(values.sum())
        self.maximum = max(self.maximum, float(values.max()))
        positive = values[values > self.ZERO]
        self.zeros += values.size - positive.size
        if positive.size:
            idx = np.ceil(np.log(np.maximum(positive, self.low) / self.low) / self._log_gamma)
            idx = np.minimum(idx.astype(np.int64), self.n_buckets - 1)
            self.counts += np.bincount(idx, minlength=self.n_buckets)

    @property
    def count(self) -> int:
        return self.n + len(self.buffer)

    def mean(self) -> float:
        self.flush()
        return self.total / self.n if self.n else math.nan

    def max(self) -> float:
        self.flush()
        return self.maximum if self.n else math.nan

    def share_positive(self) -> float:
        """Share of values above zero (e.g. the probability of waiting at all)."""
        self.flush()
        return (self.n - self.zeros) / self.n if self.n else math.nan

    def quantile(self, q: float) -> float:
        """The q-quantile (inverted CDF: smallest x with F(x) >= q)."""
        self.flush()
        if not self.n:
            return math.nan
        rank = max(1, math.ceil(q * self.n))
        if rank <= self.zeros:
            return 0.0
        cum = np.cumsum(self.counts)
        i = int(np.searchsorted(cum, rank - self.zeros))
        if i == 0:
            return self.low
        # Bucket i holds (low*g^(i-1), low*g^i]; its midpoint in relative terms.
        upper = self.low * self.gamma**i
        value = 2 * upper / (self.gamma + 1)
        return min(value, self.maximum)
