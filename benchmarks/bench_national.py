"""How long does the national run take, and how well does it scale out?

Two measurements (wall-clock seconds, ``time.perf_counter``):

1. **One commune-year × 30 replications**: the urban ward of
   ``scenarios/quang-nam-urban-ward.yaml`` over 250 working days, serially
   and on 2 worker processes.
2. **The national run**: ``scenarios/national/vietnam.yaml`` (3,321 SYNTHETIC
   communes, one year of 250 working days, 10 replications each, current
   staffing) through the real sweep machinery (``run_sweep``: task files,
   tables, plot) on a local Dask cluster of 1 and of 2 worker processes.

The whole national run is 33,210 tasks, about two CPU hours: too long for a
benchmark. By default the script runs a random sample of communes, stratified
by class in the national proportions (fixed seed), and EXTRAPOLATES linearly
(national time = sample time × 3,321 / sample size); the output says so. Pass
``--full`` to run every commune instead.

It ends with the issue's targets, each marked met or NOT MET on this machine,
and the fewest workers that would meet the national ones by the projection.

Parallel efficiency on 2 workers is ``T1 / (2 × T2)``. The projection to N
workers assumes that efficiency holds (tasks are independent and a few tenths
of a second each, so scheduling costs stay small against them); a real
cluster adds network latency, so treat large-N figures as a best case.

    python benchmarks/bench_national.py [--sample 40] [--full] [--seed 1]

Needs the ``dask`` extra (``pip install -e ".[dask]"``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
import tempfile
import time
from pathlib import Path

from simulator.backends import DaskBackend
from simulator.runner import run_replications
from simulator.scenario import load_scenario
from simulator.sweep import SizeOptions, SweepPlan, plan_sweep, run_sweep

REPO = Path(__file__).resolve().parents[1]
URBAN = REPO / "scenarios" / "quang-nam-urban-ward.yaml"
NATIONAL = REPO / "scenarios" / "national" / "vietnam.yaml"
PROJECTED_WORKERS = (1, 2, 4, 8, 16, 32, 64, 128)


def commune_year(replications: int = 30, workers: int = 1) -> float:
    """Seconds for ``replications`` one-year replications of the urban ward
    (``workers`` processes; process start-up included)."""
    sc = load_scenario(URBAN, overrides={"horizon.days": 250})
    start = time.perf_counter()
    run_replications(sc, replications, sc.seed, workers=workers)
    return time.perf_counter() - start


def stratified_sample(plan: SweepPlan, size: int, seed: int) -> SweepPlan:
    """``size`` communes drawn per class in the national proportions, re-indexed."""
    rng = random.Random(seed)
    by_class: dict[str, list] = {}
    for v in plan.variants:
        by_class.setdefault(str(v.columns["class"]), []).append(v)
    total = len(plan.variants)
    quotas = {c: size * len(vs) / total for c, vs in by_class.items()}
    counts = {c: math.floor(q) for c, q in quotas.items()}
    for c in sorted(quotas, key=lambda c: quotas[c] - counts[c], reverse=True):
        if sum(counts.values()) >= size:
            break
        counts[c] += 1
    chosen = [v for c, vs in sorted(by_class.items()) for v in rng.sample(vs, counts[c])]
    chosen.sort(key=lambda v: v.index)
    variants = [dataclasses.replace(v, index=i) for i, v in enumerate(chosen)]
    return dataclasses.replace(plan, variants=variants, _sha256=None)


def timed_sweep(plan: SweepPlan, workers: int) -> tuple[float, float]:
    """(cluster start-up seconds, sweep seconds) on a local Dask cluster of ``workers``."""
    with tempfile.TemporaryDirectory(prefix="pasc-bench-") as tmp:
        start = time.perf_counter()
        with DaskBackend(workers=workers, key_prefix=f"{plan.key_prefix()}-w{workers}") as backend:
            assert backend.client is not None  # start the cluster outside the timed sweep
            startup = time.perf_counter() - start
            start = time.perf_counter()
            run_sweep(plan, Path(tmp) / "sweep", backend)
            return startup, time.perf_counter() - start


def hms(seconds: float) -> str:
    h, rest = divmod(round(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h:d} h {m:02d} min" if h else f"{m:d} min {s:02d} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=40, help="communes to run (default 40)")
    parser.add_argument("--full", action="store_true", help="run all 3,321 communes")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample draw")
    parser.add_argument(
        "--sizing-sample",
        type=int,
        default=16,
        help="communes to size for the national sizing estimate (0: skip)",
    )
    args = parser.parse_args()

    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {load:.1f} at start", end="")
    busy = " (above 0.5: other processes may share the cores; times may be pessimistic)"
    print(busy if load > 0.5 else "")
    serial = commune_year(30)
    seconds = commune_year(30, workers=2)
    print("1. One commune-year × 30 replications (urban ward, 60 records/day, 250 days)")
    print(f"   serial: {serial:.2f} s wall, {serial / 30:.3f} s per replication")
    print(f"   2 worker processes (`pasc run --workers 2`): {seconds:.2f} s wall\n")

    national = plan_sweep(NATIONAL)
    n_all = len(national.variants)
    plan = national if args.full else stratified_sample(national, args.sample, args.seed)
    n = len(plan.variants)
    tasks = len(plan.task_names())
    scale = n_all / n
    mix = {}
    for v in plan.variants:
        mix[v.columns["class"]] = mix.get(v.columns["class"], 0) + 1
    print(
        f"2. National run: {n_all} SYNTHETIC communes × 10 replications × 250 working days, "
        "current staffing"
    )
    if args.full:
        print(f"   measured on every commune ({tasks} tasks)")
    else:
        print(
            f"   MEASURED ON A SAMPLE of {n} communes ({tasks} tasks; stratified by class: "
            f"{', '.join(f'{k} {v}' for k, v in sorted(mix.items()))}; seed {args.seed}),"
        )
        print(f"   EXTRAPOLATED ×{scale:.1f} to the {n_all} communes")
    results = {}
    for workers in (1, 2):
        startup, wall = timed_sweep(plan, workers)
        results[workers] = wall
        print(
            f"   {workers} worker{'s' if workers > 1 else ' '}: {wall:7.1f} s measured "
            f"(+{startup:.1f} s cluster start-up), {wall / tasks * 1000:6.1f} ms per task; "
            f"national {'' if args.full else '≈ '}{hms(wall * scale)}"
        )
    efficiency = results[1] / (2 * results[2])
    print(f"   parallel efficiency on 2 workers: {efficiency:.0%} (T1 / (2 × T2))\n")
    national_1 = results[1] * scale
    print(
        "3. Projected national run on N workers "
        f"(T1 / (N × {efficiency:.2f}); assumes the 2-worker efficiency holds)"
    )
    for workers in PROJECTED_WORKERS:
        eff = 1.0 if workers == 1 else efficiency
        print(f"   N = {workers:4d}: {hms(national_1 / (workers * eff)):>13}")

    sizing_2 = None
    if args.sizing_sample > 0:
        sizing = stratified_sample(
            plan_sweep(NATIONAL, size=SizeOptions()), args.sizing_sample, args.seed
        )
        startup, wall = timed_sweep(sizing, 2)
        scale = n_all / len(sizing.variants)
        sizing_2 = wall * scale
        print(
            f"\n4. National sizing (`pasc sweep ... --size`): MEASURED ON A SAMPLE of "
            f"{len(sizing.variants)} communes on 2 workers: {wall:.1f} s "
            f"(+{startup:.1f} s start-up), {wall / len(sizing.variants):.1f} s per commune; "
            f"EXTRAPOLATED national ≈ {hms(sizing_2)} on 2 workers, "
            f"≈ {hms(sizing_2 * 2 / 8)} on 8 (same efficiency)"
        )

    print("\n5. Targets (issue 6)")
    national_2 = results[2] * (n_all / n)
    print(f"   commune-year × 30 ≤ 5 s:    {seconds:.1f} s on 2 workers  {_met(seconds <= 5)}")
    print(f"   2-worker efficiency ≥ 80 %: {efficiency:.0%}  {_met(efficiency >= 0.8)}")
    print(
        f"   national run ≤ 10 min:      {hms(national_2)} on 2 workers  "
        f"{_met(national_2 <= 600)}; projected on N ≥ "
        f"{_workers_for(national_1, efficiency, 600)} workers"
    )
    if sizing_2 is not None:
        print(
            f"   national sizing ≤ 30 min:   {hms(sizing_2)} on 2 workers  "
            f"{_met(sizing_2 <= 1800)}; projected on N ≥ "
            f"{_workers_for(sizing_2 * 2 * efficiency, efficiency, 1800)} workers"
        )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def _workers_for(one_worker_seconds: float, efficiency: float, limit: float) -> int:
    """Fewest workers whose projected time (T1 / (N × efficiency)) is within ``limit``."""
    if one_worker_seconds <= limit:
        return 1
    return math.ceil(one_worker_seconds / (limit * efficiency))


if __name__ == "__main__":
    main()
