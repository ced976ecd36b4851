"""Where the model leans on SimPy's internals, for speed: its event loop, its
processes and three light events.

Every event a replication schedules costs an object and a trip through the
event queue. :class:`Environment` runs the queue with SimPy's own step inlined
in one loop, and its processes (:class:`Process`) resume their generators with
less work; :class:`Call` (an idle officer's wait), :class:`Alarm` (an
officer's reused service timeout) and :class:`Tick` (a channel's filings) make
the commonest events cheaper. The light events set the fields a triggered
``simpy.Event`` has (``_ok``, ``_value``, ``callbacks``) the way
``simpy.Timeout`` does, and the line marked ``# schedule()`` in each is
``Environment.schedule`` inlined (the same heap entry, so the same event
order). The model reads the clock as ``env._now`` on its hot paths
(``env.now`` is a property: a call each time). setup.cfg pins SimPy's major
version for these internals.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING, URGENT, _describe_frame


class Environment(simpy.Environment):
    """A SimPy environment whose :meth:`run_until` processes events in exactly the
    order ``run(until=at)`` does, without a method call per event."""

    #: Whether the event being processed has one callback, the one running: then
    #: nothing else is due at the present time once it returns, which is what lets a
    #: light event move the clock on itself (``next_is_first``).
    sole_callback = False

    def run_until(self, at: float) -> None:
        """Process every event before ``at`` (and the urgent ones at ``at`` scheduled
        before this call), as ``run(until=at)`` does; the clock ends at ``at``."""
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current time")
        until = simpy.Event(self)
        until._ok = True
        until._value = None
        self.schedule(until, URGENT, at - self._now)
        queue, pop = self._queue, heapq.heappop
        while True:
            # Environment.step, inlined.
            self._now, _, _, event = pop(queue)
            if event is until:
                self.sole_callback = False
                return
            callbacks, event.callbacks = event.callbacks, None
            self.sole_callback = len(callbacks) == 1
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc

    def process(self, generator: Generator[simpy.Event, Any, Any]) -> Process:
        """Start ``generator`` as a process (as ``simpy.Environment.process`` does)."""
        return Process(self, generator)


class Process(simpy.Process):
    """A ``simpy.Process`` that resumes its generator with less work per event: its
    resume callback is bound once (SimPy binds a new one at every ``yield``) and
    the generator's ``send`` is looked up once. Events, values, failures and
    interrupts behave exactly as SimPy's (the same code paths, in the same order).
    """

    def __init__(self, env: simpy.Environment, generator: Generator[simpy.Event, Any, Any]):
        self._resume = self._resume  # type: ignore[method-assign]  # bound once
        super().__init__(env, generator)  # (a ValueError if it is not a generator)
        self._send = generator.send

    def _resume(self, event: simpy.Event) -> None:  # type: ignore[override]
        # simpy.Process._resume, with the bound callback and ``send`` reused.
        env = self.env
        env._active_proc = self
        while True:
            try:
                if event._ok:
                    event = self._send(event._value)
                else:
                    event._defused = True
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = self._generator.throw(exc)
            except StopIteration as e:
                event = None
                self._ok = True
                self._value = e.args[0] if len(e.args) else None
                env.schedule(self)
                break
            except BaseException as e:
                event = None
                self._ok = False
                e.__traceback__ = e.__traceback__.tb_next
                self._value = e
                env.schedule(self)
                break
            try:
                callbacks = event.callbacks
            except AttributeError:
                descr = _describe_frame(self._generator.gi_frame)
                raise RuntimeError(f'\n{descr}Invalid yield value "{event}"') from None
            if callbacks is not None:
                callbacks.append(self._resume)
                break
        self._target = event
        env._active_proc = None


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
        env = self.env
        heapq.heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))  # schedule()


class Alarm(simpy.Event):
    """A timeout that one process reuses for the waits nothing interrupts (a desk
    service): ``if not alarm.next_is_first(minutes): yield alarm`` behaves as
    ``yield env.timeout(minutes)``, in the same event order, without building a
    Timeout each time, and without the trip through the queue when nothing else
    happens before the alarm would go off."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self._ok = True
        self._value = None
        self.callbacks: list | None = None

    def next_is_first(self, delay: float) -> bool:
        """Go off ``delay`` minutes from now (the previous alarm has gone off), unless
        no other event comes before then and the process was resumed by an event's
        only callback (``sole_callback``): the alarm would be the next event out of
        the queue, so the clock moves on to it and True says "go on now" (the
        process continues without yielding). False: the alarm is set; yield it.
        The same event order either way (see :meth:`Tick.next_is_first`)."""
        env = self.env
        at = env._now + delay
        queue = env._queue
        if env.sole_callback and queue and at < queue[0][0]:
            env._now = at
            return True
        self.callbacks = []
        heapq.heappush(queue, (at, NORMAL, next(env._eid), self))  # schedule()
        return False


class Tick(simpy.Event):
    """One event object for a chain of occurrences, each calling ``callback(tick)``:
    the callback schedules the next with :meth:`again`, or goes on to it at once
    when :meth:`next_is_first` says nothing else happens before. It stands for a process
    that would loop ``yield env.timeout(delay); callback()``, and keeps that
    process's place in the event order (started, like a process, by an urgent
    event now), at a fraction of the cost: no generator to resume, no Timeout
    to build. A channel's filings are one chain (``Center.filings``)."""

    def __init__(self, env: simpy.Environment, callback: Callable[[Tick], None]):
        self.env = env
        self._ok = True
        self._value = None
        # Nothing else holds the tick, so its one-callback list can be reused.
        self._callbacks = [callback]
        self.callbacks: list | None = self._callbacks
        env.schedule(self, URGENT)

    def again(self, delay: float) -> None:
        """Occur once more, ``delay`` minutes from now (after this occurrence ended)."""
        self.callbacks = self._callbacks
        env = self.env
        heapq.heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))  # schedule()

    def next_is_first(self, delay: float) -> bool:
        """Occur once more, ``delay`` minutes from now, from within an occurrence. When
        no other event comes before that time (and the event being processed has no
        other callback still to run at the present time: ``sole_callback``), the
        tick would be the next event out of the queue: the clock moves on to it and
        True says "handle it now", which spares the trip through the queue.
        Otherwise it is scheduled (:meth:`again`) and the answer is False. The
        event order is the same either way (a skipped trip takes no event id, and
        the ids only order events of the same time).
        """
        env = self.env
        at = env._now + delay  # the time the queue would have held
        queue = env._queue
        if env.sole_callback and queue and at < queue[0][0]:
            env._now = at
            return True
        self.callbacks = self._callbacks
        heapq.heappush(queue, (at, NORMAL, next(env._eid), self))  # schedule()
        return False
