"""Independent random streams, one per source of randomness.

A replication is a pure function of (scenario, seed, replication index). Each
source of randomness (walk-in arrivals, the procedure mix, one procedure's
intake times, ...) gets its own generator, spawned from
``numpy.random.SeedSequence(seed, spawn_key=(replication, hash(name)))``.
Keying streams by *name* rather than by creation order means that adding a
source, or changing staff, never shifts the numbers another source draws:
comparing two staffings uses common random numbers.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (same in every process and Python)."""
    return zlib.crc32(name.encode("utf-8"))


class RandomStreams:
    """Named generators for one replication; created on first use."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self._streams: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        rng = self._streams.get(name)
        if rng is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_key(name)))
            rng = self._streams[name] = np.random.Generator(np.random.PCG64(seq))
        return rng

    @property
    def names(self) -> list[str]:
        """Streams used so far, for documentation and tests."""
        return sorted(self._streams)


class PrefixedStreams:
    """The streams of one center inside a province: every name gets the center's id
    as a prefix, so two communes never share a stream."""

    def __init__(self, streams: RandomStreams, prefix: str):
        self._streams = streams
        self._prefix = prefix

    def __call__(self, name: str) -> np.random.Generator:
        return self._streams(f"{self._prefix}/{name}")
