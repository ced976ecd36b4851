"""The model's lean SimPy process behaves as SimPy's own: the same trace of what
happens when, including interrupts, failed events and return values."""

import pytest
import simpy

from simulator.model.events import Environment


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
