"""Languages of the web pages: the shared catalogs of :mod:`simulator.i18n`.

The catalogs, the :class:`Translator` and the display names live outside the
web package so that the HTML reports (which need no web server) use the same
translations; this module keeps the names the pages import.
"""

from __future__ import annotations

from simulator.i18n import (
    COMMUNE_CLASS_DISPLAY,
    DEFAULT_LANGUAGE,
    DOMAIN,
    KEEPS_UP_DISPLAY,
    KIND_DISPLAY,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    STATUS_DISPLAY,
    VERDICT_DISPLAY,
    Gettext,
    Translator,
    negotiate,
    translations,
    translator_for,
)

__all__ = [
    "COMMUNE_CLASS_DISPLAY",
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "KEEPS_UP_DISPLAY",
    "KIND_DISPLAY",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "STATUS_DISPLAY",
    "VERDICT_DISPLAY",
    "Gettext",
    "Translator",
    "negotiate",
    "translations",
    "translator_for",
]
