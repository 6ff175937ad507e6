"""Checks that span several fields of a schema-valid scenario, one small function per table.

Each function returns ``(location, message)`` pairs, the location a tuple of keys
(``("platform", "push", "cohorts")``) so that the io layer can point at the exact
TOML line. :func:`scenario_problems` runs them all in the order problems are
reported. :func:`written_problems` looks at the tables as written (before defaults
fill them in), for fields that exclude each other. What an engine can run (its
limits, its memory, the fields it does not support) is the engine's own check,
not this module's: see :mod:`viralsim.engines.checks`, which adds it. No memory
model, no IO.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viralsim.scenario.push import Push
from viralsim.scenario.root import LABEL_KEY, MAX_LABEL, Scenario

__all__ = [
    "FOLLOWERS_WARNING_SHARE",
    "Location",
    "Problem",
    "behaviour_problems",
    "creator_problems",
    "cross_post_problems",
    "followers_warning",
    "marketplace_problems",
    "moderation_problems",
    "population_problems",
    "push_problems",
    "recognition_problems",
    "scenario_problems",
    "social_graph_problems",
    "variant_label_problems",
    "video_problems",
    "written_problems",
]

Location = tuple[str | int, ...]
Problem = tuple[Location, str]

#: From this share of the population, the creator's followers draw a warning (:func:`followers_warning`).
FOLLOWERS_WARNING_SHARE = 0.05


def video_problems(sc: Scenario) -> list[Problem]:
    """The video's topic (or topic mix) is set once, is one of the population's topics, and it goes up in time."""
    out: list[Problem] = []
    topics, video = set(sc.population.topics), sc.video
    if video.upload_h >= sc.horizon_h:
        late = f"must be before horizon_h ({sc.horizon_h:g}): the video would go up after the run ends"
        out.append((("video", "upload_h"), f"{late}, got {video.upload_h:g}"))
    if video.topic is None and video.topic_mix is None:
        out.append((("video", "topic"), "set video.topic or video.topic_mix"))
    if video.topic is not None and video.topic_mix is not None:
        out.append((("video", "topic_mix"), "set only one of video.topic and video.topic_mix"))
    if video.topic is not None and video.topic not in topics:
        out.append((("video", "topic"), f"{video.topic!r} is not one of population.topics"))
    if video.topic_mix is not None:
        for t in video.topic_mix:
            if t not in topics:
                out.append((("video", "topic_mix", t), f"{t!r} is not one of population.topics"))
        if sum(video.topic_mix.values()) <= 0:
            out.append((("video", "topic_mix"), "weights must not all be zero"))
    return out


def population_problems(sc: Scenario) -> list[Problem]:
    """One time-zone weight per offset, not all zero."""
    pop = sc.population
    if pop.timezone_weights is None:
        return []
    if len(pop.timezone_weights) != len(pop.timezone_offsets_h):
        got = f"needs {len(pop.timezone_offsets_h)} weights (one per offset), got {len(pop.timezone_weights)}"
        return [(("population", "timezone_weights"), got)]
    if sum(pop.timezone_weights) <= 0:
        return [(("population", "timezone_weights"), "weights must not all be zero")]
    return []


def push_problems(sc: Scenario) -> list[Problem]:
    """The cohorts fit the population; per-stage thresholds and the human review name existing stages."""
    out: list[Problem] = []
    pop, push = sc.population, sc.platform.push
    sizes = push.cohort_sizes()
    where = ("platform", "push", "cohorts" if push.cohorts is not None else "first_cohort")
    if sizes[0] > pop.users:
        out.append((where, f"first cohort ({sizes[0]}) is larger than population.users ({pop.users})"))
    if push.stage_thresholds is not None and len(push.stage_thresholds) > len(sizes):
        n = len(push.stage_thresholds)
        out.append((("platform", "push", "stage_thresholds"), f"{n} entries but only {len(sizes)} stages"))
    if push.human_review_after_stage is not None and push.human_review_after_stage > len(sizes):
        stage = push.human_review_after_stage
        out.append(
            (("platform", "push", "human_review_after_stage"), f"stage {stage} does not exist ({len(sizes)} stages)")
        )
    return out


def moderation_problems(sc: Scenario) -> list[Problem]:
    """The auto-approve threshold is not above the auto-remove threshold."""
    mod = sc.platform.moderation
    if mod.auto_approve_below > mod.auto_remove_above:
        got = f"must not exceed auto_remove_above ({mod.auto_remove_above}), got {mod.auto_approve_below}"
        return [(("platform", "moderation", "auto_approve_below"), got)]
    return []


def recognition_problems(sc: Scenario) -> list[Problem]:
    """Confusion rows name population topics and each sums to 1."""
    out: list[Problem] = []
    conf = sc.platform.recognition.confusion
    if conf is None:
        return out
    topics = set(sc.population.topics)
    at = ("platform", "recognition", "confusion")
    for true_topic, row in conf.items():
        if true_topic not in topics:
            out.append(((*at, true_topic), f"{true_topic!r} is not a topic"))
        for t in row:
            if t not in topics:
                out.append(((*at, true_topic, t), f"{t!r} is not a topic"))
        if row and abs(sum(row.values()) - 1.0) > 1e-6:
            out.append(((*at, true_topic), f"probabilities must sum to 1, got {sum(row.values()):.6g}"))
    return out


def creator_problems(sc: Scenario) -> list[Problem]:
    """The creator's node id is one of the population's."""
    users, user = sc.population.users, sc.creator.user
    if user is not None and user >= users:
        return [(("creator", "user"), f"must be < population.users ({users}), got {user}")]
    return []


def social_graph_problems(sc: Scenario) -> list[Problem]:
    """The graph can be built for the population, and the creator's followers fit in it."""
    out: list[Problem] = []
    users, graph = sc.population.users, sc.social_graph
    if graph.kind == "barabasi_albert" and users < 2:
        out.append((("population", "users"), "barabasi_albert needs at least 2 users"))
    if graph.kind == "edge_list":
        if graph.path is None:
            out.append((("social_graph", "path"), "edge_list needs a path"))
        if sc.creator.user is None:
            out.append((("creator", "user"), "edge_list needs the creator's node id"))
    elif sc.creator.followers >= users:
        out.append((("creator", "followers"), f"must be < population.users ({users})"))
    return out


def behaviour_problems(sc: Scenario) -> list[Problem]:
    """The watch-fraction range is not empty."""
    b = sc.behaviour
    if b.watch_fraction_min > b.watch_fraction_max:
        return [(("behaviour", "watch_fraction_min"), "must not exceed behaviour.watch_fraction_max")]
    return []


def cross_post_problems(sc: Scenario) -> list[Problem]:
    """The cross-post comes before the horizon, and the second platform's own tables are consistent."""
    out: list[Problem] = []
    cp = sc.cross_post
    if cp is None:
        return out
    at = sc.video.upload_h + cp.after_h
    if at >= sc.horizon_h:
        out.append(
            (
                ("cross_post", "after_h"),
                f"the cross-post (upload_h + after_h = {at:g} h) must come before horizon_h ({sc.horizon_h:g})",
            )
        )
    try:
        second = sc.second_platform()
    except ValueError:  # upload_h + after_h overflows to inf: reported above
        second = None
    for loc, msg in scenario_problems(second) if second is not None else []:
        if loc[0] == "platform":
            out.append((("cross_post", *loc), msg))
        elif loc == ("creator", "followers"):
            out.append((("cross_post", "followers"), msg))
    return out


def marketplace_problems(sc: Scenario) -> list[Problem]:
    """Fewer creators than users, topics of the population, at least one upload within the horizon.

    Not part of :func:`scenario_problems`: the marketplace is read by the agent engine
    only, which applies this check (another engine refuses the table).
    """
    out: list[Problem] = []
    m, n = sc.marketplace, sc.population.users
    if m is None:
        return out
    if m.creators >= n:
        out.append((("marketplace", "creators"), f"must be < population.users ({n}), got {m.creators}"))
    if m.topic_mix is not None:
        topics = set(sc.population.topics)
        for t in m.topic_mix:
            if t not in topics:
                out.append((("marketplace", "topic_mix", t), f"{t!r} is not one of population.topics"))
        if sum(m.topic_mix.values()) <= 0:
            out.append((("marketplace", "topic_mix"), "weights must not all be zero"))
    if m.videos(sc.horizon_h) < 1:
        out.append((("marketplace", "uploads_per_day"), f"no video is uploaded within horizon_h ({sc.horizon_h:g})"))
    return out


#: Fields of ``platform.push`` unused when ``cohorts`` lists the cohorts.
_GROWTH_RULE = ("first_cohort", "growth", "max_stages")


def written_problems(data: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> list[Problem]:
    """Fields written together that exclude each other or do nothing, in the tables as written (no defaults).

    ``data`` is a scenario's tables as read from its file; for a variant, ``data`` is its
    override and ``base`` the scenario's own tables: a conflict is then reported only if
    the variant writes one of its fields (the base's own is reported for the base).
    """
    out: list[Problem] = []
    push = _table(data, "platform", "push")
    merged = {**_table(base or {}, "platform", "push"), **push}
    if "cohorts" in merged:
        for key in _GROWTH_RULE:
            if key in merged and (key in push or "cohorts" in push):
                where = ("platform", "push", key if key in push else "cohorts")
                why = f"cohorts lists every stage's size, so {key} would be ignored"
                out.append((where, f"set only one of platform.push.cohorts and platform.push.{key} ({why})"))
    # a cap other than the default, written while nothing is graded, would silently do nothing (a variant may
    # turn graded off under the base's cap; the default written out, as `viralsim new` does, is harmless)
    cap_default = Push.model_fields["graded_cap"].default
    if push.get("graded_cap", cap_default) != cap_default and not merged.get("graded"):
        where = ("platform", "push", "graded_cap")
        out.append((where, "graded_cap has no effect while platform.push.graded is 0 (set graded > 0 to grade)"))
    return out


def _table(data: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    for part in path:
        data = data.get(part) if isinstance(data, Mapping) else None  # type: ignore[assignment]
    return data if isinstance(data, Mapping) else {}


def variant_label_problems(sc: Scenario) -> list[Problem]:
    """Display names (a variant's ``label``, ``base_label``): text of 1-40 characters on one line, all different.

    Two variants shown under one name could not be told apart in a table or a legend.
    """
    out: list[Problem] = []
    seen: dict[str, Location] = {}
    if sc.base_label is not None:
        if not sc.base_label.isprintable():
            out.append((("base_label",), f"must be one line of printable text, got {sc.base_label!r}"))
        seen[sc.base_label] = ("base_label",)
    for name, table in sc.variants.items():
        where: Location = ("variants", name, LABEL_KEY)
        label = table.get(LABEL_KEY, name)
        if LABEL_KEY in table:
            if not isinstance(label, str):
                out.append((where, f"expected a display name (text), got {type(label).__name__} {label!r}"))
                continue
            if not 1 <= len(label) <= MAX_LABEL:
                out.append((where, f"must have 1 to {MAX_LABEL} characters, got {len(label)}"))
                continue
            if not label.isprintable():
                out.append((where, f"must be one line of printable text, got {label!r}"))
                continue
        at = where if LABEL_KEY in table else ("variants", name)
        if label in seen:
            other = ".".join(map(str, seen[label][:2]))
            why = "each must be told apart in tables and charts"
            out.append((at, f"display name {label!r} is already used by {other} ({why})"))
        seen.setdefault(label, at)
    if sc.base_label is None and "base" in seen:
        out.append((seen["base"], "display name 'base' is the base scenario's (set base_label to rename the base)"))
    return out


#: The table checks of every scenario, in the order their problems are reported.
TABLE_CHECKS = (
    video_problems,
    population_problems,
    push_problems,
    moderation_problems,
    recognition_problems,
    creator_problems,
    social_graph_problems,
    behaviour_problems,
    cross_post_problems,
    variant_label_problems,
)


def scenario_problems(sc: Scenario) -> list[Problem]:
    """Every table check of a schema-valid scenario (not its engine's: see ``viralsim.engines.checks``)."""
    return [p for check in TABLE_CHECKS for p in check(sc)]


def followers_warning(sc: Scenario) -> Problem | None:
    """A warning (not a problem) when the creator's followers are a large share of a pushed video's population.

    Followers are drawn at random and get the video in their Following feed at the
    upload; a user is reached once, so the push's cohorts then skip them — the same
    share of its best-matched users as of everyone. From
    :data:`FOLLOWERS_WARNING_SHARE` (5 %: one in twenty of the push's most
    interested users already had the video) this moves the push's outcome: in
    ``cat_cucumber`` the For You views fall from 17.8k to 13.6k at 5 % (no change at
    2 %). Not given for a push-free platform (``mode = "social"``), an edge list
    (its followers are the file's) or a marketplace (its creators' followers are drawn).
    """
    users, followers = sc.population.users, sc.creator.followers
    if sc.platform.push.mode == "social" or sc.social_graph.kind == "edge_list" or sc.marketplace is not None:
        return None
    if followers < FOLLOWERS_WARNING_SHARE * users:
        return None
    return (
        ("creator", "followers"),
        f"warning: the creator's {followers:,} followers are {100 * followers / users:.0f} % of the {users:,} users"
        f" (warned from {100 * FOLLOWERS_WARNING_SHARE:.0f} %): they get the video in their Following feed first, so the push's"
        " cohorts skip them, its most interested users included",
    )
