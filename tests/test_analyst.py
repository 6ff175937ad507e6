"""The analyst's questions: any summary metric charted by variant, display names, stop reasons and sources in words.

The comparison chart (``compare --plot FILE --metric NAME``, ``report --metrics A,B``) is
checked on its figure data: its medians and ranges are the table's, a log axis has points
and never bars. Display names (``base_label``, a variant's ``label``) are validated like any
field, reach every output, and change no result.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import paths
import pytest
from click.testing import CliRunner

from viralsim.cli import main
from viralsim.engines import simulate
from viralsim.experiments.panels import (
    LOG_SPAN,
    UnknownMetric,
    metric_panels,
    panel_columns,
    panel_metrics,
    panels_title,
)
from viralsim.experiments.plan import compare_plan
from viralsim.experiments.run import compare
from viralsim.experiments.stats import EnsembleResult
from viralsim.io.scenario_file import ScenarioError, load_scenario, loads_scenario
from viralsim.records.words import SOURCE_LABELS, metric_words, source_label, stop_in_words

TINY_TEXT = paths.TINY.read_text(encoding="utf-8")


def _labelled(text: str = TINY_TEXT) -> str:
    """tiny with display names and a campaign fee (so a cost per engaged view exists, in EUR)."""
    text = text.replace("seed = 7\n", 'seed = 7\nbase_label = "pushed"\n', 1)
    text = text.replace("[variants.social]\n", '[variants.social]\nlabel = "no push"\n', 1)
    return text.replace("followers = 300\n", 'followers = 300\nfee = 50.0\nfee_currency = "EUR"\n', 1)


@pytest.fixture(scope="module")
def labelled_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analyst") / "labelled.toml"
    path.write_text(_labelled(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ens(labelled_file: Path) -> EnsembleResult:
    return compare(load_scenario(labelled_file), runs=30)


def _run(*args: object) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr


# --- the panels' numbers ---------------------------------------------------------------------


def test_panel_numbers_are_the_tables(ens: EnsembleResult) -> None:
    metrics = ["engaged_views", "cost_per_engaged_view", "views_by_source", "share_to_view"]
    panels = metric_panels(ens, metrics)
    assert [p.metric for p in panels] == metrics
    table = ens.table(panel_columns(metrics)).set_index("variant")
    for panel in panels:
        assert panel.variants == ("base", "social", "strict")
        assert panel.labels == ("pushed", "no push", "strict")
        for i, column in enumerate(panel.columns):
            for j, v in enumerate(panel.variants):
                for q in ("median", "q05", "q95"):
                    want = table.loc[v, f"{column}_{q}"]
                    got = getattr(panel, q)[i, j]
                    assert got == want or (np.isnan(got) and np.isnan(want)), (panel.metric, column, v, q)
    by_source = panels[2]
    assert by_source.columns == ("views_for_you", "views_following", "views_share")
    assert by_source.items == ("For You", "Following", "shares") and by_source.axis == "views"
    # the pushed base's For You median is the runs' median, and the social variant has no For You view
    base_fy = ens.runs.loc[ens.runs["variant"] == "base", "views_for_you"].to_numpy(float)
    assert by_source.median[0, 0] == np.quantile(base_fy, 0.5) > 0
    assert by_source.median[0, 1] == 0
    assert panels[1].axis == "cost per engaged view (EUR)" and panels[3].axis == "share-to-view (%)"
    assert panels[3].scale == 100


def test_a_cost_without_a_fee_says_so_and_a_title_names_everything(ens: EnsembleResult) -> None:
    title = panels_title(ens)
    assert title.startswith("tiny: pushed, no push, strict") and "30 paired runs per variant" in title
    plain = compare(loads_scenario(TINY_TEXT, "tiny.toml"), variants=["social"], runs=2)
    (cost,) = metric_panels(plain, ["cost_per_engaged_view"])
    assert cost.axis == "cost per engaged view (fee units)"
    assert np.isnan(cost.median).all() and (cost.runs == 0).all()  # no fee: no cost, counted as no value


def _synthetic(values: dict[str, dict[str, list[float]]]) -> EnsembleResult:
    """An ensemble result of tiny (base vs social) whose runs hold ``values`` (metric -> variant -> per run)."""
    sc = loads_scenario(TINY_TEXT, "tiny.toml")
    runs = len(next(iter(next(iter(values.values())).values())))
    plan = compare_plan(sc, ["social"], runs=runs)
    rows = [
        {"variant": v, "point": 0, "run": r, **{m: values[m][v][r] for m in values}}
        for v in ("base", "social")
        for r in range(runs)
    ]
    return EnsembleResult(plan=plan, runs=pd.DataFrame(rows), bands=pd.DataFrame())


def test_a_log_axis_only_when_positive_values_span_orders_of_magnitude() -> None:
    ens = _synthetic(
        {
            "views": {"base": [1000, 2000, 3000, 4000], "social": [5, 6, 7, 8]},  # 800x: log
            "shares": {"base": [0, 0, 0, 0], "social": [100, 200, 300, 400]},  # a zero: never log
            "likes": {"base": [10, 20, 30, 40], "social": [1, 2, 3, 4]},  # 40x: linear
        }
    )
    views, shares, likes = metric_panels(ens, ["views", "shares", "likes"])
    assert views.values().max() / views.values().min() >= LOG_SPAN and views.log
    assert not shares.log and not likes.log


# --- the figures' data ------------------------------------------------------------------------


def test_the_matplotlib_panels_draw_the_tables_numbers_and_no_bar_on_a_log_axis() -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.container import ErrorbarContainer
    from matplotlib.patches import Rectangle

    from viralsim.plots import plot_metric_panels

    ens = _synthetic(
        {
            "views": {"base": [1000, 2000, 3000, 4000], "social": [5, 6, 7, 8]},
            "likes": {"base": [10, 20, 30, 40], "social": [1, 2, 3, 4]},
        }
    )
    panels = metric_panels(ens, ["views", "likes"])
    fig = plot_metric_panels(panels, panels_title(ens))
    ax_log, ax_lin = fig.axes[:2]
    assert ax_log.get_yscale() == "log" and ax_lin.get_yscale() == "linear"
    assert not [p for p in ax_log.patches if isinstance(p, Rectangle)], "a bar on a log axis"
    heights = [p.get_height() for p in ax_lin.patches if isinstance(p, Rectangle)]
    assert heights == pytest.approx(panels[1].median[0].tolist())
    for ax, panel in ((ax_log, panels[0]), (ax_lin, panels[1])):
        ranges = []
        for c in ax.containers:
            if isinstance(c, ErrorbarContainer):
                (segments,) = [lc.get_segments() for lc in c.lines[2] if isinstance(lc, LineCollection)]
                ranges += [v for s in segments for v in (s[0][1], s[1][1])]
        assert ranges == pytest.approx([v for pair in zip(panel.q05[0], panel.q95[0], strict=True) for v in pair])
        assert ax.get_ylabel() == panel.axis
    assert [t.get_text() for t in ax_lin.get_xticklabels()] == ["base", "social"]
    assert "tiny: base, social" in fig.get_suptitle()


def test_the_report_panels_draw_the_tables_numbers_and_points_on_a_log_axis() -> None:
    from viralsim.report.metrics import metrics_figure

    ens = _synthetic(
        {
            "views": {"base": [1000, 2000, 3000, 4000], "social": [5, 6, 7, 8]},
            "share_to_view": {"base": [0.01, 0.02, 0.03, 0.04], "social": [0.01, 0.01, 0.02, 0.02]},
        }
    )
    panels = metric_panels(ens, ["views", "share_to_view"])
    fig = metrics_figure(panels, panels_title(ens))
    log_traces = [t for t in fig.data if t.xaxis == "x"]
    lin_traces = [t for t in fig.data if t.xaxis == "x2"]
    assert {t.type for t in log_traces} == {"scatter"} and {t.type for t in lin_traces} == {"bar"}
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "linear"
    for traces, panel in ((log_traces, panels[0]), (lin_traces, panels[1])):
        assert [t.y[0] for t in traces] == pytest.approx((panel.median[0] * panel.scale).tolist())
        assert [t.y[0] + t.error_y.array[0] for t in traces] == pytest.approx((panel.q95[0] * panel.scale).tolist())
        assert [t.y[0] - t.error_y.arrayminus[0] for t in traces] == pytest.approx(
            (panel.q05[0] * panel.scale).tolist()
        )
    assert fig.layout.yaxis2.title.text == "share-to-view (%)"


# --- the command line -------------------------------------------------------------------------


def test_compare_metric_draws_the_chart_and_shows_its_numbers(labelled_file: Path, tmp_path: Path) -> None:
    png = tmp_path / "panels.png"
    code, out, err = _run(
        "compare", labelled_file, "--runs", "4", "--processes", "1", "--plot", png,
        "--metric", "engaged_views", "--metric", "cost_per_engaged_view,views_by_source",
    )  # fmt: skip
    assert code == 0, err
    assert png.stat().st_size > 10_000
    for words in ("engaged views", "cost per engaged view (EUR)", "views from For You", "views from shares"):
        assert words in out
    assert "pushed" in out and "no push" in out and "no push − pushed" in out


def test_an_unknown_metric_is_one_line_listing_the_valid_names(labelled_file: Path, tmp_path: Path) -> None:
    for args in (
        ("compare", labelled_file, "--plot", tmp_path / "x.png", "--metric", "views,engaged_viewz"),
        ("report", labelled_file, "-o", tmp_path / "x.html", "--metrics", "engaged_viewz"),
    ):
        code, out, err = _run(*args)
        assert code == 1 and not out
        (line,) = err.strip().splitlines()
        assert "unknown metric 'engaged_viewz'" in line
        assert all(name in line for name in panel_metrics())
    assert not list(tmp_path.iterdir())  # refused before anything runs or is written
    code, _, err = _run("compare", labelled_file, "--metric", "views")
    assert code == 1 and err.strip() == (
        "--metric: names what --plot FILE draws: give --plot FILE too (the table takes --metrics A,B)"
    )
    with pytest.raises(UnknownMetric):
        panel_columns(["views_by_sauce"])


def test_display_names_reach_the_tables_and_the_json(labelled_file: Path) -> None:
    code, out, err = _run("compare", labelled_file, "--runs", "3", "--processes", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["labels"] == {"base": "pushed", "social": "no push", "strict": "strict"}
    assert [(r["variant"], r["label"]) for r in data["table"]] == list(data["labels"].items())
    assert [(r["variant"], r["label"]) for r in data["differences"]] == [("social", "no push"), ("strict", "strict")]
    code, out, _ = _run("run", labelled_file, "--variant", "social", "--json")
    one = json.loads(out)
    assert (one["variant"], one["variant_label"]) == ("social", "no push")
    code, out, _ = _run("run", labelled_file, "--json")
    assert (json.loads(out)["variant"], json.loads(out)["variant_label"]) == (None, "pushed")
    code, out, _ = _run("run", labelled_file, "--variant", "social")
    assert code == 0 and "tiny [no push]" in out


def test_display_names_change_no_result(labelled_file: Path) -> None:
    plain, named = loads_scenario(TINY_TEXT, "tiny.toml"), load_scenario(labelled_file)
    unfeed = loads_scenario(_labelled().replace('fee = 50.0\nfee_currency = "EUR"\n', ""), "x.toml")
    for variant in (None, "social", "strict"):
        a = simulate(plain, seed=3, variant=variant)
        b = simulate(unfeed, seed=3, variant=variant)
        assert a.summary.to_dict() == b.summary.to_dict()
        assert [dict(r) for r in a.stages] == [dict(r) for r in b.stages]
        for k in a.views:
            assert np.array_equal(a.views[k], b.views[k])
    assert named.variant_label(None) == "pushed" and named.variant("social").base_label == "no push"
    assert plain.variant("social").base_label is None  # unlabelled scenarios resolve exactly as before
    # a results folder's fingerprint ignores display names
    assert compare_plan(plain, runs=2).fingerprint() == compare_plan(unfeed, runs=2).fingerprint()


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (('label = "no push"', "label = 3"), ":{n}: variants.social.label: expected a display name (text), got int 3"),
        (('label = "no push"', 'label = ""'), ":{n}: variants.social.label: must have 1 to 40 characters, got 0"),
        (
            ('label = "no push"', 'label = "strict"'),
            ":{m}: variants.strict: display name 'strict' is already used by variants.social",
        ),
        (('base_label = "pushed"', 'base_label = "no push"'), ":{n}: variants.social.label: display name 'no push'"),
        (('base_label = "pushed"', 'base_label = "' + "x" * 41 + '"'), ":{b}: base_label: must have at most 40"),
    ],
)
def test_display_names_are_validated_at_their_line(edit: tuple[str, str], line: str) -> None:
    text = _labelled().replace(*edit)
    lines = text.splitlines()
    where = {
        "n": lines.index(next(x for x in lines if x.startswith("label"))) + 1,
        "m": lines.index("[variants.strict]") + 1,
        "b": lines.index(next(x for x in lines if x.startswith("base_label"))) + 1,
    }
    with pytest.raises(ScenarioError) as err:
        loads_scenario(text, "s.toml")
    assert any(p.startswith("s.toml" + line.format(**where)) for p in err.value.problems), err.value.problems


# --- words ------------------------------------------------------------------------------------


def test_stop_reasons_and_sources_read_as_words_and_json_keeps_the_codes(labelled_file: Path) -> None:
    assert stop_in_words("kpi_below_threshold:completion,like", 3) == (
        "the completion rate and like rate fell below their thresholds (stage 3)"
    )
    assert stop_in_words("all_stages_passed") == "every stage passed: the push ran out of cohorts"
    assert stop_in_words("population_exhausted", 4) == "every user has been reached (stage 4)"
    assert source_label("for_you") == "For You (platform push)" and source_label("share", short=True) == "shares"
    assert metric_words("views_following") == "views from Following" and metric_words("likes") is None
    from viralsim.plots._base import LABELS
    from viralsim.report.words import stop_in_words as report_words

    assert LABELS is SOURCE_LABELS and report_words is stop_in_words  # one wording, not copies

    code, out, _ = _run("run", labelled_file, "--variant", "strict", "--json")
    summary = json.loads(out)
    reason = summary["stop_reason"]
    assert reason.startswith("kpi_below_threshold:")  # --json keeps the code
    code, out, _ = _run("run", labelled_file, "--variant", "strict")
    assert code == 0 and reason not in out
    assert stop_in_words(reason, summary["stages_reached"]) in " ".join(out.split())  # the table wraps long cells
    code, out, _ = _run("run", labelled_file, "--runs", "3", "--processes", "1")
    assert code == 0 and "why the push stopped:" in out and "kpi_below_threshold" not in out
    code, out, _ = _run("run", labelled_file)
    assert "For You" in out and "Following" in out and "shares" in out


# --- the same charts from a saved folder ------------------------------------------------------


def _figure_data(fig: object) -> list[object]:
    """Everything a figure shows as numbers and words: titles, labels, ticks, lines, bars, ranges, bands, legends."""
    from matplotlib.collections import Collection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    assert isinstance(fig, Figure)
    data: list[object] = [fig.get_suptitle(), [t.get_text() for leg in fig.legends for t in leg.get_texts()]]
    for ax in fig.axes:
        legend = ax.get_legend()
        data += [
            ax.get_title(),
            ax.get_xlabel(),
            ax.get_ylabel(),
            ax.get_yscale(),
            [t.get_text() for t in ax.get_xticklabels()],
            [line.get_xydata().round(9).tolist() for line in ax.get_lines()],
            [round(p.get_height(), 9) for p in ax.patches if isinstance(p, Rectangle)],
            [[np.round(v, 9).tolist() for v in c.get_paths()[0].vertices] for c in ax.collections if c.get_paths()]
            if all(isinstance(c, Collection) for c in ax.collections)
            else None,
            [t.get_text() for t in legend.get_texts()] if legend else [],
        ]
    return data


def test_plot_from_a_saved_folder_draws_what_compare_plot_drew(
    labelled_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import viralsim.cli.experiments as cli_experiments
    import viralsim.cli.figures as cli_figures

    drawn: list[object] = []

    def keep(fig: object, path: str) -> None:
        drawn.append(fig)

    monkeypatch.setattr(cli_experiments, "save_figure_or_fail", keep)
    monkeypatch.setattr(cli_figures, "save_figure_or_fail", keep)
    out, png = tmp_path / "cmp", tmp_path / "x.png"
    chart = ("--metric", "engaged_views,cost_per_engaged_view", "--metric", "views_by_source")
    base = ("compare", labelled_file, "--runs", "6", "--processes", "1", "--out", out, "--plot", png, "--quiet")
    for args in (base, (*base, *chart), ("plot", out, "--kind", "reach", "-o", png)):
        code, _, err = _run(*args)
        assert code == 0, err
    code, _, err = _run("plot", out, "--kind", "metrics", "-o", png, *chart)
    assert code == 0, err
    reach, panels, reach_again, panels_again = drawn
    assert _figure_data(reach_again) == _figure_data(reach)
    assert _figure_data(panels_again) == _figure_data(panels)
    # the variants by their display names, and the titles name the scenario, the variants and the runs
    title = reach_again.axes[0].get_title()  # type: ignore[attr-defined]
    assert title.startswith("tiny [pushed, no push, strict] — 6 runs per variant")
    legend = [t.get_text() for t in reach_again.axes[0].get_legend().get_texts()]  # type: ignore[attr-defined]
    assert [x.split(":")[0] for x in legend[:3]] == ["pushed", "no push", "strict"]
    assert panels_again.get_suptitle().startswith("tiny: pushed, no push, strict — 6 paired runs per variant")  # type: ignore[attr-defined]
    assert [a.get_title() for a in panels_again.axes[:3]] == [  # type: ignore[attr-defined]
        p.title + (" (log scale)" if p.log else "")
        for p in metric_panels(
            compare(load_scenario(labelled_file), runs=6), ["engaged_views", "cost_per_engaged_view", "views_by_source"]
        )
    ]
    # the other figures of the folder name the variants the same way
    from viralsim.io.results_dir import load_results
    from viralsim.plots import draw

    funnel = draw(load_results(out), "funnel").axes[0]
    assert [t.get_text() for t in funnel.get_legend().get_texts()] == [
        f"{name} (6 runs)" for name in ("pushed", "no push", "strict")
    ]
    # one variant only; a metric the folder cannot chart and a sweep folder are one line each
    code, _, err = _run("plot", out, "--kind", "metrics", "--variant", "social", "--metric", "views", "-o", png)
    assert code == 0, err
    assert [t.get_text() for t in drawn[-1].axes[0].get_xticklabels()] == ["no push"]  # type: ignore[attr-defined]
    assert drawn[-1].get_suptitle().startswith("tiny: no push — 6 runs")  # type: ignore[attr-defined]
    code, _, err = _run("plot", out, "--kind", "metrics", "--metric", "viewz", "-o", png)
    assert code == 1 and "--metric: unknown metric 'viewz'" in err and len(err.strip().splitlines()) == 1
