"""Languages of the web pages and the HTML reports: gettext catalogs read with Babel.

Every label, message and KPI display name on the pages (:mod:`simulator.web`)
and in the reports (:mod:`simulator.report`) is an English msgid looked up in
``simulator/locale/<lang>/LC_MESSAGES/messages.po``; both share one catalog per
language, so a term reads the same on the page and in the report. The ``.po`` files are
the only source: they are compiled to gettext's binary form in memory the
first time a language is used (``babel.messages.mofile.write_mo``), so a clean
``pip install -e .`` needs no build step and no ``.mo`` file can go stale.

File keys (``wait_minutes.p90``, ``staff.desks.0.count``) never change with the
language: only what a person reads does.
"""

from __future__ import annotations

import functools
import gettext
import io
import math
from collections.abc import Callable, Mapping
from pathlib import Path

from simulator.kpis import KPI_DISPLAY, N_, is_share

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: tuple[str, ...] = ("en", "vi")
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English msgids are their own translation)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def negotiate(accept_language: str | None) -> str | None:
    """The first of :data:`LANGUAGES` in an ``Accept-Language`` header, by quality.

    ``"vi-VN,vi;q=0.9,en;q=0.8"`` -> ``"vi"``; ``None`` when none is offered.
    """
    if not accept_language:
        return None
    offers: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            offers.append((-quality, i, primary))
    return min(offers)[2] if offers else None


class Translator:
    """What the templates call: ``_()``, number formatting and KPI display names."""

    def __init__(self, lang: str):
        # Babel loads with the first translator, not with this module: what imports
        # it to name its messages (N_) may never draw a page.
        from babel import Locale, numbers

        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._t = translations(self.lang)
        self.locale = Locale.parse(self.lang)
        self._format_decimal = numbers.format_decimal

    def gettext(self, message: str, **values: object) -> str:
        """The translation of ``message``, with ``%(name)s`` placeholders filled."""
        text = self._t.gettext(message)
        return text % values if values else text

    __call__ = gettext

    def number(self, value: object, digits: int = 2) -> str:
        """A number the way the language writes it (``1.234,5`` in Vietnamese)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        try:
            x = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
        pattern = "#,##0" if digits == 0 else "#,##0." + "0" * digits
        return self._format_decimal(x, format=pattern, locale=self.locale)

    def kpi_value(self, kpi: str, value: object) -> str:
        """A KPI value with the precision its unit calls for (shares as percent)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if is_share(kpi):
            return self.number(float(value) * 100, 1) + " %"  # type: ignore[arg-type]
        if kpi.startswith("records_") and kpi != "records_per_staff_year":
            return self.number(value, 1)
        if kpi == "records_per_staff_year":
            return self.number(value, 0)
        return self.number(value, 2)

    def kpi_name(self, kpi: str) -> str:
        """The display name of a KPI in this language (the key itself when unknown)."""
        if kpi in KPI_DISPLAY:
            return self.gettext(KPI_DISPLAY[kpi])
        if kpi == "keeps_up":  # the verdict every run has, shown beside the targets
            return self.gettext(KEEPS_UP_DISPLAY)
        prefix, _, pool = kpi.partition(".")
        if prefix == "utilization" and pool:
            return self.gettext("Utilization of %(pool)s", pool=pool)
        return kpi

    def verdict(self, verdict: str | None) -> str:
        return self.gettext(VERDICT_DISPLAY.get(verdict or "", "not judged"))

    def choices(self, mapping: Mapping[str, str]) -> dict[str, str]:
        return {key: self.gettext(label) for key, label in mapping.items()}


def translator_for(lang: str) -> Translator:
    return _translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


@functools.cache
def _translator(lang: str) -> Translator:
    return Translator(lang)


KEEPS_UP_DISPLAY = N_("Keeps up with the work")

VERDICT_DISPLAY: dict[str, str] = {
    "pass": N_("met"),
    "fail": N_("missed"),
    "inconclusive": N_("inconclusive"),
    "": N_("not judged"),
}

STATUS_DISPLAY: dict[str, str] = {
    "queued": N_("waiting its turn"),
    "running": N_("running"),
    "done": N_("finished"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}

KIND_DISPLAY: dict[str, str] = {
    "run": N_("run"),
    "size": N_("staff sizing"),
    "compare": N_("comparison"),
    "quota": N_("quota table"),
}

COMMUNE_CLASS_DISPLAY: dict[str, str] = {
    "urban": N_("urban ward"),
    "rural": N_("rural commune"),
    "disadvantaged": N_("disadvantaged commune"),
}

Gettext = Callable[..., str]
