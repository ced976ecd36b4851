"""The records, hourly and daily tables: handed out in chunks, bounded memory."""

from __future__ import annotations

import tracemalloc

import pandas as pd
import pytest
from builders import busy_office_dict

from simulator.model import simulate_replication, tables
from simulator.scenario import deep_merge, load_scenario


class CountingSink:
    """Keeps only the number of rows and chunks it was given (what a sink writing to
    disk holds in memory: nothing)."""

    def __init__(self) -> None:
        self.rows = {"records": 0, "hourly": 0, "daily": 0}
        self.chunks = {"records": 0, "hourly": 0, "daily": 0}

    def __call__(self, table: str, columns: dict[str, list]) -> None:
        self.rows[table] += len(next(iter(columns.values())))
        self.chunks[table] += 1


class ListSink(CountingSink):
    def __init__(self) -> None:
        super().__init__()
        self.frames: dict[str, list[pd.DataFrame]] = {"records": [], "hourly": [], "daily": []}

    def __call__(self, table: str, columns: dict[str, list]) -> None:
        super().__call__(table, columns)
        self.frames[table].append(pd.DataFrame(columns))


def test_tables_in_chunks_are_the_tables_kept_whole(monkeypatch):
    sc = load_scenario(busy_office_dict(horizon={"days": 40, "warmup_days": 2}))
    whole = simulate_replication(sc, 3, 1, keep_records=True)
    monkeypatch.setattr(tables, "CHUNK_ROWS", 97)
    monkeypatch.setattr("simulator.model.recorder.CHUNK_ROWS", 97)
    sink = ListSink()
    streamed = simulate_replication(sc, 3, 1, keep_records=True, sink=sink)
    assert streamed.records is None and streamed.hourly is None  # they went to the sink
    assert streamed.kpis == whole.kpis
    assert sink.chunks["records"] > 5
    # Hourly rows come in blocks of final days as the run goes, not all at the end.
    assert sink.chunks["hourly"] >= sc.horizon.days // tables.HAND_OUT_DAYS
    for name in ("records", "hourly", "daily"):
        got = pd.concat(sink.frames[name], ignore_index=True)
        pd.testing.assert_frame_equal(got, pd.DataFrame(getattr(whole, name)))


def _peak_kib(sc, sink) -> float:
    tracemalloc.start()
    try:
        simulate_replication(sc, 5, 0, keep_records=True, sink=sink)
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kept", [False, True], ids=["streamed", "kept"])
def test_memory_of_a_replication_does_not_grow_with_the_horizon_when_streamed(kept, monkeypatch):
    # A center that keeps up holds a bounded number of records in its queues; what
    # else a replication holds is bounded by construction when the tables are
    # streamed: a chunk of at most CHUNK_ROWS records (set to 500 here, so that
    # both horizons fill several chunks), two days of hourly bins, the streaming
    # quantiles' histograms (which fill up over the first ~200 days, then stay) and
    # a block of 20 days of filings. So the peak for 1,000 measured days must stay
    # close to the peak for 250 (15 % slack for allocator noise and the longest
    # queue seen; measured: +2 %), while keeping the tables whole (about 7,000
    # records every 80 days) must grow with the horizon: the same test, on the
    # kept tables, shows that it can see growth.
    monkeypatch.setattr(tables, "CHUNK_ROWS", 500)
    monkeypatch.setattr("simulator.model.recorder.CHUNK_ROWS", 500)
    base = busy_office_dict()
    base["staff"]["back_office"] = 6  # every pool keeps up (load ratios 0.23 to 0.7)

    def scenario(days: int):
        return load_scenario(deep_merge(base, {"horizon": {"days": days, "warmup_days": 5}}))

    def sink():
        return None if kept else CountingSink()

    short = _peak_kib(scenario(250), sink())
    counted = CountingSink()
    long = _peak_kib(scenario(1000), None if kept else counted)
    if kept:
        assert long > 2.5 * short, (short, long)
    else:
        assert counted.rows["records"] > 80_000  # the long run did produce the rows
        assert long < 1.15 * short, (short, long)


def test_a_streamed_run_has_its_tables_on_disk_and_an_even_sample_in_memory(tmp_path, monkeypatch):
    # The run folder's tables assembled from the spool equal the tables kept in memory,
    # and the pictures' sample takes every k-th record of each replication: its
    # share of completed records is that of the whole table (rows are written in
    # resolution order, with the records still in progress last, so the first rows
    # would not do). 3 replications of 40 days give ~10,000 records; a 1,000-row
    # sample's share of a category of share p has a standard error under 1.6 %
    # points; 5 points is over 3 of them.
    import gzip

    import simulator
    from simulator.artifacts import TableSpool, write_run_folder

    monkeypatch.setenv("PASC_PICTURE_SAMPLE_ROWS", "1000")
    sc = load_scenario(busy_office_dict(horizon={"days": 40, "warmup_days": 2}))
    whole = simulator.run(sc, 3, 5)
    spool = TableSpool.beside(tmp_path / "out" / sc.name)
    streamed = simulator.run(sc, 3, 5, spool=spool)
    folder = write_run_folder(streamed, tmp_path / "out", spool=spool)
    spool.remove()
    assert streamed.records_table is None and streamed.records_sample is not None
    with gzip.open(folder / "records.csv.gz", "rt") as f:
        assert f.read() == whole.records.to_csv(index=False)
    assert (folder / "hourly.csv").read_text() == whole.hourly.to_csv(index=False)
    assert (folder / "daily.csv").read_text() == whole.daily.to_csv(index=False)
    sample = streamed.records_sample
    assert 900 <= len(sample) <= 1100
    for outcome in ("completed", "in_progress"):
        full = (whole.records.outcome == outcome).mean()
        part = (sample.outcome == outcome).mean()
        assert abs(full - part) < 0.05, (outcome, full, part)
    assert not list((tmp_path / "out" / sc.name).glob(".spool-*"))


@pytest.mark.parametrize(
    "column",
    [
        [1.5, float("nan"), float("inf"), -0.0, 1e-300, 1e20, 0.1 + 0.2, -2.0],
        [1, 2**40, -7, 0, 3, 4, 5, 6],
        [True, False, True, True, False, False, True, False],
        ["a", "b c", None, "đã xử lý", "", "x", "y", "z"],
        ["a,b", 'say "hi"', "line\nbreak", "x", "y", "z", "w", "v"],  # quoted: pandas
        [1, "one", 2.5, True, None, "x", 3, 4],  # mixed objects
        pd.array([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),  # nullable: pandas
        pd.Categorical(["a", "b", "a", "c", "a", "b", "a", "c"]),
        pd.date_range("2026-01-01", periods=8, freq="h"),
    ],
)
def test_a_table_file_has_the_bytes_pandas_would_write(column, tmp_path):
    """Every table of a run folder goes through one writer (``_write_table``), which
    makes the lines itself where it can: whatever the column, the file must be
    byte for byte what ``DataFrame.to_csv`` writes."""
    from simulator.artifacts import _write_table

    table = pd.DataFrame({"n": range(8), "value": column, "last": [0.25] * 8})
    _write_table(tmp_path / "t.csv", table)
    table.to_csv(tmp_path / "ref.csv", index=False)
    assert (tmp_path / "t.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()
