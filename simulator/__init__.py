"""pasc: a SimPy simulator of Vietnam's commune Public Administration Service Centers.

The public API (stable names; see README.md)::

    import simulator
    sc = simulator.load_scenario("scenarios/quang-nam-urban-ward.yaml")
    res = simulator.run(sc, replications=30, seed=1)   # no files written
    res.kpis, res.summary(), res.targets(), res.records
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.results import RunResult
    from simulator.runner import BackendChoice, OutputCallback, ProgressCallback
    from simulator.scenario import Scenario, ScenarioError, load_scenario

    __version__: str

#: The names of the public API that load a module (and numpy, pydantic...) at first use:
#: ``import simulator`` itself loads nothing, so that what imports it first (the command
#: line) can still set up the process before numpy loads.
_LAZY = {
    "Scenario": "simulator.scenario",
    "ScenarioError": "simulator.scenario",
    "load_scenario": "simulator.scenario",
    "RunResult": "simulator.results",
}


def run(
    scenario: Scenario | str,
    replications: int | None = None,
    seed: int | None = None,
    *,
    workers: int = 1,
    records: bool = True,
    progress: ProgressCallback | None = None,
    backend: BackendChoice = None,
    scheduler: str | None = None,
    spool: Any = None,
    each: OutputCallback | None = None,
) -> RunResult:
    """Run replications of a scenario and return their KPIs (no files are written).

    ``replications`` and ``seed`` default to the scenario's own. Replication
    ``i`` depends only on (scenario, seed, i), so where it runs changes the
    wall time, never the numbers: ``workers=N`` runs on N local processes,
    ``backend="dask"`` on a local Dask cluster of ``workers`` processes,
    ``scheduler="tcp://host:8786"`` on a running Dask cluster, and an open
    backend (:func:`simulator.runner.open_backend`) is used as it is.
    ``records=False`` keeps only streaming statistics (memory independent of
    the horizon); ``spool`` (a :class:`simulator.artifacts.TableSpool`) streams
    the records, hourly and daily tables to disk as the replications run, so
    memory stays bounded with the records kept too (local backends). ``each`` is
    called as ``each(index, output)`` with each replication's raw output as it
    finishes (``pasc run`` hands the records to its drawer this way).
    """
    # Imported here so that ``import simulator`` (and ``pasc validate``) stays
    # quick: pandas loads only when something is simulated.
    from simulator.results import build_run_result
    from simulator.runner import run_replications
    from simulator.scenario import Scenario, load_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    reps = scenario.replications if replications is None else int(replications)
    if reps < 1:
        raise ValueError(f"expected at least 1 replication, found {reps}")
    seed = scenario.seed if seed is None else int(seed)
    outputs = run_replications(
        scenario,
        reps,
        seed,
        workers=workers,
        keep_records=records,
        progress=progress,
        backend=backend,
        scheduler=scheduler,
        spool=spool if records else None,
        each=each,
    )
    return build_run_result(
        scenario, seed, outputs, records=records, spool=spool if records else None
    )


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pasc")
        except PackageNotFoundError:  # running from a source tree without installing
            return "0.0.0+local"
    if name in ("results", "analytic", "sizing", "quota", "runner", "model"):
        return importlib.import_module(f"simulator.{name}")
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


__all__ = ["RunResult", "Scenario", "ScenarioError", "__version__", "load_scenario", "run"]
