"""Charts that agree with the tables, on one time origin (issue 14, items 3 and 4).

Each test reads a figure's data (plotly figure dicts, matplotlib artists) and checks it against
the numbers the tables print: no bar on a log axis for final views, the final-views markers at
the table's median and 5-95 % quantiles, overlapping variants drawn in distinct styles with
"identical to base" when they coincide, ensemble titles naming scenario, variants and runs, axis
labels from the fields' metadata, the reach plot's stop marker at ``stop_h`` (hours after the
upload) with the after-stop views explained, the console's stage table with a total row, and the
report's animation ending on the run's total views.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import matplotlib
import numpy as np
import pytest
from rich.console import Console

from viralsim import simulate
from viralsim.console import print_run, stage_totals
from viralsim.executors import InProcess
from viralsim.experiments.run import compare
from viralsim.plots import plot_ccdf, plot_reach, plot_reach_bands, plot_sweep
from viralsim.plots.reach import STOP_GID
from viralsim.records.words import stop_in_words
from viralsim.report.animation import push_animation
from viralsim.report.comparison import compare_figure
from viralsim.report.words import fmt_count
from viralsim.scenario import Scenario

matplotlib.use("Agg")

RUNS = 8


@pytest.fixture(scope="module")
def twin(tiny: Scenario) -> Scenario:
    """tiny with a variant that changes nothing (``same``): its curves coincide with the base's."""
    data = tiny.model_dump(mode="json")
    data["variants"] = {**data["variants"], "same": {"video": {"appeal": tiny.video.appeal}}}
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def ens(twin: Scenario) -> Any:
    return compare(twin, variants=["same", "strict"], runs=RUNS, seed=4, executor=InProcess())


@pytest.fixture(scope="module")
def run(tiny: Scenario) -> Any:
    for seed in range(1, 30):
        r = simulate(tiny, seed=seed)
        if str(r.summary["stop_reason"]).startswith("kpi_below_threshold"):
            return r
    pytest.fail("no seed of tiny stopped on its KPIs")


@pytest.fixture(autouse=True)
def _close() -> Iterator[None]:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# --- the report's comparison chart (plotly) ---------------------------------------------------------


def _log_axes(fig: dict[str, Any]) -> set[str]:
    """The plotly axis ids ("y", "y2", ...) whose type is log."""
    out = set()
    for key, ax in fig["layout"].items():
        if key.startswith("yaxis") and ax.get("type") == "log":
            out.add("y" + key[len("yaxis") :])
    return out


def test_report_final_views_are_points_not_bars_on_a_log_axis(ens) -> None:
    fig = compare_figure(ens).to_dict()
    logs = _log_axes(fig)
    assert logs, "the views axes are log"
    bars = [t for t in fig["data"] if t["type"] == "bar" and t.get("yaxis", "y") in logs]
    assert not bars, "a bar's length on a log axis says nothing about the number"
    # the median marker and its whisker are the table's median and 5 % / 95 % (one quantile method)
    table = ens.table(["views"]).set_index("variant")
    medians = [t for t in fig["data"] if t.get("marker", {}).get("symbol") == "diamond" and t.get("error_y")]
    assert len(medians) == 3
    for i, (label, t) in enumerate(zip(ens.plan.variants, medians, strict=True)):
        med, lo, hi = (float(table.loc[label, c]) for c in ("views_median", "views_q05", "views_q95"))
        assert round(t["x"][0]) == i and t["y"][0] == pytest.approx(med)
        assert t["y"][0] + t["error_y"]["array"][0] == pytest.approx(hi)
        assert t["y"][0] - t["error_y"]["arrayminus"][0] == pytest.approx(lo)
    # every run is a point (those with views: a log axis has no 0)
    strips = [t for t in fig["data"] if t.get("mode") == "markers" and t.get("xaxis") == "x2"]
    shown = sum(len(t["y"]) for t in strips)
    assert shown == int((ens.runs["views"] > 0).sum())


def test_report_variants_stay_visible_and_the_title_names_them(ens) -> None:
    fig = compare_figure(ens).to_dict()
    lines = [t for t in fig["data"] if t.get("mode") == "lines+markers"]
    assert [t["name"].split(" ")[0] for t in lines] == ["base", "same", "strict"]
    assert len({t["line"]["dash"] for t in lines}) == 3 and len({t["marker"]["symbol"] for t in lines}) == 3
    assert lines[1]["name"] == "same (identical to base)" and "identical" not in lines[2]["name"]
    title = fig["layout"]["title"]["text"]
    assert "tiny" in title and "base, same, strict" in title and f"{RUNS} paired runs" in title
    xs = [np.asarray(t.x, dtype=float) for t in compare_figure(ens).data if t.mode == "lines+markers"]
    step = ens.plan.scenario.horizon_h / 240  # the reach grid's step (241 points)
    assert all(0.0 <= x[0] < step for x in xs), "the x axis counts hours after the upload"


# --- matplotlib ensemble figures -------------------------------------------------------------------


def test_reach_bands_styles_identical_note_and_title(ens) -> None:
    fig = plot_reach_bands(ens.bands, scenario="tiny", runs=RUNS)
    ax = fig.axes[0]
    styles = [(str(ln.get_linestyle()), ln.get_marker()) for ln in ax.lines]
    assert len(styles) == 3 and len(set(styles)) == 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1].startswith("same") and labels[1].endswith("(identical to base)")
    assert "identical" not in labels[2]
    title = ax.get_title()
    assert title.startswith("tiny [base, same, strict]") and f"{RUNS} runs per variant" in title
    assert fig.axes[1].get_xlabel() == "hours after upload" and ax.get_xlim()[0] == 0.0
    # the x axis is hours after the upload: the bands' clock grid shifted by video.upload_h
    x = ax.lines[0].get_xdata()
    total = ens.bands[(ens.bands["variant"] == "base") & (ens.bands["source"] == "total")]
    assert x[0] == pytest.approx(total["time_h"][total["time_h"] >= 19.0].iloc[0] - 19.0)


def test_ccdf_and_sweep_are_titled_and_labelled_from_metadata(ens) -> None:
    fig = plot_ccdf(ens.runs, "share_to_view", scenario="tiny")
    ax = fig.axes[0]
    assert ax.get_title().startswith("tiny [base, same, strict]") and f"{RUNS} runs per variant" in ax.get_title()
    assert ax.get_xlabel().startswith("share-to-view per run (fraction, 0–1)")
    assert "share_to_view" not in ax.get_xlabel() + ax.get_ylabel()
    assert any("identical to base" in t.get_text() for t in ax.get_legend().get_texts())
    runs = ens.runs.assign(**{"video.appeal": np.where(ens.runs["run"] % 2 == 0, 0.5, 0.7)})
    fig = plot_sweep(runs, ["video.appeal"], "stages_reached", scenario="tiny")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "latent quality (video.appeal)" and ax.get_ylabel() == "stages reached per run"
    assert ax.get_title().startswith("tiny [base, same, strict]") and f"{RUNS // 2} runs per variant" in ax.get_title()
    assert len({str(ln.get_linestyle()) for ln in ax.lines}) == 3


# --- one run: the stop marker and the after-stop views ----------------------------------------------


def test_reach_stop_marker_sits_at_stop_h_and_the_trickle_is_explained(run) -> None:
    s = run.summary
    fig = plot_reach(run)
    ax, axl = fig.axes
    stops = [ln for ln in ax.lines if ln.get_gid() == STOP_GID]
    assert len(stops) == 1 and [ln.get_gid() for ln in axl.lines].count(STOP_GID) == 1
    assert stops[0].get_xdata()[0] == pytest.approx(s["stop_h"])  # hours after the upload
    last = run.stages[-1]
    assert s["stop_h"] == pytest.approx(last["evaluated_h"])  # the push stops at its failed evaluation
    # stage lines at each row's start (hours after the upload); the axis starts at the upload
    starts = sorted({float(ln.get_xdata()[0]) for ln in ax.lines if ln.get_linestyle() == ":"})
    assert starts == pytest.approx(sorted({float(r["start_h"]) for r in run.stages}))
    assert ax.get_xlim() == (0.0, run.scenario.horizon_h - run.scenario.video.upload_h)
    # the note counts the views after the stop: the run's views after upload_h + stop_h
    (note,) = [t for t in ax.texts if t.get_text().startswith("push stopped")]
    assert stop_in_words(s["stop_reason"]) in note.get_text() and "_" not in note.get_text()  # words, not codes
    after = int(np.count_nonzero(run.views["time_h"] > run.scenario.video.upload_h + s["stop_h"]))
    m = re.search(r"after it: \+([\d.k]+)", note.get_text())
    assert m, note.get_text()
    shown = m.group(1)
    value = float(shown[:-1]) * 1e3 if shown.endswith("k") else float(shown)
    assert value == pytest.approx(after, rel=0.01, abs=max(2.0, 0.01 * s["views"]))  # read off the 241-point curve


# --- the console's stage table ----------------------------------------------------------------------


def test_stage_table_has_a_total_row_and_says_what_views_count(run) -> None:
    con = Console(record=True, width=220)
    print_run(run, con)
    text = con.export_text()
    assert "views at eval" in text and "hours after the upload" in text
    (total_line,) = [ln for ln in text.splitlines() if ln.strip("│ ").startswith("total")]
    numbers = [int(x.replace(",", "")) for x in re.findall(r"\d[\d,]*", total_line)]
    want = stage_totals(run.stages)
    assert numbers == [want["cohort_size"], want["delivered"], want["views_evaluated"]]
    assert want["views_evaluated"] == sum(r["views_evaluated"] for r in run.stages)
    assert want["cohort_size"] == sum(r["cohort_size"] for r in run.stages)
    # times: hours after the upload, with the clock beside (tiny is uploaded Monday 19:00)
    assert "Mon 19:00" in text
    first = run.stages[0]
    assert f"{first['evaluated_h']:.1f}" in text
    stop = f"{run.summary['stop_h']:.1f} h after upload"
    assert stop in text


# --- the report's animation --------------------------------------------------------------------------


def test_animation_ends_on_the_key_numbers_total(tiny: Scenario) -> None:
    # a week's horizon: the last views trickle in long after the push, past the 99.5 % quantile of view
    # times that sets the animation's pace (the last frame used to stop there, 19 views short)
    run = simulate(tiny.derive({"horizon_h": 168}), seed=1)
    t = run.views["time_h"]
    assert t.max() - np.quantile(t, 0.995) > 12.0
    fig = push_animation(run, frames=20)
    views = run.summary["views"]
    assert f"<b>{fmt_count(views)}</b> views" in fig.frames[-1].layout.title.text
    assert f"<b>{fmt_count(views)}</b> views" in fig.layout.title.text  # the page opens on the last frame
    total = fig.data[0]  # the "all views" curve, as shown when the page opens
    assert total.name == "all views" and np.nanmax(np.asarray(total.y, dtype=float)) == views
