"""Readable terminal output of a run (rich tables), for the CLI only."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from viralsim.records import Meta, StageRecord, Summary, format_value, metas
from viralsim.records.words import clock, metric_words, source_label, stop_in_words
from viralsim.result import RunResult

__all__ = [
    "metric_label",
    "print_compare",
    "print_ensemble",
    "print_run",
    "print_sweep",
    "progress_bar",
    "stage_totals",
]


def _pct(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f} %"


def _rate(x: float | None, limit: float | None) -> str:
    text = _pct(x, 2)
    if limit is None:
        return text
    ok = x is not None and not math.isnan(x) and x >= limit
    return f"[{'green' if ok else 'red'}]{text}[/]"


def _population(s: Summary, peak_memory_mib: float | None) -> str:
    text = f"{s['population']:,} users, {s['representation']} ({s['users_materialised']:,} in memory)"
    if peak_memory_mib is not None:
        text += f" · peak memory {peak_memory_mib:,.0f} MiB"
    return text


def _run_name(result: RunResult) -> str:
    """``scenario [display name]`` for a variant or a labelled base; the scenario's name alone otherwise."""
    named = result.variant is not None or result.scenario.base_label is not None
    return result.scenario.name + (f" [{result.label}]" if named else "")


def _by_source(views: dict[str, int]) -> str:
    """``For You 696,754 · Following 52 · shares 66``: views by source, in words."""
    return " · ".join(f"{source_label(k, short=True)} {v:,}" for k, v in views.items())


def print_run(result: RunResult, console: Console | None = None, *, peak_memory_mib: float | None = None) -> None:
    """Print the summary and the stage-by-stage push of ``result`` (and the process's peak memory)."""
    con = console or Console()
    if not con.is_terminal and con.width < 130:  # piped: wide enough for the stage table's columns
        con = Console(width=130)
    if result.agents is not None and result.scenario.marketplace is not None:
        _print_marketplace(result, con, peak_memory_mib)
        return
    s = result.summary
    name = escape(_run_name(result))
    top = Table(title=f"{name} — seed {result.seed}", show_header=False, box=None, pad_edge=False)
    top.add_column(style="bold")
    top.add_column()
    src = s["views_by_source"]
    rows = [
        ("views", f"{s['views']:,}  (unique viewers {s['unique_viewers']:,} of {s['population']:,})"),
        ("population", _population(s, peak_memory_mib)),
        ("by source", _by_source(src)),
        ("algorithmic share", _pct(s["algorithmic_share"], 2)),
        ("likes / comments", f"{s['likes']:,} / {s['comments']:,}"),
        ("shares", f"{s['shares']:,}  (share-to-view {_pct(s['share_to_view'], 4)})"),
        ("follows", f"{s['follows']:,}"),
        ("stages reached", f"{s['stages_reached']} (passed {s['stages_passed']})"),
        ("stop reason", stop_in_words(s["stop_reason"], s["stages_reached"] or None)),
        ("structural virality", f"{s['structural_virality']:.3f}  (cascade depth {s['cascade_depth']})"),
    ]
    m = result.moderation
    if m.get("decision") == "pending":
        rows.append(("moderation", f"{m.get('path')} → still pending at the horizon"))
    else:
        rows.append(
            ("moderation", f"{m.get('path')} → {m.get('decision')}, delay {m.get('delay_h', 0.0) * 60:.1f} min")
        )
    if "stage_review_decision" in m:
        rows.append(("stage review", f"after stage {m['stage_review_after']} → {m['stage_review_decision']}"))
    rows.append(("recognised topic", str(s.get("recognised_topic"))))
    rows += _time_rows(result)
    for k, v in rows:
        top.add_row(k, v)
    con.print(top)
    if not result.stages:
        return
    th = result.scenario.platform.push
    kpis = [
        k
        for k in ("completion", "watch_fraction", "like", "comment", "share", "follow", "profile_click")
        if any(getattr(th.thresholds_for(r["stage"]), k) is not None for r in result.stages)
    ] or ["completion"]
    st = Table(
        title="the staged push (eval h: hours after the upload; KPIs per view at each stage's evaluation)",
        header_style="bold",
    )
    up = result.scenario.video.upload_h
    names = metas(StageRecord)
    head = [names[k].label for k in ("stage", "cohort_size", "delivered", "cohort_interest")]
    head += ["eval h", "clock", "views at eval", *(names[k].label for k in kpis)]
    for col in (*head, names["score"].label, "decision"):
        st.add_column(col, justify="right", no_wrap=True)
    for r in result.stages:
        verdict = "[green]pass[/]" if r["passed"] else "[red]stop[/]"
        if r.get("stopped_mid_stage"):
            verdict += " mid-stage"
        cells = [_rate(r[k], r[f"threshold_{k}"]) for k in kpis]
        st.add_row(
            str(r["stage"]),
            f"{r['cohort_size']:,}",
            f"{r['delivered']:,}",
            f"{r.get('cohort_interest', 0.0):.3f}",
            f"{r['evaluated_h']:.1f}",
            clock(up + r["evaluated_h"], short=True),
            f"{r['views_evaluated']:,}",
            *cells,
            f"{r['score']:.2f}",
            verdict,
        )
    total = stage_totals(result.stages)
    st.add_section()
    st.add_row(
        "total",
        f"{total['cohort_size']:,}",
        f"{total['delivered']:,}",
        *[""] * 3,
        f"{total['views_evaluated']:,}",
        *[""] * (len(kpis) + 2),
        style="bold",
    )
    con.print(st)
    con.print(
        f"views at evaluation: a stage's views when its KPIs were judged; the video's views in all "
        f"({s['views']:,}) also count those that came later and from followers and shares"
    )
    limits = ", ".join(f"{k} ≥ {_pct(getattr(th.thresholds, k), 2)}" for k in kpis if getattr(th.thresholds, k))
    if limits:
        con.print(f"thresholds: {limits} (green: met, red: missed)")
    con.print(
        "interest: the cohort's mean interest in the recognised topic (0-1): how deep into the ranking the stage went"
    )


def stage_totals(stages: Any) -> dict[str, int]:
    """The stage table's total row: cohorts, deliveries and views at evaluation summed over the stages."""
    return {k: int(sum(r[k] for r in stages)) for k in ("cohort_size", "delivered", "views_evaluated")}


def _time_rows(result: RunResult) -> list[tuple[str, str]]:
    """The upload's clock time, and when the push stopped and views peaked in hours after it (clock beside)."""
    s, up = result.summary, result.scenario.video.upload_h
    rows = [("upload", f"{clock(up, short=True)} (the times below count hours after it)")]
    if s["stop_h"] is not None and s["stop_reason"] not in (None, "horizon"):
        rows.append(("push stopped", f"{s['stop_h']:.1f} h after upload ({clock(up + s['stop_h'], short=True)})"))
    if s["peak_rate_h"] is not None:
        at = s["peak_rate_h"]
        rows.append(
            (
                "peak hour",
                f"{at:.0f}–{at + 1:.0f} h after upload ({clock(up + at, short=True)}): "
                f"{s['peak_rate_views_per_h']:,} views",
            )
        )
    return rows


# --- ensembles, comparisons, sweeps ---


def metric_label(metric: str) -> str:
    """How a table names a per-run metric: the :class:`~viralsim.records.Summary` field's label."""
    meta = metas(Summary).get(metric)
    if meta is not None:
        return meta.label
    return metric_words(metric) or metric.replace("_", " ")


def _plan_label(metric: str, plan: Any) -> str:
    """:func:`metric_label`, with the currency of a cost (``creator.fee_currency``) where the scenario names one."""
    meta = metas(Summary).get(metric)
    currency = plan.scenario.creator.fee_currency
    if meta is not None and meta.unit == "currency" and currency:
        return f"{meta.label} ({currency})"
    return metric_label(metric)


def _fmt(metric: str, x: float) -> str:
    """A metric's value as a table shows it: the Summary field's format (counts and others by name)."""
    meta = metas(Summary).get(metric)
    if meta is None:  # views by source, moderation delays, ...
        meta = Meta(metric, "", fmt=",.0f" if metric.startswith("views") else ",.4g")
    return format_value(meta, x)


def _interval(metric: str, row: Any) -> str:
    if all(math.isnan(row[f"{metric}_{q}"]) for q in ("median", "q05", "q95")):
        return "–"
    return f"{_fmt(metric, row[f'{metric}_median'])}  [{_fmt(metric, row[f'{metric}_q05'])} – {_fmt(metric, row[f'{metric}_q95'])}]"


def print_ensemble(result: Any, metrics: list[str], console: Console | None = None) -> None:
    """Median and 90 % interval of each metric over the runs of a one-variant ensemble."""
    con = console or Console()
    plan = result.plan
    table = result.table(metrics)
    row = table.iloc[0]
    named = plan.variants[0] != "base" or plan.scenario.base_label is not None
    label = plan.scenario.name + (f" [{plan.label(plan.variants[0])}]" if named else "")
    t = Table(title=escape(f"{label} — {plan.runs} runs, seed {plan.seed}: median [5 % – 95 %]"), header_style="bold")
    t.add_column("metric", style="bold")
    t.add_column("median [90 % interval]", justify="right")
    for m in metrics:
        t.add_row(escape(_plan_label(m, plan)), _interval(m, row))
    con.print(t)
    con.print(escape(stop_reasons_line(result.runs)))


def stop_reasons_line(runs: Any) -> str:
    """``why the push stopped: the completion rate fell below its threshold ×180, ...``: each run's reason, in words.

    Reasons are counted by their code (``--json`` and the saved tables keep the codes); runs
    without a reason (no push) count as ``–``.
    """
    reasons = runs["stop_reason"].value_counts(dropna=False)
    words = (f"{stop_in_words(None if not isinstance(k, str) else k)} ×{v}" for k, v in reasons.items())
    return "why the push stopped: " + "; ".join(words)


def print_compare(result: Any, metrics: list[str], console: Console | None = None) -> None:
    """Variants side by side (median [90 %]) and their paired differences from the base."""
    con = console or Console()
    if not con.is_terminal and con.width < 120:
        con = Console(width=160)
    plan = result.plan
    table = result.table(metrics)
    t = Table(
        title=f"{plan.scenario.name} — {plan.runs} paired runs per variant, seed {plan.seed}: median [5 % – 95 %]",
        header_style="bold",
    )
    t.add_column("metric", style="bold")
    for label in table["variant"]:
        t.add_column(escape(plan.label(str(label))), justify="right")
    for m in metrics:
        t.add_row(escape(_plan_label(m, plan)), *(_interval(m, r) for _, r in table.iterrows()))
    con.print(t)
    for label in plan.variants:
        runs = result.runs[result.runs["variant"] == label]
        line = stop_reasons_line(runs).replace("why the push stopped", f"why the push stopped ({plan.label(label)})")
        con.print(escape(line))
    diff = result.differences(metrics)
    if len(diff):
        d = Table(title="paired difference: variant − base on the same seeds, median [5 % – 95 %]", header_style="bold")
        d.add_column("metric", style="bold")
        for label in diff["variant"]:
            d.add_column(escape(f"{plan.label(str(label))} − {plan.label('base')}"), justify="right")
        for m in metrics:
            d.add_row(escape(_plan_label(m, plan)), *(_interval(m, r) for _, r in diff.iterrows()))
        con.print(d)


def print_sweep(result: Any, metric: str, console: Console | None = None) -> None:
    """One row per grid point: the swept values and the metric's median [90 %]."""
    con = console or Console()
    plan = result.plan
    table = result.table([metric])
    t = Table(title=f"{plan.scenario.name} — sweep, {plan.runs} runs per point, seed {plan.seed}", header_style="bold")
    for p in plan.params:
        t.add_column(p, justify="right")
    t.add_column(f"{metric_label(metric)}: median [5 % – 95 %]", justify="right")
    for _, r in table.iterrows():
        t.add_row(*(f"{r[p]:.4g}" if isinstance(r[p], float) else str(r[p]) for p in plan.params), _interval(metric, r))
    con.print(t)


class _Rate(ProgressColumn):
    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} runs/s" if speed else "– runs/s")


def progress_bar(description: str, enabled: bool) -> Any:
    """A context manager yielding ``update(done, total)``; a rich bar on stderr when enabled."""
    from contextlib import contextmanager

    @contextmanager
    def bar() -> Any:
        if not enabled:
            yield lambda done, total: None
            return
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _Rate(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        task = progress.add_task(description, total=None)
        first = True

        def update(done: int, total: int) -> None:
            nonlocal first
            if first:  # runs resumed from an earlier, interrupted call must not count in the rate
                progress.reset(task, completed=done, total=total)
                first = False
            else:
                progress.update(task, completed=done, total=total)

        with progress:
            yield update

    return bar()


# --- the agent engine's marketplace ---


def _print_marketplace(result: RunResult, con: Console, peak_memory_mib: float | None) -> None:
    """Many videos: the platform-wide numbers, the top videos and the stage funnel (not 1 000 stage rows)."""
    import numpy as np

    from viralsim.analysis.marketplace import run_metrics
    from viralsim.records import SESSION_END

    s, log = result.summary, result.agents
    assert log is not None
    m = run_metrics(result)
    vid, ses = log.videos, log.sessions
    ended = np.bincount(np.asarray(ses["ended"], dtype=np.int64), minlength=len(SESSION_END))
    labels = {"feed_empty": "nothing new"}
    ends = ", ".join(
        f"{labels.get(why, why)} {100 * k / max(len(ses['user']), 1):.0f} %"
        for why, k in zip(SESSION_END, ended, strict=True)
    )
    src = s["views_by_source"]
    name = escape(_run_name(result))
    top = Table(title=f"{name} — seed {result.seed} — {log.mode} platform", show_header=False, box=None)
    top.add_column(style="bold")
    top.add_column()
    rows = [
        ("views", f"{s['views']:,}  (unique viewers {s['unique_viewers']:,} of {s['population']:,})"),
        ("population", _population(s, peak_memory_mib)),
        ("by source", f"For You {src['for_you']:,} · Following {src['following']:,} · shares {src['share']:,}"),
        (
            "videos",
            f"{len(vid['video']):,} from {len(np.unique(vid['creator'])):,} creators;"
            f" {int(np.count_nonzero(vid['views'] == 0)):,} never watched",
        ),
        ("sessions", f"{m['sessions']:,}, {m['views_per_session']:.2f} views each"),
        ("sessions ended", ends),
        (
            "views per video",
            f"Gini {m['gini']:.3f}; top 1 % of videos get {100 * m['top1_share']:.1f} %,"
            f" top 10 % get {100 * m['top10_share']:.1f} %",
        ),
        (
            "what predicts views",
            f"Spearman ρ with appeal {m['rho_appeal']:+.2f}, with creator followers {m['rho_followers']:+.2f}",
        ),
        ("feeds narrow", f"mean interest entropy {m['entropy_change']:+.3f} nats over the run"),
    ]
    for k, v in rows:
        top.add_row(k, v)
    con.print(top)
    best = np.argsort(-vid["views"], kind="stable")[:10]
    t = Table(title="the ten most viewed videos", header_style="bold")
    for col in ("video", "topic", "creator followers", "appeal", "views", "For You", "Following", "shares", "stages"):
        t.add_column(col, justify="right")
    for i in best.tolist():
        t.add_row(
            str(vid["video"][i]),
            log.topics[int(vid["topic"][i])],
            f"{int(vid['creator_followers'][i]):,}",
            f"{float(vid['appeal'][i]):.2f}",
            f"{int(vid['views'][i]):,}",
            f"{int(vid['views_for_you'][i]):,}",
            f"{int(vid['views_following'][i]):,}",
            f"{int(vid['views_share'][i]):,}",
            str(int(vid["stages_reached"][i])),
        )
    con.print(t)
    if result.stages:
        stages = np.asarray(vid["stages_reached"], dtype=np.int64)
        funnel = ", ".join(f"{k}: {int(np.count_nonzero(stages >= k)):,}" for k in range(1, int(stages.max()) + 1))
        con.print(f"videos reaching each push stage — {funnel} (of {len(stages):,})")
