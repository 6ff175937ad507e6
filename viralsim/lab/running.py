"""The lab's Run, Stop and the live update: three Dash callbacks around :mod:`viralsim.lab.live`.

:func:`register` adds them to the app. *Start* (Run, or a scenario just
loaded) checks the controls, refuses a bad run in one line before anything
runs, stops the page's previous job and starts a new one in the background;
the page keeps its id (``job``), which starts the poll. *Poll* waits (up to
:data:`WAIT_S`) for news of the job, at most every :data:`POLL_S`, and draws its
latest state into both sides (:func:`sides_of`): the reach so far with a "now"
line, the stages evaluated so far and the numbers so far while a run goes;
the bands and medians of the runs done so far in "compare N runs"; the
finished run's own figures once it ends. Each answer allows the poll's timer
(``tick``, a :class:`dash.dcc.Interval`) one more tick (``max_intervals``) until
the job is over: one request at a time, however slow the machine (a free-running
timer sends the next request before the last one's answer, and Dash drops
the late answers). *Stop* asks the job to stop; what it shows stays, marked stopped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, html

from viralsim.lab.figures import (
    KEY_LABELS,
    funnel_figure,
    key_numbers,
    live_funnel_figure,
    live_numbers,
    live_reach_figure,
    reach_figure,
)
from viralsim.lab.live import PACES, Job, Jobs, start_many, start_pair
from viralsim.lab.params import PARAMS, override
from viralsim.lab.runs import MAX_RUNS, LabError, load, many_plan, sides
from viralsim.scenario import Scenario

__all__ = ["POLL_S", "SIDES", "WAIT_S", "register", "sides_of"]

#: The shortest time between two draws of a running job (seconds).
POLL_S = 0.2
#: The longest a poll waits for news of a job before it answers anyway (seconds).
WAIT_S = 2.0
#: The two sides of the page: (id prefix, heading).
SIDES = (("as_set", "As set"), ("social", "Social graph only"))
#: Per side: mode line, reach figure, stages figure, then the key numbers.
PER_SIDE = 3 + len(KEY_LABELS)


def _waiting(sc: Scenario) -> list[Any]:
    return [f"(push mode = {sc.platform.push.mode})", dash.no_update, dash.no_update, *["…"] * len(KEY_LABELS)]


def _one(job: Job, key: str) -> list[Any]:
    """One side of a one-run job: its result when done, else its progress so far (unchanged before any)."""
    side = job.sides[key]
    sc: Scenario = job.context["scenarios"][key]
    mode = f"(push mode = {sc.platform.push.mode})"
    if side.result is not None:
        return [
            mode,
            reach_figure(side.result),
            funnel_figure(side.result),
            *[t for _, _, t in key_numbers(side.result)],
        ]
    if side.progress is None:
        return _waiting(sc)
    p = side.progress
    return [mode, live_reach_figure(sc, p), live_funnel_figure(sc, p), *live_numbers(sc, p)]


def _many(job: Job, key: str, label: str) -> list[Any]:
    """One side of an N-run job: the bands, stage shares and medians [5 %-95 %] of the runs done so far."""
    from viralsim.lab.bands import band_figure, band_numbers, stage_share_figure

    sc: Scenario = job.context["scenarios"]["as_set"]
    mode = sc.platform.push.mode if key == "as_set" else "social"
    ens = job.ensemble
    if ens is None or not (ens.runs["variant"] == label).any():
        return [f"(push mode = {mode} · 0 of {job.runs} runs)", *_waiting(sc)[1:]]
    done = int((ens.runs["variant"] == label).sum())
    stages = len(sc.platform.push.cohort_sizes()) if mode != "social" else 0
    out: list[Any] = [f"(push mode = {mode} · {done} of {job.runs} runs)"]
    out += [band_figure(ens, label, sc.video.upload_h, sc.horizon_h), stage_share_figure(ens, label, stages)]
    out += [[m, html.Div(f"5 %–95 %: {iv}", className="iv")] if iv else m for m, iv in band_numbers(ens, label)]
    return out


def sides_of(job: Job) -> list[Any]:
    """Both sides' outputs (mode, reach, stages, key numbers) for what ``job`` shows now."""
    if job.runs == 1:
        return _one(job, "as_set") + _one(job, "social")
    return _many(job, "as_set", "base") + _many(job, "social", "social")


def _status(job: Job) -> str:
    ctx = job.context
    many = f", {job.runs} paired runs" if job.runs > 1 else ""
    what = f"{ctx['name']} · seed {ctx['seed']}{many}"
    if job.finished and not job.stopped and job.error is None:
        return f"run {job.id} · {what} · {job.seconds or 0:.2f} s"
    if job.runs > 1:
        where = f"{job.done_runs} of {job.runs} runs done"
    else:
        sc: Scenario = ctx["scenarios"]["as_set"]
        p = job.sides["as_set"].progress
        after = 0.0 if p is None else max(0.0, p.time_h - sc.video.upload_h)
        where = f"{after:.0f} of {sc.horizon_h - sc.video.upload_h:.0f} h"
    if job.error is not None:
        return f"failed {job.id} · {what} · {job.error}"
    if job.stopped:
        return f"stopped {job.id} · {what} · at {where}"
    return f"running {job.id} · {what} · {where}"


def register(app: dash.Dash, jobs: Jobs) -> None:
    """Add the Start, Poll and Stop callbacks to the lab ``app``; ``jobs`` holds its runs."""

    @app.callback(
        Output("job", "data"),
        Output("run-msg", "children"),
        Input("run", "n_clicks"),
        Input("current", "data"),
        State({"type": "param", "path": ALL}, "value"),
        State("seed", "value"),
        State("runs", "value"),
        State("pace", "value"),
        State("job", "data"),
    )
    def start(
        _clicks: Any, current: dict[str, Any], values: list[Any], seed: Any, n_runs: Any, pace: Any, old: Any
    ) -> tuple[Any, ...]:
        try:
            base = load(Path(current["path"]))
        except LabError as err:
            return dash.no_update, str(err)
        if seed is None or int(seed) < 0:
            return dash.no_update, "the seed must be a whole number ≥ 0"
        if n_runs is None or not 1 <= int(n_runs) <= MAX_RUNS:
            return dash.no_update, f"runs: a whole number from 1 to {MAX_RUNS}"
        changes = override(base, dict(zip([p.path for p in PARAMS], values, strict=True)))
        seed, n = int(seed), int(n_runs)
        try:  # refused here, before anything runs: one line, the last numbers stay
            if n == 1:
                as_set, social = sides(base, changes)
                plan = None
            else:
                plan = many_plan(base, changes, seed, n)
                as_set, social = plan.scenario, None
        except (ValueError, MemoryError) as err:
            return dash.no_update, f"cannot run: {err}"
        previous = jobs.get((old or {}).get("id"))
        if previous is not None:
            previous.stop()
        context = {
            "name": base.name,
            "seed": seed,
            "scenarios": {"as_set": as_set, "social": social or as_set},
            "shown": {"path": current["path"], "override": changes, "seed": seed},
        }
        if plan is None:
            job = start_pair(jobs, as_set, social, seed, PACES.get(str(pace), 0.0), context)
        else:
            job = start_many(jobs, plan, context)
        return {"id": job.id}, ""

    outputs = [
        Output("status", "children"),
        Output("shown", "data"),
        Output("tick", "max_intervals"),
        Output("seen", "data"),
        Output("stop", "disabled"),
    ]
    for prefix, _ in SIDES:
        outputs += [Output(f"{prefix}-mode", "children"), Output(f"{prefix}-reach", "figure")]
        outputs += [Output(f"{prefix}-funnel", "figure")]
        outputs += [Output(f"{prefix}-{m}", "children") for m, _ in KEY_LABELS]

    @app.callback(*outputs, Input("tick", "n_intervals"), Input("job", "data"), State("seen", "data"))
    def poll(ticks: Any, ref: Any, seen: Any) -> tuple[Any, ...]:
        running = jobs.get((ref or {}).get("id"))
        if running is None:
            return (dash.no_update,) * len(outputs)
        seen = seen or {}
        if dash.ctx.triggered_id == "tick" and seen.get("id") == running.id:
            time.sleep(max(0.0, POLL_S - (time.time() - float(seen.get("at", 0.0)))))
            running.news(int(seen.get("version", -1)), WAIT_S)
        job = running.view()
        over = job.finished
        shown = job.context["shown"] if over and not job.stopped and job.error is None else dash.no_update
        allow = int(ticks or 0) + (0 if over else 1)  # one more tick while the job goes on
        news = {"id": job.id, "version": job.version, "at": time.time()}
        return (_status(job), shown, allow, news, over, *sides_of(job))

    @app.callback(Output("stop", "title"), Input("stop", "n_clicks"), State("job", "data"), prevent_initial_call=True)
    def stop(_clicks: Any, ref: Any) -> str:
        job = jobs.get((ref or {}).get("id"))
        if job is not None:
            job.stop()
        return "Stop the run (what it shows stays)"
