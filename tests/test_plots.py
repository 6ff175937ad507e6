"""Figures drawn from saved results (``viralsim plot RESULTS_DIR --kind K``).

One-run folders come from really simulating ``scenarios/tiny.toml`` and writing
it with ``write_run``; ensemble / compare / sweep folders are written here in
the published schema (manifest.json, runs.parquet, bands.parquet) with
realistic numbers. Each figure's content is checked: titles, axis labels and
scales, legend entries, number of curves, bars and cells. Broken folders and
kinds that do not fit give one-line errors naming the path or the valid kinds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from paths import TINY

from viralsim import load_scenario, simulate
from viralsim.io.outputs import write_run
from viralsim.io.results_dir import Results, ResultsError, load_results
from viralsim.plots import (
    KINDS,
    draw,
    kinds_for,
    plot_ccdf,
    plot_funnel,
    plot_reach,
    plot_reach_bands,
    plot_sources,
    plot_sweep,
    plot_tree,
    save_figure,
)
from viralsim.views import SOURCES

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml", ".pdf": b"%PDF"}


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# -- folders -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_result() -> Any:
    return simulate(load_scenario(TINY), seed=7)


@pytest.fixture(scope="module")
def run_dir(tiny_result: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    write_run(tiny_result, out)
    return out


def _write_many(path: Path, kind: str, variants: list[str], points: list[dict[str, Any]], runs: int = 30) -> Path:
    """A results folder of many runs, in the schema of ``viralsim run --runs/compare/sweep``."""
    rng = np.random.default_rng(12)
    params = list(points[0]) if kind == "sweep" else []
    grid = np.linspace(0.0, 72.0, 97)
    rows, curves = [], []
    for vi, v in enumerate(variants):
        for p, point in enumerate(points):
            scale = 8_000 / (1 + 3 * vi) * (1 + p) / len(points)  # each variant / point reaches less or more
            for r in range(runs):
                views = max(0, int(rng.lognormal(np.log(scale), 0.8)))
                by = {"for_you": int(views * 0.97), "following": int(views * 0.02)}
                by["share"] = views - by["for_you"] - by["following"]
                reached = int(np.clip(np.log10(max(views, 1)) + rng.normal(0, 0.5), 0, 4))
                ttk = float(rng.uniform(20, 60)) if views >= 10_000 else float("nan")
                rows.append(
                    {
                        "variant": v,
                        "point": p,
                        **point,
                        "run": r,
                        "seed": 5,
                        "views": views,
                        "unique_viewers": views,
                        "likes": views // 10,
                        "comments": views // 100,
                        "shares": by["share"] // 2,
                        "follows": views // 200,
                        "profile_clicks": views // 40,
                        "completions": views // 5,
                        "share_to_view": by["share"] / 2 / max(views, 1),
                        "algorithmic_share": by["for_you"] / max(views, 1),
                        "stages_reached": reached,
                        "stages_passed": max(reached - 1, 0),
                        "stop_reason": "kpi_below_threshold:completion",
                        "peak_rate_h": 40.0,
                        "time_to_10k_views_h": ttk,
                        "time_to_100k_views_h": float("nan"),
                        "cascade_views": by["share"],
                        "cascade_depth": 2,
                        "cascade_max_breadth": by["share"],
                        "structural_virality": 2.0,
                        **{f"views_{s}": by[s] for s in SOURCES},
                    }
                )
                shape = 1 / (1 + np.exp(-(grid - 40) / 4)) * (grid > 19)
                curves.append((v, p, {s: by[s] * shape for s in SOURCES}))
    bands = []
    for v in variants:
        for p in range(len(points)):
            mine = [c for vv, pp, c in curves if (vv, pp) == (v, p)]
            for s in ("total", *SOURCES):
                stack = np.stack([sum(c.values()) if s == "total" else c[s] for c in mine])
                q = np.quantile(stack, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
                bands.append(
                    pd.DataFrame(
                        {
                            "variant": v,
                            "point": p,
                            "source": s,
                            "time_h": grid,
                            "q05": q[0],
                            "q25": q[1],
                            "q50": q[2],
                            "q75": q[3],
                            "q95": q[4],
                            "mean": stack.mean(axis=0),
                        }
                    )
                )
    path.mkdir(parents=True)
    manifest = {
        "kind": kind,
        "scenario": "tiny",
        "seed": 5,
        "runs": runs,
        "variants": variants,
        "params": params,
        "points": points,
        "version": "test",
        "provenance": {"scenario": {"video": {"upload_h": 19.0}}},
    }
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    pd.DataFrame(rows).to_parquet(path / "runs.parquet")
    pd.concat(bands, ignore_index=True).to_parquet(path / "bands.parquet")
    return path


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("many")
    grid = [{"video.appeal": a, "platform.push.thresholds.completion": c} for a in (0.6, 0.8) for c in (0.1, 0.15, 0.2)]
    return {
        "ensemble": _write_many(root / "ensemble", "ensemble", ["base"], [{}]),
        "compare": _write_many(root / "compare", "compare", ["base", "social", "strict"], [{}]),
        "sweep1": _write_many(root / "sweep1", "sweep", ["base"], [{"video.appeal": a} for a in (0.5, 0.6, 0.7, 0.8)]),
        "sweep2": _write_many(root / "sweep2", "sweep", ["base", "social"], grid, runs=10),
    }


def titles(fig: Any) -> str:
    """Every title of a figure (axes titles and the suptitle), one string."""
    parts = [ax.get_title() for ax in fig.axes]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    return " | ".join(parts)


def legend(ax: Any) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


# -- reading folders -------------------------------------------------------------------------------
def test_load_results_tells_the_kind(run_dir: Path, many: dict[str, Path]) -> None:
    one = load_results(run_dir)
    assert one.kind == "run" and one.is_run
    assert set(one.tables) == {"views", "stages", "reach"}
    assert one.scenario == "tiny" and one.variants == ["base"] and one.params == []
    assert list(one.reach.columns[:2]) == ["time_h", "total"]
    comp = load_results(many["compare"])
    assert (comp.kind, comp.variants, comp.params) == ("compare", ["base", "social", "strict"], [])
    assert len(comp.runs) == 90 and set(comp.bands["source"]) == {"total", *SOURCES}
    sw = load_results(many["sweep2"])
    assert sw.kind == "sweep" and sw.params == ["video.appeal", "platform.push.thresholds.completion"]


def _one_line(err: pytest.ExceptionInfo[ResultsError], *needles: str) -> None:
    msg = str(err.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg, msg


def test_broken_folders_give_one_line_errors(tmp_path: Path, run_dir: Path, many: dict[str, Path]) -> None:
    with pytest.raises(ResultsError) as err:
        load_results(tmp_path / "nope")
    _one_line(err, "nope", "no such folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError) as err:
        load_results(tmp_path / "empty")
    _one_line(err, "empty", "no results here")
    # a corrupt parquet file
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ("manifest.json", "runs.parquet"):
        (bad / f).write_bytes((many["compare"] / f).read_bytes())
    (bad / "runs.parquet").write_bytes(b"PAR1 this is not parquet at all PAR1")
    with pytest.raises(ResultsError) as err:
        load_results(bad)
    _one_line(err, "runs.parquet", "not a readable Parquet file")
    # a manifest without its runs table, a bad kind, broken JSON
    (bad / "runs.parquet").unlink()
    with pytest.raises(ResultsError) as err:
        load_results(bad)
    _one_line(err, "missing runs.parquet")
    (bad / "manifest.json").write_text(json.dumps({"kind": "pie"}), encoding="utf-8")
    with pytest.raises(ResultsError) as err:
        load_results(bad)
    _one_line(err, "manifest.json", "kind must be one of ensemble, compare, sweep", "'pie'")
    (bad / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ResultsError) as err:
        load_results(bad)
    _one_line(err, "manifest.json", "not valid JSON")
    # a single-run folder whose table lacks a column; one with no tables
    half = tmp_path / "half"
    half.mkdir()
    (half / "summary.json").write_bytes((run_dir / "summary.json").read_bytes())
    with pytest.raises(ResultsError) as err:
        load_results(half)
    _one_line(err, "no result tables")
    pd.DataFrame({"time_h": [0.0, 1.0]}).to_parquet(half / "reach.parquet")
    with pytest.raises(ResultsError) as err:
        load_results(half)
    _one_line(err, "reach.parquet", "missing column total")


def test_a_missing_table_is_named_and_leaves_the_other_kinds(tmp_path: Path, run_dir: Path) -> None:
    part = tmp_path / "part"
    part.mkdir()
    for f in ("summary.json", "stages.parquet", "reach.parquet"):
        (part / f).write_bytes((run_dir / f).read_bytes())
    res = load_results(part)
    assert kinds_for(res) == ("reach", "sources", "funnel")
    assert res.views is None
    with pytest.raises(ResultsError, match="no views.parquet"):
        res.table("views")
    with pytest.raises(ValueError, match="needs views.parquet.*kinds for this folder: reach, sources, funnel"):
        draw(res, "tree")


# -- one run ------------------------------------------------------------------------------------
def test_kinds_of_a_run_folder(run_dir: Path) -> None:
    assert kinds_for(load_results(run_dir)) == ("reach", "sources", "funnel", "tree")


def test_run_reach_from_saved_results_matches_plot_reach(run_dir: Path, tiny_result: Any) -> None:
    saved, live = draw(load_results(run_dir), "reach"), plot_reach(tiny_result)
    assert titles(saved) == titles(live) and f"{tiny_result.summary['views']:,} views" in titles(saved)
    for a, b in zip(saved.axes, live.axes, strict=True):
        assert a.get_yscale() == b.get_yscale() and a.get_ylabel() == b.get_ylabel()
        assert legend(a) == legend(b)
    assert saved.axes[1].get_yscale() == "log"


def test_run_sources(run_dir: Path, tiny_result: Any) -> None:
    fig = draw(load_results(run_dir), "sources")
    top, rate = fig.axes
    assert "tiny: views by source (seed 7)" in titles(fig)
    assert len(top.collections) == len(SOURCES)  # one stacked area per source
    src, total = tiny_result.summary["views_by_source"], tiny_result.summary["views"]
    assert legend(top)[0] == f"For You (platform push): {src['for_you']:,} ({100 * src['for_you'] / total:.2f} %)"
    assert legend(top)[-1] == f"total: {total:,} views"
    assert rate.get_yscale() == "log" and rate.get_ylabel().startswith("views per hour")
    assert top.get_ylabel() == "cumulative views (stacked)" and "hours" in rate.get_xlabel()


def test_run_funnel(run_dir: Path) -> None:
    stages = load_results(run_dir).stages
    fig = draw(load_results(run_dir), "funnel")
    cohort, completion, like = fig.axes  # tiny has thresholds on completion and like
    n = len(stages)
    assert cohort.get_yscale() == "log" and cohort.get_ylabel() == "users (log)"
    assert len(cohort.patches) == 2 * n  # cohort size and views at evaluation, per stage
    assert completion.get_ylabel() == "completion rate (%)" and like.get_ylabel() == "like rate (%)"
    assert len(completion.patches) == n
    # bars are coloured by the decision: the failing stage is red
    colours = [p.get_facecolor()[:3] for p in completion.patches]
    failed = ~stages["passed"].to_numpy()
    red = matplotlib.colors.to_rgb("#dc2626")
    assert [c == pytest.approx(red) for c in colours] == list(failed & (stages["completion"] < 0.12).to_numpy())
    ticks = [t.get_text() for t in like.get_xticklabels()]
    assert ticks[0] == "S1\npass" and ticks[-1].startswith(f"S{n}\nstop")
    head = titles(fig)
    passed = int(stages["passed"].sum())
    assert head.startswith(f"tiny (seed 7): the staged push: {passed} of {n} stages passed")
    assert not failed[-1] or f"stopped at S{n}: the completion rate fell below its threshold" in head
    assert any("threshold 12 %" in t.get_text() for t in completion.texts)


def test_run_tree_draws_the_share_cascades(run_dir: Path) -> None:
    res = load_results(run_dir)
    views = res.views
    fig = draw(res, "tree")
    head = titles(fig)
    n_share = int((views["parent"] >= 0).sum())
    assert f"spread tree of {len(views):,} views, {n_share} by shares" in head
    assert "share cascades only" in head  # 8,616 views > max_nodes: only the cascades are drawn
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[-1] == "upload" and f"shares: {n_share}" in labels


def _views(parent: list[int]) -> pd.DataFrame:
    src = ["share" if p >= 0 else "for_you" for p in parent]
    return pd.DataFrame(
        {
            "time_h": np.arange(len(parent), dtype=float),
            "parent": parent,
            "source": pd.Categorical(src, categories=list(SOURCES)),
        }
    )


def test_tree_whole_small_tree_and_refusals() -> None:
    # a chain of three shares under view 0, two other direct views
    fig = plot_tree(_views([-1, 0, 1, 2, -1, -1]))
    head = titles(fig)
    assert "6 views, 3 by shares, 3 share generations" in head and "all 6 views" in head
    # the largest cascades first, up to max_nodes
    parent = [-1] * 20 + [0] * 5 + [1] * 3 + [2]
    fig = plot_tree(_views(parent), max_nodes=10)
    assert "the 2 largest of 3 share cascades" in titles(fig) and "10 of 29 views" in titles(fig)
    with pytest.raises(ValueError, match="largest share cascade has 6 views, more than max_nodes=5"):
        plot_tree(_views(parent), max_nodes=5)
    with pytest.raises(ValueError, match="star of 30 views with no share cascade"):
        plot_tree(_views([-1] * 30), max_nodes=10)
    with pytest.raises(ValueError, match="max_nodes must be in"):
        plot_tree(_views([-1]), max_nodes=10**6)


# -- many runs ------------------------------------------------------------------------------------
def test_kinds_of_many_run_folders(many: dict[str, Path]) -> None:
    assert kinds_for(load_results(many["compare"])) == ("reach", "sources", "funnel", "ccdf", "metrics")
    assert kinds_for(load_results(many["sweep1"])) == ("reach", "sources", "funnel", "ccdf", "sweep")
    assert kinds_for(load_results(many["ensemble"]))[-1] == "metrics"


def test_reach_bands_overlay_variants(many: dict[str, Path]) -> None:
    fig = draw(load_results(many["compare"]), "reach")
    lin, log = fig.axes
    assert len(lin.lines) == 3 and len(log.lines) == 3  # a median per variant; the time axis starts at the upload
    assert len({str(ln.get_linestyle()) for ln in lin.lines}) == 3, "each variant has its own line style"
    assert len({ln.get_marker() for ln in lin.lines}) == 3, "and its own markers"
    assert lin.get_xlim()[0] == 0.0
    assert len(lin.collections) == 3 * 2  # 5-95 % and 25-75 % bands per variant
    labels = legend(lin)
    assert [x.split(":")[0] for x in labels[:3]] == ["base", "social", "strict"]
    assert labels[3:] == ["25–75 % of runs", "5–95 % of runs"]
    assert log.get_yscale() == "log" and lin.get_ylabel() == "cumulative views"
    assert "tiny [base, social, strict] — 30 runs per variant" in titles(fig)
    assert log.get_xlabel() == "hours after upload"
    one = draw(load_results(many["compare"]), "reach", variant="social")
    assert [x.split(":")[0] for x in legend(one.axes[0])[:1]] == ["social"] and len(one.axes[0].lines) == 1


def test_reach_bands_of_a_sweep_label_the_points(many: dict[str, Path]) -> None:
    fig = draw(load_results(many["sweep1"]), "reach")
    labels = legend(fig.axes[0])
    assert [x.split(":")[0] for x in labels[:4]] == [f"appeal={a}" for a in (0.5, 0.6, 0.7, 0.8)]
    assert "5–95 % bands left out" in titles(fig)  # four curves: only the 25-75 % bands


def test_sources_from_bands(many: dict[str, Path]) -> None:
    fig = draw(load_results(many["compare"]), "sources", variant="strict")
    assert "tiny [strict]: views by source (mean over 30 runs)" in titles(fig)
    assert len(fig.axes[0].collections) == len(SOURCES)
    assert legend(fig.axes[0])[0].startswith("For You (platform push)")
    bands = load_results(many["compare"]).bands
    assert "variant base" in titles(plot_sources(bands))  # the base by default
    fig = draw(load_results(many["sweep1"]), "sources")
    assert "tiny [base], appeal=0.5 (the first grid point): views by source" in titles(fig)


def test_funnel_of_many_runs(many: dict[str, Path]) -> None:
    res = load_results(many["compare"])
    fig = draw(res, "funnel")
    (ax,) = fig.axes
    top = int(res.runs["stages_reached"].max())
    assert len(ax.patches) == 3 * top
    assert ax.get_ylabel() == "runs reaching the stage (%)"
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"S{k}" for k in range(1, top + 1)]
    assert legend(ax) == ["base (30 runs)", "social (30 runs)", "strict (30 runs)"]
    base = res.runs[res.runs["variant"] == "base"]["stages_reached"]
    assert ax.patches[0].get_height() == pytest.approx(100 * float((base >= 1).mean()))


def test_ccdf(many: dict[str, Path]) -> None:
    res = load_results(many["compare"])
    fig = draw(res, "ccdf")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    steps = [ln for ln in ax.lines if ln.get_marker() not in (None, "", "None")]  # the medians are plain lines
    assert len(steps) == 3 and len({str(ln.get_linestyle()) for ln in steps}) == 3  # a style per variant
    x, y = steps[0].get_data()
    base = np.sort(res.runs[res.runs["variant"] == "base"]["views"].to_numpy())
    assert np.asarray(x)[0] == base[base > 0][0] and np.asarray(y)[0] == 1.0
    assert ax.get_xlabel().startswith("final views per run")
    assert ax.yaxis.get_major_formatter()(0.1, 0) == "10 %"  # fractions of runs read as percentages
    # NaN (never reached 10k) is counted in the legend, not drawn
    fig = draw(res, "ccdf", metric="time_to_10k_views_h")
    assert any("not shown" in t for t in legend(fig.axes[0]))


def test_sweep_one_parameter(many: dict[str, Path]) -> None:
    res = load_results(many["sweep1"])
    fig = draw(res, "sweep")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "latent quality (video.appeal)" and ax.get_ylabel() == "final views per run"
    (line,) = ax.lines
    x, y = line.get_data()
    assert list(x) == [0.5, 0.6, 0.7, 0.8]
    assert list(y) == pytest.approx(res.runs.groupby("video.appeal")["views"].median().tolist())
    assert legend(ax) == ["base: median", "25–75 % of runs", "5–95 % of runs"]
    assert "views against video.appeal" in titles(fig)


def test_sweep_over_categories_has_no_line_between_them(many: dict[str, Path]) -> None:
    runs = load_results(many["sweep1"]).runs
    modes = {0.5: "social", 0.6: "content", 0.7: "hybrid", 0.8: "hybrid"}
    runs = runs.assign(**{"platform.push.mode": runs["video.appeal"].map(modes)})
    fig = plot_sweep(runs, ["platform.push.mode"])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["content", "hybrid", "social"]  # sorted categories
    (medians,) = ax.lines
    assert medians.get_linewidth() == 0 and len(medians.get_xdata()) == 3
    assert medians.get_ydata()[1] == pytest.approx(runs[runs["platform.push.mode"] == "hybrid"]["views"].median())


def test_sweep_two_parameters_heat_map(many: dict[str, Path]) -> None:
    res = load_results(many["sweep2"])
    fig = draw(res, "sweep", metric="likes")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2  # one heat-map per variant
    assert [ax.get_title() for ax in panels] == ["base", "social"]
    assert all(len(ax.texts) == 2 * 3 for ax in panels)  # every cell annotated
    x_label, y_label = panels[0].get_xlabel(), panels[0].get_ylabel()
    assert x_label == "least completion rate (platform.push.thresholds.completion)"
    assert y_label == "latent quality (video.appeal)"
    cbar = [ax for ax in fig.axes if not ax.images and ax.get_ylabel()]
    assert cbar and cbar[0].get_ylabel() == "median final likes per run"
    med = res.runs[res.runs["variant"] == "base"].groupby(["video.appeal", "platform.push.thresholds.completion"])
    assert panels[0].images[0].get_array()[0, 0] == pytest.approx(med["likes"].median().iloc[0])


def test_sweep_refuses_what_it_cannot_draw(many: dict[str, Path]) -> None:
    runs = load_results(many["sweep2"]).runs
    with pytest.raises(ValueError, match="a sweep over 3 parameters .* one parameter .* or two"):
        plot_sweep(runs.assign(extra=1.0), ["video.appeal", "platform.push.thresholds.completion", "extra"])
    with pytest.raises(ValueError, match="swept parameter nope not in runs"):
        plot_sweep(runs, ["nope"])
    with pytest.raises(ValueError, match="no swept parameters"):
        plot_sweep(runs, [])


# -- errors and files -------------------------------------------------------------------------------
def test_kinds_that_do_not_fit_name_the_valid_ones(run_dir: Path, many: dict[str, Path]) -> None:
    comp, one = load_results(many["compare"]), load_results(run_dir)
    with pytest.raises(
        ValueError,
        match="kind 'tree' does not fit this compare folder.*kinds for this folder: reach, sources, funnel, ccdf, metrics$",
    ):
        draw(comp, "tree")
    with pytest.raises(ValueError, match="kind 'sweep' does not fit.*viralsim sweep"):
        draw(comp, "sweep")
    with pytest.raises(ValueError, match="kind 'metrics' does not fit this sweep folder.*--kind sweep"):
        draw(load_results(many["sweep1"]), "metrics")
    with pytest.raises(ValueError, match="kind 'metrics' does not fit this one-run folder.*not one run"):
        draw(one, "metrics")
    with pytest.raises(ValueError, match="kind 'ccdf' draws one metric, got 2: views, shares"):
        draw(comp, "ccdf", metric="views,shares")
    with pytest.raises(ValueError, match="unknown metric 'viewz'"):
        draw(comp, "metrics", metric=["views", "viewz"])
    with pytest.raises(ValueError, match="kind 'ccdf' does not fit this one-run folder.*--runs N.*reach, sources"):
        draw(one, "ccdf")
    with pytest.raises(ValueError, match="unknown plot kind 'pie': choose one of " + ", ".join(KINDS)):
        draw(one, "pie")
    with pytest.raises(ValueError, match="unknown variant 'viral': this compare has base, social, strict"):
        draw(comp, "reach", variant="viral")
    with pytest.raises(ValueError, match="holds one run of variant 'base', not 'social'"):
        draw(one, "funnel", variant="social")
    with pytest.raises(ValueError, match="unknown metric 'wows': choose a numeric column of runs: views, "):
        draw(comp, "ccdf", metric="wows")


def test_plot_functions_check_their_inputs(many: dict[str, Path]) -> None:
    res = load_results(many["compare"])
    with pytest.raises(ValueError, match="unknown variant 'x': this table has base, social, strict"):
        plot_reach_bands(res.bands, ["x"])
    with pytest.raises(ValueError, match="no rows with source 'total'"):
        plot_reach_bands(res.bands[res.bands["source"] != "total"])
    with pytest.raises(ValueError, match="unknown metric 'stop_reason'"):
        plot_ccdf(res.runs, "stop_reason")
    with pytest.raises(ValueError, match="no run reached a push stage"):
        plot_funnel(res.runs.assign(stages_reached=0))


def test_a_stage_missed_by_a_hair_is_not_shown_equal_to_its_threshold(run_dir: Path) -> None:
    stages = load_results(run_dir).stages.copy()
    stages.loc[stages.index[-1], "completion"] = 0.119996  # threshold 0.12
    fig = plot_funnel(stages)
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert "11.9996 %" in texts


@pytest.mark.parametrize("ext", [".png", ".svg", ".pdf"])
def test_saved_by_extension(run_dir: Path, tmp_path: Path, ext: str) -> None:
    out = save_figure(draw(load_results(run_dir), "funnel"), tmp_path / f"funnel{ext}")
    assert out.read_bytes().startswith(MAGIC[ext])
    assert [p.name for p in tmp_path.iterdir()] == [f"funnel{ext}"]  # no temporary file left


def test_unknown_extension_is_refused(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown figure type '\.txt'"):
        save_figure(draw(load_results(run_dir), "funnel"), tmp_path / "funnel.txt")
    assert not list(tmp_path.iterdir())


def test_results_repr(run_dir: Path) -> None:
    res = load_results(run_dir)
    assert isinstance(res, Results) and "kind='run'" in repr(res)


@pytest.mark.filterwarnings("error")
def test_a_run_without_push_or_views(tmp_path: Path, run_dir: Path) -> None:
    # a social-mode run has no stages (an empty table); a removed video has no views at all
    for f in ("summary.json", "reach.parquet"):
        (tmp_path / f).write_bytes((run_dir / f).read_bytes())
    pd.DataFrame([]).to_parquet(tmp_path / "stages.parquet")
    reach = pd.read_parquet(run_dir / "reach.parquet")
    reach[["total", *SOURCES]] = 0
    reach.to_parquet(tmp_path / "reach.parquet")
    pd.read_parquet(run_dir / "views.parquet").head(0).to_parquet(tmp_path / "views.parquet")
    res = load_results(tmp_path)
    assert kinds_for(res) == ("reach", "sources")
    with pytest.raises(ValueError, match="no push stage: the video was removed, or the mode is social"):
        draw(res, "funnel")
    with pytest.raises(ValueError, match="this run has no views"):
        draw(res, "tree")
    for kind in ("reach", "sources"):
        fig = draw(res, kind)
        assert "no views" in [t.get_text() for t in fig.axes[1].texts]
