"""Execution backends: every backend returns the same (key, result) pairs.

The functions run by the backends live at module level so that worker
processes (local or Dask) can import them by name. The Dask cluster is
started once for the module (a few seconds) and closed by its fixture.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from simulator.backends import (
    BackendUnavailable,
    DaskBackend,
    ProcessBackend,
    SerialBackend,
    Task,
    default_workers,
    make_backend,
)

pytest.importorskip("distributed")


def square_plus(x: int, y: int = 0) -> int:
    return x * x + y


def fail_once(marker: str) -> str:
    """Raises the first time it runs (leaves a marker file), succeeds afterwards."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once", encoding="utf-8")
        raise RuntimeError("transient failure")
    return "ok"


def always_fails(x: int) -> int:
    raise ValueError(f"bad task {x}")


def slow_pid(x: int) -> tuple[int, int]:
    time.sleep(0.05)
    return x, os.getpid()


def _tasks(n: int) -> list[Task]:
    return [Task(f"t{i:03d}", square_plus, (i, 1)) for i in range(n)]


EXPECTED = {f"t{i:03d}": i * i + 1 for i in range(30)}


@pytest.fixture(scope="module")
def dask_backend():
    backend = DaskBackend(workers=2, retries=1, key_prefix=f"test-{os.getpid()}")
    try:
        assert backend.client is not None  # start the cluster now, so a failure shows here
    except BackendUnavailable as exc:  # pragma: no cover - environment problem
        backend.close()
        pytest.skip(str(exc))
    yield backend
    backend.close()


def test_task_is_a_named_pure_call():
    task = Task("a", square_plus, (3, 4))
    assert task() == 13
    assert task.key == "a"


def test_serial_backend_runs_in_order_with_keys():
    with SerialBackend() as backend:
        out = list(backend.run(_tasks(5)))
    assert out == [(f"t{i:03d}", i * i + 1) for i in range(5)]


def test_process_backend_gives_the_serial_results_for_more_tasks_than_its_window():
    # 30 tasks on 2 processes: the in-flight window (8) is refilled many times.
    with ProcessBackend(2) as backend:
        out = list(backend.run(_tasks(30)))
    assert len(out) == 30
    assert dict(out) == EXPECTED


def test_process_backend_uses_several_processes():
    with ProcessBackend(2) as backend:
        pids = {
            pid for _, (_, pid) in backend.run([Task(str(i), slow_pid, (i,)) for i in range(8)])
        }
    assert os.getpid() not in pids
    assert len(pids) == 2


def test_dask_backend_gives_the_serial_results(dask_backend):
    out = list(dask_backend.run(_tasks(30)))
    assert len(out) == 30
    assert dict(out) == EXPECTED


def test_dask_backend_retries_a_failed_task(dask_backend, tmp_path):
    marker = tmp_path / "marker"
    out = list(dask_backend.run([Task("flaky", fail_once, (str(marker),))]))
    assert out == [("flaky", "ok")]
    assert marker.exists()  # it did fail once


def test_dask_backend_raises_a_task_error_after_its_retries(dask_backend):
    with pytest.raises(ValueError, match="bad task 7"):
        list(dask_backend.run([Task("bad", always_fails, (7,))]))
    # The backend is still usable afterwards.
    assert dict(dask_backend.run(_tasks(3))) == {k: EXPECTED[k] for k in ("t000", "t001", "t002")}


def test_dask_backend_survives_a_consumer_that_stops_early(dask_backend):
    gen = dask_backend.run(_tasks(20))
    first = next(gen)
    gen.close()  # cancels the tasks still in flight
    assert first[0] in EXPECTED
    assert dict(dask_backend.run(_tasks(4))) == {f"t{i:03d}": i * i + 1 for i in range(4)}


def test_unreachable_scheduler_is_reported_not_a_traceback():
    backend = DaskBackend(scheduler="tcp://127.0.0.1:1", connect_timeout_s=2)
    with pytest.raises(BackendUnavailable, match="127.0.0.1:1"):
        backend.client  # noqa: B018 - starting the client is the point
    backend.close()


@pytest.mark.parametrize(
    ("kwargs", "kind", "workers"),
    [
        ({}, SerialBackend, 1),
        ({"workers": 1}, SerialBackend, 1),
        # --workers N means N local processes in every command; Dask only when asked.
        ({"workers": 3}, ProcessBackend, 3),
        ({"name": "dask", "workers": 3}, DaskBackend, 3),
        ({"name": "processes", "workers": 3}, ProcessBackend, 3),
        ({"name": "processes"}, ProcessBackend, default_workers()),
        ({"scheduler": "tcp://127.0.0.1:8786"}, DaskBackend, 1),
    ],
)
def test_make_backend_picks_the_backend(kwargs, kind, workers):
    backend = make_backend(**kwargs)
    assert isinstance(backend, kind)
    assert backend.workers == workers
    backend.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "serial", "scheduler": "tcp://127.0.0.1:1"}, "needs the dask backend"),
        ({"name": "dask", "workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "found both"),
        ({"name": "gpu"}, "expected a backend among"),
        ({"name": "serial", "workers": 4}, "runs in this process"),
        ({"name": "processes", "scheduler": "tcp://127.0.0.1:1"}, "needs the dask backend"),
    ],
)
def test_make_backend_rejects_contradictions(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_backend(**kwargs)


# -- one execution layer: replications of every command run on any backend ------------------


def test_replications_are_identical_on_every_backend(dask_backend):
    """``simulator.run``, ``compare`` and ``size`` give the same numbers in this process,
    on local processes and on a Dask cluster: replication i depends only on
    (scenario, seed, i), and the runner puts results back in replication order."""
    import pandas as pd
    from builders import busy_office

    import simulator
    from simulator.compare import compare
    from simulator.runner import open_backend

    sc = busy_office()
    serial = simulator.run(sc, 4, seed=3)
    with open_backend(workers=2) as processes:
        assert isinstance(processes, ProcessBackend)
        local = simulator.run(sc, 4, seed=3, backend=processes)
        pair = compare([sc, sc], 3, seed=3, backend=processes)
    on_dask = simulator.run(sc, 4, seed=3, backend=dask_backend)
    for other in (local, on_dask):
        pd.testing.assert_frame_equal(serial.kpis, other.kpis)
        pd.testing.assert_frame_equal(serial.records, other.records)
    assert (pair.differences()["mean"].fillna(0) == 0).all()
    assert not dask_backend._lost  # the backend passed in stays open for the caller


def test_an_open_backend_is_left_open_and_a_named_one_is_closed():
    from simulator.runner import open_backend

    with SerialBackend() as mine:
        with open_backend(mine) as b:
            assert b is mine
        with open_backend("processes", workers=2) as made:
            assert isinstance(made, ProcessBackend) and made.workers == 2
            list(made.run(_tasks(2)))
        assert made._pool is None  # closed on leaving
