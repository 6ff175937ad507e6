"""The lab's Dash app: the page (scenario picker, controls, two sides) and its two callbacks.

:func:`make_app` builds a :class:`dash.Dash` app for a scenario file and the
bundled scenarios' folder. The page has a scenario picker (the bundled ones
and any file opened by path), one control per :data:`~viralsim.lab.params.PARAMS`
with the field's description as help, a seed, Run and Reset; and two sides,
the scenario as set and the same without the push (``mode = "social"``),
each with its key numbers, reach by source and push stages. One callback
loads a scenario (picker, Open, Reset) into the controls; the other runs
(Run, or a scenario just loaded). Dash serves its scripts from the installed
package (``serve_locally``): the page needs no network.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from viralsim.lab.figures import GRAPH_HEIGHT, KEY_LABELS, funnel_figure, key_numbers, reach_figure
from viralsim.lab.params import PARAMS, Param, choices, first_sentence, help_text, override, values_of
from viralsim.lab.runs import MAX_RUNS, LabError, bundled, load, run_full, run_many, run_pair
from viralsim.lab.style import INDEX
from viralsim.scenario import Scenario

__all__ = ["SIDES", "make_app"]

#: The two sides of the page: (id prefix, heading).
SIDES = (("as_set", "As set"), ("social", "Social graph only"))


def _control(p: Param, value: Any) -> Any:
    pid = {"type": "param", "path": p.path}
    if p.kind == "choice":
        return dcc.RadioItems(id=pid, options=list(choices(p.path)), value=value, inline=True, className="radio")
    if p.kind == "slider":
        lo, hi = p.lo, p.hi
        return dcc.Slider(
            id=pid,
            min=lo,
            max=hi,
            step=p.step,
            value=value,
            marks={lo: f"{lo:g}", hi: f"{hi:g}"},
            updatemode="mouseup",
        )
    return dcc.Input(id=pid, type="number", min=p.lo, max=p.hi, step=p.step, value=value, debounce=True)


def _param_block(p: Param, value: Any) -> html.Div:
    text = help_text(p.path)
    return html.Div(
        [
            html.Label(p.label, title=text),
            _control(p, value),
            html.P([html.Code(p.path), " ", first_sentence(text)], className="help", title=text),
        ],
        className="param",
        id=f"param-{p.path.replace('.', '-')}",
    )


def _side(prefix: str, heading: str) -> html.Div:
    numbers = [
        html.Div(
            [html.Div("–", className="v", id=f"{prefix}-{m}"), html.Div(label, className="l")],
            className="num wide" if m == "stop_reason" else "num",
        )
        for m, label in KEY_LABELS
    ]
    graph_config: Any = {"displaylogo": False, "responsive": True}
    return html.Div(
        [
            html.H2([heading, " ", html.Small(id=f"{prefix}-mode")]),
            html.Div(numbers, className="numbers"),
            dcc.Graph(id=f"{prefix}-reach", config=graph_config, style={"height": f"{GRAPH_HEIGHT}px"}),
            dcc.Graph(id=f"{prefix}-funnel", config=graph_config, style={"height": f"{GRAPH_HEIGHT}px"}),
        ],
        className="side",
        id=f"side-{prefix}",
    )


def _describe(sc: Scenario) -> str:
    return f"{sc.name}: {sc.description}" if sc.description else sc.name


def _layout(path: Path, sc: Scenario, folder: Path | None) -> html.Div:
    options = [{"label": name, "value": str(p)} for name, p in bundled(folder).items()]
    if str(path) not in {o["value"] for o in options}:
        options.append({"label": str(path), "value": str(path)})
    values = values_of(sc)
    return html.Div(
        [
            html.Header(
                [
                    html.H1(["viralsim ", html.Span("lab")]),
                    dcc.Dropdown(id="scenario", options=options, value=str(path), clearable=False),
                    dcc.Input(id="path", type="text", placeholder="or a scenario file (.toml)", debounce=False),
                    html.Button("Open", id="open"),
                    html.P(_describe(sc), className="desc", id="scenario-desc"),
                    html.P("", className="msg", id="load-msg"),
                ]
            ),
            html.Main(
                [
                    html.Aside(
                        [
                            *[_param_block(p, values[p.path]) for p in PARAMS],
                            html.Div(
                                [
                                    html.Div(
                                        [
                                            html.Label("seed", htmlFor="seed"),
                                            dcc.Input(id="seed", type="number", min=0, step=1, value=sc.seed),
                                        ],
                                        className="field",
                                        title="The root seed: same scenario and seed, same numbers.",
                                    ),
                                    html.Div(
                                        [
                                            html.Label("runs", htmlFor="runs"),
                                            dcc.Input(id="runs", type="number", min=1, max=MAX_RUNS, step=1, value=1),
                                        ],
                                        className="field",
                                        title="1: one run of each side. N > 1: N paired runs of each side (run "
                                        "0..N-1 of the seed, as viralsim compare): medians, 5 %-95 % intervals, bands.",
                                    ),
                                ],
                                className="actions",
                            ),
                            html.Div(
                                [
                                    html.Button("Run", id="run", className="primary"),
                                    html.Button("Reset", id="reset", title="Back to the scenario's own values"),
                                ],
                                className="buttons",
                            ),
                            html.Div(id="status"),
                            html.P("", className="msg", id="run-msg"),
                        ]
                    ),
                    html.Div([_side(prefix, heading) for prefix, heading in SIDES], className="sides"),
                    html.Div(
                        [
                            html.Button(
                                "Watch the push",
                                id="animate",
                                title="Replay the push of the scenario as set (this seed) hour by hour",
                            ),
                            html.Span("", className="msg", id="animate-msg"),
                            dcc.Graph(id="push-animation", config={"displaylogo": False}, style={"display": "none"}),
                        ],
                        className="side push",
                    ),
                ]
            ),
            dcc.Store(id="current", data={"path": str(path), "loads": 0}),
            dcc.Store(id="shown", data=None),  # what the sides show: scenario file, override, seed
        ]
    )


def _one_run(base: Scenario, changes: dict[str, Any], seed: int) -> list[Any]:
    """Both sides' outputs (mode, reach, stages, key numbers) for one run of each."""
    pair = run_pair(base, changes, seed)
    out: list[Any] = []
    for result in (pair.as_set, pair.social):
        out += [f"(push mode = {result.scenario.platform.push.mode})", reach_figure(result), funnel_figure(result)]
        out += [text for _, _, text in key_numbers(result)]
    return out


def _many_runs(base: Scenario, changes: dict[str, Any], seed: int, n: int) -> list[Any]:
    """Both sides' outputs for ``n`` paired runs of each: bands, stages reached over runs, medians [5 %-95 %]."""
    from viralsim.lab.bands import band_figure, band_numbers, stage_share_figure

    ens = run_many(base, changes, seed, n)
    sc = ens.plan.scenario
    out: list[Any] = []
    for label, mode in (("base", sc.platform.push.mode), ("social", "social")):
        stages = len(sc.platform.push.cohort_sizes()) if mode != "social" else 0
        out += [f"(push mode = {mode} · {n} runs)", band_figure(ens, label, sc.video.upload_h, sc.horizon_h)]
        out.append(stage_share_figure(ens, label, stages))
        out += [
            [med, html.Div(f"5 %–95 %: {iv}", className="iv")] if iv else med for med, iv in band_numbers(ens, label)
        ]
    return out


def _unchanged(message: str) -> tuple[Any, ...]:
    """The loading callback's outputs when nothing loads: every control as it is, and ``message``."""
    keep = dash.no_update
    return keep, keep, keep, [keep] * len(PARAMS), keep, keep, message


def make_app(path: Path, folder: Path | None) -> dash.Dash:
    """The lab app for the scenario file ``path`` (bundled scenarios from ``folder`` in the picker).

    Raises
    ------
    LabError
        When ``path`` is no valid scenario.
    """
    sc = load(path)
    no_busy_title: Any = None  # keep the tab's title while a callback runs
    app = dash.Dash(__name__, title="viralsim lab", update_title=no_busy_title, serve_locally=True)
    app.index_string = INDEX
    app.layout = _layout(path, sc, folder)
    runs = {"n": 0}

    @app.callback(
        Output("current", "data"),
        Output("scenario", "options"),
        Output("scenario", "value"),
        Output({"type": "param", "path": ALL}, "value"),
        Output("seed", "value"),
        Output("scenario-desc", "children"),
        Output("load-msg", "children"),
        Input("scenario", "value"),
        Input("open", "n_clicks"),
        Input("reset", "n_clicks"),
        State("path", "value"),
        State("scenario", "options"),
        State("current", "data"),
        prevent_initial_call=True,
    )
    def choose(
        picked: str, _open: Any, _reset: Any, typed: str | None, options: list[dict[str, str]], current: dict[str, Any]
    ) -> tuple[Any, ...]:
        trigger = dash.ctx.triggered_id
        target = picked
        if trigger == "open":
            target = (typed or "").strip()
            if not target:
                return _unchanged("type a scenario file's path, then Open")
        elif trigger == "reset":
            target = current["path"]
        try:
            new = load(Path(target))
        except LabError as err:
            return _unchanged(str(err))
        if target not in {o["value"] for o in options}:
            options = [*options, {"label": target, "value": target}]
        values = values_of(new)
        data = {"path": target, "loads": int(current.get("loads", 0)) + 1}
        return data, options, target, [values[p.path] for p in PARAMS], new.seed, _describe(new), ""

    outputs = [Output("status", "children"), Output("run-msg", "children"), Output("shown", "data")]
    for prefix, _ in SIDES:
        outputs += [Output(f"{prefix}-mode", "children"), Output(f"{prefix}-reach", "figure")]
        outputs += [Output(f"{prefix}-funnel", "figure")]
        outputs += [Output(f"{prefix}-{m}", "children") for m, _ in KEY_LABELS]

    @app.callback(
        *outputs,
        Input("run", "n_clicks"),
        Input("current", "data"),
        State({"type": "param", "path": ALL}, "value"),
        State("seed", "value"),
        State("runs", "value"),
    )
    def run(_clicks: Any, current: dict[str, Any], values: list[Any], seed: Any, n_runs: Any) -> tuple[Any, ...]:
        def refuse(message: str) -> tuple[Any, ...]:
            return (dash.no_update, message, *[dash.no_update] * (len(outputs) - 2))

        try:
            base = load(Path(current["path"]))
        except LabError as err:
            return refuse(str(err))
        if seed is None or int(seed) < 0:
            return refuse("the seed must be a whole number ≥ 0")
        if n_runs is None or not 1 <= int(n_runs) <= MAX_RUNS:
            return refuse(f"runs: a whole number from 1 to {MAX_RUNS}")
        t0 = time.perf_counter()
        changes = override(base, dict(zip([p.path for p in PARAMS], values, strict=True)))
        try:
            sides = (
                _one_run(base, changes, int(seed))
                if int(n_runs) == 1
                else _many_runs(base, changes, int(seed), int(n_runs))
            )
        except (ValueError, MemoryError) as err:
            return refuse(f"cannot run: {err}")
        runs["n"] += 1
        many = f", {int(n_runs)} paired runs" if int(n_runs) > 1 else ""
        status = f"run {runs['n']} · {base.name} · seed {int(seed)}{many} · {time.perf_counter() - t0:.2f} s"
        shown = {"path": current["path"], "override": changes, "seed": int(seed)}
        return (status, "", shown, *sides)

    @app.callback(
        Output("push-animation", "figure"),
        Output("push-animation", "style"),
        Output("animate-msg", "children"),
        Input("animate", "n_clicks"),
        Input("shown", "data"),
        prevent_initial_call=True,
    )
    def animate(_clicks: Any, shown: dict[str, Any] | None) -> tuple[Any, ...]:
        hidden = {"display": "none"}
        if dash.ctx.triggered_id != "animate":  # a new run: the replay shown is of an older one
            return dash.no_update, hidden, ""
        if not shown:
            return dash.no_update, hidden, "press Run first"
        try:  # the run the sides show (not the controls as moved since)
            result = run_full(load(Path(shown["path"])), shown["override"], int(shown["seed"]))
        except (LabError, ValueError, MemoryError) as err:
            return dash.no_update, hidden, f"cannot replay: {err}"
        if result.scenario.platform.push.mode == "social":
            return dash.no_update, hidden, "no push to watch: the push mode is social"
        from viralsim.report.animation import push_animation

        fig = push_animation(result, frames=60)
        return fig, {"height": f"{fig.layout.height or 860}px"}, ""

    return app
