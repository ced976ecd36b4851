"""Peer implementations of the same M/M/c queue, for benchmarking ``pasc``.

Both peers simulate an M/M/c FIFO queue (default M/M/4, mean service 10 min,
utilisation 0.9, so arrivals at 0.36 per minute) until ``customers`` customers
have arrived:

* :func:`bare_simpy_mmc` -- idiomatic SimPy: one process per customer and a
  ``simpy.Resource`` with ``c`` servers, random numbers from ``random.Random``.
* :func:`ciw_mmc` -- the same model in Ciw 3.

Each returns ``{"customers": ..., "seconds": ..., "mean_wait": ...}`` where
``seconds`` is the CPU time of model build + run only (imports excluded).
:func:`theoretical_mean_wait` gives the Erlang C mean wait in queue as a sanity
check.

Run ``python benchmarks/peers.py [customers]`` to time both.
"""

from __future__ import annotations

import gc
import random
import sys
import time

import ciw
import simpy


def theoretical_mean_wait(servers: int = 4, rho: float = 0.9, mean_service: float = 10.0) -> float:
    """Mean wait in queue (Wq) of an M/M/c queue, via the Erlang C formula.

    ``rho`` is the per-server utilisation, ``lambda / (c * mu)``.
    """
    if not 0.0 < rho < 1.0:
        raise ValueError("rho must be in (0, 1) for a stable queue")
    c = servers
    a = rho * c  # offered load in Erlangs, lambda / mu
    # sum_{k<c} a^k / k!  and  a^c / c!, built iteratively to avoid big factorials
    term = 1.0
    partial = 0.0
    for k in range(c):
        partial += term
        term *= a / (k + 1)
    # term is now a^c / c!
    tail = term / (1.0 - rho)
    prob_wait = tail / (partial + tail)  # Erlang C: P(wait > 0)
    mu = 1.0 / mean_service
    return prob_wait / (c * mu - a * mu)


def bare_simpy_mmc(
    customers: int = 200_000,
    servers: int = 4,
    rho: float = 0.9,
    mean_service: float = 10.0,
    seed: int = 1,
) -> dict:
    """Idiomatic SimPy M/M/c: a source process spawning one process per customer."""
    arrival_rate = rho * servers / mean_service
    service_rate = 1.0 / mean_service

    gc.collect()  # the previous run's garbage first: no engine pays for another's

    start = time.process_time()
    rng = random.Random(seed)
    env = simpy.Environment()
    resource = simpy.Resource(env, capacity=servers)
    waits: list[float] = []

    def customer(env: simpy.Environment):
        arrived = env.now
        with resource.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(service_rate))

    def source(env: simpy.Environment):
        for _ in range(customers):
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(customer(env))

    env.process(source(env))
    env.run()
    seconds = time.process_time() - start

    return {
        "customers": customers,
        "seconds": seconds,
        "mean_wait": sum(waits) / len(waits) if waits else float("nan"),
    }


def ciw_mmc(
    customers: int = 200_000,
    servers: int = 4,
    rho: float = 0.9,
    mean_service: float = 10.0,
    seed: int = 1,
) -> dict:
    """The same M/M/c queue in Ciw 3, run until ``customers`` have arrived."""
    arrival_rate = rho * servers / mean_service
    service_rate = 1.0 / mean_service

    gc.collect()  # the previous run's garbage first: no engine pays for another's

    start = time.process_time()
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=service_rate)],
        number_of_servers=[servers],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(customers, method="Arrive")
    seconds = time.process_time() - start

    # Records exist only for completed services; customers still queued or in
    # service when the run stops (a handful) are not included.
    waits = [r.waiting_time for r in sim.get_all_records()]
    return {
        "customers": customers,
        "seconds": seconds,
        "mean_wait": sum(waits) / len(waits) if waits else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    customers = int(argv[0]) if argv else 200_000
    servers, rho, mean_service = 4, 0.9, 10.0
    theory = theoretical_mean_wait(servers, rho, mean_service)
    print(
        f"M/M/{servers}, rho={rho}, mean service={mean_service} min, "
        f"{customers:,} customers; Erlang C mean wait = {theory:.3f} min"
    )
    for name, fn in (("bare simpy", bare_simpy_mmc), ("ciw", ciw_mmc)):
        res = fn(customers, servers, rho, mean_service)
        rate = res["customers"] / res["seconds"]
        err = 100.0 * (res["mean_wait"] - theory) / theory
        print(
            f"{name:>10}: {res['seconds']:8.3f} s  {rate:12,.0f} customers/s  "
            f"mean wait {res['mean_wait']:7.3f} min ({err:+.1f}% vs theory)"
        )


if __name__ == "__main__":
    main()
