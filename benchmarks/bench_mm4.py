"""pasc against bare SimPy and Ciw on the same M/M/4 queue, in one run.

M/M/4, utilization 0.9, mean service 10 minutes, 200,000 customers (issue 2).
pasc runs its full engine (continuous calendar, priority queues, streaming
KPIs); bare SimPy is the idiomatic process-per-customer model; Ciw is Ciw 3.
Each is run ``--repeat`` times and the best time is kept (noise only ever adds
time). Times are CPU seconds of this process (``time.process_time``), so a busy
second core does not distort the ratios; on an idle machine they equal the
wall time. Prints customers per second and the ratios.

    python benchmarks/bench_mm4.py [--customers 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
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
) -> dict:
    """The same queue as a pasc scenario: one replication of enough 24-hour days."""
    per_minute = rho * servers / mean_service
    days = max(1, round(customers / (per_minute * 1440)))
    scenario = load_scenario(mmc_scenario(servers, rho, mean_service, days=days, warmup_days=0))
    start = time.process_time()
    out = simulate_replication(scenario, seed, 0)
    seconds = time.process_time() - start
    return {
        "customers": int(out.kpis["records_filed"]),
        "seconds": seconds,
        "mean_wait": out.kpis["wait_minutes.mean"],
    }


def best_of(fn, repeat: int, **kw) -> dict:
    runs = [fn(**kw) for _ in range(repeat)]
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    theory = theoretical_mean_wait(4, 0.9, 10.0)
    results = {
        "pasc": best_of(pasc_mmc, args.repeat, customers=args.customers),
        "bare SimPy": best_of(bare_simpy_mmc, args.repeat, customers=args.customers),
        "Ciw": best_of(ciw_mmc, args.repeat, customers=args.customers),
    }
    print(
        f"M/M/4, rho 0.9, mean service 10 min, {args.customers:,} customers, "
        f"best of {args.repeat}; Erlang C mean wait {theory:.2f} min"
    )
    print(f"{'engine':<12}{'seconds':>9}{'customers/s':>14}{'mean wait':>11}")
    for name, r in results.items():
        rate = r["customers"] / r["seconds"]
        print(f"{name:<12}{r['seconds']:>9.3f}{rate:>14,.0f}{r['mean_wait']:>11.2f}")
    pasc_rate = results["pasc"]["customers"] / results["pasc"]["seconds"]
    for peer in ("bare SimPy", "Ciw"):
        rate = results[peer]["customers"] / results[peer]["seconds"]
        print(f"pasc / {peer}: {pasc_rate / rate:.2f}x")


if __name__ == "__main__":
    main()
