"""What ``pasc`` does to start, fork and end quickly: ``import simulator`` loads nothing
heavy, the command line tunes its own process before numpy loads and keeps what it
loaded away from the garbage collector, and forking drawers freezes the heap only
for the copy. Each check runs in a fresh interpreter, whose start it is about."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _python(code: str, **env: str) -> str:
    """The stdout of ``code`` run by a fresh interpreter in the repository."""
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_import_simulator_loads_nothing_heavy_and_its_names_still_resolve():
    out = _python(
        """
        import sys
        import simulator
        print(sorted(m for m in ("numpy", "pandas", "pydantic") if m in sys.modules))
        from simulator import Scenario, ScenarioError, load_scenario
        sc = simulator.load_scenario("scenarios/quang-nam-urban-ward.yaml")
        print(isinstance(sc, Scenario), issubclass(ScenarioError, Exception))
        print(simulator.RunResult.__name__, bool(simulator.__version__))
        """
    )
    assert out.splitlines() == ["[]", "True True", "RunResult True"]


def test_the_command_line_runs_openblas_on_one_thread_unless_told_otherwise():
    code = "import os, simulator.cli; print(os.environ['OPENBLAS_NUM_THREADS'])"
    assert _python(code) == "1"
    assert _python(code, OPENBLAS_NUM_THREADS="3") == "3"


def test_the_command_line_freezes_what_it_loads_and_collects_the_rest():
    out = _python(
        """
        import gc
        import simulator.cli
        print(gc.get_freeze_count() > 10_000, gc.isenabled())
        """
    )
    assert out == "True True"


def test_forking_freezes_the_heap_for_the_copy_only():
    out = _python(
        """
        import gc
        from simulator.report import _frozen_heap
        with _frozen_heap():
            print(gc.get_freeze_count() > 0)  # as the copy is forked
        print(gc.get_freeze_count())  # taken in again here
        gc.freeze()  # a process that freezes on its own (as pasc does) is left be
        frozen = gc.get_freeze_count()
        with _frozen_heap():
            pass
        print(gc.get_freeze_count() == frozen)
        """
    )
    assert out.splitlines() == ["True", "0", "True"]


def test_the_last_collection_is_skipped_once_however_many_commands_run():
    out = _python(
        """
        import gc
        from simulator.cli.common import _skip_last_collection
        gc.freeze = lambda: print("frozen at exit")  # what the exit calls, seen
        _skip_last_collection()
        _skip_last_collection()
        print("commands done")
        """
    )
    assert out.splitlines() == ["commands done", "frozen at exit"]


def test_a_warmed_up_drawer_draws_the_same_bytes_as_a_cold_one():
    """The drawer warms matplotlib up (``plots.warm_up``) while its run simulates; the
    pictures must not depend on it. In one fresh interpreter: every picture of a
    small run drawn cold (the first drawing this process makes), then again after
    a warm-up."""
    out = _python(
        """
        import simulator
        from simulator import plots
        from simulator.report import DPI, figure_png, run_figure_names
        sc = simulator.load_scenario("scenarios/quang-nam-urban-ward.yaml")
        result = simulator.run(sc, replications=2)
        names = run_figure_names(result)
        cold = [figure_png(plots.run_figure(result, n)) for n in names]
        plots.warm_up(DPI)
        warm = [figure_png(plots.run_figure(result, n)) for n in names]
        print(len(names), cold == warm)
        """
    )
    assert out == "6 True"
