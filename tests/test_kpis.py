"""The KPI contract: what the model computes is what `simulator.kpis` names, and every
name has its words there (meaning, display name, axis words), the meaning and the
display name translated into Vietnamese (the pictures are drawn in English).

A KPI is added in two places (docs/architecture.md, "A KPI"): these tests fail
when one of them, or one of its words, is forgotten.
"""

from __future__ import annotations

from pathlib import Path

from simulator.i18n import Translator
from simulator.kpis import KPI_AXES, KPI_DISPLAY, description, kpi_names_for, kpi_table
from simulator.model import simulate_replication
from simulator.scenario import load_scenario


def _with_every_pool(minimal_scenario_dict) -> dict:
    data = minimal_scenario_dict()
    data["demand"]["channels"] = {"walk_in": 0.6, "online": 0.3, "postal": 0.1}
    data["staff"]["back_office"] = 1
    data["staff"]["postal_agents"] = 1
    return data


def test_a_replication_reports_exactly_the_named_kpis(minimal_scenario_dict):
    sc = load_scenario(_with_every_pool(minimal_scenario_dict))
    out = simulate_replication(sc, 1, 0)
    desks = [d.name for d in sc.staff.desks]
    assert list(out.kpis) != []
    assert set(out.kpis) == set(kpi_names_for(desks, back_office=True, postal=True))


def test_every_kpi_has_a_meaning_a_display_name_and_axis_words_in_both_languages():
    vi, en = Translator("vi"), Translator("en")
    for kpi in kpi_names_for(["civil-status"], back_office=True, postal=True):
        base = kpi.partition(".")[0]
        assert description(kpi), kpi
        assert base in KPI_AXES and all(KPI_AXES[base]), kpi
        assert kpi in KPI_DISPLAY or base == "utilization", kpi  # utilization.<pool>: named
        assert en.kpi_name(kpi) != kpi, kpi
        assert vi.kpi_name(kpi) != en.kpi_name(kpi), kpi
        assert vi.gettext(description(kpi)) != description(kpi), kpi


def test_the_kpi_table_of_the_docs_is_the_generated_one():
    text = (Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text("utf-8")
    assert kpi_table() in text, "docs/outputs.md: paste the output of `python -m simulator.kpis`"
