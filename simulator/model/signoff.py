"""Leadership sign-off: results that wait for a signature.

Many results of a commune center (land-use decisions, some certifications)
are valid only once signed by the commune leadership. The leaders do not sign
each dossier as it is ready: they sign the waiting ones in one round at set
times (say 10:30 and 16:30), and on days they are away (a meeting at the
province, a field visit) nobody signs. A record processed at 11:00 is
returned at 16:30; one processed at 16:45 the next working day at 10:30.
Signing takes no time of the center's staff, so it changes times to result
and on-time rates, never the work-load.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulator.model.calendar import MINUTES_PER_DAY

if TYPE_CHECKING:
    from simulator.model.record import Record


class SignOffRounds:
    """The signing rounds of one center: ``resolve(rec)`` is called for each record
    signed. ``present_by_day[d]``: the signer is at work on working day ``d``."""

    def __init__(
        self,
        env: simpy.Environment,
        times_minutes: list[int],
        present_by_day: list[bool],
        resolve: Callable[[Record], None],
    ):
        self.env = env
        self.times = sorted(times_minutes)
        self.present_by_day = present_by_day
        self.resolve = resolve
        self.waiting: list[Record] = []
        env.process(self.rounds())

    def wait_for_signature(self, rec: Record) -> None:
        self.waiting.append(rec)

    def rounds(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        for day, present in enumerate(self.present_by_day):
            if not present:
                continue
            base = day * MINUTES_PER_DAY
            for t in self.times:
                yield env.timeout(base + t - env.now)
                signed, self.waiting = self.waiting, []
                for rec in signed:
                    self.resolve(rec)
