"""Words as a records log writes them, reduced for matching.

One-stop systems export headings and values by hand-typed or localised words
(``Ngày Tiếp-Nhận``, ``TRỰC TIẾP``): they are compared after :func:`fold`,
which sets case, accents and punctuation aside.
"""

from __future__ import annotations

import re
import unicodedata


def fold(text: object) -> str:
    """A heading or word reduced for matching: lower case, no accents, letters and
    digits only (``Ngày Tiếp-Nhận`` -> ``ngaytiepnhan``)."""
    s = unicodedata.normalize("NFD", str(text).strip().lower().replace("đ", "d"))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return re.sub(r"[^a-z0-9]", "", s)
