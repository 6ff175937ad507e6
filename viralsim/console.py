"""Readable terminal output of a run (rich tables), for the CLI only."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

from viralsim.result import RunResult

__all__ = ["print_run"]


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


def print_run(result: RunResult, console: Console | None = None) -> None:
    """Print the summary and the stage-by-stage push of ``result``."""
    con = console or Console()
    if not con.is_terminal and con.width < 110:
        con = Console(width=110)
    s: dict[str, Any] = result.summary
    name = result.scenario.name + (f" [{result.variant}]" if result.variant else "")
    top = Table(title=f"{name} — seed {result.seed}", show_header=False, box=None, pad_edge=False)
    top.add_column(style="bold")
    top.add_column()
    src = s["views_by_source"]
    rows = [
        ("views", f"{s['views']:,}  (unique viewers {s['unique_viewers']:,} of {s['population']:,})"),
        ("by source", f"For You {src['for_you']:,} · Following {src['following']:,} · shares {src['share']:,}"),
        ("algorithmic share", _pct(s["algorithmic_share"], 2)),
        ("likes / comments", f"{s['likes']:,} / {s['comments']:,}"),
        ("shares", f"{s['shares']:,}  (share-to-view {_pct(s['share_to_view'], 4)})"),
        ("follows", f"{s['follows']:,}"),
        ("stages reached", f"{s['stages_reached']} (passed {s['stages_passed']})"),
        ("stop reason", str(s["stop_reason"])),
        ("structural virality", f"{s['structural_virality']:.3f}  (cascade depth {s['cascade_depth']})"),
    ]
    m = result.moderation
    if m.get("decision") == "pending":
        rows.append(("moderation", f"{m.get('path')} → still pending at the horizon"))
    else:
        rows.append(("moderation", f"{m.get('path')} → {m.get('decision')}, delay {m.get('delay_h', 0.0) * 60:.1f} min"))
    if "stage_review_decision" in m:
        rows.append(("stage review", f"after stage {m['stage_review_after']} → {m['stage_review_decision']}"))
    rows.append(("recognised topic", str(s.get("recognised_topic"))))
    for k, v in rows:
        top.add_row(k, v)
    con.print(top)
    if not result.stages:
        return
    th = result.scenario.platform.push
    kpis = [k for k in ("completion", "watch_fraction", "like", "comment", "share", "follow", "profile_click")
            if any(getattr(th.thresholds_for(r["stage"]), k) is not None for r in result.stages)] or ["completion"]  # fmt: skip
    st = Table(title="the staged push (KPIs per view at each stage's evaluation)", header_style="bold")
    for col in ("stage", "cohort", "delivered", "eval h", "views", *kpis, "score", "decision"):
        st.add_column(col.replace("_", " "), justify="right")
    for r in result.stages:
        verdict = "[green]pass[/]" if r["passed"] else "[red]stop[/]"
        if r.get("stopped_mid_stage"):
            verdict += " mid-stage"
        cells = [_rate(r[k], r[f"threshold_{k}"]) for k in kpis]
        st.add_row(
            str(r["stage"]), f"{r['cohort_size']:,}", f"{r['delivered']:,}", f"{r['evaluated_h']:.1f}",
            f"{r['views_evaluated']:,}", *cells, f"{r['score']:.2f}", verdict,
        )  # fmt: skip
    con.print(st)
    limits = ", ".join(f"{k} ≥ {_pct(getattr(th.thresholds, k), 2)}" for k in kpis if getattr(th.thresholds, k))
    if limits:
        con.print(f"thresholds: {limits} (green: met, red: missed)")
