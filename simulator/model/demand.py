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
from simulator.scenario.channels import CHANNEL_KINDS
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
    patience_minutes: np.ndarray | None = None  # walk-ins, when patience is modelled
    incomplete: np.ndarray | None = None  # bool: sent back for a supplement at intake
    comes_back: np.ndarray | None = None  # bool: the supplement does arrive
    rework_delay_days: np.ndarray | None = None
    linked_steps: list[list[tuple[float, float]] | None] | None = None  # (delay days, minutes)
    comes_back_after_abandon: np.ndarray | None = None  # bool, walk-ins with patience

    def __len__(self) -> int:
        return len(self.times)

    def optional_columns(self) -> list[tuple[str, list]]:
        """``(Record attribute, one value per record)`` for each optional feature drawn."""
        columns = [
            ("patience", self.patience_minutes),
            ("comes_back_after_abandon", self.comes_back_after_abandon),
            ("incomplete", self.incomplete),
            ("comes_back", self.comes_back),
            ("rework_delay_days", self.rework_delay_days),
        ]
        out = [(name, values.tolist()) for name, values in columns if values is not None]
        if self.linked_steps is not None:
            out.append(("steps", [list(s) if s else None for s in self.linked_steps]))
        return out


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


def effective_channel_shares(scenario: Scenario) -> dict[str, float]:
    """Channel shares after the online fallback (see :meth:`Scenario.channel_shares`)."""
    return scenario.channel_shares()


class FilingGenerator:
    """Draws each day's filings for one channel of one scenario."""

    def __init__(
        self, scenario: Scenario, channel: str, hours: OpeningHours, streams: RandomStreams
    ):
        self.channel = channel
        kind = self.kind = CHANNEL_KINDS[channel]
        share = effective_channel_shares(scenario)[channel]
        self.per_day = scenario.demand.records_per_day * share
        # Portal filings come at any hour of a working day.
        around_the_clock = kind.around_the_clock or hours.always_open
        weights = scenario.profile_weights()
        if hours.always_open and scenario.demand.hourly_profile is not None:
            around_the_clock = False  # a continuous calendar with an explicit profile
        self.starts, self.lengths, self.mass = rate_pieces(hours, weights, around_the_clock)
        self.expected = self.per_day * self.mass
        procs = scenario.procedures
        allowed = np.array(scenario.procedure_weights(channel))
        self.mix = allowed / allowed.sum() if allowed.sum() > 0 else allowed
        self.procedures = procs
        self.priority_share = scenario.demand.priority_share if kind.in_person else 0.0
        self.reject_share = np.array([p.reject_share for p in procs])
        # Streams are keyed by name, so only those of sources in use are created.
        rng = streams
        self._arrivals = rng(f"arrivals.{channel}")
        self._mix = rng(f"mix.{channel}")
        self._priority = rng(f"priority.{channel}")
        self._reject = rng(f"reject.{channel}")
        self._intake = [rng(f"intake.{p.id}.{channel}") for p in procs]
        self._processing = [
            rng(f"processing.{p.id}.{channel}") if p.processing_minutes is not None else None
            for p in procs
        ]
        postal_intake = scenario.staff.postal_intake_minutes
        self.postal_intake = postal_intake if kind.taken_in_by == "postal_agents" else None
        if self.postal_intake is not None:
            self._postal_intake = rng("intake.postal-agents")
        patience = scenario.demand.patience_minutes
        self.patience = patience if kind.in_person else None
        if self.patience is not None:
            self._patience = rng(f"patience.{channel}")
        self.abandon_return = scenario.demand.return_after_abandon_share
        self.has_rework = any(p.rework is not None for p in procs)
        if self.has_rework:
            self._rework = [rng(f"rework.{p.id}.{channel}") for p in procs]
        self.has_linked = any(p.linked_steps for p in procs)
        if self.has_linked:
            self._linked = [rng(f"linked.{p.id}.{channel}") for p in procs]
        self._tiled: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def day(self, day: int) -> DayOfFilings:
        """The filings of one working day."""
        return self.days(day, 1)

    def days(self, first: int, n_days: int) -> DayOfFilings:
        """The filings of working days ``first .. first + n_days - 1``, in time order.

        Drawing a block of days at once keeps numpy's per-call overhead off the
        per-record cost; the block size is fixed by the caller, never by the
        staffing or the backend, so the numbers stay reproducible.
        """
        tiled = self._tiled.get(n_days)
        if tiled is None:  # the day's rate pieces repeated over a block of n_days days
            pieces = len(self.expected)
            tiled = self._tiled[n_days] = (
                np.tile(self.expected, n_days),
                np.repeat(np.arange(n_days), pieces) * MINUTES_PER_DAY
                + np.tile(self.starts, n_days),
                np.tile(self.lengths, n_days),
            )
        expected, offsets, lengths = tiled
        counts = self._arrivals.poisson(expected)
        n = int(counts.sum())
        starts = offsets + first * MINUTES_PER_DAY
        times = np.repeat(starts, counts) + self._arrivals.random(n) * np.repeat(lengths, counts)
        times = np.sort(times, kind="stable")
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
            k = np.count_nonzero(mask)
            if k == 0:
                continue
            intake[mask] = p.intake_minutes.sample(self._intake[j], k)
            if p.processing_minutes is not None:
                processing[mask] = p.processing_minutes.sample(self._processing[j], k)
        batch = DayOfFilings(times, proc, priority, rejected, intake, processing)
        if self.postal_intake is not None:
            batch.intake_minutes = self.postal_intake.sample(self._postal_intake, n)
        if self.patience is not None:
            batch.patience_minutes = self.patience.sample(self._patience, n)
            batch.comes_back_after_abandon = self._patience.random(n) < self.abandon_return
        if self.has_rework:
            self._draw_rework(batch)
        if self.has_linked:
            self._draw_linked(batch)
        return batch

    def _draw_rework(self, batch: DayOfFilings) -> None:
        n = len(batch)
        batch.incomplete = np.zeros(n, dtype=bool)
        batch.comes_back = np.zeros(n, dtype=bool)
        batch.rework_delay_days = np.zeros(n)
        for j, p in enumerate(self.procedures):
            mask = batch.procedure == j
            k = int(mask.sum())
            if p.rework is None or k == 0:
                continue
            rng = self._rework[j]
            batch.incomplete[mask] = rng.random(k) < p.rework.share
            batch.comes_back[mask] = rng.random(k) < p.rework.return_share
            batch.rework_delay_days[mask] = p.rework.delay_working_days.sample(rng, k)

    def _draw_linked(self, batch: DayOfFilings) -> None:
        steps: list[list[tuple[float, float]] | None] = [None] * len(batch)
        for j, p in enumerate(self.procedures):
            idx = np.flatnonzero(batch.procedure == j)
            if not p.linked_steps or idx.size == 0:
                continue
            rng = self._linked[j]
            columns = []
            for step in p.linked_steps:
                delay = step.delay_working_days.sample(rng, idx.size)
                work = (
                    step.processing_minutes.sample(rng, idx.size)
                    if step.processing_minutes is not None
                    else np.zeros(idx.size)
                )
                columns.append(list(zip(delay.tolist(), work.tolist(), strict=True)))
            for row, i in enumerate(idx.tolist()):
                steps[i] = [col[row] for col in columns]
        batch.linked_steps = steps
