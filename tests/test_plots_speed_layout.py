"""simulator.plots: the pictures of a run place their axes themselves (fixed margins).

They have no matplotlib layout engine (constrained layout was a third of the
drawing time of ``pasc run``, and any engine makes ``savefig`` draw the figure
twice), so these checks stand in for it: nothing drawn outside the picture, no
panel over another, no wide empty margin, the same bytes every time.
"""

from __future__ import annotations

import pytest
from builders import busy_office, mmc
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

import simulator
from simulator import plots
from simulator.report import DPI, figure_png, run_figure_names

TARGETS = [
    {"kpi": "handle_minutes.p90", "max": 30},
    {"kpi": "wait_minutes.p90", "max": 15},
    {"kpi": "on_time_rate", "min": 0.95},
]


@pytest.fixture(scope="module", params=["office", "continuous"])
def run(request):
    if request.param == "office":
        sc = busy_office(horizon={"days": 5, "warmup_days": 1}, targets=TARGETS)
        return simulator.run(sc, replications=3, seed=11)
    sc = mmc(3, 0.9, 10.0, days=3, warmup_days=0, targets=[{"kpi": "wait_minutes.mean", "max": 5}])
    return simulator.run(sc, replications=2, seed=3)


def _drawn(run, name: str) -> tuple[Figure, list[Bbox], Bbox]:
    """The figure drawn at the report's dpi, the tight boxes of its axes (and of its
    suptitle), and the figure's own box, in pixels."""
    fig = plots.run_figure(run, name)
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(DPI)  # as figure_png draws it
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    if fig.get_suptitle():
        boxes.append(fig._suptitle.get_window_extent(renderer))
    return fig, boxes, fig.bbox


def test_run_pictures_have_no_layout_engine_and_draw_once(run, monkeypatch):
    draws = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, r: (draws.append(1), original(self, r)))
    for name in run_figure_names(run):
        draws.clear()
        fig = plots.run_figure(run, name)
        assert fig.get_layout_engine() is None, name
        figure_png(fig)
        assert len(draws) == 1, f"{name}: drawn {len(draws)} times"


def test_nothing_drawn_outside_the_picture(run):
    for name in run_figure_names(run):
        _, boxes, page = _drawn(run, name)
        for box in boxes:
            assert box.x0 >= page.x0 - 0.5 and box.x1 <= page.x1 + 0.5, (name, box, page)
            assert box.y0 >= page.y0 - 0.5 and box.y1 <= page.y1 + 0.5, (name, box, page)


def test_panels_and_colorbar_do_not_overlap(run):
    for name in run_figure_names(run):
        fig, _, _ = _drawn(run, name)
        renderer = fig.canvas.get_renderer()  # the Agg canvas of _drawn
        boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                overlap = Bbox.intersection(a, b)
                assert overlap is None or overlap.width < 1 or overlap.height < 1, name


def test_margins_are_not_wasteful(run):
    """Every side of the picture has something within a quarter inch of the edge."""
    for name in run_figure_names(run):
        _, boxes, page = _drawn(run, name)
        used = Bbox.union(boxes)
        room = 0.25 * DPI
        assert used.x0 - page.x0 < room, (name, "left", used.x0)
        assert page.x1 - used.x1 < room, (name, "right", page.x1 - used.x1)
        assert used.y0 - page.y0 < room, (name, "bottom", used.y0)
        assert page.y1 - used.y1 < room, (name, "top", page.y1 - used.y1)


def test_the_same_picture_gives_the_same_bytes(run):
    for name in run_figure_names(run):
        assert figure_png(plots.run_figure(run, name)) == figure_png(plots.run_figure(run, name))


def test_a_figure_edited_afterwards_is_laid_out_again(run):
    fig = plots.run_figure(run, "backlog")
    (ax,) = fig.axes
    figure_png(fig)
    before = ax.get_position().x0
    ax.set_ylabel("a label\non three\nlines")
    figure_png(fig)
    assert ax.get_position().x0 > before
