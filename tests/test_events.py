"""The model's lean SimPy process behaves as SimPy's own: the same trace of what
happens when, including interrupts, failed events and return values."""

import pytest
import simpy

from simulator.model.events import Alarm, Environment, Tick


def story(env: simpy.Environment, trace: list) -> None:
    """Processes that use every path of a process's resumption."""

    def worker(name: str, minutes: float):
        try:
            yield env.timeout(minutes)
            trace.append((env.now, name, "done"))
        except simpy.Interrupt as stop:
            trace.append((env.now, name, "interrupted", stop.cause))
            yield env.timeout(1)
            trace.append((env.now, name, "resumed"))
        return name.upper()

    def failing():
        yield env.timeout(2)
        raise ValueError("broken")

    def boss():
        a = env.process(worker("a", 10))
        b = env.process(worker("b", 3))
        yield env.timeout(5)
        a.interrupt("walk-in")
        trace.append((env.now, "b returned", (yield b)))
        trace.append((env.now, "a returned", (yield a)))
        try:
            yield env.process(failing())
        except ValueError as error:
            trace.append((env.now, "caught", str(error)))
        event = env.event()
        env.timeout(4).callbacks.append(lambda _: event.succeed("value"))
        trace.append((env.now, "event", (yield event)))

    env.process(boss())


def run(env: simpy.Environment) -> list:
    trace: list = []
    story(env, trace)
    if isinstance(env, Environment):
        env.run_until(100)
    else:
        env.run(until=100)
    return trace


def test_the_lean_process_tells_the_same_story_as_simpy():
    expected = run(simpy.Environment())
    assert len(expected) == 7
    assert run(Environment()) == expected


def test_yielding_something_that_is_not_an_event_names_the_mistake():
    env = Environment()

    def wrong():
        yield 5

    env.process(wrong())
    with pytest.raises(RuntimeError, match='Invalid yield value "5"'):
        env.run_until(1)


def test_a_tick_that_goes_on_at_once_keeps_simpys_order():
    """Occurrences a tick handles at once (nothing else before them) and those it
    schedules come in the order of a SimPy process yielding a timeout per
    occurrence, ties with other events at the same time included."""
    gaps = [0.5, 0.5, 1.0, 0.25, 0.25, 2.0, 1.0, 3.0, 0.1]
    others = [1.0, 2.0, 2.25, 4.5, 5.5, 8.5]  # some at a tick's very time

    def with_others(env: simpy.Environment, trace: list) -> None:
        for t in others:
            env.timeout(t).callbacks.append(lambda _, t=t: trace.append((env.now, "other", t)))

    def simpy_story() -> list:
        env, trace = simpy.Environment(), []

        def chain():
            for i, gap in enumerate(gaps):
                yield env.timeout(gap)
                trace.append((env.now, "tick", i))

        env.process(chain())
        with_others(env, trace)
        env.run(until=20)
        return trace

    def tick_story() -> tuple[list, int]:
        env, trace = Environment(), []
        state = {"next": 0, "at once": 0}

        def occur(tick: Tick) -> None:
            if state["next"] > 0:  # not the start: the occurrence scheduled last
                trace.append((env.now, "tick", state["next"] - 1))
            while state["next"] < len(gaps):
                gap = gaps[state["next"]]
                state["next"] += 1
                if not tick.next_is_first(gap):
                    return
                state["at once"] += 1
                trace.append((env.now, "tick", state["next"] - 1))

        with_others(env, trace)
        Tick(env, occur)
        env.run_until(20)
        return trace, state["at once"]

    trace, at_once = tick_story()
    assert trace == simpy_story()
    assert 0 < at_once < len(gaps)  # some handled at once, some through the queue


def test_an_alarm_that_goes_on_at_once_keeps_simpys_order():
    """A process reusing one Alarm (going on without yielding when nothing comes
    first) meets other events in the order of a process yielding timeouts."""
    waits = [1.0, 0.5, 0.5, 2.0, 0.25, 1.0]
    others = [1.0, 2.5, 3.0, 5.0]  # some at the alarm's very time

    def story(env: simpy.Environment, trace: list, alarm_process) -> None:
        env.process(alarm_process(env, trace))
        for t in others:
            env.timeout(t).callbacks.append(lambda _, t=t: trace.append((env.now, "other", t)))

    def with_timeouts(env, trace):
        for i, wait in enumerate(waits):
            yield env.timeout(wait)
            trace.append((env.now, "alarm", i))

    went_on = []

    def with_alarm(env, trace):
        alarm = Alarm(env)
        for i, wait in enumerate(waits):
            if alarm.next_is_first(wait):
                went_on.append(i)
            else:
                yield alarm
            trace.append((env.now, "alarm", i))

    expected: list = []
    env = simpy.Environment()
    story(env, expected, with_timeouts)
    env.run(until=20)
    got: list = []
    env = Environment()
    story(env, got, with_alarm)
    env.run_until(20)
    assert got == expected
    assert 0 < len(went_on) < len(waits)


def test_an_alarm_waits_its_turn_when_the_event_that_resumed_it_has_more_callbacks():
    """Two processes resumed by one event: the first may not move the clock on by
    itself (the second is still due at the present time)."""

    def story(env: simpy.Environment, use_alarm: bool) -> list:
        seen: list = []
        gate = env.event()

        def officer():
            yield gate
            alarm = Alarm(env)
            if not use_alarm:
                yield env.timeout(5)
            elif not alarm.next_is_first(5):
                yield alarm
            seen.append(("officer done", env.now))

        def other():
            yield gate
            seen.append(("other resumed by the same event", env.now))
            yield env.timeout(1)
            seen.append(("other + 1", env.now))

        def opener():
            yield env.timeout(1)
            gate.succeed()

        for process in (officer(), other(), opener()):
            env.process(process)
        return seen

    env = simpy.Environment()
    expected = story(env, use_alarm=False)
    env.run(until=50)
    env = Environment()
    got = story(env, use_alarm=True)
    env.run_until(50)
    assert (
        got
        == expected
        == [
            ("other resumed by the same event", 1),
            ("other + 1", 2),
            ("officer done", 6),
        ]
    )


def test_a_process_of_something_not_a_generator_is_refused_as_simpy_does():
    with pytest.raises(ValueError, match="is not a generator"):
        Environment().process(lambda: None)
