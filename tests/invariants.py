"""The invariants every run must satisfy (docs/design.md §11), as one reusable check.

Used by the property test over random scenarios (test_engine.py) and by the runs
of every bundled scenario and variant (test_cli.py); a marketplace run of the
agent engine (many videos) has its own check, :func:`check_marketplace_invariants`.
"""

from __future__ import annotations

import numpy as np

from viralsim import RunResult
from viralsim.views import VIEW_COLUMNS

SOURCES = ("for_you", "following", "share")
FOR_YOU, FOLLOWING, SHARE = range(3)
ACTION_COLUMNS = {
    "likes": "liked",
    "comments": "commented",
    "shares": "shared",
    "follows": "followed",
    "profile_clicks": "profile_click",
    "completions": "completed",
}


def check_invariants(r: RunResult) -> None:
    """Assert the invariants of one run; the message names the one that failed."""
    if r.scenario.marketplace is not None:  # many videos (engine = "agents"): their own invariants
        check_marketplace_invariants(r)
        return
    sc, s, v = r.scenario, r.summary, r.views
    n = len(v["time_h"])
    assert all(len(col) == n for col in v.values()), "columns of the views log differ in length"
    assert s["views"] == n

    # views <= deliveries, per source and in total
    deliveries = s["deliveries"]
    assert set(deliveries) == set(SOURCES)
    assert n <= sum(deliveries.values()), "more views than deliveries"
    for name in SOURCES:
        assert s["views_by_source"][name] <= deliveries[name], f"more {name} views than {name} deliveries"
    if sc.creator.user is None:  # a generated graph: the creator has exactly `followers` followers
        assert deliveries["following"] <= sc.creator.followers

    # viewers: distinct users of the population; a user is reached (and watches) at most once
    users = v["user"]
    assert np.all((users >= 0) & (users < sc.population.users))
    assert s["unique_viewers"] == len(np.unique(users)) <= sc.population.users
    assert s["unique_viewers"] == n, "a user watched twice"
    if sc.creator.user is not None:
        assert sc.creator.user not in users, "the creator watched their own video"

    # actions <= views, and the summary counts are the columns' counts
    for key, col in ACTION_COLUMNS.items():
        assert s[key] == int(np.count_nonzero(v[col])) <= n, key
    assert s["share_to_view"] == (s["shares"] / n if n else 0.0)
    watch = v["watch_s"].astype(float)
    assert np.all((watch >= 0) & (watch <= sc.video.duration_s * (1 + 1e-6)))

    # sources: partition the views; the algorithmic share is the For You fraction
    by_source = s["views_by_source"]
    assert sum(by_source.values()) == n
    for code, name in enumerate(SOURCES):
        assert by_source[name] == int(np.count_nonzero(v["source"] == code))
    assert s["algorithmic_share"] == (by_source["for_you"] / n if n else 0.0)
    mode = sc.platform.push.mode
    if mode == "social":
        assert by_source["for_you"] == 0 and deliveries["for_you"] == 0, "For You views in social mode"
        assert r.stages == [] and s["stages_reached"] == 0
    if mode == "content":
        assert by_source["share"] == 0 and deliveries["share"] == 0, "share views in content mode"

    # time: sorted, after the upload was approved, within the horizon
    t = v["time_h"]
    assert np.all(np.diff(t) >= 0), "views are not sorted by time"
    if n:
        assert t[0] >= r.moderation["decided_h"] >= sc.video.upload_h
        assert t[-1] <= sc.horizon_h

    # the reach curve: monotone, sources sum to the total, ends at the number of views
    rc = r.reach_curve
    assert rc["time_h"][0] == 0.0 and rc["time_h"][-1] == sc.horizon_h
    for key in ("total", *SOURCES):
        assert np.all(np.diff(rc[key]) >= 0), f"reach curve {key} decreases"
    assert np.array_equal(rc["for_you"] + rc["following"] + rc["share"], rc["total"])
    assert rc["total"][-1] == n
    for name in SOURCES:
        assert rc[name][-1] == by_source[name]

    # the spread tree: share views hang from an earlier view that was shared, others from the upload
    parent = v["parent"]
    is_share = v["source"] == SHARE
    assert np.array_equal(parent >= 0, is_share), "parent set exactly for share views"
    child = np.flatnonzero(is_share)
    par = parent[child]
    assert np.all(par < child), "a parent after its child in time order"
    assert np.all(t[par] < t[child]), "a share view not after the view it came from"
    assert np.all(v["shared"][par]), "a share view whose parent did not share"
    assert np.all(v["user"][par] != v["user"][child])
    assert s["cascade_views"] == len(child)
    assert s["structural_virality"] >= 0.0

    # one time origin: the summary's hours count from the upload (the views log is on the simulation clock)
    up = sc.video.upload_h
    if n:
        assert np.all(t >= up), "a view before the upload"
        hist = np.bincount(np.floor(t - up).astype(np.int64))
        assert s["peak_rate_h"] == float(np.argmax(hist)) and s["peak_rate_views_per_h"] == int(hist.max())
    if s["stop_h"] is not None:
        assert 0.0 <= s["stop_h"] <= sc.horizon_h - up

    # the push: stages in order, consistent decisions
    sizes = sc.platform.push.cohort_sizes()
    stage = v["stage"]
    assert np.array_equal(stage > 0, v["source"] == FOR_YOU), "stage set exactly for For You views"
    assert s["stages_reached"] <= len(sizes)
    assert np.all(stage <= s["stages_reached"])
    rows = r.stages
    assert len(rows) <= s["stages_reached"] <= len(rows) + 1
    assert s["stages_passed"] == sum(row["passed"] for row in rows)
    assert sum(row["delivered"] for row in rows) <= deliveries["for_you"]
    for i, row in enumerate(rows, start=1):
        assert row["stage"] == i
        assert row["cohort_size"] == sizes[i - 1]
        assert row["passed"] == (row["failed"] == ""), "passed <=> no failed KPI"
        assert row["views_evaluated"] <= row["delivered"] <= row["cohort_size"]
        assert 0 <= row["start_h"] <= row["evaluated_h"] <= sc.horizon_h - sc.video.upload_h
        if i < len(rows):
            assert row["passed"], "the push went on after a failed stage"
        # the gate saw exactly the stage's views up to its evaluation, and its rates are theirs
        seen = (stage == i) & (t <= sc.video.upload_h + row["evaluated_h"])  # rows count hours after the upload
        assert row["views_evaluated"] == int(np.count_nonzero(seen))
        if row["views_evaluated"]:
            assert abs(row["completion"] - np.mean(v["completed"][seen])) < 1e-12
            assert abs(row["like"] - np.mean(v["liked"][seen])) < 1e-12
        failed = set(filter(None, row["failed"].split(",")))
        for kpi in ("completion", "watch_fraction", "like", "comment", "share", "follow", "profile_click", "score"):
            limit = row[f"threshold_{kpi}"]
            if limit is None:
                assert kpi not in failed
            elif row["views_evaluated"]:
                assert (kpi in failed) == (row[kpi] < limit), kpi

    # why the distribution stopped
    reason = s["stop_reason"]
    if reason.startswith("kpi_below_threshold:"):
        assert rows and not rows[-1]["passed"]
        assert reason.split(":", 1)[1] == rows[-1]["failed"]
    elif reason == "all_stages_passed":
        assert len(rows) == len(sizes) and all(row["passed"] for row in rows)
    elif reason == "removed_by_moderation":
        assert n == 0 and r.moderation["decision"] == "removed"
    elif reason == "removed_after_publishing":  # published unreviewed, taken down by its late review
        assert r.moderation["decision"] == "removed_after_publishing" and r.moderation.get("published_unreviewed")
        assert n == 0 or float(r.views["time_h"].max()) <= r.moderation["reviewed_h"] or r.record == "summary"
    elif reason == "no_push_social_mode":
        assert mode == "social"
    else:
        assert reason in {"horizon", "population_exhausted", "removed_at_stage_review"}, reason
    if r.moderation.get("decision") == "pending":  # a human review still running at the horizon
        assert r.moderation["correct"] is None and n == 0
    elif r.moderation.get("decision") == "published_unreviewed":  # its review still running at the horizon
        assert r.moderation["correct"] == (not sc.video.violation)
    elif "decision" in r.moderation:
        removed = r.moderation["decision"] in ("removed", "removed_after_publishing")
        assert r.moderation["correct"] == (removed == sc.video.violation)

    # engaged views (completed, or liked, commented, shared, followed) and what each cost
    if n or r.record == "full":
        engaged = v["completed"] | v["liked"] | v["commented"] | v["shared"] | v["followed"]
        assert r.record != "full" or s["engaged_views"] == int(np.count_nonzero(engaged))
    assert s["completions"] <= s["engaged_views"] <= s["views"]
    fee = sc.creator.fee
    assert s["cost_per_engaged_view"] == (fee / s["engaged_views"] if fee is not None and s["engaged_views"] else None)

    # a cross-post: the second platform's run is a run of its own, and the views split by platform
    second = r.second_platform
    assert s["cross_posted"] == (second is not None)
    assert s["views_first"] == s["views"]
    assert s["views_second"] == (0 if second is None else second.summary["views"])
    assert s["views_total"] == s["views_first"] + s["views_second"]
    if second is not None:
        assert sc.cross_post is not None and second.scenario == sc.second_platform()
        assert second.moderation.get("decided_h", sc.horizon_h) >= sc.video.upload_h + sc.cross_post.after_h
        check_invariants(second)


def check_marketplace_invariants(r: RunResult) -> None:
    """Per-view invariants of a marketplace run, and the agent log against the views log."""
    sc, s, v = r.scenario, r.summary, r.views
    log = r.agents
    assert log is not None and sc.marketplace is not None
    n = len(v["time_h"])
    assert set(v) == set(VIEW_COLUMNS) and all(v[k].dtype == dt for k, dt in VIEW_COLUMNS.items())
    assert s["views"] == n and s["views_total"] == n
    # views <= deliveries (per source); a user sees a video at most once; actions <= views
    for code, name in enumerate(SOURCES):
        assert s["views_by_source"][name] == int(np.count_nonzero(v["source"] == code)) <= s["deliveries"][name]
    pairs = v["user"].astype(np.int64) * 1_000_000 + v["video"]
    assert len(np.unique(pairs)) == n, "a user watched a video twice"
    assert s["unique_viewers"] == len(np.unique(v["user"])) <= sc.population.users
    for key, col in (("likes", "liked"), ("shares", "shared"), ("follows", "followed"), ("completions", "completed")):
        assert s[key] == int(np.count_nonzero(v[col])) <= n
    assert np.all((v["watch_s"] >= 0) & (v["watch_s"] <= sc.video.duration_s * (1 + 1e-6)))
    # time order, the horizon, the reach curve
    t = v["time_h"]
    assert np.all(np.diff(t) >= 0) and (n == 0 or t[-1] <= sc.horizon_h)
    rc = r.reach_curve
    for key in ("total", *SOURCES):
        assert np.all(np.diff(rc[key]) >= 0)
    assert np.array_equal(rc["for_you"] + rc["following"] + rc["share"], rc["total"]) and rc["total"][-1] == n
    # stage set exactly for For You views; shares hang from an earlier view of the same video that shared
    assert np.array_equal(v["stage"] > 0, v["source"] == 0)
    child = np.flatnonzero(v["source"] == 2)
    par = v["parent"][child]
    assert np.all(par >= 0) and np.all(v["parent"][v["source"] != 2] == -1)
    assert np.all(par < child) and np.all(t[par] < t[child]) and np.all(v["shared"][par])
    assert np.array_equal(v["video"][par], v["video"][child]) and np.all(v["user"][par] != v["user"][child])
    if sc.platform.push.mode == "content":
        assert len(child) == 0
    if sc.platform.push.mode == "social":
        assert s["views_by_source"]["for_you"] == 0 and r.stages == []
    # the video table is the views log tallied per video
    vid = log.videos
    n_v = len(vid["video"])
    assert s["videos"] == n_v == sc.marketplace.videos(sc.horizon_h)
    assert np.array_equal(vid["views"], np.bincount(v["video"], minlength=n_v))
    assert np.array_equal(vid["views_share"], np.bincount(v["video"][v["source"] == 2], minlength=n_v))
    assert np.array_equal(vid["likes"], np.bincount(v["video"][v["liked"]], minlength=n_v))
    assert np.all(vid["views_for_you"] + vid["views_following"] + vid["views_share"] == vid["views"])
    assert np.all(t >= vid["upload_h"][v["video"]])
    for row in r.stages:  # each stage row counts hours after its own video's upload
        up = float(vid["upload_h"][row["video"]])
        assert 0.0 <= row["start_h"] <= row["evaluated_h"] <= sc.horizon_h - up
        # A session's views are counted when the session plays them, so the gate can have counted views
        # stamped later in a session than the evaluation: at least the views up to it, at most the stage's.
        # (The clock's evaluation time is up + evaluated_h only to rounding: a view at that instant counts.)
        stage_views = (v["video"] == row["video"]) & (v["stage"] == row["stage"])
        seen = stage_views & (t <= up + row["evaluated_h"] + 1e-9)
        assert int(np.count_nonzero(seen)) <= row["views_evaluated"] <= int(np.count_nonzero(stage_views))
    assert np.all(vid["creator"] >= 0) and np.all(vid["creator"] < sc.population.users)
    assert not np.any(v["user"] == vid["creator"][v["video"]]), "a creator watched their own video"
    # sessions: every view lies in a session of its user; watched counts add up to the views
    ses = log.sessions
    assert int(ses["watched"].sum()) == n and s["sessions"] == len(ses["user"])
    assert np.all(ses["start_h"] <= ses["end_h"]) and np.all(ses["end_h"] <= sc.horizon_h)
    assert set(np.unique(ses["ended"]).tolist()) <= {0, 1, 2, 3}  # viralsim.records.SESSION_END
    # a user is in one session at a time: per user, each session starts after the previous one ended
    by = np.lexsort((ses["start_h"], ses["user"]))
    same = ses["user"][by][1:] == ses["user"][by][:-1]
    assert np.all(ses["start_h"][by][1:][same] > ses["end_h"][by][:-1][same]), "a user's sessions overlap"
    # users: one row each; interest narrowness in range
    users = log.users
    assert np.array_equal(users["user"], np.arange(sc.population.users))
    topics = list(sc.population.topics)
    for k in ("entropy_start", "entropy_end"):
        assert np.all((users[k] >= -1e-6) & (users[k] <= np.log(len(topics)) + 1e-5))
    for k in ("top_share_start", "top_share_end"):
        assert np.all((users[k] >= 1 / len(topics) - 1e-6) & (users[k] <= 1 + 1e-6))
    assert log.topics == topics and log.mode == sc.platform.push.mode
