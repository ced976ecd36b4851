"""simulator.plots: each picture draws the data it claims to, with its targets.

The checks read the drawn artists back (line data, bar heights, scatter
offsets) and compare them with numbers computed independently from the
result tables, so a picture that silently shows the wrong statistic fails.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import busy_office, mmc
from matplotlib.collections import LineCollection, PathCollection, QuadMesh
from matplotlib.figure import Figure

import simulator
from simulator import plots
from simulator.compare import compare
from simulator.quota import QuotaComparison
from simulator.sizing import size

TARGETS = [
    {"kpi": "handle_minutes.p90", "max": 30},
    {"kpi": "wait_minutes.p90", "max": 15},
    {"kpi": "on_time_rate", "min": 0.95},
]


@pytest.fixture(scope="module")
def office_run():
    """An office-calendar center with every channel, rejects and back office: 3 × 5 days."""
    sc = busy_office(horizon={"days": 5, "warmup_days": 1}, targets=TARGETS)
    return simulator.run(sc, replications=3, seed=11)


@pytest.fixture(scope="module")
def sizing_result():
    sc = mmc(
        2,
        0.7,
        10.0,
        days=3,
        warmup_days=0,
        targets=[{"kpi": "wait_minutes.mean", "max": 5}, {"kpi": "utilization", "max": 0.9}],
    )
    return size(sc, replications=3)


def by_gid(ax, gid: str) -> list:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def one_line(ax, gid: str):
    lines = [line for line in ax.get_lines() if line.get_gid() == gid]
    assert len(lines) == 1, f"expected one line with gid {gid!r}, found {len(lines)}"
    return lines[0]


def test_wait_distribution_is_an_ecdf_with_the_target(office_run):
    fig = plots.wait_distribution(office_run)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    ecdf = one_line(ax, "ecdf")
    x, y = np.asarray(ecdf.get_xdata()), np.asarray(ecdf.get_ydata())
    assert y[0] == 0 and y[-1] == 1
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)
    rec = office_run.records
    waits = rec.loc[rec["channel"] == "walk_in", "wait_minutes"].dropna()
    assert len(x) == len(waits) + 1
    np.testing.assert_allclose(x[1:], np.sort(waits.to_numpy()))
    target = one_line(ax, "target")
    assert list(target.get_xdata()) == [15, 15]
    assert list(one_line(ax, "target-share").get_ydata()) == [0.9, 0.9]
    assert "minutes" in ax.get_xlabel()


def test_wait_distribution_explicit_target_and_no_walk_ins(minimal_scenario_dict):
    data = minimal_scenario_dict()
    data["demand"]["channels"] = {"walk_in": 0.0, "online": 1.0}
    result = simulator.run(simulator.load_scenario(data), replications=2, seed=1)
    fig = plots.wait_distribution(result, target_minutes=20)
    assert "no walk-in" in fig.axes[0].texts[0].get_text()


def test_handle_time_has_one_bar_per_field_at_the_target_statistic(office_run):
    fig = plots.handle_time_by_field(office_run)
    (ax,) = fig.axes
    bars = by_gid(ax, "fields")
    desk = office_run.records.dropna(subset=["handle_minutes"])
    fields = [f for f in ("civil-status", "certification", "land") if f in set(desk["field"])]
    assert len(bars) == len(fields) == 3
    for bar, field in zip(bars, fields, strict=True):
        p90 = desk[desk["field"] == field].groupby("replication")["handle_minutes"].quantile(0.9)
        assert bar.get_height() == pytest.approx(p90.mean())
    assert list(one_line(ax, "target").get_ydata()) == [30, 30]
    means = one_line(ax, "means").get_ydata()
    assert means[0] == pytest.approx(desk.loc[desk["field"] == fields[0], "handle_minutes"].mean())
    assert "minutes" in ax.get_ylabel()


def test_staffing_curve_x_values_are_the_candidate_totals(sizing_result):
    fig = plots.staffing_curve(sizing_result)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(sizing_result.scenario.targets) == 2
    totals = sorted(c.total for c in sizing_result.curve)
    for ax, target in zip(axes, sizing_result.scenario.targets, strict=True):
        (points,) = [a for a in by_gid(ax, "candidates") if isinstance(a, PathCollection)]
        assert sorted(points.get_offsets()[:, 0]) == totals
        assert list(one_line(ax, "target").get_ydata()) == [target.threshold] * 2
        star = one_line(ax, "chosen")
        assert list(star.get_xdata()) == [sizing_result.answer_total]
        assert list(one_line(ax, "curve").get_xdata()) == sorted(set(totals))
    assert "staff" in axes[-1].get_xlabel()


def test_staffing_curve_counts_only_the_sized_desks(sizing_result):
    """Desk groups left out of the search keep their count and are not on the x-axis."""
    from dataclasses import replace

    curve = [replace(c, staff={**c.staff, "fixed": 4}) for c in sizing_result.curve]
    fig = plots.staffing_curve(replace(sizing_result, curve=curve))
    (points,) = [a for a in by_gid(fig.axes[0], "candidates") if isinstance(a, PathCollection)]
    assert sorted(points.get_offsets()[:, 0]) == sorted(c.staff["desk"] for c in curve)


def test_staffing_curve_without_answer(sizing_result):
    from dataclasses import replace

    none = replace(sizing_result, answer=None, binding_target=None)
    fig = plots.staffing_curve(none)
    assert all(not by_gid(ax, "chosen") for ax in fig.axes)
    assert "no staffing" in fig.get_suptitle()


def test_hourly_profile_averages_over_days_then_replications(office_run):
    fig = plots.hourly_profile(office_run)
    arrivals_ax, queue_ax, util_ax = fig.axes
    hourly = office_run.hourly
    per_rep = hourly.groupby(["replication", "hour"])["queue_length"].mean().unstack()
    queue = one_line(queue_ax, "queue")
    np.testing.assert_allclose(queue.get_xdata(), per_rep.columns.to_numpy() + 0.5)
    np.testing.assert_allclose(queue.get_ydata(), per_rep.mean().to_numpy())
    pools = [c for c in hourly.columns if c.startswith("utilization.")]
    util_lines = [line for line in util_ax.get_lines() if str(line.get_gid()).startswith("util:")]
    assert len(util_lines) == len(pools) == 3  # two desk groups and the postal agent
    assert sum(bar.get_height() for bar in by_gid(arrivals_ax, "arrivals")) > 0
    # Lunch and the hour after closing are shaded as closed.
    assert any("closed" in t.get_text() for t in util_ax.get_legend().get_texts())


def test_hourly_heatmap_is_days_by_hours(office_run):
    fig = plots.hourly_heatmap(office_run, "utilization.land")
    (mesh,) = [a for a in fig.axes[0].get_children() if isinstance(a, QuadMesh)]
    hourly = office_run.hourly
    shape = (hourly["day"].nunique(), hourly["hour"].nunique())
    assert mesh.get_array().shape == shape
    with pytest.raises(ValueError, match="expected a column"):
        plots.hourly_heatmap(office_run, "nonsense")


def test_backlog_is_the_mean_over_replications(office_run):
    fig = plots.backlog_over_horizon(office_run)
    line = one_line(fig.axes[0], "in_center")
    daily = office_run.daily
    expected = daily.groupby("day")["in_center"].mean()
    np.testing.assert_allclose(line.get_xdata(), expected.index.to_numpy() + 1)
    np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
    assert "records" in fig.axes[0].get_ylabel()


def test_on_time_has_one_bar_per_procedure(office_run):
    fig = plots.on_time_by_procedure(office_run)
    (ax,) = fig.axes
    bars = by_gid(ax, "procedures")
    procs = office_run.scenario.procedures
    assert len(bars) == len(procs)
    done = office_run.records[office_run.records["outcome"] == "completed"]
    first = done[done["procedure"] == procs[0].id]
    share = first.groupby("replication")["on_time"].apply(lambda s: s.astype(float).mean())
    # Bars are drawn from the top: the first procedure is the highest bar.
    top = max(bars, key=lambda b: b.get_y())
    assert top.get_width() == pytest.approx(share.mean())
    assert list(one_line(ax, "target").get_xdata()) == [0.95, 0.95]


def _quota_row(name: str, cls: str, quota: float, at_quota: float, at_service: float | None):
    return QuotaComparison(
        scenario=name,
        commune_class=cls,
        quota=quota,
        annual_demand=quota * 5,
        quota_staff_exact=5.0,
        quota_staff=5,
        quota_staffing={"desk": 5},
        service_staff=None if at_service is None else 3,
        service_staffing=None if at_service is None else {"desk": 3},
        binding="quota",
        records_per_staff_year_at_quota=at_quota,
        records_per_staff_year_at_service=at_service,
        service_targets_met_at_quota=True,
        sizing=None,  # type: ignore[arg-type]  # not drawn
    )


def test_quota_comparison_draws_each_class_quota():
    rows = [
        _quota_row("ward", "urban", 1600, 1500, 2400),
        _quota_row("commune", "rural", 1200, 1100, 1900),
        _quota_row("remote", "disadvantaged", 800, 700, None),
    ]
    fig = plots.quota_comparison(rows)
    (ax,) = fig.axes
    (quota,) = [a for a in by_gid(ax, "quota") if isinstance(a, LineCollection)]
    assert [seg[0][1] for seg in quota.get_segments()] == [1600, 1200, 800]
    assert [b.get_height() for b in by_gid(ax, "at-quota")] == [1500, 1100, 700]
    assert [b.get_height() for b in by_gid(ax, "at-service")] == [2400, 1900, 0]


def test_compare_kpis_one_panel_per_kpi(minimal_scenario_dict):
    data = minimal_scenario_dict()
    data["targets"] = [{"kpi": "wait_minutes.mean", "max": 30}]
    a = simulator.load_scenario(data)
    data["staff"]["desks"][0]["count"] = 2
    data["name"] = "tiny-more"
    b = simulator.load_scenario(data)
    comparison = compare([a, b], replications=3, seed=5)
    fig = plots.compare_kpis(comparison, ["wait_minutes.mean", "utilization"])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    wait_ax = visible[0]
    (dots,) = [a for a in by_gid(wait_ax, "means") if isinstance(a, PathCollection)]
    expected = [r.kpi("wait_minutes.mean")[0] for r in comparison.results]
    np.testing.assert_allclose(dots.get_offsets()[:, 0], expected)
    assert list(one_line(wait_ax, "target").get_xdata()) == [30, 30]
    assert "B − A" in wait_ax.get_title(loc="left")
    default = plots.compare_kpis(comparison)
    assert len([ax for ax in default.axes if ax.get_visible()]) == len(plots.COMPARE_KPIS)


def test_run_figures_and_files(office_run, tmp_path):
    figures = plots.run_figures(office_run)
    assert list(figures) == list(plots.RUN_FIGURES)
    for fig in figures.values():
        for ax in fig.axes:
            if ax.get_visible() and ax.has_data() and ax.get_label() != "<colorbar>":
                assert ax.get_xlabel() or ax.get_ylabel()
    paths = plots.save_figures({"wait": figures["wait"]}, tmp_path)
    assert paths["wait"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_records = simulator.run(office_run.scenario, replications=2, seed=1, records=False)
    assert plots.run_figures(no_records) == {}
    with pytest.raises(ValueError, match="records"):
        plots.wait_distribution(no_records)


def test_kpi_labels_carry_units():
    assert plots.kpi_label("wait_minutes.p90") == "walk-in wait, 90th percentile (minutes)"
    assert plots.kpi_label("utilization.land") == "staff utilization: land (% of open time)"
    assert plots.kpi_label("on_time_rate", unit=False) == "on-time share of resolved records"
    assert plots.kpi_label("records_per_staff_year").endswith("(records / year)")
