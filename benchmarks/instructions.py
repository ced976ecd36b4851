"""Instructions per customer on the M/M/4 queue, counted by valgrind: a measure of
the engines' cost that a noisy machine does not blur.

CPU seconds on a shared virtual machine vary by 20 % or more from one run to
the next, even best-of-several; the number of machine instructions a run
executes does not (within about 1 %). Each engine runs twice, in a fresh
process under ``valgrind --tool=cachegrind`` (hash seed fixed, address-space
randomization off where ``setarch`` exists, one BLAS thread), at ``small`` and ``large``
customers; the difference divided by the difference in customers is the cost
of one customer, without Python's start-up and imports. Instructions are not
time (they miss cache misses, and one instruction is not as costly as
another), so this is a second opinion beside the CPU-time ratios, not a
replacement.

    python benchmarks/instructions.py [--small 5000] [--large 45000]
    python benchmarks/bench_user_path.py --instructions
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: "records off" is the engine as ``pasc``; both are kept so each pair is measured alike.
ENGINES = ("records on", "records off", "pasc", "bare SimPy", "Ciw")


def available() -> bool:
    """valgrind is installed."""
    return shutil.which("valgrind") is not None


def run_once(engine: str, customers: int) -> int:
    """One run of ``engine`` (the process that valgrind counts); the customers served."""
    sys.path.insert(0, str(HERE))
    if engine in ("records on", "records off", "pasc"):
        from bench_mm4 import pasc_mmc

        return pasc_mmc(customers=customers, keep_records=engine == "records on")["customers"]
    if engine == "bare SimPy":
        from peers import bare_simpy_mmc

        return bare_simpy_mmc(customers=customers)["customers"]
    if engine == "Ciw":
        from peers import ciw_mmc

        return ciw_mmc(customers=customers)["customers"]
    raise SystemExit(f"expected one of {', '.join(ENGINES)}, found {engine!r}")


def count(engine: str, customers: int) -> tuple[int, int]:
    """Machine instructions of one fresh process running ``engine`` once, and the
    customers it had."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        "run",
        engine,
        str(customers),
    ]
    if shutil.which("setarch"):
        command = ["setarch", "-R", *command]
    out = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        # One BLAS thread: numpy's OpenBLAS threads spin for a while after its
        # start-up check, adding a varying count of instructions to every run.
        env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"},
    )
    match = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(match.group(1).replace(",", "")), int(out.stdout.split()[-1])


def per_customer(engine: str, small: int = 5_000, large: int = 45_000) -> float:
    """Instructions per customer of ``engine``: the difference in instructions between a
    run of ``large`` and one of ``small`` customers, over the difference in customers."""
    (big, n_big), (little, n_little) = count(engine, large), count(engine, small)
    return (big - little) / (n_big - n_little)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action")
    once = sub.add_parser("run", help="run one engine once (what valgrind counts)")
    once.add_argument("engine", choices=ENGINES)
    once.add_argument("customers", type=int)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--large", type=int, default=45_000)
    args = parser.parse_args()
    if args.action == "run":
        print(run_once(args.engine, args.customers))
        return
    if not available():
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    costs = {e: per_customer(e, args.small, args.large) for e in ENGINES}
    for engine, cost in costs.items():
        print(f"{engine:<12}{cost:>12,.0f} instructions per customer")
    print(f"records on / off: {costs['records on'] / costs['records off']:.3f}")
    for peer in ("bare SimPy", "Ciw"):
        print(f"pasc / {peer}: {costs[peer] / costs['pasc']:.2f}x fewer instructions")


if __name__ == "__main__":
    main()
