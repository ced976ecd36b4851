"""The user's path, measured: issue 11's three performance targets side by side, in one run.

1. ``pasc run`` of the shipped urban ward, wall time of the whole command (a
   fresh process: imports, simulation, tables, the run folder with its six
   pictures and report), against the simulation alone of the same
   replications (records kept, as ``pasc run`` does). Target: at most
   2 x the simulation time + 1.5 s.
2. Records on against records off: one M/M/4 replication with
   ``keep_records=True`` and with ``False``. Target: on costs at most 1.25 x off.
3. The engine against bare SimPy and Ciw on the M/M/4 queue of
   ``bench_mm4.py``. Target: pasc at least 2.5 x bare SimPy and 5 x Ciw
   (customers per second).

Every measurement runs ``--repeat`` times in interleaved rounds; within a round
the things compared run back to back, in an order that turns from one round
to the next. The verdict is on the median of the rounds' own ratios: on a
shared virtual machine the speed drifts in spells (10-40 % from one minute
to the next), so the best time of each, measured in different spells, can
pair a fast spell of one with a slow spell of the other, while the two
halves of a round share theirs. The best-of ratio and the range of the
rounds' ratios are printed beside it. Engine times (2, 3) are CPU seconds of
this process; the ``pasc run`` comparison (1) is wall time, which is what
the user waits, so run it on a quiet machine (the load average is printed).
The package's modules are compiled to bytecode first, as an installation
does, so that an environment with ``PYTHONDONTWRITEBYTECODE`` set does not
make every ``pasc run`` compile them again.
``--instructions`` adds, for 2 and 3, the machine instructions per customer
counted by valgrind (``benchmarks/instructions.py``), which a noisy machine
does not blur.

    python benchmarks/bench_user_path.py [--repeat 3] [--customers 200000] [--instructions]
"""

from __future__ import annotations

import argparse
import compileall
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_mm4 import pasc_mmc
from peers import bare_simpy_mmc, ciw_mmc

from simulator.model import simulate_replication
from simulator.runner import run_replications
from simulator.scenario import load_scenario
from simulator.scenario.examples import mmc_scenario

REPO = Path(__file__).resolve().parents[1]
URBAN_WARD = REPO / "scenarios" / "quang-nam-urban-ward.yaml"

USER_PATH_FACTOR, USER_PATH_SECONDS = 2.0, 1.5
RECORDS_MAX = 1.25
SIMPY_MIN, CIW_MIN = 2.5, 5.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pasc_run_seconds(scenario: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU time (its processes together) of ``pasc run SCENARIO`` in a fresh
    process, as a user types it."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "simulator.cli", "run", str(scenario), "--out", str(out), "-q"],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=REPO,
    )
    return time.perf_counter() - start, _children_cpu() - cpu


def simulation_seconds(scenario: Path) -> tuple[float, float]:
    """Wall and CPU time of the same replications alone (records kept, one process)."""
    sc = load_scenario(scenario)
    gc.collect()  # the previous run's garbage first: no engine pays for another's
    cpu, start = time.process_time(), time.perf_counter()
    run_replications(sc, sc.replications, sc.seed, keep_records=True)
    return time.perf_counter() - start, time.process_time() - cpu


def mm4_seconds(keep_records: bool, customers: int) -> float:
    """CPU seconds of one M/M/4 replication (rho 0.9, mean service 10 min)."""
    per_minute = 0.9 * 4 / 10.0
    days = max(1, round(customers / (per_minute * 1440)))
    sc = load_scenario(mmc_scenario(4, 0.9, 10.0, days=days, warmup_days=0))
    gc.collect()  # the previous run's garbage first: no engine pays for another's
    start = time.process_time()
    out = simulate_replication(sc, 1, 0, keep_records)
    seconds = time.process_time() - start
    del out
    return seconds


#: What a round measures, in this order (every other round, the reverse order).
_ROUND = ("run", "records", "engines")
_ENGINES = {"pasc": pasc_mmc, "bare SimPy": bare_simpy_mmc, "Ciw": ciw_mmc}


def _spread(ratios: list[float]) -> str:
    """``(rounds lowest-highest)`` of the rounds' ratios."""
    return f"(rounds {min(ratios):.2f}-{max(ratios):.2f})"


def verdict(ok: bool) -> str:
    return "meets the target" if ok else "MISSES the target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--scenario", type=Path, default=URBAN_WARD)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (valgrind)"
    )
    args = parser.parse_args()

    compileall.compile_dir(REPO / "simulator", quiet=1)
    simulation_seconds(args.scenario)  # warm the file cache and the imports once
    runs, sims, on, off, engines = [], [], [], [], []
    with tempfile.TemporaryDirectory() as out:
        for i in range(args.repeat):
            turn = i % 2 == 1  # every other round, the other order
            for step in reversed(_ROUND) if turn else _ROUND:
                if step == "run":
                    if turn:
                        sims.append(simulation_seconds(args.scenario))
                    runs.append(pasc_run_seconds(args.scenario, Path(out)))
                    if not turn:
                        sims.append(simulation_seconds(args.scenario))
                elif step == "records":
                    pair = [mm4_seconds(keep, args.customers) for keep in (not turn, turn)]
                    on.append(pair[turn])
                    off.append(pair[not turn])
                else:
                    names = list(reversed(_ENGINES) if turn else _ENGINES)
                    engines.append({n: _ENGINES[n](customers=args.customers) for n in names})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.repeat} interleaved rounds; verdicts on the median of the rounds' ratios; "
        f"{os.cpu_count()} cores, load average {load:.2f} at the end"
    )

    run_s, sim_s = min(r[0] for r in runs), min(s[0] for s in sims)
    limit = USER_PATH_FACTOR * sim_s + USER_PATH_SECONDS
    run_cpu, sim_cpu = min(r[1] for r in runs), min(s[1] for s in sims)
    excess = [(r[0] - USER_PATH_SECONDS) / s[0] for r, s in zip(runs, sims, strict=True)]
    median = statistics.median(excess)
    print(
        f"\n1. pasc run {args.scenario.name}: (run - {USER_PATH_SECONDS:g} s) / simulation = "
        f"{median:.2f}x {_spread(excess)} (target <= {USER_PATH_FACTOR:g}x): "
        f"{verdict(median <= USER_PATH_FACTOR)}\n"
        f"   best of each: run {run_s:.2f} s wall, its simulation {sim_s:.2f} s, so "
        f"{(run_s - USER_PATH_SECONDS) / sim_s:.2f}x (a limit of {USER_PATH_FACTOR:g} x "
        f"{sim_s:.2f} + {USER_PATH_SECONDS:g} = {limit:.2f} s)"
    )
    print(
        f"   CPU seconds (all processes; the wall time of one busy core): pasc run "
        f"{run_cpu:.2f} s, simulation {sim_cpu:.2f} s, (run - {USER_PATH_SECONDS:g}) / "
        f"simulation = {(run_cpu - USER_PATH_SECONDS) / sim_cpu:.2f}x"
    )

    ratios = [a / b for a, b in zip(on, off, strict=True)]
    median = statistics.median(ratios)
    print(
        f"2. records on / off, M/M/4 {args.customers:,} customers: {median:.2f}x CPU "
        f"{_spread(ratios)} (target <= {RECORDS_MAX:g}x): "
        f"{verdict(median <= RECORDS_MAX)}; best of each {min(on):.2f} s / {min(off):.2f} s "
        f"= {min(on) / min(off):.2f}x"
    )

    def rate(name: str) -> float:
        best = min((r[name] for r in engines), key=lambda x: x["seconds"])
        return best["customers"] / best["seconds"]

    def round_rate(r: dict, name: str) -> float:
        return r[name]["customers"] / r[name]["seconds"]

    for peer, target in (("bare SimPy", SIMPY_MIN), ("Ciw", CIW_MIN)):
        ratios = [round_rate(r, "pasc") / round_rate(r, peer) for r in engines]
        median = statistics.median(ratios)
        print(
            f"3. engine / {peer}: {median:.2f}x customers/s CPU "
            f"{_spread(ratios)} (target >= {target:g}x): {verdict(median >= target)}; "
            f"best of each {rate('pasc'):,.0f} / {rate(peer):,.0f} = "
            f"{rate('pasc') / rate(peer):.2f}x"
        )
    if args.instructions:
        print_instructions()


def print_instructions() -> None:
    """Targets 2 and 3 in machine instructions per customer (valgrind)."""
    import instructions

    if not instructions.available():
        print("instructions: valgrind is not installed (apt-get install valgrind)")
        return
    cost = {e: instructions.per_customer(e) for e in instructions.ENGINES}
    print("\nInstructions per customer (valgrind; noise about 1 %):")
    ratio = cost["records on"] / cost["records off"]
    print(
        f"2. records on / off: {cost['records on']:,.0f} / {cost['records off']:,.0f} = "
        f"{ratio:.3f}x (target <= {RECORDS_MAX:g}x): {verdict(ratio <= RECORDS_MAX)}"
    )
    for peer, target in (("bare SimPy", SIMPY_MIN), ("Ciw", CIW_MIN)):
        ratio = cost[peer] / cost["pasc"]
        print(
            f"3. engine / {peer}: {cost[peer]:,.0f} / {cost['pasc']:,.0f} = {ratio:.2f}x fewer "
            f"(target >= {target:g}x): {verdict(ratio >= target)}"
        )


if __name__ == "__main__":
    main()
