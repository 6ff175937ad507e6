"""The lab's Dash app: the page (scenario picker, controls, two sides) and its callbacks.

:func:`make_app` builds a :class:`dash.Dash` app for a scenario file and the
bundled scenarios' folder. The page has a scenario picker (the bundled ones
and any file opened by path), one control per :data:`~viralsim.lab.params.PARAMS`
with the field's description as help, a seed, Run and Reset; and two sides,
the scenario as set and the same without the push (``mode = "social"``),
each with its key numbers, reach by source and push stages. One callback
loads a scenario (picker, Open, Reset) into the controls; Run (or a scenario
just loaded), Stop and the live update are :mod:`viralsim.lab.running`'s; one
replays the run shown hour by hour (the report's animation). Dash serves its scripts from the installed
package (``serve_locally``): the page needs no network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from viralsim.lab.figures import GRAPH_HEIGHT, KEY_LABELS
from viralsim.lab.live import PACES, Jobs
from viralsim.lab.params import PARAMS, Param, choices, first_sentence, help_text, values_of
from viralsim.lab.running import POLL_S, SIDES, register
from viralsim.lab.runs import MAX_RUNS, LabError, bundled, load, resolve, run_full
from viralsim.lab.style import INDEX
from viralsim.scenario import Scenario

__all__ = ["SIDES", "make_app"]


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
                    dcc.Input(
                        id="path", type="text", placeholder="or a scenario file (.toml) or bundled name", debounce=False
                    ),
                    html.Button("Open", id="open"),
                    html.P(_describe(sc), className="desc", id="scenario-desc"),
                    html.P("", className="msg", id="load-msg"),
                ]
            ),
            html.Main(
                [
                    html.Aside(
                        [
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
                                    html.Label("pace", htmlFor="pace"),
                                    dcc.RadioItems(
                                        id="pace", options=list(PACES), value="fastest", inline=True, className="radio"
                                    ),
                                ],
                                className="field pace",
                                title="How long one run takes at least: fastest shows it as fast as it runs; "
                                "5 s or 20 s stretch the hours after the upload so the push can be watched "
                                "(the numbers are the same).",
                            ),
                            html.Div(
                                [
                                    html.Button("Run", id="run", className="primary"),
                                    html.Button("Stop", id="stop", disabled=True, title="Stop the run"),
                                    html.Button("Reset", id="reset", title="Back to the scenario's own values"),
                                ],
                                className="buttons",
                            ),
                            html.Div(id="status"),
                            html.P("", className="msg", id="run-msg"),
                            html.Div([_param_block(p, values[p.path]) for p in PARAMS], className="params"),
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
            dcc.Store(id="job", data=None),  # the running (or last) job of this page
            dcc.Store(id="seen", data=None),  # the job and version the sides show
            dcc.Interval(id="tick", interval=int(POLL_S * 1000), max_intervals=0),  # polls allowed: see running
        ]
    )


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
            typed = (typed or "").strip()
            if not typed:
                return _unchanged("type a scenario file's path (or a bundled name), then Open")
        elif trigger == "reset":
            target = current["path"]
        try:
            if trigger == "open":  # the CLI's rule: an existing path, else a bundled name
                target = str(resolve(typed, folder))
            new = load(Path(target))
        except LabError as err:
            return _unchanged(str(err))
        if target not in {o["value"] for o in options}:
            options = [*options, {"label": target, "value": target}]
        values = values_of(new)
        data = {"path": target, "loads": int(current.get("loads", 0)) + 1}
        return data, options, target, [values[p.path] for p in PARAMS], new.seed, _describe(new), ""

    register(app, Jobs())

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
