"""Run folders: how every command's results are written to disk and read back.

This is the one place that knows the file layout of a run folder and the one
place that writes files atomically. Above it, the rendering layer
(:mod:`simulator.plots`, :mod:`simulator.report`) draws pictures and reports
*into* a folder; below it, the result tables (:mod:`simulator.results`) know
nothing of files.

**Whole or not at all.** A run folder (``results/<scenario>/<timestamp>/``) is
first filled as a hidden temporary folder beside the final one and renamed
into place only when complete (:func:`write_folder_atomically`), so an
interrupted run never leaves a half-written folder that looks finished. A
single file that is replaced in place (a sweep's task files, a rebuilt report)
goes through :func:`write_file_atomically`: a temporary name, flushed and
``fsync``-ed, renamed over the old one. Folder names come from one maker,
:func:`timestamp` plus a ``-2``, ``-3``... suffix when the name is taken
(:func:`new_folder`), so two runs in the same second never share a folder.

**Pictures and reports are passed in.** The ``write_*_folder`` functions take a
``render(result, folder, meta)`` callable (for instance
:func:`simulator.report.write_run_report`) that draws inside the temporary
folder, so a finished folder has its report. Without one, only the data files
are written; ``pasc report FOLDER`` can draw the pictures later, from the files.

Every file name a run folder holds is listed in ``docs/outputs.md``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.scenario import scenario_to_yaml

if TYPE_CHECKING:
    import pandas as pd

    from simulator.compare import Comparison
    from simulator.results import RunResult
    from simulator.scenario import Scenario
    from simulator.sizing import SizingResult
    from simulator.sizing_by_hour import HourlySizing, ShiftPlans

DEFAULT_ROOT = Path("results")
#: When and with which software a folder was written (kept apart from run.json,
#: whose shape is the ``--json`` contract).
ENVIRONMENT_FILE = "environment.json"

Render = Callable[[Any, Path, dict[str, Any]], Any]
"""Draws pictures and a report into a folder: ``render(result, folder, meta)``."""


class RunFolderError(ValueError):
    """A run folder that cannot be read: names the file, what was expected and found."""


# -- writing files and folders ------------------------------------------------------------


def timestamp() -> str:
    """The moment as a folder name: ``2026-07-01T09-30-00`` (sorts by time)."""
    return datetime.now().strftime("%Y-%m-%dT%H-%M-%S")


def umask() -> int:
    """The process's file-creation mask (read without changing it for good)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def pasc_version() -> str:
    """The installed pasc version (``0.0.0+local`` in a source tree not installed)."""
    try:
        return version("pasc")
    except PackageNotFoundError:
        return "0.0.0+local"


def sync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable where the system allows it (POSIX can
    open and sync a folder; Windows cannot and needs no such step)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse to sync a folder: the rename is still atomic
        pass
    finally:
        os.close(fd)


def write_file_atomically(path: Path, data: str | bytes, *, durable: bool = True) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the whole new one.

    The data goes to a temporary file in the same folder, which is renamed over
    ``path``. With ``durable`` (the default) the file is ``fsync``-ed before the
    rename and the folder after it, so that even a power cut leaves one or the
    other (what a sweep's task files need); files written inside a folder that
    is itself renamed into place at the end can skip that (``durable=False``).
    The file gets the permissions any new file gets (``mkstemp`` alone would
    make it private).
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        sync_folder(path.parent)


def _free_names(name: str) -> Iterator[str]:
    """``name``, then ``name-2``, ``name-3``, ...: the candidates for a new folder."""
    yield name
    for k in range(2, 1000):
        yield f"{name}-{k}"


def new_folder(parent: Path, name: str) -> Path:
    """Create and return ``parent/name`` (or ``name-2``, ``name-3``...): never an existing one."""
    parent.mkdir(parents=True, exist_ok=True)
    for candidate in _free_names(name):
        folder = parent / candidate
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"no free folder name under {parent}")


def write_folder_atomically(parent: Path, name: str, fill: Callable[[Path], None]) -> Path:
    """Create ``parent/name`` (or ``name-2``, ...) by filling a temporary folder with
    ``fill(tmp)`` and renaming it into place when complete. The folder gets the
    permissions any new folder gets; an interruption (Ctrl-C, SIGTERM) removes
    the temporary one."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent))
    try:
        os.chmod(tmp, 0o777 & ~umask())
        fill(tmp)
        # os.rename onto an existing empty folder succeeds on POSIX: claim the name
        # with mkdir first, so that two writers can never pick the same one.
        final = new_folder(parent, name)
        final.rmdir()
        os.rename(tmp, final)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _write_table(path: Path, table: pd.DataFrame) -> None:
    """``table`` as ``path`` (csv): the bytes of ``table.to_csv(path, index=False)``,
    made by :func:`_csv_lines` where it can."""
    lines = _csv_lines(table)
    if lines is None:
        table.to_csv(path, index=False)
        return
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.writelines(lines)


#: Characters that make the csv module quote a field (``QUOTE_MINIMAL``).
_QUOTED = (",", '"', "\n", "\r")
#: The Python types an object column may hold for :func:`_csv_column` to write it.
_PLAIN_OBJECTS = frozenset({str, bool, int, float})


def _csv_column(series: pd.Series) -> list[str] | None:
    """The fields ``to_csv`` writes for one column (``na_rep=""``), or None when this
    column might be written otherwise by pandas (any other dtype or object)."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return list(map(str, series.tolist()))
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize == 8:
        values = series.to_numpy()
        # pandas writes numpy's str of a float64: the same shortest repr as Python's
        text = list(map(repr, values.tolist()))
        for i in np.flatnonzero(np.isnan(values)).tolist():
            text[i] = ""
        return text
    if not (
        (isinstance(dtype, np.dtype) and dtype.kind == "O") or isinstance(dtype, pd.StringDtype)
    ):
        return None
    values = series.tolist()
    missing = series.isna().to_numpy()
    if isinstance(dtype, pd.StringDtype):  # text or missing, nothing else
        kinds = set() if missing.all() else {str}
    else:
        kinds = {type(v) for v, gone in zip(values, missing.tolist(), strict=True) if not gone}
    if not kinds <= _PLAIN_OBJECTS:
        return None
    text = values if kinds == {str} else [str(v) for v in values]
    for i in np.flatnonzero(missing).tolist():
        text[i] = ""
    if str in kinds:
        joined = "".join(text)
        if any(c in joined for c in _QUOTED):
            return None  # quoted fields: left to pandas' csv writer
    return text


def _csv_lines(table: pd.DataFrame) -> list[str] | None:
    """The lines ``table.to_csv(index=False)`` writes, made column by column and joined
    row by row (several times quicker: pandas turns floats into numpy strings,
    then hands Python objects to the csv module), or None when some column or
    name is anything but plain numbers, booleans and unquoted text."""
    names = [str(name) for name in table.columns]
    if len(names) < 2 or any(c in name for name in names for c in _QUOTED):
        return None  # a lone field may be quoted even when empty: pandas knows
    columns = []
    for _, series in table.items():
        column = _csv_column(series)
        if column is None:
            return None
        columns.append(column)
    end = os.linesep  # to_csv's line terminator, put at the end of the last field
    names[-1] += end
    columns[-1] = [field + end for field in columns[-1]]
    return [",".join(names), *map(",".join, zip(*columns, strict=True))]


#: The records table's file in a run folder.
RECORDS_FILE = "records.csv.gz"


class RecordsTableFile:
    """``records.csv.gz`` written a part at a time (the replications of a run, in
    order, as they finish): the header, then each part's lines, through one gzip
    stream (level 1 rather than pandas' default 9: the file is read back the same
    way and is about as small, in a fraction of the time).

    The lines are :func:`_csv_lines`', given one ``write`` each through the same
    text wrapper into the same ``GzipFile`` as pandas' csv writer sends them, so
    the file has the bytes ``to_csv`` of the whole table would write however the
    table is cut into parts (deflate's output depends on how its input arrives:
    the same text alone would not do). :meth:`add` refuses a part whose lines
    it cannot make (a field to quote: pandas' writer knows how), and the file is
    then abandoned: :func:`write_records_table` writes such a table with pandas.
    """

    def __init__(self, path: Path | str, name: str = RECORDS_FILE):
        import gzip
        import io

        self.path = Path(path)
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed by close or abandon)
        # ``name`` goes in the gzip header: the name of the file in the run folder.
        raw = gzip.GzipFile(filename=name, fileobj=self._file, mode="wb", compresslevel=1, mtime=0)
        self._text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        self._header: str | None = None

    def add(self, part: pd.DataFrame) -> bool:
        """Append ``part``'s rows; False (nothing written) when its lines are not plain
        or its columns are not those of the parts before."""
        lines = _csv_lines(part)
        if lines is None or self._header not in (None, lines[0]):
            return False
        if self._header is None:
            self._header = lines[0]
            self._text.write(lines[0])
        self._text.writelines(lines[1:])
        return True

    def close(self) -> Path:
        """Finish the file (one part at least was added); return its path."""
        self._text.close()  # flushes the wrapper, then ends the gzip stream
        self._file.close()
        return self.path

    def abandon(self) -> None:
        """Close and delete the file."""
        with contextlib.suppress(Exception):
            self._text.close()
        self._file.close()
        self.path.unlink(missing_ok=True)


def write_records_table(folder: Path, records: pd.DataFrame) -> Path:
    """``records.csv.gz``: one row per record, every replication (the bytes of
    :class:`RecordsTableFile`, with the table as its one part, or of pandas'
    ``to_csv`` with the same compression when it refuses the table)."""
    path = folder / RECORDS_FILE
    table = RecordsTableFile(path)
    if table.add(records):
        table.close()
        return path
    table.abandon()
    gzip = {"method": "gzip", "compresslevel": 1, "mtime": 0}
    records.to_csv(path, index=False, compression=gzip)
    return path


#: Records read for the pictures of a run whose table is on disk, not in memory.
PICTURE_SAMPLE_ROWS = 200_000
_TABLES = ("records", "hourly", "daily")


class TableSpool:
    """Where the replications of a run write their records, hourly and daily tables
    while they run, so that memory stays bounded on any horizon.

    Each replication appends its chunks (:mod:`simulator.model.tables`) to its own
    part files in a hidden folder beside the run folder: ``records-00003.csv.gz``
    (one gzip member per chunk, rows without a header), ``hourly-00003.csv`` and
    ``daily-00003.csv``. :meth:`assemble` then writes the run folder's
    ``records.csv.gz`` (a header member, then the parts' bytes in replication
    order: a valid multi-member gzip file), ``hourly.csv`` and ``daily.csv``,
    copying bytes, never holding a table. The spool is picklable (a path): local
    worker processes write their own parts. :meth:`remove` deletes the folder.
    """

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    @classmethod
    def beside(cls, parent: Path) -> TableSpool:
        """A new spool folder ``parent/.spool-XXXX`` (removed by :meth:`remove`)."""
        parent.mkdir(parents=True, exist_ok=True)
        return cls(tempfile.mkdtemp(prefix=".spool-", dir=parent))

    def _part(self, table: str, replication: int) -> Path:
        suffix = ".csv.gz" if table == "records" else ".csv"
        return self.directory / f"{table}-{replication:05d}{suffix}"

    def open(self, replication: int) -> _SpoolWriter:
        return _SpoolWriter(self, replication)

    def close(self, replication: int, sink: _SpoolWriter) -> None:
        sink.close()

    def header(self, table: str) -> list[str] | None:
        path = self.directory / f"{table}.header"
        return path.read_text(encoding="utf-8").split(",") if path.exists() else None

    def assemble(self, folder: Path, replications: int) -> None:
        """Write ``records.csv.gz``, ``hourly.csv`` and ``daily.csv`` into ``folder``."""
        import gzip

        for table in _TABLES:
            columns = self.header(table)
            if columns is None:
                continue
            parts = [self._part(table, i) for i in range(replications)]
            line = ",".join(["replication", *columns]) + "\n"
            if table == "records":
                target = folder / RECORDS_FILE
                with open(target, "wb") as out:
                    out.write(gzip.compress(line.encode(), compresslevel=1, mtime=0))
                    for part in parts:
                        if part.exists():
                            with open(part, "rb") as f:
                                shutil.copyfileobj(f, out, 1 << 20)
            else:
                with open(folder / f"{table}.csv", "wb") as out:
                    out.write(line.encode())
                    for part in parts:
                        if part.exists():
                            with open(part, "rb") as f:
                                shutil.copyfileobj(f, out, 1 << 20)

    def read(self, table: str, replications: int, rows_per_part: int | None = None):
        """``hourly`` or ``daily`` (whole), or up to ``rows_per_part`` records of each
        replication, as one DataFrame (None when nothing was written)."""
        import pandas as pd

        columns = self.header(table)
        if columns is None:
            return None
        frames = []
        for i in range(replications):
            part = self._part(table, i)
            if not (part.exists() and part.stat().st_size):
                continue
            step = 1
            rows_file = self.directory / f"{table}-{i:05d}.rows"
            if rows_per_part and rows_file.exists():  # every step-th record: an even sample
                step = max(1, math.ceil(int(rows_file.read_text()) / rows_per_part))
            frames.append(
                pd.read_csv(
                    part,
                    header=None,
                    names=["replication", *columns],
                    skiprows=(lambda r, step=step: r % step != 0) if step > 1 else None,
                )
            )
        if not frames:
            return pd.DataFrame(columns=["replication", *columns])
        return pd.concat(frames, ignore_index=True)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class _SpoolWriter:
    """The sink of one replication: appends each chunk to its part file."""

    def __init__(self, spool: TableSpool, replication: int):
        self.spool = spool
        self.replication = replication
        self.records = 0

    def __call__(self, table: str, columns: dict[str, list]) -> None:
        import gzip

        import pandas as pd

        frame = pd.DataFrame(columns)
        frame.insert(0, "replication", self.replication)
        header = self.spool.directory / f"{table}.header"
        if not header.exists():  # the same columns in every replication's chunks
            write_file_atomically(header, ",".join(columns).encode())
        text = frame.to_csv(header=False, index=False)
        part = self.spool._part(table, self.replication)
        if table == "records":
            self.records += len(frame)
            with open(part, "ab") as f:
                f.write(gzip.compress(text.encode(), compresslevel=1, mtime=0))
        else:
            with open(part, "a", encoding="utf-8", newline="") as f:
                f.write(text)

    def close(self) -> None:
        """Nothing stays open between chunks; the records written are counted (for an
        even sample of them, :meth:`TableSpool.read`)."""
        count = self.spool.directory / f"records-{self.replication:05d}.rows"
        write_file_atomically(count, str(self.records).encode(), durable=False)


def _installed_version(package: str) -> str:
    """``importlib.metadata.version(package)``, reading only the metadata's headers:
    ``version`` parses the whole file, long description included (most of the
    time of :func:`software_versions`), for one header that comes before it."""
    import email
    from importlib.metadata import distribution

    dist = distribution(package)
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("") or ""
    found = email.message_from_string(text.split("\n\n", 1)[0])["Version"]
    return found if isinstance(found, str) else dist.version


def software_versions() -> dict[str, str]:
    """Versions of Python, the libraries the numbers depend on, pasc and the platform."""
    import platform

    out = {"python": platform.python_version()}
    for package in ("simpy", "numpy", "scipy", "pandas", "matplotlib", "pasc"):
        try:
            out[package] = _installed_version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    out["platform"] = platform.platform()
    out["cpus"] = str(os.cpu_count() or 1)
    return out


def run_metadata() -> dict[str, Any]:
    """What ``environment.json`` keeps: when, with which software, which command."""
    return {
        "created": datetime.now().isoformat(timespec="seconds"),
        "versions": software_versions(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
    }


def write_run_folder(
    result: RunResult,
    root: Path = DEFAULT_ROOT,
    extra: dict[str, Any] | None = None,
    *,
    render: Render | None = None,
    spool: TableSpool | None = None,
    records: Callable[[Path, pd.DataFrame], Path] = write_records_table,
) -> Path:
    """``<root>/<scenario>/<timestamp>/``: the resolved scenario, summary, per-replication
    KPIs, targets, records, hourly and daily tables, ``run.json`` (the ``--json``
    shape), ``environment.json`` and, with ``render``, the pictures and ``report.html``.
    With ``spool`` the records, hourly and daily tables come from it (streamed);
    else ``records(folder, table)`` writes the records table (by default
    :func:`write_records_table`; ``pasc run`` has its drawer write it while the
    run simulates, see :meth:`simulator.report.PictureDrawers.write_records`)."""

    def fill(folder: Path) -> None:
        if spool is not None:
            spool.assemble(folder, result.replications)
        _write_text(folder / "scenario.yaml", scenario_to_yaml(result.scenario))
        _write_table(folder / "summary.csv", result.summary())
        _write_table(folder / "kpis.csv", result.kpis)
        _write_table(folder / "targets.csv", result.targets())
        if spool is None and result.records_table is not None:
            records(folder, result.records_table)
        if spool is None and result.hourly_table is not None:
            _write_table(folder / "hourly.csv", result.hourly_table)
        if spool is None and result.daily_table is not None:
            _write_table(folder / "daily.csv", result.daily_table)
        meta = {**result.to_dict(), "pasc_version": pasc_version(), **(extra or {})}
        _write_json(folder / "run.json", meta)
        environment = run_metadata()
        _write_json(folder / ENVIRONMENT_FILE, environment)
        if render is not None:
            render(result, folder, {**meta, **environment})

    return write_folder_atomically(Path(root) / result.scenario.name, timestamp(), fill)


def write_sizing_folder(
    result: SizingResult, root: Path = DEFAULT_ROOT, *, render: Render | None = None
) -> Path:
    """``<root>/<scenario>/<timestamp>-size/``: the curve, the answer (``size.json``, and
    ``answer.yaml``: the input scenario with the answer's staff counts), the scenario,
    ``environment.json`` and, with ``render``, the staffing-curve picture and report."""

    def fill(folder: Path) -> None:
        _write_text(folder / "scenario.yaml", scenario_to_yaml(result.scenario))
        answer = result.answer_scenario()
        if answer is not None:  # the input with the answer's staff counts, ready to run
            _write_text(folder / "answer.yaml", scenario_to_yaml(answer))
        _write_table(folder / "curve.csv", result.curve_frame())
        meta = {**result.to_dict(), "pasc_version": pasc_version()}
        _write_json(folder / "size.json", meta)
        environment = run_metadata()
        seed = getattr(result, "seed", None)
        if seed is not None:
            environment["seed"] = seed
        _write_json(folder / ENVIRONMENT_FILE, environment)
        if render is not None:
            render(result, folder, {**meta, **environment})

    return write_folder_atomically(Path(root) / result.scenario.name, f"{timestamp()}-size", fill)


def write_size_by_hour_folder(
    result: HourlySizing,
    root: Path = DEFAULT_ROOT,
    *,
    shifts: ShiftPlans | None = None,
    render: Render | None = None,
) -> Path:
    """``<root>/<scenario>/<timestamp>-size-by-hour/``: ``answer.yaml`` (the scenario
    with each sized group's ``by_hour`` schedule, ready to run), ``by_hour.csv``
    (staff by hour: the answer, the plain Erlang answer), ``size.json`` (the
    ``--json`` shape: ``staff_hours``, ``flat_staff_hours``, every iteration),
    ``scenario.yaml``, with ``shifts`` also ``shifts.yaml`` (the scenario working
    the shift plan) and ``shifts.json``, and with ``render`` the pictures and report."""
    import pandas as pd

    def fill(folder: Path) -> None:
        _write_text(folder / "scenario.yaml", scenario_to_yaml(result.scenario))
        _write_text(folder / "answer.yaml", scenario_to_yaml(result.answer_scenario()))
        _write_table(folder / "by_hour.csv", pd.DataFrame(result.table()))
        meta = {**result.to_dict(), "pasc_version": pasc_version()}
        if shifts is not None:
            meta["shifts"] = shifts.to_dict()
            _write_text(folder / "shifts.yaml", scenario_to_yaml(shifts.scenario()))
            _write_json(folder / "shifts.json", shifts.to_dict())
        _write_json(folder / "size.json", meta)
        environment = {**run_metadata(), "seed": result.seed}
        _write_json(folder / ENVIRONMENT_FILE, environment)
        if render is not None:
            render(result, folder, {**meta, **environment})

    name = f"{timestamp()}-size-by-hour"
    return write_folder_atomically(Path(root) / result.scenario.name, name, fill)


def write_comparison_folder(
    comparison: Comparison, root: Path | str = DEFAULT_ROOT, *, render: Render | None = None
) -> Path:
    """``<root>/compare/<timestamp>/``: the scenarios (``scenarios/<i>-<label>.yaml``),
    per-replication ``kpis.csv``, ``summary.csv`` (long), ``side_by_side.csv``,
    ``differences.csv``, ``targets.csv``, ``compare.json`` (the ``--json`` shape),
    ``environment.json`` and, with ``render``, ``compare.png`` and ``report.html``."""

    def fill(folder: Path) -> None:
        (folder / "scenarios").mkdir()
        for i, (label, sc) in enumerate(zip(comparison.labels, comparison.scenarios, strict=True)):
            _write_text(folder / "scenarios" / f"{i + 1}-{label}.yaml", scenario_to_yaml(sc))
        _write_table(folder / "kpis.csv", comparison.kpis())
        _write_table(folder / "summary.csv", comparison.summary())
        _write_table(folder / "side_by_side.csv", comparison.side_by_side())
        _write_table(folder / "differences.csv", comparison.differences())
        _write_table(folder / "targets.csv", comparison.targets())
        meta = comparison.to_dict()
        _write_json(folder / "compare.json", meta)
        environment = run_metadata()
        _write_json(folder / ENVIRONMENT_FILE, environment)
        if render is not None:
            render(comparison, folder, {**meta, **environment})

    return write_folder_atomically(Path(root) / "compare", timestamp(), fill)


def write_province_folder(
    name: str,
    tables: dict[str, pd.DataFrame],
    root: Path = DEFAULT_ROOT,
) -> Path:
    """``<root>/<province>/<timestamp>-province/``: one CSV per table
    (``kpis.csv``, ``summary.csv``, ``flows.csv``)."""

    def fill(folder: Path) -> None:
        for stem, table in tables.items():
            _write_table(folder / f"{stem}.csv", table)

    return write_folder_atomically(Path(root) / name, f"{timestamp()}-province", fill)


# -- reading folders back -----------------------------------------------------------------


def read_json(path: Path) -> dict[str, Any]:
    """A folder's JSON file; :class:`RunFolderError` naming the file when it is not."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path}: expected a file, found none") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(
            f"{path}: expected JSON, found an error at line {exc.lineno}"
        ) from None


def read_table(path: Path, required: bool = True, **kw: Any) -> pd.DataFrame | None:
    """A folder's CSV table (None when absent and not ``required``)."""
    import pandas as pd

    if not path.exists():
        if required:
            raise RunFolderError(f"{path}: expected a file, found none")
        return None
    try:
        return pd.read_csv(path, **kw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise RunFolderError(f"{path}: expected a CSV table, found {exc}") from None


def read_scenario(path: Path) -> Scenario:
    """A folder's stored scenario (``scenario.yaml``, ``scenarios/<i>-<label>.yaml``)."""
    from simulator.scenario import ScenarioError, load_scenario

    if not path.exists():
        raise RunFolderError(f"{path}: expected a file, found none")
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise RunFolderError(exc.message()) from None


def read_environment(folder: Path) -> dict[str, Any]:
    """``environment.json`` of a folder, or ``{}`` for a folder written before it existed."""
    path = Path(folder) / ENVIRONMENT_FILE
    return read_json(path) if path.exists() else {}


def load_run_folder(folder: str | Path) -> tuple[RunResult, dict[str, Any]]:
    """A :class:`~simulator.results.RunResult` and ``run.json`` from a run folder.

    Summary and verdicts are recomputed from ``kpis.csv`` (the same numbers as
    ``summary.csv``); records, hourly and daily tables are read when present.
    """
    from simulator.results import RunResult

    folder = Path(folder)
    meta = read_json(folder / "run.json")
    sc = read_scenario(folder / "scenario.yaml")
    kpis = read_table(folder / "kpis.csv")
    if "replication" not in kpis.columns:
        raise RunFolderError(
            f"{folder / 'kpis.csv'}: expected a 'replication' column, found "
            f"{', '.join(map(str, kpis.columns[:5]))}"
        )
    records = read_table(folder / RECORDS_FILE, required=False)
    if records is not None and "on_time" in records.columns:
        # CSV turns True/False/None into strings or floats; back to booleans (None stays NaN).
        records["on_time"] = records["on_time"].map(
            {True: True, False: False, "True": True, "False": False}
        )
    result = RunResult(
        scenario=sc,
        seed=int(meta.get("seed", sc.seed)),
        replications=int(meta.get("replications", len(kpis))),
        kpis=kpis,
        records_table=records,
        hourly_table=read_table(folder / "hourly.csv", required=False),
        daily_table=read_table(folder / "daily.csv", required=False),
    )
    return result, meta


def _nan(x: Any) -> float:
    return math.nan if x is None else float(x)


def load_sizing_folder(folder: str | Path) -> tuple[SizingResult, dict[str, Any]]:
    """A :class:`~simulator.sizing.SizingResult` rebuilt from ``size.json`` and the scenario."""
    import pandas as pd

    from simulator.results import target_table
    from simulator.sizing import Candidate, SizingResult
    from simulator.workload import PoolLoad

    folder = Path(folder)
    meta = read_json(folder / "size.json")
    sc = read_scenario(folder / "scenario.yaml")
    try:
        curve = []
        for row in meta["curve"]:
            summary = pd.DataFrame(
                [
                    {"kpi": k, **{c: _nan(v.get(c)) for c in ("mean", "ci_low", "ci_high")}}
                    for k, v in row["kpis"].items()
                ],
                columns=["kpi", "mean", "ci_low", "ci_high"],
            )
            if row.get("targets") is not None:  # as judged, keeps-up row included
                targets = pd.DataFrame(
                    [
                        {**t, **{c: _nan(t.get(c)) for c in ("mean", "ci_low", "ci_high")}}
                        for t in row["targets"]
                    ],
                    columns=["kpi", "op", "threshold", "mean", "ci_low", "ci_high", "verdict"],
                )
            else:
                targets = target_table(sc.targets, summary)
            loads = {name: PoolLoad.from_dict(d) for name, d in (row.get("pools") or {}).items()}
            curve.append(
                Candidate(dict(row["staff"]), int(row["replications"]), summary, targets, loads)
            )
        result = SizingResult(
            scenario=sc,
            desks=list(meta["lower_bound"]),
            answer=meta["answer"],
            binding_target=meta.get("binding_target"),
            curve=curve,
            lower_bound=dict(meta["lower_bound"]),
            analytic_estimate=dict(meta.get("analytic_estimate") or {}),
            unreachable=list(meta.get("unreachable_targets") or []),
            explanation=meta.get("explanation", ""),
            horizon_days=(meta.get("horizon") or {}).get("days"),
            warmup_days=(meta.get("horizon") or {}).get("warmup_days"),
            replications=meta.get("replications"),
            seed=meta.get("seed"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RunFolderError(
            f"{folder / 'size.json'}: expected the pasc size --json shape, found a problem "
            f"with {exc}"
        ) from None
    return result, meta


def load_comparison_folder(folder: str | Path) -> tuple[Comparison, dict[str, Any]]:
    """A :class:`~simulator.compare.Comparison` from ``compare.json``, the stored scenarios
    and the per-replication ``kpis.csv``."""
    from simulator.compare import Comparison
    from simulator.results import RunResult

    folder = Path(folder)
    meta = read_json(folder / "compare.json")
    kpis = read_table(folder / "kpis.csv")
    labels = list(meta.get("scenarios") or [])
    if not labels or "scenario" not in kpis.columns:
        raise RunFolderError(
            f"{folder / 'compare.json'}: expected a 'scenarios' list and kpis.csv with a "
            "'scenario' column, found neither"
        )
    results = []
    for i, label in enumerate(labels):
        sc = read_scenario(folder / "scenarios" / f"{i + 1}-{label}.yaml")
        mine = kpis[kpis["scenario"] == label].drop(columns="scenario").dropna(axis=1, how="all")
        results.append(
            RunResult(
                scenario=sc,
                seed=int(meta["seed"]),
                replications=int(meta["replications"]),
                kpis=mine.reset_index(drop=True),
            )
        )
    return Comparison(results, labels, int(meta["seed"]), int(meta["replications"])), meta


def folder_kind(folder: str | Path) -> str:
    """``run``, ``size`` or ``compare``, from the JSON file the folder holds."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: expected a run folder, found no such folder")
    for kind, name in (("run", "run.json"), ("size", "size.json"), ("compare", "compare.json")):
        if (folder / name).exists():
            return kind
    raise RunFolderError(
        f"{folder}: expected a run folder (with run.json, size.json or compare.json), "
        "found none of them"
    )


__all__ = [
    "DEFAULT_ROOT",
    "ENVIRONMENT_FILE",
    "RECORDS_FILE",
    "RecordsTableFile",
    "Render",
    "RunFolderError",
    "folder_kind",
    "load_comparison_folder",
    "load_run_folder",
    "load_sizing_folder",
    "new_folder",
    "pasc_version",
    "read_environment",
    "read_json",
    "read_scenario",
    "read_table",
    "run_metadata",
    "software_versions",
    "sync_folder",
    "timestamp",
    "umask",
    "write_comparison_folder",
    "write_file_atomically",
    "write_folder_atomically",
    "write_province_folder",
    "write_records_table",
    "write_run_folder",
    "write_sizing_folder",
]
