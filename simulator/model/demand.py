"""Who arrives when: one working day of filings per channel, drawn at once.

Arrivals form a non-homogeneous Poisson process with a piecewise-constant
rate: each open hour-slice gets a rate proportional to the hourly profile.
Conditional on the number of arrivals in a slice (Poisson), their times are
independent and uniform in it, so a whole day is drawn with a handful of
vectorised calls. Each record's attributes (procedure, priority, reject flag,
intake and processing times) are drawn with it from their own streams, so
they depend only on the demand, never on staffing or queue states: two
staffings compared on the same seed see exactly the same citizens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.model.calendar import MINUTES_PER_DAY, OpeningHours
from simulator.scenario.models import Scenario
from simulator.streams import RandomStreams


@dataclass
class DayOfFilings:
    """The records filed through one channel on one working day (arrays, time order)."""

    times: np.ndarray  # minutes since the start of the run
    procedure: np.ndarray  # index into scenario.procedures
    priority: np.ndarray  # bool
    rejected: np.ndarray  # bool, decided at intake
    intake_minutes: np.ndarray
    processing_minutes: np.ndarray  # 0 where the procedure has no back-office step

    def __len__(self) -> int:
        return len(self.times)


def rate_pieces(
    hours: OpeningHours, weights: dict[int, float], around_the_clock: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start minute, length, share of the day's arrivals) of each constant-rate slice."""
    if around_the_clock:
        return np.array([0.0]), np.array([float(MINUTES_PER_DAY)]), np.array([1.0])
    starts, lengths, mass = [], [], []
    for a, b in hours.spans:
        t = a
        while t < b:
            end = min(b, (t // 60 + 1) * 60)
            w = weights.get(t // 60, 0.0)
            if w > 0:
                starts.append(float(t))
                lengths.append(float(end - t))
                mass.append(w * (end - t))
            t = end
    mass_arr = np.asarray(mass, dtype=float)
    return np.asarray(starts), np.asarray(lengths), mass_arr / mass_arr.sum()


class FilingGenerator:
    """Draws each day's filings for one channel of one scenario."""

    def __init__(
        self, scenario: Scenario, channel: str, hours: OpeningHours, streams: RandomStreams
    ):
        self.channel = channel
        share = scenario.demand.channels.as_dict()[channel]
        self.per_day = scenario.demand.records_per_day * share
        # Online filings come through the portal at any hour of a working day.
        around_the_clock = channel == "online" or hours.always_open
        weights = scenario.profile_weights()
        if hours.always_open and scenario.demand.hourly_profile is not None:
            around_the_clock = False  # a continuous calendar with an explicit profile
        self.starts, self.lengths, self.mass = rate_pieces(hours, weights, around_the_clock)
        self.expected = self.per_day * self.mass
        procs = scenario.procedures
        allowed = np.array(
            [p.share if p.channels is None or channel in p.channels else 0.0 for p in procs]
        )
        self.mix = allowed / allowed.sum() if allowed.sum() > 0 else allowed
        self.procedures = procs
        self.priority_share = scenario.demand.priority_share if channel == "walk_in" else 0.0
        self.reject_share = np.array([p.reject_share for p in procs])
        rng = streams
        self._arrivals = rng(f"arrivals.{channel}")
        self._mix = rng(f"mix.{channel}")
        self._priority = rng(f"priority.{channel}")
        self._reject = rng(f"reject.{channel}")
        self._intake = [rng(f"intake.{p.id}.{channel}") for p in procs]
        self._processing = [rng(f"processing.{p.id}.{channel}") for p in procs]

    def day(self, day: int) -> DayOfFilings:
        counts = self._arrivals.poisson(self.expected)
        n = int(counts.sum())
        offsets = np.repeat(self.starts, counts) + self._arrivals.random(n) * np.repeat(
            self.lengths, counts
        )
        order = np.argsort(offsets, kind="stable")
        times = day * MINUTES_PER_DAY + offsets[order]
        if len(self.procedures) == 1:
            proc = np.zeros(n, dtype=np.int64)
        else:
            proc = np.searchsorted(np.cumsum(self.mix), self._mix.random(n), side="right")
            proc = np.minimum(proc, len(self.procedures) - 1)
        priority = self._priority.random(n) < self.priority_share
        rejected = self._reject.random(n) < self.reject_share[proc]
        intake = np.zeros(n)
        processing = np.zeros(n)
        for j, p in enumerate(self.procedures):
            mask = proc == j
            k = int(mask.sum())
            if k == 0:
                continue
            intake[mask] = p.intake_minutes.sample(self._intake[j], k)
            if p.processing_minutes is not None:
                processing[mask] = p.processing_minutes.sample(self._processing[j], k)
        return DayOfFilings(times, proc, priority, rejected, intake, processing)
