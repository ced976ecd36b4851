"""The picture drawers of ``pasc run`` (:class:`simulator.report.PictureDrawers`): one
drawing process forked early, its siblings forked from it once the run is handed
over; the same bytes as drawing here; failures, Ctrl-C and SIGTERM that end
cleanly, never a hang and never a process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from simulator import plots, report
from simulator.display import run_figure_names

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the drawers fork")


@pytest.fixture(scope="module")
def run_result():
    import simulator
    from simulator.scenario import load_scenario

    return simulator.run(load_scenario(REPO / "scenarios" / "tan-lap-first-week.yaml"), 2)


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.setattr(report, "_can_fork", lambda: True)  # pytest's threads aside


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux's /proc; empty elsewhere)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


def _gone(pid: int) -> bool:
    """``pid`` has ended (no process, or a zombie not yet reaped by init)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def _slow_pictures(monkeypatch, seconds: float = 60.0) -> None:
    """Drawing takes ``seconds`` in the drawers (set before they are forked)."""
    monkeypatch.setattr(plots, "run_figure", lambda result, name: time.sleep(seconds))


def test_three_drawers_draw_the_same_bytes_as_this_process(run_result, forking):
    serial = report.run_images(run_result, processes=1)
    assert list(serial) == run_figure_names(run_result)
    assert report.run_images(run_result, processes=3) == serial


def test_one_drawer_is_forked_early_and_serves_several_runs(run_result, forking):
    serial = report.run_images(run_result, processes=1)
    with report.PictureDrawers(2) as drawers:
        assert drawers._drawer is not None and drawers._drawer.is_alive()
        assert _children(drawers._drawer.pid) == []  # its sibling comes with the run
        drawers.start(run_result)
        assert drawers.images(run_result) == serial
        assert drawers.images(run_result) == serial  # handed over again, drawn again
        drawer = drawers._drawer
    assert not drawer.is_alive() and drawer.exitcode == 0


def test_no_drawer_where_forking_is_unsafe_or_one_process_is_asked(run_result, monkeypatch):
    monkeypatch.setattr(report, "_can_fork", lambda: False)
    with report.PictureDrawers(2) as drawers:
        assert drawers._drawer is None
        images = drawers.images(run_result)
    monkeypatch.setattr(report, "_can_fork", lambda: True)
    with report.PictureDrawers(1) as drawers:
        assert drawers._drawer is None
        assert drawers.images(run_result) == images


def test_two_drawers_where_two_cores_are_free_else_the_pictures_are_drawn_here(monkeypatch):
    monkeypatch.delenv(report.PICTURE_PROCESSES_ENV, raising=False)
    for cores, others, processes in ((2, 0, 2), (2, 1, 1), (2, 5, 1), (1, 0, 1), (8, 3, 2)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        monkeypatch.setattr(report, "_others_running", lambda others=others: others)
        assert report.picture_processes() == processes, (cores, others)
    monkeypatch.setenv(report.PICTURE_PROCESSES_ENV, "3")  # asked: whatever the load
    assert report.picture_processes() == 3
    monkeypatch.undo()
    assert report._others_running() >= 0  # read from this machine


def test_an_error_in_a_sibling_is_raised_here(run_result, forking, monkeypatch):
    drawn = plots.run_figure
    names = run_figure_names(run_result)

    def broken(result, name):
        if name == names[1]:  # the sibling's share (every other picture)
            raise ValueError("no such picture")
        return drawn(result, name)

    monkeypatch.setattr(plots, "run_figure", broken)
    with report.PictureDrawers(2) as drawers:
        drawers.start(run_result)
        with pytest.raises(ValueError, match="no such picture") as caught:
            drawers.images(run_result)
        drawer = drawers._drawer
    assert "Traceback" in str(caught.value.__cause__)  # the drawer's own traceback
    assert not drawer.is_alive()


def test_an_unpicklable_error_is_raised_here_as_a_runtime_error(run_result, forking, monkeypatch):
    class Odd(Exception):
        def __reduce__(self):
            raise TypeError("cannot pickle")

    def broken(result, name):
        raise Odd("odd")

    monkeypatch.setattr(plots, "run_figure", broken)
    with report.PictureDrawers(2) as drawers, pytest.raises(RuntimeError, match="Odd: odd"):
        drawers.images(run_result)


def test_a_killed_drawer_is_an_error_not_a_hang(run_result, forking, monkeypatch, capfd):
    _slow_pictures(monkeypatch)
    with report.PictureDrawers(2) as drawers:
        drawers.start(run_result)
        drawer = drawers._drawer
        _wait_for(lambda: len(_children(drawer.pid)) == 1)  # drawing, with its sibling
        (sibling,) = _children(drawer.pid)
        os.kill(drawer.pid, signal.SIGTERM)
        with pytest.raises(RuntimeError, match="picture drawer stopped"):
            drawers.images(run_result)
    assert drawer.exitcode == -signal.SIGTERM
    _wait_for(lambda: _gone(sibling))  # SIGTERM ended the sibling too
    assert "Traceback" not in capfd.readouterr().err  # quietly


def test_leaving_on_an_exception_stops_the_drawers_and_their_siblings(
    run_result, forking, monkeypatch
):
    _slow_pictures(monkeypatch)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt), report.PictureDrawers(3) as drawers:
        drawers.start(run_result)
        drawer = drawers._drawer
        _wait_for(lambda: len(_children(drawer.pid)) == 2)
        siblings = _children(drawer.pid)
        raise KeyboardInterrupt  # Ctrl-C while the pictures are drawn
    assert time.monotonic() - start < 30  # not the 60 s of drawing
    assert not drawer.is_alive()
    assert all(_gone(pid) for pid in siblings)


def test_a_drawer_stopped_as_it_is_forked_never_runs_an_inherited_handler(forking):
    """``pasc`` turns SIGTERM into an exception; a drawer stopped before it has set its
    own handlers must die of the signal, not raise (and run this process's code)."""

    def raising(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raising)
    try:
        for _ in range(5):
            with pytest.raises(KeyboardInterrupt), report.PictureDrawers(2) as drawers:
                drawer = drawers._drawer
                raise KeyboardInterrupt  # at once: __exit__ sends SIGTERM
            assert drawer.exitcode == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_pictures_never_collected_are_not_waited_for(run_result, forking, monkeypatch):
    _slow_pictures(monkeypatch)
    start = time.monotonic()
    with report.PictureDrawers(2) as drawers:
        drawers.start(run_result)
        drawer = drawers._drawer
    assert time.monotonic() - start < 30
    assert not drawer.is_alive()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree in /proc")
def test_ctrl_c_during_pasc_run_ends_every_process_quietly(
    tmp_path, minimal_scenario_dict, write_yaml
):
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group, here while
    the drawers draw (slowed down): exit 130, one line, no traceback, no process left."""
    path = write_yaml(tmp_path, "tiny", minimal_scenario_dict())
    script = textwrap.dedent(
        """
        import sys, time
        from simulator import plots
        plots.run_figure = lambda result, name: time.sleep(60)
        from simulator.cli import main
        sys.argv[0] = "pasc"
        main()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "run", str(path), "--out", str(tmp_path / "o"), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PASC_PICTURE_PROCESSES": "2"},
        start_new_session=True,  # its own process group, as a shell's job
    )
    try:
        tree: list[int] = []

        def drawing() -> bool:
            drawers = _children(proc.pid)
            tree[:] = drawers + [p for d in drawers for p in _children(d)]
            return len(tree) == 2  # the drawer and its sibling

        _wait_for(drawing, 60)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Ctrl-C" in err
    _wait_for(lambda: all(_gone(pid) for pid in tree), 10)


# -- the records table, written by the drawer while the run simulates ---------------------
def _streamed_run(drawers, replications: int = 3):
    """A run whose replications hand their records to ``drawers`` as they finish."""
    import simulator
    from simulator.scenario import load_scenario

    sc = load_scenario(REPO / "scenarios" / "tan-lap-first-week.yaml")
    return simulator.run(sc, replications, 7, each=drawers.write_records)


def _written_here(monkeypatch) -> list[Path]:
    """Count the records tables this process writes itself (the drawer, forked before,
    keeps the real function)."""
    from simulator import artifacts

    calls: list[Path] = []
    real = artifacts.write_records_table

    def counting(folder, table):
        calls.append(folder)
        return real(folder, table)

    monkeypatch.setattr(artifacts, "write_records_table", counting)
    return calls


def test_the_drawer_writes_the_records_table_with_the_bytes_written_here(
    forking, monkeypatch, tmp_path
):
    """``pasc run`` hands each replication's records to its drawer (idle while the run
    simulates), which writes ``records.csv.gz`` a replication at a time: the file
    must be the one this process would write of the whole table, byte for byte."""
    from simulator.artifacts import write_records_table, write_run_folder

    with report.PictureDrawers(2) as drawers:
        here = _written_here(monkeypatch)
        result = _streamed_run(drawers)
        assert drawers._records is not None  # the drawer has the records
        drawers.start(result)
        folder = write_run_folder(
            result, tmp_path, render=drawers.write_run_report, records=drawers.write_records_table
        )
        stream = drawers._records
    assert here == []  # the drawer wrote it
    assert stream is None
    alone = tmp_path / "alone"
    alone.mkdir()
    expected = write_records_table(alone, result.records).read_bytes()
    assert (folder / "records.csv.gz").read_bytes() == expected
    assert {p.stem for p in folder.glob("*.png")} == set(run_figure_names(result))


def test_records_the_drawer_could_not_take_whole_are_written_here(forking, monkeypatch, tmp_path):
    """A drawer gone, or a replication handed over out of order: the table is written
    here, whole and the same, and no temporary file is left."""
    import tempfile

    from simulator.artifacts import write_records_table

    before = set(Path(tempfile.gettempdir()).glob("pasc-records-*"))
    with report.PictureDrawers(2) as drawers:
        here = _written_here(monkeypatch)
        result = _streamed_run(drawers)
        os.kill(drawers._drawer.pid, signal.SIGKILL)
        drawers._drawer.join()
        (tmp_path / "killed").mkdir()
        path = drawers.write_records_table(tmp_path / "killed", result.records)
    assert here == [tmp_path / "killed"]
    (tmp_path / "alone").mkdir()
    expected = write_records_table(tmp_path / "alone", result.records).read_bytes()
    assert path.read_bytes() == expected

    with report.PictureDrawers(2) as drawers:
        here = _written_here(monkeypatch)
        import simulator

        outputs = []
        result = simulator.run(result.scenario, 3, 7, each=lambda i, out: outputs.append((i, out)))
        for i, out in reversed(outputs):  # the last first: only replication 0 goes over
            drawers.write_records(i, out)
        (tmp_path / "unordered").mkdir()
        path = drawers.write_records_table(tmp_path / "unordered", result.records)
    assert path.read_bytes() == expected and len(here) == 1
    assert set(Path(tempfile.gettempdir()).glob("pasc-records-*")) == before


def test_records_handed_over_then_an_interruption_leave_no_file(forking, monkeypatch):
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("pasc-records-*"))
    with pytest.raises(KeyboardInterrupt), report.PictureDrawers(2) as drawers:
        _streamed_run(drawers, 2)
        assert drawers._records is not None
        raise KeyboardInterrupt  # Ctrl-C before the run folder is written
    assert set(Path(tempfile.gettempdir()).glob("pasc-records-*")) == before


def test_a_second_run_handed_over_to_the_same_drawers_gets_its_own_records(
    forking, monkeypatch, tmp_path
):
    """Records of a first run never collected must not become a second run's table;
    the file taken from the drawer has the permissions of any new file."""
    from simulator.artifacts import umask, write_records_table

    with report.PictureDrawers(2, records_dir=tmp_path / "spool") as drawers:
        _streamed_run(drawers, 3)  # handed over, never collected
        second = _streamed_run(drawers, 2)
        (tmp_path / "second").mkdir()
        got = drawers.write_records_table(tmp_path / "second", second.records)
        third = _streamed_run(drawers, 2)  # a fresh hand-over, collected
        (tmp_path / "third").mkdir()
        taken = drawers.write_records_table(tmp_path / "third", third.records)
    for path, result, name in ((got, second, "a"), (taken, third, "b")):
        (tmp_path / name).mkdir()
        assert (
            path.read_bytes() == write_records_table(tmp_path / name, result.records).read_bytes()
        )
    assert taken.stat().st_mode & 0o777 == 0o666 & ~umask()
    assert list((tmp_path / "spool").iterdir()) == []  # no temporary file left


def test_trouble_handing_records_over_never_stops_the_run(forking, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))  # mkstemp fails
    with report.PictureDrawers(2) as drawers:
        result = _streamed_run(drawers, 2)
        (tmp_path / "out").mkdir()
        path = drawers.write_records_table(tmp_path / "out", result.records)
    assert path.exists() and len(result.records) > 0
