"""The record: one filing of one procedure, the entity that flows through the center."""

from __future__ import annotations

import math

from simulator.model.calendar import MINUTES_PER_DAY
from simulator.scenario.channels import ChannelKind


class Record:
    """A dossier and what has happened to it so far.

    Times are model minutes. ``queued`` is when the citizen last joined a desk
    queue (waits count from there), ``waited_from`` from when that wait had not
    been logged yet for the hourly table when it ended; ``remaining`` is the
    back-office work still to do, in standard minutes (before slow-downs); ``steps`` are the linked
    procedures' external steps still ahead, as (delay working days, minutes).
    ``desk`` is the index of the desk group that served the citizen (-1: never
    at a desk). ``channel`` is the channel's declaration (how it travels); ``processed``
    says whether the back-office processing is done or already queued, which
    is where :meth:`Center.hand_on` sends the record next.
    """

    __slots__ = (
        "id",
        "channel",
        "proc",
        "priority",
        "arrival",
        "intake",
        "processing",
        "rejected",
        "measured",
        "desk_start",
        "desk_end",
        "desk",
        "remaining",
        "due",
        "queued",
        "waited_from",
        "patience",
        "visit",
        "comes_back_after_abandon",
        "incomplete",
        "comes_back",
        "rework_delay_days",
        "steps",
        "processed",
    )

    @property
    def day(self) -> int:
        """The working day (0-based, warm-up included) the record was filed."""
        return int(self.arrival // MINUTES_PER_DAY)

    def __init__(
        self,
        rid: int,
        channel: ChannelKind,
        proc: int,
        priority: bool,
        arrival: float,
        intake: float,
        processing: float,
        rejected: bool,
        measured: bool,
        due: float,
    ):
        self.id = rid
        self.channel = channel
        self.proc = proc
        self.priority = priority
        self.arrival = arrival
        self.intake = intake
        self.processing = processing
        self.rejected = rejected
        self.measured = measured
        self.desk_start = math.nan
        self.desk_end = math.nan
        self.desk = -1
        self.remaining = 0.0
        self.due = due
        self.queued = arrival
        self.waited_from = arrival
        self.patience = math.inf
        self.visit = 0
        self.comes_back_after_abandon = False
        self.incomplete = False
        self.comes_back = False
        self.rework_delay_days = 0.0
        self.steps: list[tuple[float, float]] | None = None
        self.processed = False
