"""pasc against bare SimPy and Ciw on the same M/M/4 queue, in one run.

M/M/4, utilization 0.9, mean service 10 minutes, 200,000 customers (issue 2).
pasc runs its full engine (continuous calendar, priority queues, streaming
KPIs); bare SimPy is the idiomatic process-per-customer model; Ciw is Ciw 3.
The three run in interleaved rounds (pasc, SimPy, Ciw, pasc, ...) ``--repeat``
times, so a slow spell of a shared VM hits every engine alike; the best time of
each is kept (noise only ever adds time), and the median of the per-round
ratios is printed beside the best-of ratios. Times are CPU seconds of this
process (``time.process_time``), so a busy second core does not distort the
ratios; on an idle machine they equal the wall time.

    python benchmarks/bench_mm4.py [--customers 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from peers import bare_simpy_mmc, ciw_mmc, theoretical_mean_wait

from simulator.model import simulate_replication
from simulator.scenario import load_scenario
from simulator.scenario.examples import mmc_scenario


def pasc_mmc(
    customers: int = 200_000,
    servers: int = 4,
    rho: float = 0.9,
    mean_service: float = 10.0,
    seed: int = 1,
    keep_records: bool = False,
) -> dict:
    """The same queue as a pasc scenario: one replication of enough 24-hour days
    (``keep_records``: with the records, hourly and daily tables)."""
    per_minute = rho * servers / mean_service
    days = max(1, round(customers / (per_minute * 1440)))
    scenario = load_scenario(mmc_scenario(servers, rho, mean_service, days=days, warmup_days=0))
    gc.collect()  # the previous run's garbage first: no engine pays for another's
    start = time.process_time()
    out = simulate_replication(scenario, seed, 0, keep_records)
    seconds = time.process_time() - start
    return {
        "customers": int(out.kpis["records_filed"]),
        "seconds": seconds,
        "mean_wait": out.kpis["wait_minutes.mean"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    theory = theoretical_mean_wait(4, 0.9, 10.0)
    engines = {"pasc": pasc_mmc, "bare SimPy": bare_simpy_mmc, "Ciw": ciw_mmc}
    rounds = [
        {name: fn(customers=args.customers) for name, fn in engines.items()}
        for _ in range(args.repeat)
    ]
    best = {name: min((r[name] for r in rounds), key=lambda x: x["seconds"]) for name in engines}
    print(
        f"M/M/4, rho 0.9, mean service 10 min, {args.customers:,} customers, "
        f"{args.repeat} interleaved rounds; Erlang C mean wait {theory:.2f} min"
    )
    print(f"{'engine':<12}{'best s':>9}{'customers/s':>14}{'mean wait':>11}")
    for name, r in best.items():
        rate = r["customers"] / r["seconds"]
        print(f"{name:<12}{r['seconds']:>9.3f}{rate:>14,.0f}{r['mean_wait']:>11.2f}")

    def rate(r: dict) -> float:
        return r["customers"] / r["seconds"]

    for peer in ("bare SimPy", "Ciw"):
        per_round = sorted(rate(r["pasc"]) / rate(r[peer]) for r in rounds)
        print(
            f"pasc / {peer}: {rate(best['pasc']) / rate(best[peer]):.2f}x best of each, "
            f"{statistics.median(per_round):.2f}x median round "
            f"(rounds {per_round[0]:.2f}-{per_round[-1]:.2f})"
        )


if __name__ == "__main__":
    main()
