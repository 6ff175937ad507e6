"""The HTML report: one self-contained page that works offline.

:func:`build_report` runs one full run of the scenario (for the animation and
its key numbers) and a paired comparison of the base and its variants (for
medians and intervals), and returns the page as a string: the scenario in
words, the key numbers, the animated staged push, the variants compared, and
the provenance (resolved scenario, seed, version) as JSON. plotly.js is
embedded once, inline; no file, font or script is fetched from anywhere.
:func:`write_report` writes it atomically.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viralsim._version import __version__
from viralsim.engines import simulate
from viralsim.experiments.executors import Executor
from viralsim.experiments.panels import metric_panels, panel_columns, panels_title
from viralsim.experiments.plan import BASE
from viralsim.experiments.run import compare
from viralsim.experiments.stats import EnsembleResult
from viralsim.io.outputs import OutputError, _jsonable, check_writable
from viralsim.model.graph import GraphInput
from viralsim.report.animation import push_animation
from viralsim.report.comparison import (
    KEY_METRICS,
    compare_figure,
    differences_in_words,
    ensemble_numbers,
    run_numbers,
)
from viralsim.report.metrics import metrics_figure
from viralsim.report.words import scenario_in_words, variant_in_words
from viralsim.result import RunResult
from viralsim.scenario import Scenario

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["DEFAULT_RUNS", "build_report", "write_report"]

#: Runs per variant of the comparison: bees_bike with two variants takes ~10-20 s on 2 cores.
DEFAULT_RUNS = 20
_PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}

_CSS = """
:root { --ink: #111827; --muted: #4b5563; --line: #e5e7eb; --push: #e4405f; --bg: #f9fafb; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
main { max-width: 1260px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { margin: 0 0 4px; font-size: 30px; }
header .desc { margin: 0; font-size: 19px; color: var(--muted); }
header .meta { margin: 6px 0 0; font-size: 14px; color: var(--muted); }
section { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px;
          margin-top: 22px; }
h2 { margin: 0 0 10px; font-size: 22px; }
.words p { margin: 0 0 10px; max-width: 72em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; margin: 6px 0 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--bg); }
.card .v { font-size: 22px; font-weight: 700; }
.card .k { font-size: 13px; color: var(--muted); }
.card.wide { grid-column: span 2; }
.card.wide .v { font-size: 16px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 15px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); }
td.num { font-variant-numeric: tabular-nums; }
.hint { color: var(--muted); font-size: 14px; margin: 4px 0 8px; }
ul.diffs li { margin-bottom: 6px; }
pre { max-height: 420px; overflow: auto; background: var(--bg); padding: 10px; font-size: 12px; }
"""


# plotly.js rejects the promise of an animation that a newer one interrupts (pause, or the slider
# moved while playing) with ``undefined``, on purpose (plotly/plotly.js#2438); nothing awaits the
# buttons' promises, so the browser would log "Uncaught (in promise) undefined". Only that is silenced.
_INTERRUPTED_ANIMATION = (
    "<script>window.addEventListener('unhandledrejection', function (e) {"
    " if (e.reason === undefined) { e.preventDefault(); } });</script>"
)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _figure_html(fig: go.Figure, div_id: str, first: bool) -> str:
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=first,
            div_id=div_id,
            auto_play=False,
            config=_PLOT_CONFIG,
            include_mathjax=False,
        )
    )


def build_report(
    scenario: Scenario,
    *,
    seed: int | None = None,
    runs: int = DEFAULT_RUNS,
    variants: Iterable[str] | None = None,
    executor: Executor | None = None,
    graph: GraphInput = None,
    frames: int = 90,
    metrics: Sequence[str] = (),
) -> str:
    """The HTML report of ``scenario`` as one self-contained page.

    Parameters
    ----------
    scenario : Scenario
        The base scenario; its variants are compared with it.
    seed : int, optional
        Root seed (default: the scenario's). The animated run is
        ``simulate(scenario, seed=seed)``, i.e. run 0 of the comparison.
    runs : int
        Runs per variant of the paired comparison (medians and 90 % intervals).
    variants : iterable of str, optional
        Variants to compare with the base (default: all of the scenario's).
    executor : Executor, optional
        Where the comparison runs (default: chosen by the size of the work).
    graph : optional
        An explicit social graph (``edge_list`` scenarios), as for :func:`simulate`.
    frames : int
        Frames of the animation.
    metrics : sequence of str
        Summary metrics to chart side by side for every variant, one panel each
        (``engaged_views``, ``cost_per_engaged_view``, ``views_by_source``, ...: the names of
        :func:`viralsim.experiments.panels.panel_metrics`); none: no such chart.

    Returns
    -------
    str
        The page (UTF-8 text). Raises ``KeyError`` for an unknown variant and
        ``ValueError`` for ``runs < 1``, a variant named ``"base"`` or an unknown metric
        (:class:`~viralsim.experiments.panels.UnknownMetric`).
    """
    panel_columns(metrics)  # an unknown metric is refused before any run
    seed = scenario.seed if seed is None else seed
    names = list(scenario.variants) if variants is None else list(dict.fromkeys(variants))
    for name in names:
        if name != BASE:
            scenario.variant(name)  # KeyError naming the known variants, before any work
    result = simulate(scenario, seed=seed, graph=graph)
    ens = compare(scenario, variants=names, runs=runs, seed=seed, executor=executor, graph=graph)
    one = run_numbers(result)
    many = ensemble_numbers(ens)
    labels = list(ens.plan.variants)
    shown = ens.plan.labels()  # variant -> display name

    anim = push_animation(result, frames=frames)
    cmp_fig = compare_figure(ens, scenario.video.upload_h)
    data = {
        "scenario": scenario.name,
        "seed": seed,
        "runs": runs,
        "variants": labels,
        "labels": shown,
        "metrics": list(metrics),
        "run": _jsonable({m: result.summary.get(m) for m, _ in KEY_METRICS}),
        "frames": len(anim.frames),
        "provenance": _jsonable(result.provenance()),
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>viralsim report: {_e(scenario.name)}</title>",
        f'<meta name="generator" content="viralsim {_e(__version__)}">',
        f"<style>{_CSS}</style></head><body><main>",
        "<header>",
        f"<h1>{_e(scenario.name)}</h1>",
        f'<p class="desc">{_e(scenario.description)}</p>' if scenario.description else "",
        f'<p class="meta">viralsim {_e(__version__)} · seed {seed} · {runs} paired runs per variant · '
        f"{len(labels)} variant{'s' if len(labels) != 1 else ''} compared ({_e(', '.join(shown.values()))})</p>",
        "</header>",
        '<section class="words" id="scenario"><h2>The scenario in words</h2>',
        *(f"<p>{_e(p)}</p>" for p in scenario_in_words(scenario)),
        "</section>",
        _numbers_section(result, one, many, shown, runs),
        '<section id="animation"><h2>The staged push, hour by hour</h2>',
        '<p class="hint">Press <b>▶ Play</b> to replay the run from the upload, or drag the slider. Top: '
        "views so far, by where they came from. Bottom left: each cohort of the push lights up while its "
        "users watch, then turns green (its KPIs passed: the next, larger cohort gets the video) or red "
        "(a KPI missed its threshold: the push stops). Bottom right: each stage's KPIs (amber while the "
        "stage is being watched) against the threshold the platform demands (black dash).</p>",
        '<p class="hint"><b>This run has no algorithmic push</b>: only its reach is shown.</p>'
        if result.summary.get("stages_reached", 0) == 0
        else "",
        _INTERRUPTED_ANIMATION,
        _figure_html(anim, "push-animation", first=True),
        "</section>",
        _variants_section(scenario, ens, cmp_fig, names, runs),
        _metrics_section(ens, metrics),
        '<section id="provenance"><h2>Provenance</h2>',
        '<p class="hint">Everything needed to reproduce this page: <code>viralsim report</code> with the '
        "same scenario, seed and runs gives the same numbers.</p>",
        f"<details><summary>resolved scenario, seed and version (JSON)</summary><pre>"
        f"{_e(json.dumps(data['provenance'], indent=2))}</pre></details>",
        f'<script type="application/json" id="viralsim-data">{_json_in_html(data)}</script>',
        "</section></main></body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _json_in_html(data: Any) -> str:
    # "</" would end the script element early; JSON allows "<\/" for "</"
    return json.dumps(data, sort_keys=True).replace("</", "<\\/")


def _numbers_section(
    result: RunResult, one: dict[str, str], many: dict[str, dict[str, str]], labels: dict[str, str], runs: int
) -> str:
    cards = "".join(
        f'<div class="card{" wide" if m == "stop_reason" else ""}" data-metric="{m}"><div class="v">{_e(one[m])}</div>'
        f'<div class="k">{_e(label)}</div></div>'
        for m, label in KEY_METRICS
    )
    head = "".join(
        f"<th>{_e(shown)}<br><small>median [5 % – 95 %], {runs} runs</small></th>" for shown in labels.values()
    )
    rows = []
    for m, label in KEY_METRICS:
        cells = "".join(f'<td class="num">{_e(many.get(lab, {}).get(m, "–"))}</td>' for lab in labels)
        rows.append(f'<tr><th>{_e(label)}</th><td class="num" data-metric="{m}">{_e(one[m])}</td>{cells}</tr>')
    return (
        '<section id="numbers"><h2>Key numbers</h2>'
        f'<p class="hint">One run of the base scenario (seed {result.seed}): the run animated below.</p>'
        f'<div class="cards">{cards}</div>'
        '<p class="hint">The same numbers over many runs (the population, the cohorts and every viewer\'s '
        "reaction are drawn anew in each run; run <i>i</i> of every variant uses the same random draws). "
        "Structural virality is the mean distance between two views in the spread tree: about 2 for a "
        "broadcast (everybody got it from the platform), larger for person-to-person chains.</p>"
        f'<table id="key-numbers"><tr><th></th><th>this run<br><small>seed {result.seed}</small></th>{head}</tr>'
        f"{''.join(rows)}</table></section>"
    )


def _variants_section(sc: Scenario, ens: EnsembleResult, fig: go.Figure, names: list[str], runs: int) -> str:
    if not names:
        return (
            '<section id="variants"><h2>The variants compared</h2><p>This scenario declares no variants: '
            'add a <code>[variants.NAME]</code> table (e.g. <code>platform.push.mode = "social"</code>) '
            "to compare what-ifs on the same random draws.</p>"
            f"{_figure_html(fig, 'variants-chart', first=False)}</section>"
        )
    what = "".join(f"<li><b>{_e(sc.variant_label(n))}</b>: {_e(variant_in_words(sc, n))}</li>" for n in names)
    diffs = "".join(f"<li>{d}</li>" for d in differences_in_words(ens))
    return (
        '<section id="variants"><h2>The variants compared</h2>'
        f"<p>Each variant changes one thing of the base scenario:</p><ul>{what}</ul>"
        f"<p>Over {runs} paired runs (run <i>i</i> of each variant uses the same seed as run <i>i</i> of the base, "
        "so a difference comes from the variant, not from luck):</p>"
        f'<ul class="diffs">{diffs}</ul>'
        f"{_figure_html(fig, 'variants-chart', first=False)}</section>"
    )


def _metrics_section(ens: EnsembleResult, metrics: Sequence[str]) -> str:
    if not metrics:
        return ""
    fig = metrics_figure(metric_panels(ens, metrics), panels_title(ens))
    return (
        '<section id="metrics"><h2>The metrics compared</h2>'
        '<p class="hint">Each panel is one summary metric over the paired runs: for each variant the median '
        "(bar or point) and the range of the middle 90 % of runs (whiskers), the same numbers as the tables. "
        "A panel whose values span orders of magnitude has a log axis and shows points, not bars.</p>"
        f"{_figure_html(fig, 'metrics-chart', first=False)}</section>"
    )


def write_report(page: str, path: str | os.PathLike[str]) -> Path:
    """Write ``page`` to ``path`` atomically (a temporary file in the same folder, then ``os.replace``).

    Raises :class:`~viralsim.io.outputs.OutputError` with one line
    (``PATH: cannot write: REASON``) when it cannot be written; then no file,
    temporary or partial, is left behind and an existing ``path`` is untouched.
    """
    target = Path(path)
    check_writable(target, folder=False)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        tmp = None
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise OutputError(f"{target}: cannot write: {reason}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return target
