"""Keeping the message catalogs in step with the pages and reports: ``python -m simulator.catalogs``
(or ``python -m simulator.web.catalogs``, the same).

One catalog per language, ``simulator/locale/<lang>/LC_MESSAGES/messages.po``,
serves the web pages and the HTML reports. Every message is found where it is
written: ``_("...")`` in the templates (``simulator/web/templates`` and
``simulator/templates``), ``N_("...")``, ``t("...")`` and ``gettext("...")`` in
the Python modules that show text (the web package, :mod:`simulator.i18n`,
:mod:`simulator.report`) and :mod:`simulator.kpis` (the KPIs' meanings and
names). Running this module adds new messages to each catalog (with an empty
translation for a translator to fill in), keeps existing translations, and
drops messages no longer used. The test suite checks that every message has a
Vietnamese translation, so a new label cannot ship untranslated.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from simulator.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).parent
KEYWORDS = {"N_": None, "_": None, "gettext": None, "t": None}
#: Where the messages are, relative to the package (``simulator/``).
METHOD_MAP = [
    ("kpis.py", "python"),
    ("i18n.py", "python"),
    ("report.py", "python"),
    ("web/**.py", "python"),
    ("web/templates/**.html", "jinja2"),
    ("templates/**.html", "jinja2"),
]


def extract_messages() -> dict[str, list[tuple[str, int]]]:
    """Every msgid of the pages and reports, in order of appearance, with where it is used."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        PACKAGE, METHOD_MAP, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            message = message[0]
        found.setdefault(message, []).append((f"simulator/{filename}", lineno))
    return found


def update_catalogs() -> list[Path]:
    """Rewrite each language's ``.po`` with the current messages; return the files."""
    messages = extract_messages()
    written = []
    for lang in LANGUAGES:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        old: dict[str, str] = {}
        if po.is_file():
            with po.open("rb") as fh:
                old = {m.id: m.string for m in read_po(fh) if m.id}
        catalog = Catalog(
            locale=lang,
            domain=DOMAIN,
            project="pasc",
            copyright_holder="pasc contributors",
            charset="utf-8",
            fuzzy=False,
            last_translator="pasc contributors",
            language_team="pasc",
        )
        for message, locations in messages.items():
            flags = ["python-format"] if "%(" in message or "%%" in message else []
            catalog.add(message, old.get(message, ""), locations=locations, flags=flags)
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False)
        written.append(po)
    return written


def main() -> None:
    for path in update_catalogs():
        print(path)


if __name__ == "__main__":
    main()
