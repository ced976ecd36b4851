"""Sizing every shipped scenario: answers, wall times, and a year of operation.

For each scenario in ``scenarios/*.yaml`` (or those named), in one run:

* ``run s``: wall time of ``pasc run`` (the scenario's replications, records
  kept, ``--workers``), the yardstick of the sizing-time target (at most 5x);
* ``size s`` and the answer of ``pasc size`` with this checkout;
* with ``--old PATH`` (a checkout of an earlier pasc, e.g. made with
  ``git worktree add /tmp/pasc-old <commit>``), the same for that version;
* ``year``: each answer run over a working year after the steady-state
  warm-up (``--year-days``, default 250): does it keep up (backlog growth,
  every pool under capacity) and meet every target?

Nothing is asserted: the table is for the notes and the README. Usage::

    python benchmarks/bench_sizing.py --old /tmp/pasc-old
    python benchmarks/bench_sizing.py scenarios/quang-nam-urban-ward.yaml --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simulator  # noqa: E402
from simulator.sizing import size, with_staff  # noqa: E402
from simulator.workload import settling_days  # noqa: E402


def old_size(old: Path, scenario: Path, workers: int) -> tuple[dict | None, float]:
    """Answer and wall time of ``pasc size`` from another checkout (a fresh process)."""
    env = {**os.environ, "PYTHONPATH": str(old)}
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "simulator.cli", "size", str(scenario), "--json", "--quiet"]
        cmd += ["--workers", str(workers), "--out", out]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=old)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"old pasc size failed on {scenario}: {proc.stderr[-400:]}")
    return json.loads(proc.stdout)["answer"], wall


def year_check(sc, staff: dict | None, days: int, replications: int, workers: int) -> str:
    """``keeps up pass, targets pass (on time 0.998)`` for ``staff`` run over a year."""
    if staff is None:
        return "no answer"
    judged = with_staff(sc, staff).model_copy(deep=True)
    judged.horizon = type(sc.horizon)(days=days, warmup_days=settling_days(sc))
    res = simulator.run(judged, replications, sc.seed, workers=workers, records=False)
    keeps = res.keeps_up()
    verdicts = list(res.targets()["verdict"])
    overall = "pass" if all(v == "pass" for v in verdicts) else ",".join(sorted(set(verdicts)))
    on_time = res.kpi("on_time_rate")[0]
    busiest = max(keeps.utilization.items(), key=lambda kv: kv[1])
    return (
        f"keeps up {keeps.verdict} (growth {keeps.growth_mean:+.2f}/day), targets {overall} "
        f"(on time {on_time:.3f}, {busiest[0]} {busiest[1]:.0%} busy)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--old", type=Path, help="a checkout of an earlier pasc to compare")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--year-days", type=int, default=250)
    parser.add_argument("--year-replications", type=int, default=10)
    args = parser.parse_args()
    paths = args.scenarios or sorted((ROOT / "scenarios").glob("*.yaml"))
    rows = []
    for path in paths:
        sc = simulator.load_scenario(path)
        if not sc.targets:
            continue
        t = time.perf_counter()
        simulator.run(sc, workers=args.workers)
        run_s = time.perf_counter() - t
        t = time.perf_counter()
        new = size(sc, workers=args.workers)
        new_s = time.perf_counter() - t
        row = {
            "scenario": sc.name,
            "run_s": run_s,
            "new": new.answer,
            "new_s": new_s,
            "new_year": year_check(
                sc, new.answer, args.year_days, args.year_replications, args.workers
            ),
        }
        if args.old is not None:
            old, old_s = old_size(args.old, path.resolve(), args.workers)
            row.update(old=old, old_s=old_s)
            row["old_year"] = year_check(
                sc, old, args.year_days, args.year_replications, args.workers
            )
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print("| scenario | run s | old answer | old size s | new answer | new size s | new/run |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        fmt_staff = lambda a: "none" if a is None else "/".join(str(v) for v in a.values())  # noqa: E731
        print(
            f"| {r['scenario']} | {r['run_s']:.1f} | {fmt_staff(r.get('old'))} | "
            f"{r.get('old_s', float('nan')):.1f} | {fmt_staff(r['new'])} | {r['new_s']:.1f} | "
            f"{r['new_s'] / r['run_s']:.1f}x |"
        )
    print()
    for r in rows:
        print(f"{r['scenario']}: new answer over a year: {r['new_year']}")
        if "old_year" in r:
            print(f"{r['scenario']}: old answer over a year: {r['old_year']}")


if __name__ == "__main__":
    main()
