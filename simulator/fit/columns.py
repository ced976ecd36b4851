"""Reading exports of the one-stop information system and of the ticket kiosk.

A center's one-stop system (*hệ thống thông tin một cửa*) exports one row per
dossier; a ticket kiosk (*hệ thống xếp hàng*, *lấy số thứ tự*) one row per
ticket. Both come as CSV or XLSX with column headings in Vietnamese or English
and date-times as the system prints them. This module turns such a file into
a table with the documented columns (:data:`RECORD_COLUMNS`,
:data:`TICKET_COLUMNS`), typed: date-times as ``datetime64``, channels and
statuses as the canonical words, and a list of the rows that could not be
used, each with its row number, never silently dropped.

Headings are matched after folding case, accents and punctuation, so
``Ngày tiếp nhận``, ``ngay tiep nhan`` and ``NGAY_TIEP_NHAN`` are the same
heading; a ``--columns map.yaml`` names other headings (and other status or
channel words). Date-times are local times: ``dd/mm/yyyy HH:MM[:SS]`` (day
first, as Vietnamese systems print them), ISO 8601 (``2025-07-01 08:30``) and
Excel serial day numbers (``45839.35``) are all read; a spreadsheet's own date
cells too.

A file that cannot be used at all (missing required columns, no usable row,
several sheets without ``--sheet``) raises :class:`ExportError` naming the
file, the column or row, what was expected and what was found.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.scenario.channels import CHANNEL_KINDS, log_words
from simulator.words import fold


class ExportError(ValueError):
    """An export (or column map) that cannot be read as written; the message names
    the file, the column or row, what was expected and what was found."""


@dataclass(frozen=True)
class Column:
    """One documented column: its canonical name, what it holds, and the headings
    (Vietnamese and English) accepted for it without a column map."""

    name: str
    kind: str  # "text", "time", "channel", "status", "flag"
    required: bool
    meaning: str
    aliases: tuple[str, ...] = ()


#: The dossier export: one row per record (hồ sơ).
RECORD_COLUMNS: tuple[Column, ...] = (
    Column(
        "record_id",
        "text",
        False,
        "the dossier's number in the system (joins the ticket log)",
        ("mã hồ sơ", "số hồ sơ", "mã số hồ sơ", "record", "dossier id", "id"),
    ),
    Column(
        "procedure",
        "text",
        True,
        "the procedure's name as the system shows it; the fitted scenario keeps it",
        ("thủ tục", "tên thủ tục", "thủ tục hành chính", "tên thủ tục hành chính", "tthc"),
    ),
    Column(
        "field",
        "text",
        False,
        "the field (lĩnh vực) the procedure belongs to; procedures outside the top N "
        "are pooled per field",
        ("lĩnh vực", "tên lĩnh vực"),
    ),
    Column(
        "channel",
        "channel",
        False,
        "how the dossier was filed: walk_in, online or postal (default walk_in)",
        ("kênh", "kênh tiếp nhận", "hình thức nộp", "hình thức tiếp nhận", "hình thức"),
    ),
    Column(
        "received_at",
        "time",
        True,
        "when the center received the dossier",
        (
            "ngày tiếp nhận",
            "thời gian tiếp nhận",
            "ngày nhận",
            "ngày nộp",
            "received",
            "arrival",
        ),
    ),
    Column(
        "due_at",
        "time",
        False,
        "the appointment date for the result (ngày hẹn trả): the statutory deadline",
        ("ngày hẹn trả", "hẹn trả", "hạn xử lý", "hạn giải quyết", "due", "due date"),
    ),
    Column(
        "completed_at",
        "time",
        False,
        "when processing finished (the result was ready)",
        ("ngày hoàn thành", "ngày xử lý xong", "ngày có kết quả", "completed", "resolved_at"),
    ),
    Column(
        "returned_at",
        "time",
        False,
        "when the result was returned to the citizen (time to result ends here)",
        ("ngày trả kết quả", "ngày trả", "thời gian trả kết quả", "returned"),
    ),
    Column(
        "supplement_at",
        "time",
        False,
        "when the citizen came back with a requested supplement (ngày bổ sung)",
        ("ngày bổ sung", "ngày nhận bổ sung", "ngày nộp bổ sung", "supplement returned at"),
    ),
    Column(
        "status",
        "status",
        True,
        "on_time, late, completed, in_progress, supplement or rejected (words below)",
        ("trạng thái", "tình trạng", "trạng thái hồ sơ", "kết quả"),
    ),
    Column(
        "counter",
        "text",
        False,
        "the counter (quầy) or desk that received it",
        ("quầy", "quầy tiếp nhận", "desk"),
    ),
    Column(
        "officer",
        "text",
        False,
        "the officer who received it (read; not used by the fit yet)",
        ("cán bộ", "cán bộ tiếp nhận", "người tiếp nhận", "cán bộ xử lý"),
    ),
    Column(
        "priority",
        "flag",
        False,
        "a priority citizen (elderly, disabled, ...): yes/no, 1/0, có/không",
        ("ưu tiên", "đối tượng ưu tiên"),
    ),
)

#: The ticket log of the queue kiosk: one row per ticket.
TICKET_COLUMNS: tuple[Column, ...] = (
    Column("ticket", "text", False, "the ticket number", ("số phiếu", "số thứ tự", "stt", "số")),
    Column(
        "issued_at",
        "time",
        True,
        "when the citizen took the ticket (the wait starts)",
        ("giờ lấy số", "thời gian lấy số", "thời gian in phiếu", "issued", "ticket issued"),
    ),
    Column(
        "called_at",
        "time",
        False,
        "when the ticket was called",
        ("giờ gọi", "thời gian gọi", "gọi số", "called"),
    ),
    Column(
        "service_start",
        "time",
        True,
        "when service at the counter began (the wait ends, desk intake starts)",
        ("bắt đầu phục vụ", "thời gian bắt đầu", "giờ bắt đầu", "started", "start"),
    ),
    Column(
        "service_end",
        "time",
        True,
        "when service at the counter ended (desk intake time = end - start)",
        ("kết thúc phục vụ", "thời gian kết thúc", "giờ kết thúc", "ended", "end"),
    ),
    Column("counter", "text", False, "the counter that served it", ("quầy", "quầy phục vụ")),
    Column("procedure", "text", False, "the procedure, if the kiosk asks", ("thủ tục",)),
    Column("field", "text", False, "the field (service) chosen at the kiosk", ("lĩnh vực",)),
    Column(
        "record_id",
        "text",
        False,
        "the dossier number, when the kiosk links tickets to dossiers",
        ("mã hồ sơ", "số hồ sơ"),
    ),
    Column("priority", "flag", False, "a priority ticket: yes/no", ("ưu tiên", "phiếu ưu tiên")),
)

#: Status words accepted out of the box, by the canonical status. Matching folds
#: case and accents, so ``DUNG HAN`` is ``đúng hạn``.
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "on_time": (
        "on_time",
        "on time",
        "early",
        "đúng hạn",
        "trước hạn",
        "hoàn thành đúng hạn",
        "hoàn thành trước hạn",
        "đã trả kết quả đúng hạn",
        "trả đúng hạn",
    ),
    "late": (
        "late",
        "trễ hạn",
        "quá hạn",
        "hoàn thành trễ hạn",
        "hoàn thành quá hạn",
        "trả quá hạn",
        "trả trễ hạn",
    ),
    "completed": (
        "completed",
        "done",
        "resolved",
        "hoàn thành",
        "đã giải quyết",
        "đã trả kết quả",
        "đã có kết quả",
    ),
    "in_progress": (
        "in_progress",
        "in progress",
        "open",
        "đang xử lý",
        "đang giải quyết",
        "chưa đến hạn",
        "trong hạn",
        "chờ xử lý",
        "đang xử lý quá hạn",
    ),
    "supplement": (
        "supplement",
        "returned for supplement",
        "bổ sung",
        "yêu cầu bổ sung",
        "chờ bổ sung",
        "chờ bổ sung hồ sơ",
        "trả lại bổ sung",
    ),
    "rejected": (
        "rejected",
        "từ chối",
        "từ chối giải quyết",
        "không giải quyết",
        "không đủ điều kiện",
        "không tiếp nhận",
    ),
}


def channel_words() -> dict[str, tuple[str, ...]]:
    """Channel words accepted out of the box: each declared channel's
    (:func:`simulator.scenario.channels.log_words`)."""
    return {name: log_words(kind) for name, kind in CHANNEL_KINDS.items()}


_TRUE_WORDS = ("1", "yes", "y", "true", "x", "có", "ưu tiên", "priority")
_FALSE_WORDS = ("0", "no", "n", "false", "không", "thường", "normal")

#: Date-time layouts tried in order (day first); ISO 8601 and Excel serials after them.
DATE_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%H:%M:%S %d/%m/%Y",
    "%H:%M %d/%m/%Y",
)
EXPECTED_TIME = "a date-time like 01/07/2025 08:30, 2025-07-01T08:30 or an Excel serial"
#: Excel serial day numbers accepted as dates: 1954-10-03 to 2119-01-09. A bare
#: number outside this range is not taken for a date.
_SERIAL_RANGE = (20_000.0, 80_000.0)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Bad rows listed by row number in messages (all are counted).
LISTED_ROWS = 5


@dataclass
class ColumnMap:
    """What a ``--columns map.yaml`` says; every part is optional::

    records:   {received_at: "Ngày nộp hồ sơ", procedure: "Tên TTHC"}
    tickets:   {service_start: "Giờ bắt đầu phục vụ"}
    status:    {on_time: ["Đã trả - đúng hạn"], rejected: ["Hủy"]}
    channel:   {online: ["Cổng DVC quốc gia"]}
    date_format: "%d/%m/%Y %H:%M"
    sheet: "Hồ sơ"
    holidays: ["2025-09-01", "2025-09-02"]
    procedures: {"Đăng ký khai sinh": birth-registration}   # export name: id
    fields: {"Hộ tịch": civil-status}

    ``procedures`` and ``fields`` give the scenario ids of names as the export
    writes them (by default the name made a slug: ``dang-ky-khai-sinh``), so that
    a ``--base`` scenario's procedures and desks match.
    """

    records: dict[str, str] = field(default_factory=dict)
    tickets: dict[str, str] = field(default_factory=dict)
    status: dict[str, list[str]] = field(default_factory=dict)
    channel: dict[str, list[str]] = field(default_factory=dict)
    date_format: str | None = None
    sheet: str | None = None
    holidays: list[str] = field(default_factory=list)
    procedures: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


def read_column_map(path: str | Path) -> ColumnMap:
    """Read and check a column map; unknown keys or names are an :class:`ExportError`."""
    import yaml

    from simulator.scenario.errors import ScenarioError
    from simulator.scenario.loader import decode_text

    try:
        text = decode_text(Path(path).read_bytes(), path)
        raw = yaml.safe_load(text) or {}
    except OSError as exc:
        raise ExportError(f"{path}: cannot read the column map ({exc.strerror})") from None
    except ScenarioError as exc:
        raise ExportError(exc.message()) from None
    except yaml.YAMLError as exc:
        raise ExportError(f"{path}: expected YAML, found an error: {exc}") from None
    if not isinstance(raw, dict):
        raise ExportError(f"{path}: expected a mapping, found {type(raw).__name__}")
    allowed = (
        "records",
        "tickets",
        "status",
        "channel",
        "date_format",
        "sheet",
        "holidays",
        "procedures",
        "fields",
    )
    out = ColumnMap()
    for key, value in raw.items():
        if key not in allowed:
            raise ExportError(f"{path}: {key}: unknown key; expected one of: {', '.join(allowed)}")
        if key in ("records", "tickets"):
            spec = RECORD_COLUMNS if key == "records" else TICKET_COLUMNS
            names = [c.name for c in spec]
            if not isinstance(value, dict):
                raise ExportError(f"{path}: {key}: expected {{column: heading}}, found {value!r}")
            for name, heading in value.items():
                if not isinstance(heading, (str, int, float)) or isinstance(heading, bool):
                    raise ExportError(
                        f"{path}: {key}.{name}: expected a heading, found {heading!r} (YAML reads "
                        "No, Yes, On, Off as true/false: put the heading in quotes)"
                    )
                if name not in names:
                    raise ExportError(
                        f"{path}: {key}.{name}: unknown column; expected one of: {', '.join(names)}"
                    )
                getattr(out, key)[name] = str(heading)
        elif key in ("status", "channel"):
            known = STATUS_WORDS if key == "status" else channel_words()
            if not isinstance(value, dict):
                raise ExportError(f"{path}: {key}: expected {{word: [words]}}, found {value!r}")
            for name, words in value.items():
                if name not in known:
                    raise ExportError(
                        f"{path}: {key}.{name}: unknown {key}; expected one of: {', '.join(known)}"
                    )
                words = [words] if isinstance(words, str) else list(words or [])
                getattr(out, key)[name] = [str(w) for w in words]
        elif key in ("procedures", "fields"):
            if not isinstance(value, dict):
                raise ExportError(f"{path}: {key}: expected {{name: id}}, found {value!r}")
            for name, ident in value.items():
                if not isinstance(ident, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", ident):
                    raise ExportError(
                        f"{path}: {key}.{name}: expected an id of a-z, 0-9 and '-', found {ident!r}"
                    )
                getattr(out, key)[str(name)] = ident
        elif key == "holidays":
            out.holidays = [str(v) for v in (value or [])]
        else:
            setattr(out, key, None if value is None else str(value))
    return out


# -- files --------------------------------------------------------------------------


def _encoding_of(path: Path) -> str:
    head = path.open("rb").read(4)
    for mark, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(mark):
            return name
    return "utf-8"


def _csv_dialect(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(65536)
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def sheet_names(path: str | Path) -> list[str]:
    """The sheets of an XLSX workbook."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _read_raw(path: Path, sheet: str | None, wanted: Mapping[str, str]) -> tuple[pd.DataFrame, int]:
    """The file's cells as strings (CSV) or cell values (XLSX), only the columns in
    ``wanted`` (heading -> canonical name), renamed; and the number of the header row."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        names = sheet_names(path)
        if sheet is None:
            if len(names) > 1:
                raise ExportError(
                    f"{path}: expected one sheet or --sheet NAME, found {len(names)} sheets: "
                    f"{', '.join(names)}"
                )
            sheet = names[0]
        elif sheet not in names:
            raise ExportError(
                f"{path}: --sheet: expected one of {', '.join(names)}, found {sheet!r}"
            )
        frame = pd.read_excel(
            path, sheet_name=sheet, engine="openpyxl", dtype=object, usecols=list(wanted)
        )
    else:
        encoding = _encoding_of(path)
        frame = pd.read_csv(
            path,
            sep=_csv_dialect(path, encoding),
            encoding=encoding,
            dtype=str,
            keep_default_na=False,
            usecols=list(wanted),
        )
    return frame.rename(columns=dict(wanted)), 1


def _headings(path: Path, sheet: str | None) -> list[str]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        names = sheet_names(path)
        if sheet is None and len(names) > 1:
            raise ExportError(
                f"{path}: expected one sheet or --sheet NAME, found {len(names)} sheets: "
                f"{', '.join(names)}"
            )
        chosen = sheet if sheet is not None else names[0]
        if chosen not in names:
            raise ExportError(
                f"{path}: --sheet: expected one of {', '.join(names)}, found {chosen!r}"
            )
        head = pd.read_excel(path, sheet_name=chosen, engine="openpyxl", nrows=0)
        return [str(c) for c in head.columns]
    if suffix not in (".csv", ".txt", ".tsv", ".gz"):
        raise ExportError(f"{path}: expected a .csv or .xlsx file, found {suffix or 'no suffix'}")
    encoding = _encoding_of(path)
    try:
        head = pd.read_csv(path, sep=_csv_dialect(path, encoding), encoding=encoding, nrows=0)
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise ExportError(f"{path}: expected a CSV table with a header row, found: {exc}") from None
    return [str(c) for c in head.columns]


def match_columns(
    headings: Sequence[str], spec: Sequence[Column], mapped: Mapping[str, str], path: Path
) -> dict[str, str]:
    """heading -> canonical column name, for the documented columns found.

    A heading named in the column map wins; otherwise a heading matches the
    canonical name or one of its aliases after :func:`fold`. A missing required
    column is an :class:`ExportError` listing the headings found."""
    by_fold = {}
    for h in headings:
        by_fold.setdefault(fold(h), h)
    out: dict[str, str] = {}
    for col in spec:
        heading = None
        if col.name in mapped:
            target = mapped[col.name]
            heading = target if target in headings else by_fold.get(fold(target))
            if heading is None:
                raise ExportError(
                    f"{path}: column {col.name!r}: expected the heading {target!r} "
                    f"(from --columns), found headings: {', '.join(headings)}"
                )
        else:
            for alias in (col.name, *col.aliases):
                if fold(alias) in by_fold and by_fold[fold(alias)] not in out:
                    heading = by_fold[fold(alias)]
                    break
        if heading is None:
            if col.required:
                accepted = ", ".join(repr(a) for a in (col.name, *col.aliases[:3]))
                raise ExportError(
                    f"{path}: missing required column {col.name!r} ({col.meaning}): expected a "
                    f"heading like {accepted} (or a --columns map), found headings: "
                    f"{', '.join(headings) or 'none'}"
                )
            continue
        out[heading] = col.name
    return out


# -- values -------------------------------------------------------------------------


def parse_times(raw: pd.Series, date_format: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Date-times from cells as systems print them: (values, unreadable mask).

    Tried in order: the column map's ``date_format``, ``dd/mm/yyyy HH:MM[:SS]``
    and the other day-first layouts of :data:`DATE_FORMATS`, ISO 8601, Excel
    serial day numbers (days since 1899-12-30, with the time as a fraction), and
    a spreadsheet's own date cells. Empty cells are missing (NaT), not errors;
    a time-zone offset is dropped (the wall-clock time is kept).

    Each distinct cell is parsed once (a million filings hold far fewer distinct
    minutes), and the layouts are tried in the order a sample of the cells
    matches them, so a column costs about one parse of its distinct values."""
    if pd.api.types.is_datetime64_any_dtype(raw) or len(raw) < 1000:
        return _parse_times(raw, date_format)
    codes, uniques = pd.factorize(raw.astype(object), use_na_sentinel=True)
    values, bad = _parse_times(pd.Series(uniques, dtype=raw.dtype), date_format)
    values = np.append(values.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))
    bad = np.append(bad.to_numpy(dtype=bool), False)
    pick = np.where(codes < 0, len(uniques), codes)
    return pd.Series(values[pick], index=raw.index), pd.Series(bad[pick], index=raw.index)


def _parse_times(raw: pd.Series, date_format: str | None = None) -> tuple[pd.Series, pd.Series]:
    n = len(raw)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw.dt.tz_localize(None) if raw.dt.tz is not None else raw
        return values.astype("datetime64[ns]"), pd.Series(False, index=raw.index)
    if n == 0:
        return out, pd.Series(False, index=raw.index)
    obj = raw.astype(object)
    if raw.dtype != object and pd.api.types.is_string_dtype(raw.dtype):
        # A CSV column: text only (no per-cell type checks on a million rows).
        is_stamp = is_number = pd.Series(False, index=raw.index)
    else:  # spreadsheet cells: dates, numbers and text mixed
        is_stamp = obj.map(
            lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year")
        )
        is_number = obj.map(
            lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == v  # not NaN
        )
    if is_stamp.any():
        out[is_stamp] = pd.to_datetime(obj[is_stamp].astype(str), errors="coerce")
    text = obj.where(~(is_stamp | is_number), "").fillna("").astype(str).str.strip()
    empty = (text == "") & ~is_stamp & ~is_number
    numbers = pd.to_numeric(obj.where(is_number), errors="coerce")
    todo = ~empty & ~is_stamp & ~is_number
    formats = ([date_format] if date_format else []) + list(DATE_FORMATS)
    sample = text[todo].head(200)
    hits = {
        fmt: int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
        for fmt in formats
    }
    formats.sort(key=lambda f: -hits[f] if f != date_format else -len(sample) - 1)
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        hit = parsed.notna()
        out[parsed.index[hit]] = parsed[hit]
        todo[parsed.index[hit]] = False
    if todo.any():
        # Local wall-clock time: a time-zone offset (+07:00, Z) is dropped, not applied.
        local = text[todo].str.replace(r"(?<=\d)(Z|[+-]\d{2}:?\d{2})$", "", regex=True)
        parsed = pd.to_datetime(local, format="ISO8601", errors="coerce")
        hit = parsed.notna()
        out[parsed.index[hit]] = parsed[hit].astype("datetime64[ns]")
        todo[parsed.index[hit]] = False
        serial = pd.to_numeric(text[todo], errors="coerce")
        numbers = numbers.combine_first(serial)
    numbers = numbers.reindex(raw.index)
    ok = numbers.between(*_SERIAL_RANGE)
    if ok.any():
        out[ok] = _EXCEL_EPOCH + pd.to_timedelta((numbers[ok] * 86400.0).round(), unit="s")
        todo[ok] = False
    bad = (todo | (is_number & ~ok)) & out.isna()
    return out, bad


def _word_table(words: Mapping[str, Iterable[str]], extra: Mapping[str, list[str]]) -> dict:
    table = {}
    for canonical, ws in words.items():
        for w in (*ws, *extra.get(canonical, [])):
            table[fold(w)] = canonical
    for canonical, ws in extra.items():  # the map's words win over built-in ones
        for w in ws:
            table[fold(w)] = canonical
    return table


def _map_words(raw: pd.Series, table: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """(canonical words, unknown mask); folded once per distinct value, not per row."""
    values = raw.astype(object).where(raw.notna(), "")
    cat = pd.Categorical(values.astype(str))
    mapped = [table.get(fold(c)) for c in cat.categories]
    codes = cat.codes
    lookup = np.array(mapped + [None], dtype=object)
    out = pd.Series(lookup[np.where(codes < 0, len(mapped), codes)], index=raw.index)
    return out, out.isna()


def _flags(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    table = {fold(w): True for w in _TRUE_WORDS} | {fold(w): False for w in _FALSE_WORDS}
    table[""] = False
    out, unknown = _map_words(raw, table)
    return out.fillna(False).astype(bool), unknown


# -- tables -------------------------------------------------------------------------


@dataclass
class Table:
    """A read export: the usable rows with canonical columns (``row`` is the row
    number in its file, the header being row 1) and every unusable row."""

    frame: pd.DataFrame
    bad: pd.DataFrame  # file, row, column, expected, found
    rows_read: int
    files: list[str]
    columns_found: list[str]

    def bad_summary(self, limit: int = LISTED_ROWS) -> list[str]:
        """One line per kind of problem: count and the first row numbers."""
        lines = []
        if self.bad.empty:
            return lines
        for (col, expected), grp in self.bad.groupby(["column", "expected"], sort=False):
            rows = ", ".join(
                f"{f}:{r}" for f, r in zip(grp["file"][:limit], grp["row"][:limit], strict=False)
            )
            more = f" and {len(grp) - limit} more" if len(grp) > limit else ""
            found = grp["found"].iloc[0]
            lines.append(
                f"{len(grp)} row{'s' if len(grp) != 1 else ''}: column {col!r}: expected "
                f"{expected}, found e.g. {found!r} (rows {rows}{more})"
            )
        return lines


BAD_COLUMNS = ["file", "row", "column", "expected", "found"]


def _read_one(
    path: Path, spec: Sequence[Column], cmap: ColumnMap, kind: str, sheet: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, int, list[str]]:
    if not path.is_file():
        raise ExportError(f"{path}: expected an export file, found nothing at that path")
    mapped = cmap.records if kind == "records" else cmap.tickets
    sheet = sheet or cmap.sheet
    try:
        headings = _headings(path, sheet)
        wanted = match_columns(headings, spec, mapped, path)
        raw, _ = _read_raw(path, sheet, wanted)
    except ExportError:
        raise
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
        raise ExportError(f"{path}: expected a readable CSV or XLSX export, found: {exc}") from None
    n = len(raw)
    # The header is row 1 of the file (and of the sheet), so data rows start at 2.
    rows = pd.Series(np.arange(2, n + 2), index=raw.index)
    bad_parts = []
    out = pd.DataFrame(index=raw.index)
    out["row"] = rows
    by_name = {c.name: c for c in spec}
    status_table = _word_table(STATUS_WORDS, cmap.status)
    channel_table = _word_table(channel_words(), cmap.channel)

    def flag_bad(mask: pd.Series, column: str, expected: str, found: pd.Series) -> None:
        if mask.any():
            bad_parts.append(
                pd.DataFrame(
                    {
                        "file": str(path),
                        "row": rows[mask].to_numpy(),
                        "column": column,
                        "expected": expected,
                        "found": found[mask].astype(str).to_numpy(),
                    }
                )
            )

    for name in raw.columns:
        col = by_name[name]
        values = raw[name]
        if col.kind == "time":
            parsed, bad = parse_times(values, cmap.date_format)
            flag_bad(bad, name, EXPECTED_TIME, values)
            if col.required:
                flag_bad(parsed.isna() & ~bad, name, EXPECTED_TIME, values.fillna(""))
            out[name] = parsed
        elif col.kind == "status":
            mapped_words, unknown = _map_words(values, status_table)
            flag_bad(unknown, name, f"a status word ({', '.join(STATUS_WORDS)})", values)
            out[name] = mapped_words.astype("category")
        elif col.kind == "channel":
            mapped_words, unknown = _map_words(values, channel_table)
            flag_bad(unknown, name, f"a channel ({', '.join(CHANNEL_KINDS)})", values)
            out[name] = mapped_words.astype("category")
        elif col.kind == "flag":
            flags, unknown = _flags(values)
            flag_bad(unknown, name, "yes or no (1/0, có/không)", values)
            out[name] = flags
        else:
            text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
            if col.required:
                flag_bad(text == "", name, f"a {name.replace('_', ' ')}", text)
            out[name] = text.astype("category") if name != "record_id" else text
    bad = (
        pd.concat(bad_parts, ignore_index=True) if bad_parts else pd.DataFrame(columns=BAD_COLUMNS)
    )
    return out, bad, n, headings


def _end_before_start(
    frame: pd.DataFrame, path_of: pd.Series, pairs: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    parts = []
    for start, end in pairs:
        if start in frame and end in frame:
            mask = frame[end] < frame[start]
            if mask.any():
                parts.append(
                    pd.DataFrame(
                        {
                            "file": path_of[mask].to_numpy(),
                            "row": frame.loc[mask, "row"].to_numpy(),
                            "column": end,
                            "expected": f"{end} at or after {start}",
                            "found": (
                                frame.loc[mask, end].astype(str)
                                + " before "
                                + frame.loc[mask, start].astype(str)
                            ).to_numpy(),
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BAD_COLUMNS)


def _read_many(
    paths: Sequence[str | Path],
    spec: Sequence[Column],
    cmap: ColumnMap | None,
    kind: str,
    sheet: str | None,
    order_pairs: Sequence[tuple[str, str]],
) -> Table:
    cmap = cmap or ColumnMap()
    frames, bads, total, found = [], [], 0, []
    for p in paths:
        path = Path(p)
        frame, bad, n, headings = _read_one(path, spec, cmap, kind, sheet)
        frame["file"] = str(path)
        frames.append(frame)
        bads.append(bad)
        total += n
        found = found or headings
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    for name in frame.columns:
        if isinstance(frames[0][name].dtype, pd.CategoricalDtype) and len(frames) > 1:
            frame[name] = frame[name].astype("category")
    bads.append(_end_before_start(frame, frame["file"], order_pairs))
    if kind == "records" and "record_id" in frame:
        ids = frame["record_id"]
        dup = ids.ne("") & ids.duplicated(keep="first")
        if dup.any():
            first = frame.loc[~ids.duplicated(keep="first")].set_index("record_id")["row"]
            bads.append(
                pd.DataFrame(
                    {
                        "file": frame.loc[dup, "file"].to_numpy(),
                        "row": frame.loc[dup, "row"].to_numpy(),
                        "column": "record_id",
                        "expected": "each record once",
                        "found": (
                            ids[dup] + " also at row " + ids[dup].map(first).astype(str)
                        ).to_numpy(),
                    }
                )
            )
    bad = (
        pd.concat([b for b in bads if not b.empty], ignore_index=True)
        if any(not b.empty for b in bads)
        else pd.DataFrame(columns=BAD_COLUMNS)
    )
    if not bad.empty:
        bad = bad.sort_values(["file", "row"], kind="stable").reset_index(drop=True)
        key = frame["file"].astype(str) + ":" + frame["row"].astype(str)
        bad_keys = set(bad["file"].astype(str) + ":" + bad["row"].astype(str))
        frame = frame[~key.isin(bad_keys)]
    table = Table(frame.reset_index(drop=True), bad, total, [str(p) for p in paths], found)
    if table.frame.empty:
        where = ", ".join(table.files)
        if total == 0:
            raise ExportError(f"{where}: expected at least one data row, found only the header")
        first = bad.iloc[0]
        raise ExportError(
            f"{where}: expected usable rows, found none of {total}: every row has a problem, "
            f"e.g. row {first['row']} of {first['file']}, column {first['column']!r}: expected "
            f"{first['expected']}, found {first['found']!r}"
        )
    return table


def read_export(
    paths: Sequence[str | Path], columns: ColumnMap | None = None, sheet: str | None = None
) -> Table:
    """Read one or more dossier exports (e.g. one per month) into one table.

    Bad rows (unreadable date-times, a result before the filing, an unknown
    channel or status, an empty procedure, a record id seen before) are left out
    of the table and listed in ``bad`` with file, row number, column, what was
    expected and what was found."""
    return _read_many(
        paths,
        RECORD_COLUMNS,
        columns,
        "records",
        sheet,
        (
            ("received_at", "completed_at"),
            ("received_at", "returned_at"),
            ("received_at", "supplement_at"),
        ),
    )


def read_tickets(
    path: str | Path, columns: ColumnMap | None = None, sheet: str | None = None
) -> Table:
    """Read a ticket log: one row per ticket taken at the kiosk.

    Bad rows: unreadable times, service ending before it starts or starting
    before the ticket was issued."""
    return _read_many(
        [path],
        TICKET_COLUMNS,
        columns,
        "tickets",
        sheet,
        (("issued_at", "service_start"), ("service_start", "service_end")),
    )


def parse_holidays(values: Iterable[str], source: str) -> list[np.datetime64]:
    """Holiday dates as ``YYYY-MM-DD`` or ``dd/mm/yyyy``."""
    out = []
    for v in values:
        parsed, bad = parse_times(pd.Series([str(v)]))
        if bad.iloc[0] or pd.isna(parsed.iloc[0]):
            raise ExportError(f"{source}: holiday: expected a date like 2025-09-02, found {v!r}")
        out.append(np.datetime64(parsed.iloc[0].date(), "D"))
    return out
