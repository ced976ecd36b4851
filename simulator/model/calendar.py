"""Model time: working days back to back, minutes within a day.

The model clock counts minutes from the start of the first working day;
working day ``d`` spans ``[d * 1440, (d + 1) * 1440)``. Days on which the
center is closed (weekends) are simply not simulated: nothing happens then,
and a deadline in working days is counted in these model days. Within a day
the center is open in one or more sessions (e.g. 07:30-11:30 and 13:30-17:00).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class OpeningHours:
    """The open spans of every working day, in minutes after midnight."""

    spans: tuple[tuple[int, int], ...]
    cutoff_minute: int = MINUTES_PER_DAY

    @property
    def open_minutes_per_day(self) -> int:
        return sum(b - a for a, b in self.spans)

    @property
    def always_open(self) -> bool:
        return self.spans == ((0, MINUTES_PER_DAY),)

    @property
    def receipt_cutoff(self) -> float:
        """Filed at or after this minute of the day: received the next working day
        (the same-day cut-off, and never later than closing)."""
        return min(self.cutoff_minute, self.closing_minute)

    @property
    def closing_minute(self) -> int:
        """When the last session of a day ends: results due 'today' are due then."""
        return self.spans[-1][1]

    def is_open(self, t: float) -> bool:
        minute = t % MINUTES_PER_DAY
        return any(a <= minute < b for a, b in self.spans)

    def transitions(self, days: int) -> list[tuple[float, bool]]:
        """Every (time, opens?) change of state over ``days`` working days."""
        out: list[tuple[float, bool]] = []
        for d in range(days):
            base = d * MINUTES_PER_DAY
            for a, b in self.spans:
                out.append((base + a, True))
                out.append((base + b, False))
        return out

    def next_open(self, t: float) -> float:
        """The first opening at or after ``t`` (``t`` itself when open)."""
        day = math.floor(t / MINUTES_PER_DAY)
        minute = t - day * MINUTES_PER_DAY
        for a, b in self.spans:
            if minute < b:
                return day * MINUTES_PER_DAY + max(a, minute)
        return (day + 1) * MINUTES_PER_DAY + self.spans[0][0]

    def during_opening(self, t: float) -> float:
        """The first open moment of ``t``'s working day at or after ``t``; a time after
        that day's closing moves back to just before closing (a citizen coming back
        "on day d" comes while the center is open on day d)."""
        day = math.floor(t / MINUTES_PER_DAY)
        base = day * MINUTES_PER_DAY
        first, last = self.spans[0][0], self.spans[-1][1]
        minute = min(max(t - base, first), last - 1e-6)
        return self.next_open(base + minute)

    def due_time(self, filed: float, working_days: int) -> float:
        """When a record filed at ``filed`` is due.

        The deadline counts from the day of receipt: the filing day, or the next
        working day for a filing after the cut-off (the 15:00 rule) or after
        closing. A result due in 0 working days is due at that day's closing.
        """
        day = math.floor(filed / MINUTES_PER_DAY)
        if filed - day * MINUTES_PER_DAY >= self.receipt_cutoff:
            day += 1
        return (day + working_days) * MINUTES_PER_DAY + self.closing_minute

    def due_times(self, filed: np.ndarray, working_days: np.ndarray) -> np.ndarray:
        """:meth:`due_time` for arrays of filing times and deadlines."""
        day = np.floor(filed / MINUTES_PER_DAY)
        day += (filed - day * MINUTES_PER_DAY) >= self.receipt_cutoff
        return (day + working_days) * MINUTES_PER_DAY + self.closing_minute

    def open_minutes_between(self, start_day: int, end_day: int) -> float:
        return (end_day - start_day) * self.open_minutes_per_day
