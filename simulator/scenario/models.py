"""The scenario format as typed, validated objects.

One pydantic model per YAML mapping: the same classes validate a file, produce
the error messages (with the key path of every mistake) and publish the JSON
Schema used for editor completion (``pasc schema``). Unknown keys are errors,
because a misspelt key that silently falls back to a default is the worst kind
of planning mistake.

Times are in minutes, calendar positions in working days. A "working day" is a
day on which the center opens; the model runs working days back to back, so a
deadline of ``k`` working days is simply ``k`` model days later.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simulator.distributions import Distribution, Fixed
from simulator.scenario.channels import CHANNEL_KINDS

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Share = Annotated[float, Field(ge=0, le=1)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
COMMUNE_CLASSES = ("urban", "rural", "disadvantaged")
CommuneClass = Literal["urban", "rural", "disadvantaged"]

#: Records per staff member per year [QN-targets].
DEFAULT_QUOTAS: dict[str, int] = {"urban": 1600, "rural": 1200, "disadvantaged": 800}

#: Relative walk-in intensity by clock hour in a commune office: a morning
#: peak after opening, a smaller one after lunch. An assumption, not a
#: reported figure; scenarios override it with ``{hour: weight}``.
OFFICE_DEFAULT_PROFILE: dict[int, float] = {
    7: 0.8,
    8: 1.2,
    9: 1.3,
    10: 1.1,
    11: 0.7,
    13: 0.8,
    14: 1.1,
    15: 1.0,
    16: 0.6,
}

#: Validation context key: set when the caller has already reported duplicate
#: names with their key paths (the scenario loader does), so the models skip it.
DUPLICATES_CHECKED = "duplicates_checked"

_SESSION = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
SHARE_TOLERANCE = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Horizon(_Model):
    """How long one replication runs, in working days."""

    days: Annotated[int, Field(ge=1, description="Measured working days per replication.")]
    warmup_days: Annotated[
        int, Field(ge=0, description="Working days simulated first and not measured.")
    ] = 0


def parse_session(text: str) -> tuple[int, int]:
    """``"07:30-11:30"`` -> ``(450, 690)`` minutes after midnight."""
    m = _SESSION.match(text.strip())
    if not m:
        raise ValueError(f"expected a session like '07:30-11:30', found {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 >= 60 or m2 >= 60 or not 0 <= start < end <= 1440:
        raise ValueError(f"expected start < end within 00:00-24:00, found {text!r}")
    return start, end


class Calendar(_Model):
    """When the center is open.

    ``office``: the listed weekdays are working days, open in the given
    sessions (lunch closure between them). Walk-ins arrive only while open;
    citizens already queued at closing are still served.
    ``continuous``: open 24 hours every day, for checks against queueing theory.
    """

    type: Literal["office", "continuous"] = "office"
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    sessions: list[str] = Field(default_factory=lambda: ["07:30-11:30", "13:30-17:00"])
    same_day_cutoff: str | None = Field(
        default=None,
        description=(
            "HH:MM; records received later count as received the next working day "
            "(the 15:00 rule). Default: the closing time."
        ),
    )
    working_days_per_year: Annotated[int, Field(ge=1, le=366)] | None = Field(
        default=None,
        description=(
            "Scales records_per_staff_year; default 50 weeks x weekdays (250 for five) "
            "or 365 (continuous)."
        ),
    )

    @field_validator("weekdays")
    @classmethod
    def _some_weekday(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("expected at least one working weekday, found an empty list")
        if len(set(v)) != len(v):
            raise ValueError(f"expected each weekday once, found {v}")
        return v

    @field_validator("sessions")
    @classmethod
    def _valid_sessions(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("expected at least one opening session, found an empty list")
        spans = sorted(parse_session(s) for s in v)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ValueError(f"expected sessions that do not overlap, found {v}")
        return v

    @field_validator("same_day_cutoff")
    @classmethod
    def _valid_cutoff(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_session(f"00:00-{v}")
            except ValueError:
                raise ValueError(f"expected a time like '15:00', found {v!r}") from None
        return v

    @model_validator(mode="after")
    def _continuous_is_24h(self) -> Calendar:
        if self.type == "continuous" and "sessions" in self.model_fields_set:
            raise ValueError(
                f"expected no sessions with type: continuous (open 24 h), found {self.sessions}"
            )
        return self

    def open_spans_minutes(self) -> list[tuple[int, int]]:
        """Open periods of one working day, as minutes after midnight."""
        if self.type == "continuous":
            return [(0, 1440)]
        return sorted(parse_session(s) for s in self.sessions)

    @property
    def open_minutes_per_day(self) -> int:
        return sum(b - a for a, b in self.open_spans_minutes())

    @property
    def cutoff_minute(self) -> int:
        """Minute of the day after which a filing counts as received the next working day."""
        if self.same_day_cutoff is None:
            return self.open_spans_minutes()[-1][1]
        return parse_session(f"00:00-{self.same_day_cutoff}")[1]

    @property
    def days_per_year(self) -> int:
        if self.working_days_per_year is not None:
            return self.working_days_per_year
        # 50 working weeks (public holidays off): 250 days for a 5-day week.
        return 365 if self.type == "continuous" else 50 * len(self.weekdays)


class Commune(_Model):
    """Which kind of commune this is; the class sets the productivity quota."""

    class_: CommuneClass = Field(default="urban", alias="class")
    quota_records_per_staff_year: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Overrides the class quota (1,600 / 1,200 / 800) [QN-targets]."
    )

    @property
    def quota(self) -> float:
        if self.quota_records_per_staff_year is not None:
            return self.quota_records_per_staff_year
        return DEFAULT_QUOTAS[self.class_]


class Channels(_Model):
    """Share of records arriving by each channel; the shares sum to 1.

    ``walk_in``, ``online`` and ``postal`` are built in; a channel declared with
    :func:`simulator.scenario.channels.declare_channel` takes a share here too.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    walk_in: Share = 1.0
    online: Share = 0.0
    postal: Share = 0.0

    @model_validator(mode="after")
    def _declared_and_sum_to_one(self) -> Channels:
        for name, value in (self.model_extra or {}).items():
            if name not in CHANNEL_KINDS:
                raise ValueError(
                    f"expected a declared channel ({', '.join(CHANNEL_KINDS)}), found {name!r}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"expected {name}: a share between 0 and 1, found {value!r}")
        total = sum(self.as_dict().values())
        if abs(total - 1) > SHARE_TOLERANCE:
            raise ValueError(f"expected channel shares summing to 1, found {total:g}")
        return self

    def as_dict(self) -> dict[str, float]:
        """Every declared channel's share (0 for those the scenario does not name)."""
        extra, fields = self.model_extra or {}, type(self).model_fields
        for name in extra:  # validated where declared; unpickled in a process where not
            if name not in CHANNEL_KINDS:
                raise RuntimeError(
                    f"demand.channels.{name}: channel {name!r} has a share but is not "
                    "declared in this process: declare it in a module that every process "
                    "running replications imports (docs/architecture.md)"
                )
        return {
            c: float(getattr(self, c) if c in fields else extra.get(c, 0.0)) for c in CHANNEL_KINDS
        }


class Demand(_Model):
    """How many records arrive, when, and by which channel.

    Walk-in and postal records arrive while the center is open, following the
    hourly profile (a non-homogeneous Poisson process); online records arrive
    around the clock on working days. In a ``continuous`` calendar the profile
    is flat unless given.
    """

    records_per_day: Annotated[
        float, Field(gt=0, description="Mean records per working day over all channels.")
    ]
    hourly_profile: (
        Literal["office-default", "flat"]
        | dict[Annotated[int, Field(ge=0, le=23)], Annotated[float, Field(ge=0)]]
        | None
    ) = Field(
        default=None,
        description="office-default, flat, or {hour: weight}; default by calendar type.",
    )
    channels: Channels = Field(default_factory=Channels)
    priority_share: Share = 0.0
    online_fallback_share: Share = Field(
        default=0.0,
        description=(
            "Share of would-be online filers without a VNeID level-2 account (or online "
            "payment) who walk in instead [TAN-THANH]."
        ),
    )
    patience_minutes: Distribution | None = Field(
        default=None,
        description="Walk-ins leave when their wait exceeds their patience (default: never).",
    )
    return_after_abandon_share: Share = Field(
        default=0.0,
        description="Share of walk-ins who left the queue and come back the next working day.",
    )
    postal_delivery_working_days: Annotated[float, Field(ge=0)] = Field(
        default=0.0, description="Days the post takes to deliver a postal record's result."
    )

    @field_validator("hourly_profile", mode="before")
    @classmethod
    def _known_profile(cls, v: object) -> object:
        # One clear message instead of one per union branch.
        if isinstance(v, str) and v not in ("office-default", "flat"):
            raise ValueError(f"expected office-default, flat or {{hour: weight}}, found {v!r}")
        return v


class Rework(_Model):
    """Incomplete dossiers: found at intake, sent back, some come back later.

    The intake time is spent; the citizen returns with the supplement after
    ``delay_working_days`` (through the same channel) with probability
    ``return_share``, else never (counted as abandoned). The statutory deadline
    counts again from the complete dossier.
    """

    share: Annotated[float, Field(ge=0, lt=1)]
    return_share: Share = 1.0
    delay_working_days: Distribution = Field(
        default_factory=lambda: Fixed(dist="fixed", value=1.0),
        description="Working days until the supplement arrives.",
    )


class LinkedStep(_Model):
    """A step at another agency (tax, land registration office, ...): the record
    waits ``delay_working_days`` outside the center, then needs
    ``processing_minutes`` of back-office time (if given) before the next step."""

    agency: str
    delay_working_days: Distribution
    processing_minutes: Distribution | None = None


class Procedure(_Model):
    """One type of record: who handles it, for how long, and by when."""

    id: Slug
    name: str | None = None
    field: Slug
    share: Annotated[float, Field(gt=0, le=1)]
    intake_minutes: Distribution = Field(
        description="Staff time with the citizen at the desk (what handle_minutes measures)."
    )
    processing_minutes: Distribution | None = Field(
        default=None, description="Staff time in the back office after intake, if any."
    )
    deadline_working_days: Annotated[int, Field(ge=0)] = 0
    reject_share: Annotated[float, Field(ge=0, lt=1)] = 0.0
    channels: Annotated[list[str], Field(min_length=1)] | None = Field(
        default=None, description="Channels this procedure may be filed by (default: all)."
    )
    rework: Rework | None = Field(
        default=None, description="Incomplete dossiers sent back for a supplement."
    )
    linked_steps: list[LinkedStep] = Field(
        default_factory=list,
        description="Steps at other agencies after processing (interconnected procedures).",
    )

    @field_validator("channels")
    @classmethod
    def _declared_channels(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            if name not in CHANNEL_KINDS:
                raise ValueError(
                    f"expected declared channels ({', '.join(CHANNEL_KINDS)}), found {name!r}"
                )
        return value


class LearningCurve(_Model):
    """Newly assigned staff are slower: desk and processing times are multiplied by
    a factor falling linearly from ``initial_factor`` on the first working day to
    1 after ``working_days`` [TAN-THANH] [LAM-DONG]."""

    initial_factor: Annotated[float, Field(ge=1)]
    working_days: Annotated[int, Field(ge=1)]

    def factor(self, day: int) -> float:
        return 1 + (self.initial_factor - 1) * max(0.0, 1 - day / self.working_days)


class Shift(_Model):
    """``count`` staff on duty from ``start`` to ``end`` (HH:MM), on ``days`` (default:
    every working day)."""

    start: str
    end: str
    count: Annotated[int, Field(ge=1)]
    days: list[Weekday] | None = None

    @model_validator(mode="after")
    def _valid_times(self) -> Shift:
        parse_session(f"{self.start}-{self.end}")
        return self

    def minutes(self) -> tuple[int, int]:
        return parse_session(f"{self.start}-{self.end}")


class DaySchedule(_Model):
    """Staff on duty through one working day: one count per opening session
    (``by_session``), per clock hour (``by_hour``: hours not listed have nobody),
    or a list of shifts."""

    by_session: list[Annotated[int, Field(ge=0)]] | None = None
    by_hour: dict[Annotated[int, Field(ge=0, le=23)], Annotated[int, Field(ge=0)]] | None = None
    shifts: list[Shift] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DaySchedule:
        given = [k for k in ("by_session", "by_hour", "shifts") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of by_session, by_hour or shifts, found "
                + (", ".join(given) if given else "none")
            )
        return self

    def changes(self, spans: list[tuple[int, int]], weekday: str) -> list[tuple[int, int]]:
        """``(minute of the day, staff on duty from then)``, in time order, starting at 0."""
        on = [0] * 1440
        if self.by_session is not None:
            for (a, b), n in zip(spans, self.by_session, strict=False):
                on[a:b] = [n] * (b - a)
        elif self.by_hour is not None:
            for h, n in self.by_hour.items():
                on[h * 60 : h * 60 + 60] = [n] * 60
        else:
            for shift in self.shifts or []:
                if shift.days is None or weekday in shift.days:
                    a, b = shift.minutes()
                    for m in range(a, b):
                        on[m] += shift.count
        # While closed, the staff on duty stay as they were at the last open minute
        # (citizens queued at closing are still served), and before the first
        # opening as they will be then: the schedule only counts while open.
        is_open = [False] * 1440
        for a, b in spans:
            is_open[a:b] = [True] * (b - a)
        first_open = spans[0][0]
        for m in range(1440):
            if m < first_open:
                on[m] = on[first_open]
            elif not is_open[m]:
                on[m] = on[m - 1]
        out = [(0, on[0])]
        for m in range(1, 1440):
            if on[m] != on[m - 1]:
                out.append((m, on[m]))
        return out


class Schedule(DaySchedule):
    """Staff on duty through the day, with other schedules for some weekdays
    (``weekdays: {sat: {by_session: [2]}}``: a Saturday morning with two)."""

    weekdays: dict[Weekday, DaySchedule] | None = None

    def for_weekday(self, weekday: str) -> DaySchedule:
        return (self.weekdays or {}).get(weekday, self)

    def most_on_duty(self, spans: list[tuple[int, int]], weekdays: list[str]) -> int:
        return max(n for w in weekdays for _, n in self.for_weekday(w).changes(spans, w))


def _schedule_in_count(data: object, count_key: str, schedule_key: str) -> object:
    """``count: {by_hour: ...}`` is shorthand for a schedule: the count becomes the
    staff needed at the busiest moment (filled in by the calendar check)."""
    if isinstance(data, dict) and isinstance(data.get(count_key), dict):
        data = dict(data)
        if schedule_key in data:
            raise ValueError(f"expected a schedule in {count_key} or in {schedule_key}, not both")
        data[schedule_key] = data.pop(count_key)
        data[count_key] = None  # set from the schedule once the calendar is known
    return data


class Desk(_Model):
    """A group of counters with identical skills: ``count`` staff covering ``fields``.

    ``count`` may be a schedule (staff on duty by session, by hour or as shifts,
    per weekday): it is then kept as ``schedule`` and ``count`` becomes the most
    staff on duty at once, the group's headcount.
    """

    name: Slug
    count: Annotated[int, Field(ge=1)] | None = None
    fields: Annotated[list[Slug], Field(min_length=1)]
    availability: Annotated[float, Field(gt=0, le=1)] | None = Field(
        default=None,
        description="Share of this group's open time for records (default: staff.availability).",
    )
    schedule: Schedule | None = Field(
        default=None, description="Staff on duty through the day (default: count, whenever open)."
    )

    @model_validator(mode="before")
    @classmethod
    def _count_as_schedule(cls, data: object) -> object:
        return _schedule_in_count(data, "count", "schedule")

    @model_validator(mode="after")
    def _count_or_schedule(self) -> Desk:
        if self.count is None and self.schedule is None:
            raise ValueError("expected count (staff of the group) or a schedule, found neither")
        return self


class Staff(_Model):
    """Who works at the center.

    Desk staff serve walk-ins first and work on back-office records when no
    walk-in is waiting, unless ``back_office`` gives dedicated staff for that.
    Desk staff doing back-office work look up every ``back_office_slice_minutes``
    (0: at once) and put it down for a waiting walk-in when nobody else is
    free; at closing the work is put down until the next session. Postal agents (VNPost,
    Viettel Post) take in postal records.
    """

    desks: Annotated[list[Desk], Field(min_length=1)]
    back_office: Annotated[int, Field(ge=0)] | None = 0
    back_office_schedule: Schedule | None = Field(
        default=None,
        description="Back-office staff on duty through the day (back_office may be given so).",
    )
    postal_agents: Annotated[int, Field(ge=0)] = 0
    postal_intake_minutes: Distribution | None = Field(
        default=None,
        description="A postal agent's time per postal record (default: the procedure's intake).",
    )
    absence_share: Share = Field(
        default=0.0, description="Chance that a staff member is absent on a given working day."
    )
    learning_curve: LearningCurve | None = None
    back_office_slice_minutes: Annotated[float, Field(ge=0)] = Field(
        default=15.0,
        description=(
            "Desk staff doing back-office work look up at the walk-in queue this often "
            "(0: a walk-in interrupts them at once)."
        ),
    )
    availability: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0,
        description=(
            "Share of each staff member's open time that goes to records; the rest goes "
            "to other duties (meetings, field checks, reporting)."
        ),
    )
    other_duties_block_minutes: Annotated[float, Field(gt=0)] = Field(
        default=30.0,
        description="Length of one block of other duties (when availability is below 1).",
    )

    @model_validator(mode="before")
    @classmethod
    def _back_office_as_schedule(cls, data: object) -> object:
        return _schedule_in_count(data, "back_office", "back_office_schedule")

    @field_validator("desks")
    @classmethod
    def _unique_names(cls, desks: list[Desk], info: ValidationInfo) -> list[Desk]:
        # The scenario loader reports duplicates itself (reading the mapping as
        # written, so also when a desk has other mistakes); it says so in the context.
        if (info.context or {}).get(DUPLICATES_CHECKED):
            return desks
        first: dict[str, int] = {}
        for i, d in enumerate(desks):
            if d.name in first:
                raise ValueError(
                    f"expected unique desk names, found {d.name!r} at desks.{i}.name, "
                    f"also at desks.{first[d.name]}.name"
                )
            first[d.name] = i
        return desks

    @property
    def total(self) -> int:
        """Center staff counted for productivity: desk plus dedicated back-office staff."""
        return sum(d.count for d in self.desks) + self.back_office

    def headcount(self, pool: str) -> int:
        """Staff of one pool: a desk group's name, ``back-office`` or ``postal-agents``."""
        if pool == "back-office":
            return self.back_office or 0
        if pool == "postal-agents":
            return self.postal_agents
        return next(d.count or 0 for d in self.desks if d.name == pool)

    def schedule_of(self, pool: str) -> Schedule | None:
        """The on-duty schedule of one pool (None: all its staff whenever open)."""
        if pool == "back-office":
            return self.back_office_schedule
        for d in self.desks:
            if d.name == pool:
                return d.schedule
        return None

    def availability_of(self, pool: str) -> float:
        """Share of open time for records of one pool (a desk group's name or
        ``back-office``); the postal agents, the operators' staff, always 1."""
        if pool == "postal-agents":
            return 1.0
        for d in self.desks:
            if d.name == pool and d.availability is not None:
                return d.availability
        return self.availability


#: KPIs that can be measured hour by hour (``per: hour`` targets): a walk-in's wait
#: counts in the clock hour it joined the queue.
HOURLY_KPIS = (
    "wait_minutes.mean",
    "wait_minutes.p50",
    "wait_minutes.p90",
    "wait_minutes.p95",
    "wait_minutes.max",
    "wait_probability",
)


def hourly_kpi(kpi: str, hour: int) -> str:
    """The name of one hour's KPI: ``wait_minutes.p90@08`` (citizens queued 08:00-08:59)."""
    return f"{kpi}@{hour:02d}"


class Target(_Model):
    """A service target on one KPI: ``{kpi: wait_minutes.p90, max: 15}``; with
    ``per: hour`` it must hold in every open hour, not only over the whole day."""

    kpi: str
    max: float | None = None
    min: float | None = None
    per: Literal["run", "hour"] = "run"

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        if (self.max is None) == (self.min is None):
            raise ValueError(
                f"expected exactly one of 'max' or 'min', found "
                f"{'both' if self.max is not None else 'neither'}"
            )
        return self

    @property
    def op(self) -> str:
        return "<=" if self.max is not None else ">="

    @property
    def threshold(self) -> float:
        return self.max if self.max is not None else self.min  # type: ignore[return-value]


class BacklogItem(_Model):
    """Records handed over from the abolished district level, waiting on day one [HCMC-9]."""

    procedure: str
    count: Annotated[int, Field(ge=1)]
    used_working_days: Distribution = Field(
        default_factory=lambda: Fixed(dist="fixed", value=0.0),
        description="Working days of the deadline already used before the handover.",
    )


class OutageWindow(_Model):
    """A scheduled outage: working day ``day`` (0 = first), from ``start`` for ``minutes``."""

    day: Annotated[int, Field(ge=0)]
    start: str
    minutes: Annotated[float, Field(gt=0)]

    @field_validator("start")
    @classmethod
    def _valid_start(cls, v: str) -> str:
        m = re.match(r"^(\d{1,2}):(\d{2})$", v.strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(f"expected a time like '09:00', found {v!r}")
        return v

    @property
    def start_minute(self) -> int:
        h, m = self.start.split(":")
        return int(h) * 60 + int(m)


class Disruption(_Model):
    """Network, power or software outages [TAN-THANH] [LAM-DONG].

    While down, the affected work runs at ``speed`` (0: stopped; 0.5: half speed).
    ``at`` lists scheduled windows; ``mean_hours_between`` with
    ``mean_repair_minutes`` gives random outages (exponential up and down times).
    """

    name: Slug
    affects: list[Literal["desks", "back_office", "online"]] = Field(
        default_factory=lambda: ["desks", "back_office", "online"]
    )
    speed: Annotated[float, Field(ge=0, lt=1)] = 0.0
    at: list[OutageWindow] = Field(default_factory=list)
    mean_hours_between: Annotated[float, Field(gt=0)] | None = None
    mean_repair_minutes: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _schedule_or_random(self) -> Disruption:
        random_given = (self.mean_hours_between is not None, self.mean_repair_minutes is not None)
        if any(random_given) and not all(random_given):
            raise ValueError(
                "expected both mean_hours_between and mean_repair_minutes for random outages, "
                "found only one"
            )
        if not self.at and not all(random_given):
            raise ValueError(
                "expected scheduled windows (at) or random outages (mean_hours_between and "
                "mean_repair_minutes), found neither"
            )
        return self


class CalibrationItem(_Model):
    """A figure a source reports for this situation, to compare with the simulation:
    ``{kpi: records_rejected, reported: 2, source: TAN-THANH}``."""

    kpi: str
    reported: float
    source: str = ""
    note: str = ""


def parse_clock(text: str) -> int:
    """``"10:30"`` -> 630 minutes after midnight."""
    try:
        return parse_session(f"00:00-{text}")[1]
    except ValueError:
        raise ValueError(f"expected a time like '10:30', found {text!r}") from None


class SignOff(_Model):
    """Leadership sign-off: results of some procedures need the signature of the
    commune leadership (the People's Committee chair or a vice-chair), who sign
    the results waiting for them in one batch at set times of each working day,
    and are away on some days (meetings at the province, field visits). A
    result processed just after a signing waits for the next one: a common
    reason a result is ready only the next day."""

    procedures: Annotated[list[Slug], Field(min_length=1)] = Field(
        description="Ids of the procedures whose results need the signature."
    )
    times: Annotated[list[str], Field(min_length=1)] = Field(
        description="HH:MM of each signing round, e.g. ['10:30', '16:30']."
    )
    absence_share: Annotated[float, Field(ge=0, lt=1)] = Field(
        default=0.0, description="Chance that the signer is away on a given working day."
    )

    @field_validator("times")
    @classmethod
    def _valid_times(cls, v: list[str]) -> list[str]:
        minutes = [parse_clock(t) for t in v]
        if len(set(minutes)) != len(minutes):
            raise ValueError(f"expected each signing time once, found {v}")
        return v

    def minutes(self) -> list[int]:
        """Signing times, minutes after midnight, in order."""
        return sorted(parse_clock(t) for t in self.times)


class Scenario(_Model):
    """One commune service center: demand, procedures, staff, calendar, targets."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    description: str = ""
    source: list[str] = Field(default_factory=list)
    seed: Annotated[int, Field(ge=0)] = 1
    replications: Annotated[int, Field(ge=1)] = 10
    horizon: Horizon
    calendar: Calendar = Field(default_factory=Calendar)
    commune: Commune = Field(default_factory=Commune)
    demand: Demand
    procedures: Annotated[list[Procedure], Field(min_length=1)]
    staff: Staff
    targets: list[Target] = Field(default_factory=list)
    backlog: list[BacklogItem] = Field(
        default_factory=list, description="Records handed over at the start [HCMC-9]."
    )
    disruptions: list[Disruption] = Field(default_factory=list)
    sign_off: SignOff | None = Field(
        default=None, description="Results that need the leadership's signature."
    )
    calibration: list[CalibrationItem] = Field(
        default_factory=list,
        description="Reported figures that `pasc check` compares with the simulation.",
    )

    @model_validator(mode="after")
    def _headcounts_from_schedules(self) -> Scenario:
        """A count given as a schedule is the most staff on duty at once."""
        spans = self.calendar.open_spans_minutes()
        days = WEEKDAYS if self.calendar.type == "continuous" else self.calendar.weekdays
        for d in self.staff.desks:
            if d.count is None and d.schedule is not None:
                d.count = d.schedule.most_on_duty(spans, days)
        if self.staff.back_office is None:
            sched = self.staff.back_office_schedule
            self.staff.back_office = sched.most_on_duty(spans, days) if sched else 0
        return self

    def on_duty_by_hour(self, pool: str, weekday: str) -> list[float]:
        """Staff-minutes on duty while open in each clock hour of a working day, for one
        pool (its count x the open minutes of the hour when it has no schedule)."""
        spans = self.calendar.open_spans_minutes()
        out = [0.0] * 24
        schedule = self.staff.schedule_of(pool)
        if schedule is None:
            count = self.staff.headcount(pool)
            for a, b in spans:
                for m in range(a, b):
                    out[m // 60] += count
            return out
        changes = schedule.for_weekday(weekday).changes(spans, weekday) + [(1440, 0)]
        for a, b in spans:
            for (m0, n), (m1, _) in zip(changes, changes[1:], strict=False):
                lo, hi = max(a, m0), min(b, m1)
                for m in range(lo, hi):
                    out[m // 60] += n
        return out

    def on_duty_share(self, pool: str) -> float:
        """Mean share of a pool's staff on duty while open (1 without a schedule)."""
        if self.staff.schedule_of(pool) is None:
            return 1.0
        count = self.staff.headcount(pool)
        days = WEEKDAYS if self.calendar.type == "continuous" else self.calendar.weekdays
        minutes = sum(sum(self.on_duty_by_hour(pool, w)) for w in days)
        return minutes / (count * self.calendar.open_minutes_per_day * len(days))

    @property
    def hourly_targets(self) -> bool:
        """Whether some target holds hour by hour (the model then measures by hour)."""
        return any(t.per == "hour" for t in self.targets)

    def weekday_of(self, day: int) -> str:
        """The weekday of model day ``day``: working days run back to back from the
        first listed weekday (a 24-hour calendar counts every weekday)."""
        days = WEEKDAYS if self.calendar.type == "continuous" else self.calendar.weekdays
        return days[day % len(days)]

    def channel_shares(self) -> dict[str, float]:
        """Channel shares after the online fallback: citizens without a VNeID level-2
        account (or online payment) walk in instead of filing online [TAN-THANH]."""
        shares = self.demand.channels.as_dict()
        moved = shares["online"] * self.demand.online_fallback_share
        shares["online"] -= moved
        shares["walk_in"] += moved
        return shares

    def procedure_weights(self, channel: str) -> list[float]:
        """Each procedure's weight among the records of one channel: its share, or 0
        when the procedure cannot be filed by that channel (``procedures[].channels``).
        The procedure mix of a channel is these weights normalised."""
        return [
            p.share if p.channels is None or channel in p.channels else 0.0 for p in self.procedures
        ]

    def profile_weights(self) -> dict[int, float]:
        """Hourly arrival weights for walk-in and postal records."""
        profile = self.demand.hourly_profile
        if profile is None:
            profile = "flat" if self.calendar.type == "continuous" else "office-default"
        if profile == "flat":
            return {h: 1.0 for h in range(24)}
        if profile == "office-default":
            return dict(OFFICE_DEFAULT_PROFILE)
        return dict(profile)

    def desk(self, name: str) -> Desk:
        for d in self.staff.desks:
            if d.name == name:
                return d
        raise KeyError(name)
