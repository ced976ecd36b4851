"""Run folders: ``results/<scenario>/<timestamp>/``, written whole or not at all.

Everything goes first into a hidden temporary folder beside the final one,
which is renamed into place only when complete, so an interrupted run never
leaves a half-written folder that looks finished. An existing folder is never
overwritten: a second run in the same second gets a ``-2`` suffix. The pictures
and ``report.html`` are drawn inside the temporary folder too, so a finished
folder always has its report.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.results.run_result import RunResult
from simulator.scenario import scenario_to_yaml

DEFAULT_ROOT = Path("results")


def timestamp() -> str:
    return datetime.now().strftime("%Y-%m-%dT%H-%M-%S")


def umask() -> int:
    """The process's file-creation mask (read without changing it for good)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(parent: Path, name: str, fill: Callable[[Path], None]) -> Path:
    """Create ``parent/name`` (or ``name-2``, ``name-3``, ...) by filling a temporary
    folder with ``fill(tmp)`` and renaming it into place when complete. The folder
    gets the permissions any new folder gets (``mkdtemp`` alone would make it
    private, 0700); an interruption (Ctrl-C, SIGTERM) removes the temporary one."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent))
    try:
        os.chmod(tmp, 0o777 & ~umask())
        fill(tmp)
        for k in range(1, 1000):
            final = parent / (name if k == 1 else f"{name}-{k}")
            if final.exists():
                continue
            try:
                # os.rename onto an existing empty folder would succeed on POSIX:
                # mkdir first so that two writers can never pick the same name.
                final.mkdir()
            except FileExistsError:
                continue
            final.rmdir()
            os.rename(tmp, final)
            return final
        raise FileExistsError(f"no free run folder name under {parent}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_run_folder(
    result: RunResult,
    root: Path = DEFAULT_ROOT,
    extra: dict[str, Any] | None = None,
    *,
    report: bool = True,
) -> Path:
    """Write scenario, summary, per-replication KPIs, targets and records of a run, the
    hourly and daily tables, the pictures (``*.png``), ``report.html`` and
    ``environment.json`` (when, with which software versions).

    ``report=False`` skips the pictures and the report (``pasc report`` can
    draw them later from the files)."""
    from simulator import __version__
    from simulator.report import ENVIRONMENT_FILE, run_metadata, write_run_report

    def fill(folder: Path) -> None:
        (folder / "scenario.yaml").write_text(scenario_to_yaml(result.scenario), encoding="utf-8")
        result.summary().to_csv(folder / "summary.csv", index=False)
        result.kpis.to_csv(folder / "kpis.csv", index=False)
        result.targets().to_csv(folder / "targets.csv", index=False)
        if result.records_table is not None:
            result.records_table.to_csv(folder / "records.csv.gz", index=False)
        if result.hourly_table is not None:
            result.hourly_table.to_csv(folder / "hourly.csv", index=False)
        if result.daily_table is not None:
            result.daily_table.to_csv(folder / "daily.csv", index=False)
        meta = {**result.to_dict(), "pasc_version": __version__, **(extra or {})}
        (folder / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        environment = run_metadata()
        (folder / ENVIRONMENT_FILE).write_text(json.dumps(environment, indent=2), encoding="utf-8")
        if report:
            write_run_report(result, folder, {**meta, **environment})

    return write_atomically(root / result.scenario.name, timestamp(), fill)


def write_sizing_folder(result, root: Path = DEFAULT_ROOT, *, report: bool = True) -> Path:
    """``results/<scenario>/<timestamp>-size/``: the curve, the answer (``size.json``, and
    ``answer.yaml``: the input scenario with the answer's staff counts), the scenario,
    the staffing-curve picture and ``report.html``."""
    from simulator import __version__
    from simulator.report import ENVIRONMENT_FILE, run_metadata, write_sizing_report

    def fill(folder: Path) -> None:
        (folder / "scenario.yaml").write_text(scenario_to_yaml(result.scenario), encoding="utf-8")
        answer = result.answer_scenario()
        if answer is not None:  # the input with the answer's staff counts, ready to run
            (folder / "answer.yaml").write_text(scenario_to_yaml(answer), encoding="utf-8")
        result.curve_frame().to_csv(folder / "curve.csv", index=False)
        meta = {**result.to_dict(), "pasc_version": __version__}
        (folder / "size.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        environment = run_metadata()
        seed = getattr(result, "seed", None)
        if seed is not None:
            environment["seed"] = seed
        (folder / ENVIRONMENT_FILE).write_text(json.dumps(environment, indent=2), encoding="utf-8")
        if report:
            write_sizing_report(result, folder, {**meta, **environment})

    return write_atomically(root / result.scenario.name, f"{timestamp()}-size", fill)
