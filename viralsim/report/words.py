"""The scenario and its outcomes in plain sentences, for the HTML report.

Everything here turns scenario fields and summary metrics into text a teacher
can read out: no figures, no file IO. Numbers are formatted for people
(``2,400,000 users``, ``0.0053 %``, ``Monday 18:00``). The words of a run's codes
(stop reasons, sources, KPIs) are :mod:`viralsim.records.words`, shared with the
terminal; ``kpi_label`` and ``stop_in_words`` are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from viralsim.records.words import clock, kpi_label, stop_in_words
from viralsim.records.words import list_in_words as _list
from viralsim.scenario import KPI_NAMES, Scenario, Thresholds

__all__ = ["clock", "fmt_count", "fmt_pct", "kpi_label", "scenario_in_words", "stop_in_words", "variant_in_words"]


#: What each KPI means, as the sentences use it.
KPI_WORDS = {
    "completion": "be watched to the end",
    "like": "be liked",
    "comment": "get a comment",
    "share": "be shared",
    "follow": "make the viewer follow the creator",
    "profile_click": "make the viewer open the creator's profile",
}

MODE_WORDS = {
    "content": "the platform's push and the Following feed only (shares are not delivered)",
    "social": "no algorithmic push: the Following feed and shares only",
    "hybrid": "the platform's push, the Following feed and shares",
}


def fmt_count(x: float | None) -> str:
    """A count for people: ``697,167``; a fractional median keeps one decimal."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.1f}"


def fmt_pct(fraction: float | None, *, trim: bool = False) -> str:
    """A fraction as a percentage: ``99.99 %``, ``0.0053 %`` (two significant digits below 1 %).

    ``trim=True`` drops trailing zeros (``95 %`` rather than ``95.00 %``), for sentences.
    """
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "–"
    p = 100 * fraction
    text = f"{p:.2f}" if p >= 1 or p == 0 else f"{p:.2g}"
    if trim and "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}\u00a0%"  # a no-break space: a line never starts with "%"


def _tastes(concentration: float) -> str:
    if concentration < 0.5:
        return "most of them care about one or two topics"
    if concentration <= 2:
        return "most of them have a few favourite topics"
    return "most of them like every topic about as much"


def _appeal(appeal: float, topic: str) -> str:
    if appeal >= 0.85:
        return f"an excellent video: people who like {topic} love it"
    if appeal >= 0.7:
        return f"a good video: people who like {topic} enjoy it"
    if appeal >= 0.5:
        return "an average video"
    return "a weak video: even fans of its topic are lukewarm"


def _threshold_clauses(th: Thresholds) -> list[str]:
    out = []
    for k in KPI_NAMES:
        v = getattr(th, k)
        if v is None:
            continue
        if k == "watch_fraction":
            out.append(f"be watched on average for at least {fmt_pct(v, trim=True)} of its length")
        else:
            out.append(f"at least {fmt_pct(v, trim=True)} of views must {KPI_WORDS[k]}")
    if th.score is not None:
        out.append(f"the composite score must reach {th.score:g}")
    return out


def _gate(th: Thresholds) -> str:
    clauses = _threshold_clauses(th)
    if not clauses:
        return "no KPI is checked, so every stage passes"
    return "to go on, " + _list(clauses)


def _push_sentences(sc: Scenario) -> list[str]:
    push = sc.platform.push
    topic = sc.video.main_topic()
    if push.mode == "social":
        return [
            "There is no algorithmic push in this scenario: nobody is shown the video unless they "
            "follow the creator or someone shares it with them."
        ]
    sizes = push.cohort_sizes()
    ladder = f"then, if they react well, to {_list([f'{s:,}' for s in sizes[1:]])} users" if len(sizes) > 1 else ""
    out = [
        f"The platform then pushes it in stages (the “traffic pool”): first to the {sizes[0]:,} users most "
        f"interested in {topic}" + (f", {ladder}" if ladder else "") + ". Each wider cohort reaches further down "
        "the interest ranking, so the audience likes the topic less and less.",
        f"A stage is judged once {fmt_pct(push.evaluate_after_fraction, trim=True)} of its cohort has watched, or "
        f"{push.eval_window_h:g} hours after its last delivery: {_gate(push.thresholds)}. "
        "If a stage misses a threshold, the push stops.",
    ]
    if push.stage_thresholds:
        out.append(f"The first {len(push.stage_thresholds)} stages have thresholds of their own.")
    if push.human_review_after_stage is not None:
        out.append(
            f"After stage {push.human_review_after_stage} a human moderator must approve the video "
            "before the push goes on."
        )
    if push.watch_probability < 1:
        out.append(
            f"Feeds are crowded: only {fmt_pct(push.watch_probability, trim=True)} of the people a video is "
            "delivered to actually watch it."
        )
    return out


def scenario_in_words(sc: Scenario) -> list[str]:
    """Plain sentences describing ``sc``, one paragraph per string (no markup).

    Parameters
    ----------
    sc : Scenario
        The base scenario of the report (its variants are described by
        :func:`variant_in_words`).

    Returns
    -------
    list of str
        Paragraphs: the world, the creator and the video, the platform's steps,
        the social channels and the time followed.
    """
    pop, video, plat = sc.population, sc.video, sc.platform
    mix = video.mix()
    topic = video.main_topic()
    if len(mix) > 1:
        about = _list([f"{t} ({fmt_pct(w, trim=True)})" for t, w in sorted(mix.items(), key=lambda kv: -kv[1])])
    else:
        about = topic
    world = (
        f"The simulated platform has {pop.users:,} users and {len(pop.topics)} topics "
        f"({_list(list(pop.topics))}); {_tastes(pop.interest_concentration)}."
    )
    followers = sc.creator.followers
    account = f"{followers:,} follower" + ("" if followers == 1 else "s")
    video_text = (
        f"A creator with {account} uploads a {video.duration_s:g}-second video about {about} on "
        f"{clock(video.upload_h)} (UTC). Its appeal is {video.appeal:g} on a scale from 0 to 1 — "
        f"{_appeal(video.appeal, topic)}."
    )
    if video.originality < 1:
        video_text += f" It is not quite new (originality {video.originality:g}): some viewers have seen it before."
    if video.trend_boost > 0:
        video_text += f" It rides a trend: +{fmt_pct(video.trend_boost, trim=True)} engagement."
    if video.violation:
        video_text += " It breaks the platform's rules."
    mod = plat.moderation
    steps = (
        f"First a classifier checks the upload: when it is sure, the video is approved (score below "
        f"{mod.auto_approve_below:g}) or removed (above {mod.auto_remove_above:g}); otherwise it waits for one "
        f"of {mod.moderators} human moderator{'s' if mod.moderators != 1 else ''}. Then the platform "
        f"recognises the topic, correctly {fmt_pct(plat.recognition.accuracy, trim=True)} of the time; a wrong guess "
        "shows the video to the wrong audience."
    )
    social = [
        f"The creator's {account} see the video in their Following feed (each watches it with "
        f"probability {fmt_pct(plat.following.watch_probability, trim=True)})."
    ]
    if plat.push.mode != "content":
        rec = plat.sharing.recipients_per_share
        to = "all their contacts" if rec == "all" else f"{rec} contact{'s' if rec != 1 else ''}"
        social.append(
            f"A viewer who shares it sends it to {to}, each of whom opens it with probability "
            f"{fmt_pct(plat.sharing.open_probability, trim=True)}. Sharing is rare: a base probability of "
            f"{fmt_pct(sc.behaviour.p_share, trim=True)} per view, higher for viewers who love the video."
        )
    else:
        social.append("Shares are counted but not delivered: this scenario isolates the content graph.")
    days = sc.horizon_h / 24
    span = f"{sc.horizon_h:g} hours" + (f" ({days:g} days)" if days >= 1 and float(days).is_integer() else "")
    paragraphs = [
        world,
        video_text,
        steps,
        " ".join(_push_sentences(sc)),
        " ".join(social),
        f"The simulation follows the video for {span} after t = 0 (Monday 00:00 UTC).",
    ]
    return paragraphs


def _flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v and not key.endswith(("thresholds", "sessions_per_day", "review_time_min")):
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, v))
    return out


def variant_in_words(sc: Scenario, name: str) -> str:
    """One sentence on what variant ``name`` of ``sc`` changes (its overrides, in words where known)."""
    parts = []
    for key, value in _flatten(sc.override(name)):
        if key == "platform.push.mode" and value in MODE_WORDS:
            parts.append(f"{MODE_WORDS[value]} (platform.push.mode = {value!r})")
        elif isinstance(value, Mapping):
            inner = ", ".join(f"{k} = {v!r}" for k, v in value.items())
            parts.append(f"{key} = {{{inner}}}")
        else:
            parts.append(f"{key} = {value!r}")
    return "; ".join(parts) if parts else "the same as the base scenario"
