"""Keeping the message catalogs in step with the pages: ``python -m simulator.web.catalogs``.

The pages and the HTML reports share one catalog per language
(``simulator/locale/``); the extraction lives in :mod:`simulator.catalogs`, so
that the reports need nothing of the web package. This module runs it.
"""

from __future__ import annotations

from simulator.catalogs import KEYWORDS, METHOD_MAP, extract_messages, main, update_catalogs

__all__ = ["KEYWORDS", "METHOD_MAP", "extract_messages", "main", "update_catalogs"]

if __name__ == "__main__":
    main()
