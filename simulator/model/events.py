"""The model's two light events, where it leans on SimPy's event internals.

Every event a replication schedules costs an object and a trip through the
event queue; these two make the commonest ones cheaper. Both set the fields a
triggered ``simpy.Event`` has (``_ok``, ``_value``, ``callbacks``) the way
``simpy.Timeout`` does, and schedule themselves with the public
``Environment.schedule``; setup.cfg pins SimPy's major version for that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING, URGENT


class Call(simpy.Event):
    """What an idle staff member waits for: a call to look at the queues again
    (``succeed()``), or a walk-in handed over on arrival, answered at the end
    of the service (:meth:`answer_after`), which spares an event per service
    that starts at an idle desk."""

    def __init__(self, env: simpy.Environment, staff_id: int):
        # simpy.Event.__init__ inlined, as simpy.Timeout does (one per idle spell).
        self.env = env
        self.callbacks: list = []
        self._value = PENDING
        self.staff_id = staff_id

    def answer_after(self, delay: float, value: Any) -> None:
        """Trigger with ``value`` in ``delay`` minutes (as a ``simpy.Timeout`` does)."""
        self._ok = True
        self._value = value
        self.env.schedule(self, NORMAL, delay)


class Tick(simpy.Event):
    """One event object for a chain of occurrences, each calling ``callback(tick)``:
    the callback schedules the next with :meth:`again`. It stands for a process
    that would loop ``yield env.timeout(delay); callback()``, and keeps that
    process's place in the event order (started, like a process, by an urgent
    event now), at a fraction of the cost: no generator to resume, no Timeout
    to build. A channel's filings are one chain (``Center.filings``)."""

    def __init__(self, env: simpy.Environment, callback: Callable[[Tick], None]):
        self.env = env
        self._ok = True
        self._value = None
        self.callback = callback
        self.callbacks: list | None = [callback]
        env.schedule(self, URGENT)

    def again(self, delay: float) -> None:
        """Occur once more, ``delay`` minutes from now (after this occurrence ended)."""
        self.callbacks = [self.callback]
        self.env.schedule(self, NORMAL, delay)
