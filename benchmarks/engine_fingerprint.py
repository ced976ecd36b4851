"""Did an engine change alter any number? Save a fingerprint before, compare after.

Speed work on the engine (``simulator/model``) should usually leave every
number as it was. This script runs 3 replications of every shipped scenario
and of an M/M/4 queue, with records kept, and writes their KPIs and a sample of
the records table, with a digest of the whole records, hourly and daily tables,
to a JSON file; ``compare`` reruns them and lists every KPI that moved by more
than 1e-9 (relative) and every scenario whose tables changed in any value. It
takes about 5 s on the 2-core machine.

    python benchmarks/engine_fingerprint.py save /tmp/before.json
    # ... change the engine ...
    python benchmarks/engine_fingerprint.py compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

from simulator.model import simulate_replication
from simulator.scenario import load_scenario
from simulator.scenario.examples import mmc_scenario

REPO = Path(__file__).resolve().parents[1]


def fingerprint() -> dict[str, dict]:
    cases = [
        (str(p.relative_to(REPO)), load_scenario(p), None)
        for p in sorted(REPO.glob("scenarios/*.yaml"))
    ]
    cases.append(("mmc", load_scenario(mmc_scenario(4, 0.85, 10.0, days=20, warmup_days=1)), 5))
    out = {}
    for name, sc, seed in cases:
        for r in range(3):
            o = simulate_replication(sc, sc.seed if seed is None else seed, r, keep_records=True)
            columns = [plain(c) for c in (o.records or {}).values()]
            records = list(zip(*columns, strict=True))
            rows = [list(map(str, row)) for row in records[:3000:7]]
            out[f"{name}#{r}"] = {
                "kpis": o.kpis,
                "records": len(records),
                "rows": rows,
                "tables": {t: digest(getattr(o, t)) for t in ("records", "hourly", "daily")},
            }
    return out


def plain(values) -> list:
    """A column as a list of Python values (numpy arrays and lists alike)."""
    return values.tolist() if hasattr(values, "tolist") else list(values)


def digest(columns: dict[str, list] | None) -> str:
    """A digest of every column name and value of a table, in order."""
    h = hashlib.sha256()
    for name, values in (columns or {}).items():
        h.update(repr((name, plain(values))).encode())
    return h.hexdigest()


def compare(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    problems = []
    for case, old in before.items():
        new = after.get(case)
        if new is None:
            problems.append(f"{case}: missing")
            continue
        for kpi, x in old["kpis"].items():
            y = new["kpis"].get(kpi, math.nan)
            same = x == y or (math.isnan(x) and math.isnan(y))
            if not same and not abs(x - y) <= 1e-9 * max(1.0, abs(x)):
                problems.append(f"{case}: {kpi} {x!r} -> {y!r}")
        if old["records"] != new["records"] or old["rows"] != new["rows"]:
            problems.append(
                f"{case}: records table changed ({old['records']} -> {new['records']} rows)"
            )
        for table, value in old.get("tables", {}).items():
            if new.get("tables", {}).get(table) != value:
                problems.append(f"{case}: {table} table changed")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "compare"])
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    if args.action == "save":
        args.file.write_text(json.dumps(fingerprint()))
        print(f"saved {args.file}")
        return
    problems = compare(json.loads(args.file.read_text()), fingerprint())
    print("\n".join(problems) if problems else "same numbers")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
