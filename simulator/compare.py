"""Several scenarios side by side, with common random numbers and paired differences.

Two scenarios run with the same seed see the same citizens wherever their
demand is the same: replication ``i`` of each draws its arrivals, procedure
mix and service times from streams keyed by (seed, i, source name), never by
the staffing or the scenario name. Replication ``i`` of A and replication
``i`` of B are therefore a *pair*, and the difference of a KPI is estimated
from the per-replication differences ``B_i - A_i``:

    mean ± t(0.975, n-1) · sd(B_i - A_i) / √n

Because A_i and B_i are positively correlated (same citizens), this interval
is much narrower than what two independent intervals would suggest: a
difference can be real even where the two scenarios' own intervals overlap.
Comparing a scenario with itself gives exactly zero with a zero-width
interval, which is a good check that the pairing holds.

With more than two scenarios every scenario is compared with the first one
(the baseline).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulator.display import json_number
from simulator.results import RunResult, build_run_result, t_interval
from simulator.runner import BackendChoice, open_backend, run_replications
from simulator.scenario import Scenario, load_scenario


def paired_difference(
    baseline: Sequence[float] | np.ndarray, other: Sequence[float] | np.ndarray
) -> tuple[float, float, float, int]:
    """``(mean, ci_low, ci_high, n)`` of ``other - baseline``, replication by replication.

    Pairs where either value is NaN (the KPI is undefined in that replication,
    e.g. no walk-in at all) are left out; ``n`` counts the pairs used.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"expected as many replications in both, found {a.size} and {b.size}")
    diff = b - a
    diff = diff[~np.isnan(diff)]
    mean, low, high = t_interval(diff)
    return mean, low, high, int(diff.size)


def unique_labels(names: Sequence[str]) -> list[str]:
    """Scenario names made unique for table columns: ``a, a`` -> ``a, a#2``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


@dataclass
class Comparison:
    """Runs of several scenarios with the same seed and number of replications.

    ``results[i]`` is the :class:`~simulator.results.RunResult` of scenario
    ``i``, labelled ``labels[i]`` (its name, made unique). :meth:`summary`
    stacks their KPI summaries, :meth:`side_by_side` puts them in columns,
    :meth:`differences` gives the paired differences against the first.
    """

    results: list[RunResult]
    labels: list[str]
    seed: int
    replications: int

    @property
    def scenarios(self) -> list[Scenario]:
        return [r.scenario for r in self.results]

    def kpi_names(self) -> list[str]:
        """Every KPI of any scenario, in the first scenario's display order."""
        names: list[str] = []
        for r in self.results:
            names += [c for c in r.kpis.columns if c != "replication" and c not in names]
        return names

    def summary(self) -> pd.DataFrame:
        """Long table: scenario, kpi, mean, ci_low, ci_high, sd, n."""
        frames = []
        for label, r in zip(self.labels, self.results, strict=True):
            s = r.summary()
            s.insert(0, "scenario", label)
            frames.append(s)
        return pd.concat(frames, ignore_index=True)

    def side_by_side(self) -> pd.DataFrame:
        """Wide table: one row per KPI; ``<label>.mean``, ``.ci_low``, ``.ci_high`` columns."""
        out = pd.DataFrame({"kpi": self.kpi_names()})
        for label, r in zip(self.labels, self.results, strict=True):
            s = r.summary().set_index("kpi")
            for col in ("mean", "ci_low", "ci_high"):
                out[f"{label}.{col}"] = out["kpi"].map(s[col])
        return out

    def differences(self) -> pd.DataFrame:
        """Paired differences against the first scenario: baseline, scenario, kpi, mean,
        ci_low, ci_high, n (``scenario - baseline``, per replication, then t-interval)."""
        rows = []
        base = self.results[0].kpis.set_index("replication")
        for label, r in zip(self.labels[1:], self.results[1:], strict=True):
            other = r.kpis.set_index("replication")
            for kpi in self.kpi_names():
                if kpi not in base.columns or kpi not in other.columns:
                    continue
                joined = pd.concat([base[kpi], other[kpi]], axis=1, join="inner")
                mean, low, high, n = paired_difference(joined.iloc[:, 0], joined.iloc[:, 1])
                rows.append(
                    {
                        "baseline": self.labels[0],
                        "scenario": label,
                        "kpi": kpi,
                        "mean": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "n": n,
                    }
                )
        columns = ["baseline", "scenario", "kpi", "mean", "ci_low", "ci_high", "n"]
        return pd.DataFrame(rows, columns=columns)

    def targets(self) -> pd.DataFrame:
        """Each scenario's target verdicts, stacked: scenario, kpi, op, threshold, ..."""
        frames = []
        for label, r in zip(self.labels, self.results, strict=True):
            t = r.targets()
            t.insert(0, "scenario", label)
            frames.append(t)
        return pd.concat(frames, ignore_index=True)

    def kpis(self) -> pd.DataFrame:
        """Per-replication KPIs of every scenario, stacked with a ``scenario`` column."""
        frames = []
        for label, r in zip(self.labels, self.results, strict=True):
            k = r.kpis.copy()
            k.insert(0, "scenario", label)
            frames.append(k)
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """The ``pasc compare --json`` shape (NaN becomes null)."""

        num = json_number

        kpis: dict[str, dict[str, Any]] = {}
        for r in self.summary().itertuples():
            kpis.setdefault(r.kpi, {})[r.scenario] = {
                "mean": num(r.mean),
                "ci_low": num(r.ci_low),
                "ci_high": num(r.ci_high),
            }
        diffs: list[dict[str, Any]] = []
        all_diffs = self.differences()
        for label in self.labels[1:]:
            d = all_diffs[all_diffs["scenario"] == label]
            diffs.append(
                {
                    "baseline": self.labels[0],
                    "scenario": label,
                    "kpis": {
                        r.kpi: {
                            "mean": num(r.mean),
                            "ci_low": num(r.ci_low),
                            "ci_high": num(r.ci_high),
                        }
                        for r in d.itertuples()
                    },
                }
            )
        return {
            "scenarios": list(self.labels),
            "replications": self.replications,
            "seed": self.seed,
            "kpis": kpis,
            "differences": diffs,
            "targets": {
                label: r.to_dict()["targets"]
                for label, r in zip(self.labels, self.results, strict=True)
            },
        }


def compare(
    scenarios: Sequence[Scenario | str],
    replications: int | None = None,
    seed: int | None = None,
    *,
    workers: int = 1,
    records: bool = False,
    progress: Callable[[int, int], None] | None = None,
    backend: BackendChoice = None,
    scheduler: str | None = None,
) -> Comparison:
    """Run every scenario with the same seed and replications (common random numbers).

    ``replications`` defaults to the largest of the scenarios' own, ``seed``
    to the first scenario's: the pairing needs one seed for all. ``records``
    keeps the per-record tables (off by default: the comparison needs only
    KPIs). ``progress(done, total)`` counts replications over all scenarios.
    ``workers`` / ``backend`` / ``scheduler`` say where replications run, as in
    :func:`simulator.run`; one backend serves every scenario.
    """
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    if not loaded:
        raise ValueError("expected at least one scenario, found none")
    reps = max(s.replications for s in loaded) if replications is None else int(replications)
    if reps < 1:
        raise ValueError(f"expected at least 1 replication, found {reps}")
    seed = loaded[0].seed if seed is None else int(seed)
    total = reps * len(loaded)
    results = []
    with open_backend(backend, workers=workers, scheduler=scheduler) as runner:
        for i, sc in enumerate(loaded):
            offset = i * reps

            def tick(done: int, _total: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + done, total)

            outputs = run_replications(
                sc, reps, seed, keep_records=records, progress=tick, backend=runner
            )
            results.append(build_run_result(sc, seed, outputs, records=records))
    return Comparison(results, unique_labels([s.name for s in loaded]), seed, reps)


__all__ = [
    "Comparison",
    "compare",
    "paired_difference",
    "unique_labels",
]
