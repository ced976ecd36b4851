"""A simulated run's records in the export format ``pasc fit`` reads.

The model counts time in working days back to back (working day ``d`` spans
minutes ``[d * 1440, (d + 1) * 1440)``); an export has calendar date-times. To
write one, working day 0 is put on a start date and every later working day
on the next date that is a working weekday of the scenario's calendar and not
a holiday. Times are printed the way one-stop systems print them: the dossier
export as ``dd/mm/yyyy HH:MM`` (cut to the minute), the ticket log with
seconds.

What each record becomes:

* completed: status ``on_time`` or ``late`` (its result against the due
  date), ``completed_at`` and ``returned_at`` (later for a postal result, by
  the post's delivery time);
* rejected: status ``rejected``, ``returned_at`` when it was sent back;
* still open at the end of the run: ``in_progress``, no result date;
* sent back for a supplement: ``supplement_at`` when the citizen came back,
  or status ``supplement`` when they had not by the end of the run;
* walk-ins who left the queue before reaching a counter were never received in
  the system: they are not in the export.

Each served walk-in also has a ticket in the ticket log (issued when the
citizen joined the queue, service start and end, the desk as the counter).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from simulator.scenario.channels import CHANNEL_KINDS, HANDOVER
from simulator.scenario.models import WEEKDAYS, Scenario

#: Working day 0 of an exported run: a Monday.
DEFAULT_START_DATE = "2025-07-07"
RECORD_TIME_FORMAT = "%d/%m/%Y %H:%M"
TICKET_TIME_FORMAT = "%d/%m/%Y %H:%M:%S"

#: Vietnamese headings and words for ``language="vi"`` (all accepted by ``pasc fit``).
VI_RECORD_HEADINGS = {
    "record_id": "Mã hồ sơ",
    "procedure": "Tên thủ tục",
    "field": "Lĩnh vực",
    "channel": "Hình thức nộp",
    "received_at": "Ngày tiếp nhận",
    "due_at": "Ngày hẹn trả",
    "completed_at": "Ngày hoàn thành",
    "returned_at": "Ngày trả kết quả",
    "supplement_at": "Ngày bổ sung",
    "status": "Trạng thái",
    "counter": "Quầy tiếp nhận",
    "priority": "Ưu tiên",
}
VI_TICKET_HEADINGS = {
    "ticket": "Số phiếu",
    "issued_at": "Giờ lấy số",
    "called_at": "Giờ gọi",
    "service_start": "Bắt đầu phục vụ",
    "service_end": "Kết thúc phục vụ",
    "counter": "Quầy",
    "procedure": "Thủ tục",
    "field": "Lĩnh vực",
    "record_id": "Mã hồ sơ",
    "priority": "Ưu tiên",
}
VI_STATUS = {
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "in_progress": "Đang xử lý",
    "supplement": "Chờ bổ sung",
    "rejected": "Từ chối",
}
VI_FLAG = {True: "Có", False: "Không"}
#: Vietnamese names of the shipped scenarios' procedures and fields, for
#: ``language="vi"`` when a procedure has no ``name:`` of its own.
VI_PROCEDURE_NAMES = {
    "birth-registration": "Đăng ký khai sinh",
    "death-registration": "Đăng ký khai tử",
    "marriage-registration": "Đăng ký kết hôn",
    "certified-copy": "Chứng thực bản sao từ bản chính",
    "contract-certification": "Chứng thực hợp đồng, giao dịch",
    "household-business": "Đăng ký thành lập hộ kinh doanh",
    "land-registration": "Đăng ký đất đai, cấp giấy chứng nhận",
}
VI_FIELD_NAMES = {
    "civil-status": "Hộ tịch",
    "certification": "Chứng thực",
    "business": "Hộ kinh doanh",
    "land": "Đất đai",
}


def weekmask_of(scenario: Scenario) -> str:
    """numpy's weekmask (``"1111100"``) of the scenario's working weekdays."""
    if scenario.calendar.type == "continuous":
        return "1111111"
    return "".join("1" if d in scenario.calendar.weekdays else "0" for d in WEEKDAYS)


def model_minutes_to_datetimes(
    minutes: np.ndarray | pd.Series,
    start_date: str,
    weekmask: str,
    holidays: list[np.datetime64] | None = None,
) -> pd.Series:
    """Calendar date-times of model times (NaN stays NaT): working day ``d`` is the
    ``d``-th working date from ``start_date`` (rolled forward to a working date)."""
    m = np.asarray(minutes, dtype=float)
    ok = np.isfinite(m)
    day = np.where(ok, np.floor(m / 1440.0), 0).astype(np.int64)
    minute = np.where(ok, m - day * 1440.0, 0.0)
    dates = np.busday_offset(
        np.datetime64(start_date, "D"),
        day,
        roll="forward",
        weekmask=weekmask,
        holidays=holidays or [],
    )
    stamps = dates.astype("datetime64[ns]") + (minute * 60e9).astype("timedelta64[ns]")
    out = pd.Series(stamps)
    out[~ok] = pd.NaT
    return out


def _fmt(times: pd.Series, fmt: str) -> pd.Series:
    # Systems cut times to their precision (13:05:59 prints as 13:05).
    unit = "min" if not fmt.endswith("%S") else "s"
    return times.dt.floor(unit).dt.strftime(fmt).fillna("")


def export_log(
    records: pd.DataFrame,
    scenario: Scenario,
    *,
    replication: int | None = None,
    start_date: str = DEFAULT_START_DATE,
    holidays: list[np.datetime64] | None = None,
    language: Literal["en", "vi"] = "en",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(dossier export, ticket log) of one replication's records table.

    ``records`` is :attr:`RunResult.records` (or a run folder's
    ``records.csv.gz``); ``replication`` defaults to the first one in it.
    ``language="vi"`` writes Vietnamese headings, statuses and channels, as a
    Vietnamese one-stop system would. Records taken over from the district level
    on day one (channel ``handover``) are left out: this center did not receive
    them, and a fit of its arrivals must not count them."""
    df = records
    if "replication" in df:
        rep = int(df["replication"].min()) if replication is None else replication
        df = df[df["replication"] == rep]
        if df.empty:
            raise ValueError(f"expected records of replication {rep}, found none")
    df = df.sort_values("arrival_minute", kind="stable").reset_index(drop=True)
    vi = language == "vi"
    names = {
        p.id: (p.name or (VI_PROCEDURE_NAMES.get(p.id, p.id) if vi else p.id))
        for p in scenario.procedures
    }
    fields = {
        p.field: (VI_FIELD_NAMES.get(p.field, p.field) if vi else p.field)
        for p in scenario.procedures
    }
    handled = df["handle_minutes"].notna()
    walked_away = (df["outcome"] == "abandoned") & (df["channel"] == "walk_in") & ~handled
    df = df[~walked_away & (df["channel"] != HANDOVER.name)].reset_index(drop=True)
    handled = df["handle_minutes"].notna()
    mask = weekmask_of(scenario)

    def when(col: str) -> pd.Series:
        return model_minutes_to_datetimes(df[col].to_numpy(), start_date, mask, holidays)

    outcome = df["outcome"].astype(str)
    on_time = df["on_time"].astype(object)
    status = np.select(
        [
            (outcome == "completed") & (on_time == True),  # noqa: E712 (object column)
            outcome == "completed",
            outcome == "rejected",
            outcome == "abandoned",
        ],
        ["on_time", "late", "rejected", "supplement"],
        default="in_progress",
    )
    resolved = outcome.isin(["completed", "rejected"])
    supplemented = df["queued_minute"] > df["arrival_minute"] + 1e-6
    received = when("arrival_minute")
    completed = when("resolved_minute").where(outcome == "completed")
    returned = when("returned_minute").where(resolved)
    supplement = when("queued_minute").where(supplemented)
    ids = "HS-" + df["record"].astype(int).astype(str).str.zfill(6)
    export = pd.DataFrame(
        {
            "record_id": ids,
            "procedure": df["procedure"].map(names),
            "field": df["field"].map(fields),
            "channel": df["channel"],
            "received_at": _fmt(received, RECORD_TIME_FORMAT),
            "due_at": _fmt(when("due_minute"), RECORD_TIME_FORMAT),
            "completed_at": _fmt(completed, RECORD_TIME_FORMAT),
            "returned_at": _fmt(returned, RECORD_TIME_FORMAT),
            "supplement_at": _fmt(supplement, RECORD_TIME_FORMAT),
            "status": status,
            "counter": df["desk"].fillna(""),
            "priority": df["priority"].astype(bool),
        }
    )
    w = df[handled & (df["channel"] == "walk_in")]
    issued = model_minutes_to_datetimes(w["queued_minute"].to_numpy(), start_date, mask, holidays)
    start = model_minutes_to_datetimes(
        (w["queued_minute"] + w["wait_minutes"]).to_numpy(), start_date, mask, holidays
    )
    end = model_minutes_to_datetimes(w["desk_end_minute"].to_numpy(), start_date, mask, holidays)
    day = issued.dt.normalize()
    number = issued.groupby(day).rank(method="first").astype(int)
    tickets = pd.DataFrame(
        {
            "ticket": (1000 + number).astype(str).to_numpy(),
            "issued_at": _fmt(issued, TICKET_TIME_FORMAT).to_numpy(),
            "called_at": _fmt(start, TICKET_TIME_FORMAT).to_numpy(),
            "service_start": _fmt(start, TICKET_TIME_FORMAT).to_numpy(),
            "service_end": _fmt(end, TICKET_TIME_FORMAT).to_numpy(),
            "counter": w["desk"].fillna("").to_numpy(),
            "procedure": w["procedure"].map(names).to_numpy(),
            "field": w["field"].map(fields).to_numpy(),
            "record_id": ids[w.index].to_numpy(),
            "priority": w["priority"].astype(bool).to_numpy(),
        }
    )
    tickets = tickets.iloc[np.argsort(issued.to_numpy(), kind="stable")].reset_index(drop=True)
    if language == "vi":
        export["status"] = export["status"].map(VI_STATUS)
        export["channel"] = export["channel"].map(
            {name: kind.label_vi or name for name, kind in CHANNEL_KINDS.items()}
        )
        export["priority"] = export["priority"].map(VI_FLAG)
        tickets["priority"] = tickets["priority"].map(VI_FLAG)
        export = export.rename(columns=VI_RECORD_HEADINGS)
        tickets = tickets.rename(columns=VI_TICKET_HEADINGS)
    else:
        export["priority"] = export["priority"].map({True: "yes", False: "no"})
        tickets["priority"] = tickets["priority"].map({True: "yes", False: "no"})
    return export, tickets


def tickets_path_for(path: str | Path) -> Path:
    """Where the ticket log goes beside an export: ``export.csv`` -> ``export-tickets.csv``."""
    p = Path(path)
    suffixes = "".join(p.suffixes)
    stem = p.name[: -len(suffixes)] if suffixes else p.name
    return p.with_name(f"{stem}-tickets{suffixes}")


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write CSV (UTF-8 with a byte-order mark, so Excel shows Vietnamese letters) or
    XLSX, by the file's suffix, atomically: a temporary file renamed into place."""
    import io

    from simulator.artifacts import write_file_atomically

    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False, engine="openpyxl", sheet_name="export")
        data = buffer.getvalue()
    else:
        data = frame.to_csv(index=False).encode("utf-8-sig")
    write_file_atomically(p, data, durable=False)


def export_run_folder(
    folder: str | Path,
    out: str | Path | None = None,
    *,
    replication: int | None = None,
    start_date: str = DEFAULT_START_DATE,
    language: Literal["en", "vi"] = "en",
    force: bool = False,
) -> tuple[Path, Path]:
    """Write a run folder's records as ``out`` (default ``<folder>/export.csv``) and its
    ticket log beside it (``export-tickets.csv``); returns both paths. An existing
    file is kept (``FileExistsError``) unless ``force``."""
    from simulator.scenario import load_scenario

    folder = Path(folder)
    records_file = folder / "records.csv.gz"
    if not (folder / "scenario.yaml").is_file():
        raise FileNotFoundError(f"{folder}: expected a run folder with scenario.yaml, found none")
    if not records_file.is_file():
        raise FileNotFoundError(
            f"{folder}: expected records.csv.gz (a run without --no-records), found none"
        )
    scenario = load_scenario(folder / "scenario.yaml")
    records = pd.read_csv(records_file)
    export, tickets = export_log(
        records, scenario, replication=replication, start_date=start_date, language=language
    )
    out_path = Path(out) if out is not None else folder / "export.csv"
    ticket_path = tickets_path_for(out_path)
    for p in (out_path, ticket_path):
        if p.exists() and not force:
            raise FileExistsError(f"{p}: expected a new file, found one (use --force to replace)")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_table(export, out_path)
    write_table(tickets, ticket_path)
    return out_path, ticket_path
