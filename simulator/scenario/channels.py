"""Channels: the ways a dossier reaches the center, declared as data.

A commune center receives records at its desks (the citizen comes in), through
the national public-service portal (the dossier is checked in the back
office) and through postal agents (VNPost, Viettel Post), who take the
dossier in and bring the result back by post. Everything the rest of pasc needs
to know about a channel is in its :class:`ChannelKind`: the scenario format
accepts a share for every declared channel, the arrivals follow its flags,
the model sends its records to the staff pool that takes them in, the
work-load accounting charges that pool, the records table names it, ``pasc fit``
reads it in a center's records log and ``pasc export-log`` writes it, and the
web editor has an input for its share.

Adding a channel taken in by one of the existing pools (desk, back office,
postal agents) is one call to :func:`declare_channel`; nothing else needs to
change. A channel declared after scenarios were loaded applies to scenarios
loaded afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from simulator.words import fold

IntakePool = Literal["desk", "back_office", "postal_agents"]


@dataclass(frozen=True)
class ChannelKind:
    """How records filed through one channel travel to the center.

    * ``taken_in_by``: who takes the dossier in. ``desk``: the citizen queues at a
      desk group covering the procedure's field and is served in person;
      ``back_office``: the dossier is checked (its intake time) in the back
      office, by dedicated staff or by desk staff between citizens;
      ``postal_agents``: an agent takes it in, then it goes to processing.
    * ``in_person``: the citizen is there: priority citizens go first, and
      patience (leaving the queue) applies.
    * ``around_the_clock``: filed at any hour of a working day (the portal),
      not only while the center is open; a supplement may come back at any
      hour too.
    * ``held_by_portal_outage``: an outage affecting ``online`` holds these
      filings until the portal is back.
    * ``result_by_post``: the result travels back by post
      (``demand.postal_delivery_working_days`` added to the time the citizen
      receives it).
    * ``label_vi``: its name in a Vietnamese records log (what ``pasc export-log
      --language vi`` writes; the name itself when empty).
    * ``log_words``: other words a center's records log may write for it
      (``pasc fit`` matches them, ignoring case and accents).
    """

    name: str
    taken_in_by: IntakePool
    in_person: bool = False
    around_the_clock: bool = False
    held_by_portal_outage: bool = False
    result_by_post: bool = False
    label_vi: str = ""
    log_words: tuple[str, ...] = ()
    #: Its number in a record's row (:data:`CHANNELS_BY_CODE`), given on declaration.
    code: int = field(default=-1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.in_person and self.taken_in_by != "desk":
            raise ValueError(f"channel {self.name!r}: only a desk channel can be in person")


#: Declared channels in declaration order.
CHANNEL_KINDS: dict[str, ChannelKind] = {}
#: Every channel a record can come through, by its code: the hand-over, then the
#: declared channels in declaration order.
CHANNELS_BY_CODE: list[ChannelKind] = []
#: The most channels a record's row can tell apart (its code is a 16-bit integer).
MAX_CHANNELS = 2**15


def _numbered(kind: ChannelKind) -> ChannelKind:
    if kind.code >= 0:
        raise ValueError(f"channel {kind.name!r} is already declared")
    if len(CHANNELS_BY_CODE) >= MAX_CHANNELS:
        raise ValueError(f"expected at most {MAX_CHANNELS} channels, found one more")
    object.__setattr__(kind, "code", len(CHANNELS_BY_CODE))  # frozen: set once, here
    CHANNELS_BY_CODE.append(kind)
    return kind


#: Records taken over on day one from the abolished district level: not a
#: channel citizens file through, but records routed like portal checks.
HANDOVER = _numbered(ChannelKind("handover", "back_office"))


def declare_channel(kind: ChannelKind) -> ChannelKind:
    """Make a channel available to scenarios (``demand.channels.<name>``) and the model.
    Its log words must be its own (compared as :func:`simulator.words.fold` does):
    a records log's rows would otherwise go to either channel."""
    if kind.name in CHANNEL_KINDS or kind.name == HANDOVER.name:
        raise ValueError(f"channel {kind.name!r} is already declared")
    taken = {fold(w): other.name for other in CHANNEL_KINDS.values() for w in log_words(other)}
    for word in log_words(kind):
        if fold(word) in taken:
            raise ValueError(
                f"channel {kind.name!r}: expected log words of its own, found {word!r}, "
                f"a word of channel {taken[fold(word)]!r}"
            )
    CHANNEL_KINDS[kind.name] = _numbered(kind)
    return kind


def log_words(kind: ChannelKind) -> tuple[str, ...]:
    """Every word a records log may write for ``kind``: its name, its Vietnamese
    label, the others it declares."""
    return (kind.name, *((kind.label_vi,) if kind.label_vi else ()), *kind.log_words)


WALK_IN = declare_channel(
    ChannelKind(
        "walk_in",
        "desk",
        in_person=True,
        label_vi="Trực tiếp",
        log_words=("walk-in", "walk in", "direct", "tại quầy", "nộp trực tiếp"),
    )
)
ONLINE = declare_channel(
    ChannelKind(
        "online",
        "back_office",
        around_the_clock=True,
        held_by_portal_outage=True,
        label_vi="Trực tuyến",
        log_words=(
            "nộp trực tuyến",
            "dịch vụ công trực tuyến",
            "qua mạng",
            "dvc trực tuyến",
            "cổng dịch vụ công",
        ),
    )
)
POSTAL = declare_channel(
    ChannelKind(
        "postal",
        "postal_agents",
        result_by_post=True,
        label_vi="Bưu chính",
        log_words=("post", "bưu điện", "qua bưu chính", "bưu chính công ích"),
    )
)
