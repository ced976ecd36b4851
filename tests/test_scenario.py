"""Scenario files: loading, distributions, ``extends:``, overrides and error messages.

The project rule for bad input: one message that names the file, the key path,
what was expected and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter

from simulator.distributions import DISTRIBUTION_NAMES, Distribution
from simulator.kpis import kpi_names_for
from simulator.scenario import (
    ScenarioError,
    load_scenario,
    scenario_to_dict,
    scenario_to_yaml,
    set_key,
)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "scenarios" / "quang-nam-urban-ward.yaml"
N_DRAWS = 200_000
DIST = TypeAdapter(Distribution)


# --------------------------------------------------------------------------
# The shipped scenario
# --------------------------------------------------------------------------


def test_shipped_scenario_loads_with_its_content():
    sc = load_scenario(SHIPPED)
    assert sc.name == "quang-nam-urban-ward"
    assert sc.horizon.days == 20 and sc.horizon.warmup_days == 2
    assert sc.calendar.open_spans_minutes() == [(450, 690), (810, 1020)]
    shares = sc.demand.channels.as_dict()  # every declared channel: 0 where not named
    assert shares == {"walk_in": 0.55, "online": 0.40, "postal": 0.05} | {
        c: 0.0 for c in shares if c not in ("walk_in", "online", "postal")
    }
    assert len(sc.procedures) == 7
    assert math.isclose(sum(p.share for p in sc.procedures), 1.0)
    assert [d.name for d in sc.staff.desks] == ["civil-status", "business-land"]
    assert sc.staff.total == 7
    assert sc.staff.postal_agents == 1
    known = kpi_names_for([d.name for d in sc.staff.desks], False, True)
    assert [t.kpi for t in sc.targets] == ["handle_minutes.p90", "wait_minutes.p90", "on_time_rate"]
    assert all(t.kpi in known for t in sc.targets)
    assert [(t.op, t.threshold) for t in sc.targets] == [("<=", 30), ("<=", 15), (">=", 0.95)]


@pytest.mark.parametrize("which", ["shipped", "continuous"])
def test_resolved_scenario_yaml_loads_back_to_the_same_scenario(
    tmp_path, minimal_scenario_dict, write_yaml, which
):
    """A run folder stores scenario_to_yaml(); it must reproduce the run exactly."""
    sc = load_scenario(SHIPPED if which == "shipped" else minimal_scenario_dict())
    again = load_scenario(write_yaml(tmp_path, "resolved.yaml", scenario_to_yaml(sc)))
    assert again == sc
    assert scenario_to_dict(again) == scenario_to_dict(sc)


def _assert_moments_match(dist: Any, rng: np.random.Generator) -> None:
    """Sample mean and variance within 5 standard errors of the analytic values."""
    x = dist.sample(rng, N_DRAWS)
    assert x.shape == (N_DRAWS,)
    assert np.all(x >= 0), "service times must not be negative"
    mean, var = x.mean(), x.var()
    se_mean = math.sqrt(dist.variance / N_DRAWS)
    assert abs(mean - dist.mean) <= 5 * se_mean + 1e-12, (dist, mean, dist.mean)
    # Standard error of the sample variance: sqrt((m4 - s^4) / n).
    m4 = np.mean((x - mean) ** 4)
    se_var = math.sqrt(max(m4 - var**2, 0.0) / N_DRAWS)
    assert abs(var - dist.variance) <= 5 * se_var + 1e-12, (dist, var, dist.variance)


# (YAML mapping, class name, mean and variance from independent formulas)
DISTRIBUTION_CASES = [
    ({"dist": "exponential", "mean": 7}, "Exponential", 7, 49),
    ({"dist": "lognormal", "mean": 12, "sd": 4}, "Lognormal", 12, 16),
    ({"dist": "lognormal", "mean": 2, "sd": 3}, "Lognormal", 2, 9),
    ({"dist": "gamma", "mean": 30, "cv": 0.8}, "Gamma", 30, 576),
    ({"dist": "gamma", "mean": 5, "cv": 2.0}, "Gamma", 5, 100),
    ({"dist": "triangular", "min": 2, "mode": 3, "max": 10}, "Triangular", 5, 57 / 18),
    ({"dist": "triangular", "min": 0, "mode": 0, "max": 6}, "Triangular", 2, 2),
    ({"dist": "uniform", "min": 1, "max": 4}, "Uniform", 2.5, 0.75),
    ({"dist": "fixed", "value": 5}, "Fixed", 5, 0),
    ({"dist": "empirical", "values": [1, 2, 2, 7.5]}, "Empirical", 3.125, 6.546875),
]


def test_every_distribution_name_is_covered():
    assert {case[0]["dist"] for case in DISTRIBUTION_CASES} == set(DISTRIBUTION_NAMES)


@pytest.mark.parametrize(
    ("spec", "cls", "mean", "variance"),
    DISTRIBUTION_CASES,
    ids=[f"{c[0]['dist']}-{i}" for i, c in enumerate(DISTRIBUTION_CASES)],
)
def test_distribution_moments(spec, cls, mean, variance):
    dist = DIST.validate_python(spec)
    assert type(dist).__name__ == cls
    assert dist.mean == pytest.approx(mean)
    assert dist.variance == pytest.approx(variance)
    _assert_moments_match(dist, np.random.default_rng(20250701))


def test_distribution_sampling_is_reproducible():
    dist = DIST.validate_python({"dist": "gamma", "mean": 6, "cv": 0.6})
    a = dist.sample(np.random.default_rng(5), 100)
    b = dist.sample(np.random.default_rng(5), 100)
    c = dist.sample(np.random.default_rng(6), 100)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_shipped_scenario_distributions_match_their_samples():
    sc = load_scenario(SHIPPED)
    dists = [p.intake_minutes for p in sc.procedures]
    dists += [p.processing_minutes for p in sc.procedures if p.processing_minutes is not None]
    assert len(dists) == 11
    rng = np.random.default_rng(1)
    for dist in dists:
        _assert_moments_match(dist, rng)


# --------------------------------------------------------------------------
# extends:
# --------------------------------------------------------------------------


def _parent(minimal_scenario_dict) -> dict[str, Any]:
    data = minimal_scenario_dict()
    data["name"] = "parent"
    data["description"] = "the parent"
    data["demand"] = {
        "records_per_day": 40,
        "channels": {"walk_in": 0.7, "online": 0.3},
        "priority_share": 0.2,
    }
    data["targets"] = [
        {"kpi": "wait_minutes.p90", "max": 15},
        {"kpi": "handle_minutes.p90", "max": 30},
    ]
    return data


def test_extends_merges_mappings_and_replaces_lists(tmp_path, minimal_scenario_dict, write_yaml):
    write_yaml(tmp_path, "parent.yaml", _parent(minimal_scenario_dict))
    child = write_yaml(
        tmp_path,
        "child.yaml",
        {
            "extends": "parent.yaml",
            "name": "child",
            "demand": {"records_per_day": 35, "channels": {"walk_in": 0.5, "online": 0.5}},
            "staff": {"back_office": 2},
            "procedures": [
                {
                    "id": "only",
                    "field": "b",
                    "share": 1.0,
                    "intake_minutes": {"dist": "fixed", "value": 4},
                }
            ],
            "targets": [{"kpi": "on_time_rate", "min": 0.9}],
        },
    )
    sc = load_scenario(child)
    assert sc.name == "child"
    assert sc.description == "the parent"  # not overridden: kept
    # Mappings merge key by key, at every depth.
    assert sc.demand.records_per_day == 35
    assert sc.demand.priority_share == 0.2
    shares = sc.demand.channels.as_dict()
    assert {c: shares[c] for c in ("walk_in", "online", "postal")} == {
        "walk_in": 0.5,
        "online": 0.5,
        "postal": 0.0,
    }
    assert sc.staff.back_office == 2
    assert [d.name for d in sc.staff.desks] == ["alpha", "beta"]
    # Lists replace the parent's list whole.
    assert [p.id for p in sc.procedures] == ["only"]
    assert sc.procedures[0].intake_minutes.mean == 4
    assert [(t.kpi, t.op, t.threshold) for t in sc.targets] == [("on_time_rate", ">=", 0.9)]


def test_extends_nested_mapping_override_keeps_sibling_keys(
    tmp_path, minimal_scenario_dict, write_yaml
):
    write_yaml(tmp_path, "parent.yaml", _parent(minimal_scenario_dict))
    child = write_yaml(
        tmp_path, "child.yaml", {"extends": "parent.yaml", "demand": {"channels": {"online": 0.1}}}
    )
    # walk_in 0.7 stays from the parent: 0.7 + 0.1 is not 1, and the error says so.
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert [p.path for p in info.value.problems] == ["demand.channels"]
    assert "0.8" in str(info.value)


def test_extends_resolves_relative_to_the_child_folder(
    tmp_path, monkeypatch, minimal_scenario_dict, write_yaml
):
    decoy = minimal_scenario_dict()
    decoy["name"] = "decoy"
    write_yaml(tmp_path, "parent.yaml", decoy)  # beside the working folder: must not be used
    write_yaml(tmp_path / "variants", "parent.yaml", _parent(minimal_scenario_dict))
    write_yaml(tmp_path / "variants", "child.yaml", {"extends": "parent.yaml"})
    write_yaml(tmp_path / "base", "grand.yaml", _parent(minimal_scenario_dict))
    write_yaml(
        tmp_path / "variants" / "deep",
        "up.yaml",
        {"extends": "../../base/grand.yaml", "name": "up"},
    )
    monkeypatch.chdir(tmp_path)
    assert load_scenario("variants/child.yaml").name == "parent"
    assert load_scenario(Path("variants") / "deep" / "up.yaml").name == "up"


def test_extends_chain_of_three_files(tmp_path, minimal_scenario_dict, write_yaml):
    write_yaml(tmp_path / "base", "parent.yaml", _parent(minimal_scenario_dict))
    write_yaml(
        tmp_path / "a",
        "child.yaml",
        {"extends": "../base/parent.yaml", "demand": {"records_per_day": 35}},
    )
    grand = write_yaml(
        tmp_path / "a" / "b",
        "grand.yaml",
        {"extends": "../child.yaml", "name": "grand", "demand": {"priority_share": 0.05}},
    )
    sc = load_scenario(grand)
    assert sc.name == "grand"
    assert sc.demand.records_per_day == 35  # from the child
    assert sc.demand.priority_share == 0.05  # from the grandchild
    assert sc.demand.channels.online == 0.3  # from the parent
    assert len(sc.targets) == 2  # from the parent


def test_extends_cycle_is_an_error_at_key_extends(tmp_path, write_yaml):
    a = write_yaml(tmp_path, "a.yaml", {"extends": "b.yaml", "name": "a"})
    write_yaml(tmp_path, "b.yaml", {"extends": "a.yaml", "name": "b"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(a)
    err = info.value
    assert [p.path for p in err.problems] == ["extends"]
    msg = str(err)
    assert "a.yaml" in msg and "b.yaml" in msg
    assert "expected" in msg and "cycle" in msg


def test_extends_itself_is_a_cycle(tmp_path, write_yaml):
    a = write_yaml(tmp_path, "self.yaml", {"extends": "self.yaml", "name": "a"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(a)
    assert [p.path for p in info.value.problems] == ["extends"]
    assert "cycle" in str(info.value)


def test_extends_missing_parent_names_both_files(tmp_path, write_yaml):
    child = write_yaml(tmp_path, "child.yaml", {"extends": "nope.yaml", "name": "child"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    err = info.value
    msg = str(err)
    assert "nope.yaml" in msg
    assert "child.yaml" in msg
    assert [p.path for p in err.problems] == ["extends"]
    assert "expected" in msg and "no such file" in msg


def test_extends_must_be_a_file_name(tmp_path, write_yaml):
    child = write_yaml(tmp_path, "child.yaml", {"extends": ["a.yaml"], "name": "child"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert [p.path for p in info.value.problems] == ["extends"]
    assert "['a.yaml']" in str(info.value)


def test_extends_in_a_mapping_is_refused(minimal_scenario_dict):
    data = minimal_scenario_dict()
    data["extends"] = "parent.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert [p.path for p in info.value.problems] == ["extends"]


def test_error_in_an_override_names_the_child_file(tmp_path, minimal_scenario_dict, write_yaml):
    write_yaml(tmp_path, "parent.yaml", _parent(minimal_scenario_dict))
    child = write_yaml(
        tmp_path, "child.yaml", {"extends": "parent.yaml", "demand": {"records_per_dya": 3}}
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert f"{child}: demand.records_per_dya: " in str(info.value)


# --------------------------------------------------------------------------
# set_key and overrides
# --------------------------------------------------------------------------


def test_set_key_by_index_and_by_name_is_the_same_key(minimal_scenario_dict):
    by_index, by_name = minimal_scenario_dict(), minimal_scenario_dict()
    set_key(by_index, "staff.desks.1.count", 4)
    set_key(by_name, "staff.desks.beta.count", 4)
    assert by_index == by_name
    assert [d["count"] for d in by_name["staff"]["desks"]] == [1, 4]
    # Procedures are addressed by their id.
    set_key(by_name, "procedures.b-proc.deadline_working_days", 9)
    assert [p.get("deadline_working_days") for p in by_name["procedures"]] == [None, 9]


def test_set_key_creates_missing_mappings(minimal_scenario_dict):
    data = minimal_scenario_dict()
    set_key(data, "commune.quota_records_per_staff_year", 1000)
    assert load_scenario(data).commune.quota == 1000


def test_overrides_by_index_and_name_on_the_shipped_scenario():
    by_index = load_scenario(SHIPPED, overrides={"staff.desks.0.count": 5})
    by_name = load_scenario(SHIPPED, overrides={"staff.desks.civil-status.count": 5})
    assert by_index == by_name
    assert [d.count for d in by_name.staff.desks] == [5, 4]
    assert load_scenario(SHIPPED).staff.desks[0].count == 3  # the file is untouched


@pytest.mark.parametrize(
    ("path", "found"),
    [("staff.desks.nope.count", "'nope'"), ("staff.desks.7.count", "'7'")],
)
def test_override_with_a_bad_list_item_is_a_clear_error(path, found):
    with pytest.raises(ScenarioError) as info:
        load_scenario(SHIPPED, overrides={path: 2})
    err = info.value
    assert [p.path for p in err.problems] == [path]
    msg = str(err)
    assert SHIPPED.name in msg and path in msg
    assert "expected" in msg and found in msg
    assert "civil-status" in msg and "business-land" in msg  # what would have worked


def test_override_through_a_scalar_is_a_clear_error():
    with pytest.raises(ScenarioError) as info:
        load_scenario(SHIPPED, overrides={"name.first": "x"})
    msg = str(info.value)
    assert "name.first" in msg and "expected a mapping or list" in msg
    assert "'quang-nam-urban-ward'" in msg


def test_override_with_a_misspelt_key_is_an_unknown_key():
    with pytest.raises(ScenarioError) as info:
        load_scenario(SHIPPED, overrides={"demand.records_per_dya": 30})
    assert "demand.records_per_dya" in [p.path for p in info.value.problems]
    assert "did you mean 'records_per_day'" in str(info.value)


# --------------------------------------------------------------------------
# Error messages: file, key path, expected, found
# --------------------------------------------------------------------------


def _load_error(folder: Path, write_yaml, data: Any, name: str = "bad.yaml") -> ScenarioError:
    path = write_yaml(folder, name, data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert isinstance(info.value, ValueError)
    return info.value


def _line_for(err: ScenarioError, key_path: str) -> str:
    """The one message line about ``key_path``; fails listing what was reported."""
    reported = [p.path for p in err.problems]
    assert key_path in reported, f"expected a problem at {key_path!r}, got:\n{err}"
    lines = [ln for ln in str(err).splitlines() if f": {key_path}: " in ln]
    assert len(lines) == 1, str(err)
    return lines[0]


def _add_procedure(d: dict[str, Any], **fields: Any) -> None:
    d["procedures"].append(
        {
            "id": "c-proc",
            "field": "a",
            "share": 0.1,
            "intake_minutes": {"dist": "fixed", "value": 1},
        }
        | fields
    )


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


Mutation = Callable[[dict[str, Any]], Any]

# (id, mutation of the minimal scenario, key path, fragments of the message line,
#  whether this is the only problem reported)
ERROR_CASES: list[tuple[str, Mutation, str, list[str], bool]] = [
    (
        "unknown-top-level-key",
        lambda d: d.update(replication=5),
        "replication",
        ["unknown key 'replication'", "did you mean 'replications'"],
        True,
    ),
    (
        "misspelt-nested-key",
        lambda d: _rename(d["demand"], "records_per_day", "records_per_dya"),
        "demand.records_per_dya",
        ["did you mean 'records_per_day'", "expected one of"],
        False,  # records_per_day is then missing too
    ),
    (
        "unknown-key-in-a-distribution",
        lambda d: d["procedures"][0].update(
            intake_minutes={"dist": "triangular", "min": 1, "mode": 2, "max": 3, "mean": 2}
        ),
        "procedures.0.intake_minutes.mean",
        ["unknown key 'mean'", "min, mode, max"],
        True,
    ),
    (
        "wrong-type",
        lambda d: d["horizon"].update(days="ten"),
        "horizon.days",
        ["integer", "'ten'"],
        True,
    ),
    (
        "channel-shares-not-summing-to-1",
        lambda d: d["demand"].update(channels={"walk_in": 0.5, "online": 0.3}),
        "demand.channels",
        ["summing to 1", "0.8"],
        True,
    ),
    (
        "procedure-shares-not-summing-to-1",
        lambda d: d["procedures"][1].update(share=0.3),
        "procedures",
        ["summing to 1", "0.9"],
        True,
    ),
    (
        "negative-time",
        lambda d: d["procedures"][0].update(
            intake_minutes={"dist": "lognormal", "mean": -3, "sd": 1}
        ),
        "procedures.0.intake_minutes.mean",
        ["greater than 0", "-3"],
        True,
    ),
    (
        "unknown-distribution",
        lambda d: d["procedures"][0].update(intake_minutes={"dist": "weibull", "mean": 3}),
        "procedures.0.intake_minutes",
        ["'weibull'", "exponential", "lognormal"],
        True,
    ),
    (
        "distribution-without-dist",
        lambda d: d["procedures"][0].update(intake_minutes={"mean": 3}),
        "procedures.0.intake_minutes",
        ["'dist'", "{'mean': 3}"],
        True,
    ),
    (
        "triangular-min-above-max",
        lambda d: d["procedures"][1].update(
            intake_minutes={"dist": "triangular", "min": 10, "mode": 5, "max": 2}
        ),
        "procedures.1.intake_minutes",
        ["min <= mode <= max", "min=10", "max=2"],
        True,
    ),
    (
        "field-no-desk-covers",
        lambda d: d["procedures"][1].update(field="land"),
        "procedures.1.field",
        ["'land'", "desk covers (a, b)"],
        True,
    ),
    (
        "duplicate-procedure-id",
        lambda d: (d["procedures"][1].update(share=0.3), _add_procedure(d, id="a-proc")),
        "procedures.2.id",
        ["unique", "'a-proc'"],
        True,
    ),
    (
        "empty-weekdays",
        lambda d: d.update(calendar={"type": "office", "weekdays": []}),
        "calendar.weekdays",
        ["at least one", "empty list"],
        True,
    ),
    (
        "misspelt-weekday",
        lambda d: d.update(calendar={"type": "office", "weekdays": ["mon", "tues"]}),
        "calendar.weekdays.1",
        ["'tue'", "'tues'"],
        True,
    ),
    (
        "empty-sessions",
        lambda d: d.update(calendar={"type": "office", "sessions": []}),
        "calendar.sessions",
        ["at least one", "empty list"],
        True,
    ),
    (
        "overlapping-sessions",
        lambda d: d.update(calendar={"type": "office", "sessions": ["08:00-12:00", "11:00-13:00"]}),
        "calendar.sessions",
        ["overlap", "'11:00-13:00'"],
        True,
    ),
    (
        "bad-session-text",
        lambda d: d.update(calendar={"type": "office", "sessions": ["8am-noon"]}),
        "calendar.sessions",
        ["'07:30-11:30'", "'8am-noon'"],
        True,
    ),
    (
        "session-ending-before-it-starts",
        lambda d: d.update(calendar={"type": "office", "sessions": ["12:00-08:00"]}),
        "calendar.sessions",
        ["start < end", "'12:00-08:00'"],
        True,
    ),
    (
        "sessions-with-continuous-calendar",
        lambda d: d["calendar"].update(sessions=["08:00-12:00"]),
        "calendar",
        ["no sessions", "continuous", "08:00-12:00"],
        True,
    ),
    (
        "bad-same-day-cutoff",
        lambda d: d.update(calendar={"type": "office", "same_day_cutoff": "3pm"}),
        "calendar.same_day_cutoff",
        ["'15:00'", "'3pm'"],
        True,
    ),
    (
        "unknown-hourly-profile",
        lambda d: d["demand"].update(hourly_profile="office"),
        "demand.hourly_profile",
        ["office-default", "'office'"],
        True,
    ),
    (
        "target-unknown-kpi",
        lambda d: d.update(targets=[{"kpi": "wait_minutes.p99", "max": 5}]),
        "targets.0.kpi",
        ["KPI name", "wait_minutes.p90", "'wait_minutes.p99'"],
        True,
    ),
    (
        "target-per-desk-kpi-of-unknown-desk",
        lambda d: d.update(targets=[{"kpi": "utilization.gamma", "max": 0.9}]),
        "targets.0.kpi",
        ["'utilization.gamma'"],
        True,
    ),
    (
        "target-with-min-and-max",
        lambda d: d.update(targets=[{"kpi": "wait_minutes.p90", "max": 15, "min": 1}]),
        "targets.0",
        ["exactly one of 'max' or 'min'", "both"],
        True,
    ),
    (
        "target-with-neither-min-nor-max",
        lambda d: d.update(targets=[{"kpi": "on_time_rate"}]),
        "targets.0",
        ["exactly one of 'max' or 'min'", "neither"],
        True,
    ),
    (
        "postal-share-without-postal-agents",
        lambda d: d["demand"].update(channels={"walk_in": 0.9, "postal": 0.1}),
        "staff.postal_agents",
        ["postal agent", "0.1", "found 0"],
        True,
    ),
    (
        "duplicate-desk-names",
        lambda d: d["staff"]["desks"].append({"name": "alpha", "count": 1, "fields": ["b"]}),
        "staff.desks",
        ["unique desk names", "alpha"],
        True,
    ),
    (
        "desk-count-zero",
        lambda d: d["staff"]["desks"][1].update(count=0),
        "staff.desks.1.count",
        ["greater than or equal to 1", "found 0"],
        True,
    ),
    (
        "name-not-a-slug",
        lambda d: d.update(name="Quang Nam"),
        "name",
        ["pattern", "'Quang Nam'"],
        True,
    ),
    (
        "no-procedures",
        lambda d: d.update(procedures=[]),
        "procedures",
        ["at least 1 item", "found []"],
        True,
    ),
    (
        "required-key-missing",
        lambda d: d.pop("staff"),
        "staff",
        ["required"],
        True,
    ),
]


@pytest.mark.parametrize(
    ("mutate", "key_path", "fragments", "only"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_error_names_file_key_path_expected_and_found(
    tmp_path, minimal_scenario_dict, write_yaml, mutate, key_path, fragments, only
):
    data = minimal_scenario_dict()
    mutate(data)
    err = _load_error(tmp_path, write_yaml, data, name="my-scenario.yaml")
    line = _line_for(err, key_path)
    assert line.startswith(f"{tmp_path / 'my-scenario.yaml'}: {key_path}: ")
    assert "expected" in line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    if only:
        assert len(err.problems) == 1, str(err)


def test_misspelt_key_reports_the_missing_required_key_too(
    tmp_path, minimal_scenario_dict, write_yaml
):
    data = minimal_scenario_dict()
    _rename(data["demand"], "records_per_day", "records_per_dya")
    err = _load_error(tmp_path, write_yaml, data)
    assert sorted(p.path for p in err.problems) == [
        "demand.records_per_day",
        "demand.records_per_dya",
    ]


def test_the_minimal_scenario_itself_is_valid(minimal_scenario_dict):
    """Guards the error cases above: each must fail because of its own mutation."""
    sc = load_scenario(minimal_scenario_dict())
    assert sc.calendar.type == "continuous"
    assert sc.profile_weights() == {h: 1.0 for h in range(24)}


def test_many_problems_are_listed_and_capped(tmp_path, minimal_scenario_dict, write_yaml):
    data = minimal_scenario_dict()
    for i in range(15):
        data[f"typo{i}"] = i
    err = _load_error(tmp_path, write_yaml, data)
    lines = str(err).splitlines()
    assert len(err.problems) == 15
    assert len(lines) == 13
    assert lines[-1].endswith("... and 3 more problems")


def test_yaml_syntax_error_has_a_line_number(tmp_path, write_yaml):
    text = "name: tiny\nseed: 1\n  replications: 3\nhorizon: {days: 2}\n"
    err = _load_error(tmp_path, write_yaml, text, name="broken.yaml")
    msg = str(err)
    assert "broken.yaml" in msg
    assert "expected valid YAML" in msg and "syntax error" in msg
    assert "line 3" in msg
    assert len(err.problems) == 1


def test_yaml_tab_indent_has_a_line_number(tmp_path, write_yaml):
    text = "name: tiny\nseed: 1\nhorizon:\n\tdays: 2\n"
    msg = str(_load_error(tmp_path, write_yaml, text, name="tabs.yaml"))
    assert "tabs.yaml" in msg and "line 4" in msg


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "found list"), ("just text\n", "found str"), ("", "found an empty file")],
    ids=["list", "scalar", "empty"],
)
def test_top_level_must_be_a_mapping(tmp_path, write_yaml, text, found):
    err = _load_error(tmp_path, write_yaml, text, name="top.yaml")
    msg = str(err)
    assert "top.yaml" in msg
    assert "(top level)" in msg and "expected a mapping" in msg and found in msg


def test_file_not_found(tmp_path):
    missing = tmp_path / "no-such-scenario.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(missing)
    msg = str(info.value)
    assert str(missing) in msg
    assert "expected a scenario file" in msg and "no such file" in msg


def test_yaml_is_read_safely(tmp_path, write_yaml):
    """No Python objects from YAML tags: safe_load refuses them with a message."""
    text = "name: !!python/object/apply:os.system ['true']\n"
    msg = str(_load_error(tmp_path, write_yaml, text, name="unsafe.yaml"))
    assert "unsafe.yaml" in msg and "expected valid YAML" in msg


def test_the_example_at_the_top_of_the_scenario_docs_is_a_valid_scenario():
    """docs/scenarios.md opens with a whole scenario: it must load as printed."""
    text = (REPO / "docs" / "scenarios.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    sc = load_scenario(yaml.safe_load(example))
    assert sum(p.share for p in sc.procedures) == pytest.approx(1.0)
    assert set(yaml.safe_load(example)) == {
        "name", "description", "source", "seed", "replications", "horizon", "calendar",
        "commune", "demand", "procedures", "staff", "targets",
    }  # fmt: skip
