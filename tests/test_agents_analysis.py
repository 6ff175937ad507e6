"""What a marketplace run shows: Gini, CCDF, rank correlations, feed narrowing, one user's day, and their figures.

The numbers are checked against hand-computed values and scipy; the timeline
against the logs it is built from. Logs are hand-made (``tests/fake_agents.py``
and tiny literal ones), with the agent engine's column layout.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from fake_agents import fake_run
from paths import TINY
from scipy.stats import spearmanr

from viralsim.analysis.day import _session_of, busiest_user, user_day
from viralsim.analysis.inequality import ccdf, concentration, gini
from viralsim.analysis.logs import ACTIONS, SESSION_END, log_of
from viralsim.analysis.marketplace import compare_modes, feed_narrowing, rank_correlations, run_metrics, runs_table
from viralsim.plots import save_figure
from viralsim.plots.marketplace import clock, plot_feed_narrowing, plot_user_day, plot_views_ccdf, plot_views_vs
from viralsim.views import SOURCES, VIEW_COLUMNS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODES = ("content", "social", "hybrid")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    return {m: fake_run(m, seed=3) for m in MODES}


def brute_gini(x: np.ndarray) -> float:
    x = np.asarray(x, float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean()))


def videos_log(
    views: list[int],
    followers: list[int],
    appeal: list[float],
    creator: list[int] | None = None,
    upload_h: list[float] | None = None,
) -> SimpleNamespace:
    n = len(views)
    return SimpleNamespace(
        videos={
            "video": np.arange(n, dtype=np.int32),
            "views": np.asarray(views, np.int64),
            "creator_followers": np.asarray(followers, np.int64),
            "appeal": np.asarray(appeal, np.float32),
            "creator": np.asarray(creator if creator is not None else range(n), np.int64),
            "upload_h": np.asarray(upload_h if upload_h is not None else [0.0] * n),
        },
        sessions={},
    )


# -- gini, ccdf, concentration -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 1, 1, 1], 0.0), ([0, 0, 0, 1], 0.75), ([1, 2, 3, 4], 0.25), ([5], 0.0), ([0, 0, 0], 0.0), ([0, 10], 0.5)],
)
def test_gini_hand_computed(values: list[int], expected: float) -> None:
    assert gini(values) == pytest.approx(expected, abs=1e-12)


def test_gini_matches_the_mean_absolute_difference_and_ignores_order() -> None:
    rng = np.random.default_rng(5)
    x = rng.pareto(1.5, 300)
    assert gini(x) == pytest.approx(brute_gini(x), rel=1e-10)
    assert gini(rng.permutation(x)) == pytest.approx(gini(x), rel=1e-12)
    assert gini(3 * x) == pytest.approx(gini(x), rel=1e-12)  # scale-free


def test_gini_rejects_negative_values_and_is_nan_when_empty() -> None:
    assert math.isnan(gini([]))
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])
    with pytest.raises(ValueError, match="finite"):
        gini([1, np.nan])


def test_ccdf_hand_computed() -> None:
    x, p = ccdf([3, 1, 2, 2])
    assert x.tolist() == [1, 2, 3]
    assert p.tolist() == [1.0, 0.75, 0.25]
    x, p = ccdf([0, 0, 7])
    assert x.tolist() == [0, 7]
    assert p.tolist() == pytest.approx([1.0, 1 / 3])
    x, p = ccdf([])
    assert len(x) == len(p) == 0


def test_ccdf_is_the_fraction_at_least_x() -> None:
    v = np.random.default_rng(1).integers(0, 30, 500)
    x, p = ccdf(v)
    assert p.tolist() == pytest.approx([np.mean(v >= xi) for xi in x])
    assert np.all(np.diff(p) < 0)


def test_concentration_hand_computed() -> None:
    log = videos_log([1, 2, 3, 4, 90], [0] * 5, [0.5] * 5, creator=[0, 0, 1, 1, 2])
    c = concentration(log)
    assert c["videos"] == 5 and c["views"] == 100
    assert c["gini"] == pytest.approx(brute_gini(np.array([1, 2, 3, 4, 90])))
    assert c["top1_share"] == c["top10_share"] == pytest.approx(0.9)  # ceil(0.5) = ceil(0.05) = 1 video
    assert c["unseen"] == 0.0
    assert c["gini_creators"] == pytest.approx(brute_gini(np.array([3, 7, 90])))
    outside = concentration(videos_log([1, 2, 3, 4, 90], [0] * 5, [0.5] * 5, creator=[-1, -1, 1, 1, 2]))
    assert outside["gini_creators"] == pytest.approx(brute_gini(np.array([1, 2, 7, 90])))
    many = concentration(videos_log([0] * 80 + [1] * 10 + [10] * 9 + [100], [0] * 100, [0.5] * 100))
    assert many["top1_share"] == pytest.approx(100 / 200)
    assert many["top10_share"] == pytest.approx(190 / 200)  # the 10 most viewed: 100 + 9 x 10
    assert many["unseen"] == pytest.approx(0.8)


# -- correlations --------------------------------------------------------------------------------
def test_rank_correlations_hand_computed_and_as_scipy() -> None:
    log = videos_log([10, 20, 30, 40, 50], [5, 4, 3, 2, 1], [0.1, 0.3, 0.2, 0.5, 0.4])
    r = rank_correlations(log)
    assert r["followers"].rho == pytest.approx(-1.0)
    assert r["appeal"].rho == pytest.approx(0.8)  # rank differences 0, 1, -1, 1, -1: 1 - 6 * 4 / (5 * 24)
    assert r["appeal"].p == pytest.approx(spearmanr([0.1, 0.3, 0.2, 0.5, 0.4], [10, 20, 30, 40, 50]).pvalue)
    assert r["appeal"].n == 5


def test_rank_correlations_with_ties_match_scipy(runs: dict[str, Any]) -> None:
    v = runs["hybrid"].agents.videos
    r = rank_correlations(runs["hybrid"])
    ref = spearmanr(v["creator_followers"], v["views"])
    assert (r["followers"].rho, r["followers"].p) == pytest.approx((ref.statistic, ref.pvalue))
    ref = spearmanr(v["appeal"], v["views"])
    assert (r["appeal"].rho, r["appeal"].p) == pytest.approx((ref.statistic, ref.pvalue))


def test_rank_correlations_filter_by_upload_and_undefined_cases() -> None:
    log = videos_log([10, 20, 30, 40, 1], [1, 2, 3, 4, 5], [0.1, 0.2, 0.3, 0.4, 0.5], upload_h=[0, 1, 2, 3, 40])
    assert rank_correlations(log)["followers"].rho == pytest.approx(0.0)
    early = rank_correlations(log, uploaded_before_h=10)
    assert early["followers"].rho == pytest.approx(1.0) and early["followers"].n == 4
    flat = rank_correlations(videos_log([3, 4, 5], [7, 7, 7], [0.1, 0.2, 0.3]))
    assert math.isnan(flat["followers"].rho) and math.isnan(flat["followers"].p)
    assert flat["appeal"].rho == pytest.approx(1.0)
    assert math.isnan(rank_correlations(videos_log([1, 2], [1, 2], [0.1, 0.2]))["appeal"].rho)  # two pairs


def test_log_of_a_core_run_says_which_engine() -> None:
    with pytest.raises(ValueError, match='engine = "agents"'):
        log_of(SimpleNamespace(agents=None, views={}))


# -- feed narrowing ------------------------------------------------------------------------------
def test_feed_narrowing_hand_computed() -> None:
    drift = {
        "time_h": np.array([0.0, 24.0]),
        "mean_entropy": np.array([1.0, 0.9]),
        "mean_top_share": np.array([0.5, 0.6]),
    }
    log = SimpleNamespace(
        videos={},
        sessions={},
        drift=drift,
        users={
            "entropy_start": np.array([1.0, 1.0, 1.0], np.float32),
            "entropy_end": np.array([0.5, 1.0, 1.2], np.float32),
            "top_share_start": np.array([0.5, 0.5, 0.5], np.float32),
            "top_share_end": np.array([0.8, 0.5, 0.5], np.float32),
        },
    )
    f = feed_narrowing(log)
    assert f.entropy_change == pytest.approx(-0.1)
    assert f.top_share_change == pytest.approx(0.1)
    assert f.narrowed == pytest.approx(1 / 3)
    assert f.drift["mean_entropy"].tolist() == [1.0, 0.9]


# -- one user's day ------------------------------------------------------------------------------
def tiny_day_run() -> SimpleNamespace:
    """User 7 (UTC+8): a session on local day 0, two on local day 1, a view outside any session; user 3 elsewhere."""
    starts = [2.0, 20.0, 30.0, 21.0]  # local 10:00 day 0; 04:00 and 14:00 day 1 (user 7); user 3 at 21:00 UTC
    ends = [2.1, 20.5, 30.2, 21.2]
    times = [2.05, 20.1, 20.2, 20.3, 21.1, 30.05, 31.0]
    users = [7, 7, 7, 7, 3, 7, 7]
    n = len(times)
    views = {k: np.zeros(n, dt) for k, dt in VIEW_COLUMNS.items()}
    views.update(
        time_h=np.array(times),
        user=np.array(users, np.int64),
        video=np.array([0, 1, 2, 0, 1, 2, 1], np.int32),
        source=np.array([0, 0, 1, 2, 0, 0, 1], np.int8),
        watch_s=np.array([5, 10, 20, 30, 6, 7, 8], np.float32),
        parent=np.full(n, -1),
    )
    views["liked"][[1, 2]] = True
    views["shared"][2] = True
    videos = {
        "video": np.array([2, 0, 1], np.int32),
        "creator": np.array([12, 10, 11]),
        "topic": np.array([1, 0, 1], np.int16),
        "appeal": np.array([0.3, 0.9, 0.6], np.float32),
    }
    log = SimpleNamespace(
        videos=videos,
        sessions={
            "user": np.array([7, 7, 7, 3]),
            "start_h": np.array(starts),
            "end_h": np.array(ends),
            "watched": np.array([1, 3, 1, 1], np.int32),
            "ended": np.array([0, 1, 2, 1], np.int8),
        },
        users={"user": np.array([3, 7]), "tz_h": np.array([0.0, 8.0], np.float32)},
        topics=["cats", "diy"],
        drift={},
        mode="content",
    )
    return SimpleNamespace(views=views, agents=log)


def test_session_of_a_view_with_overlapping_sessions() -> None:
    # user 1: a long session with an empty one inside it, then another; user 2: one session
    s_user, s_start, s_end = np.array([1, 1, 1, 2]), np.array([0.0, 2.0, 20.0, 1.0]), np.array([10.0, 2.0, 21.0, 3.0])
    v_user = np.array([1, 1, 1, 2, 3, 1, 1])
    v_time = np.array([5.0, 2.0, 15.0, 2.5, 1.0, 20.5, -1.0])
    assert _session_of(s_user, s_start, s_end, v_user, v_time).tolist() == [0, 1, -1, 3, -1, 2, -1]


def test_user_day_hand_made() -> None:
    day = user_day(tiny_day_run(), 7, 1)
    assert (day.user, day.day, day.tz_h) == (7, 1, 8.0)
    s = day.sessions
    assert s["session"].tolist() == [1, 2]
    assert s["start_local_h"].tolist() == pytest.approx([4.0, 14.0])
    assert s["minutes"].tolist() == pytest.approx([30.0, 12.0])
    assert s["views"].tolist() == s["watched"].tolist() == [3, 1]
    assert s["for_you"].tolist() == [1, 1] and s["following"].tolist() == [1, 0] and s["share"].tolist() == [1, 0]
    assert s["liked"].tolist() == [2, 0] and s["shared"].tolist() == [1, 0]
    assert s["ended"].astype(str).tolist() == [SESSION_END[1], SESSION_END[2]]
    v = day.views
    # 31.0 UTC is local 15:00 on day 1 but in no session: its own day
    assert v["time_h"].tolist() == pytest.approx([20.1, 20.2, 20.3, 30.05, 31.0])
    assert v["session"].tolist() == [1, 1, 1, 2, -1]
    assert v["minute"].tolist()[:4] == pytest.approx([6.0, 12.0, 18.0, 3.0])
    assert math.isnan(v["minute"].iloc[4])
    assert v["local_h"].tolist() == pytest.approx([4.1, 4.2, 4.3, 14.05, 15.0])
    assert v["creator"].tolist() == [11, 12, 10, 12, 11]  # looked up by video id, not by row
    assert v["topic"].astype(str).tolist() == ["diy", "diy", "cats", "diy", "diy"]
    assert v["source"].astype(str).tolist() == ["for_you", "following", "share", "for_you", "following"]
    assert v["liked"].tolist() == [True, True, False, False, False]
    day0 = user_day(tiny_day_run(), 7, 0)
    assert day0.sessions["start_local_h"].tolist() == pytest.approx([10.0])
    assert day0.views["video"].tolist() == [0]
    assert user_day(tiny_day_run(), 7).day == 1  # default: the day with the most views


def test_user_day_agrees_with_the_logs(runs: dict[str, Any]) -> None:
    r = runs["hybrid"]
    log = r.agents
    for user in (0, 5, 17):
        tz = float(log.users["tz_h"][user])
        mine = r.views["user"] == user
        local_day = np.floor((r.views["time_h"][mine] + tz) / 24)
        for d in np.unique(local_day)[:2]:
            day = user_day(r, user, int(d))
            s, v = day.sessions, day.views
            assert (s["views"] == s["watched"]).all()  # the fake engine logs every view of a session
            assert s["views"].sum() == len(v)
            assert (s[list(SOURCES)].sum(axis=1) == s["views"]).all()
            assert ((s["start_local_h"] >= 0) & (s["start_local_h"] < 24)).all()
            assert v["local_h"].to_numpy() == pytest.approx(v["time_h"].to_numpy() + tz - 24 * d)
            start = s.set_index("session").loc[v["session"], "start_h"].to_numpy()
            end = s.set_index("session").loc[v["session"], "end_h"].to_numpy()
            assert np.all((v["time_h"].to_numpy() >= start) & (v["time_h"].to_numpy() <= end))
            for a in ACTIONS:
                assert s[a].sum() == v[a].sum()
            # the same rows as the views log: sessions of user that start on local day d
            sess = log.sessions
            own = (sess["user"] == user) & (np.floor((sess["start_h"] + tz) / 24) == d)
            assert len(s) == own.sum() and s["watched"].sum() == sess["watched"][own].sum()


def test_busiest_user_is_the_best_by_its_rules(runs: dict[str, Any]) -> None:
    r = runs["content"]
    user, day = busiest_user(r, max_views=25)
    s, v = r.agents.sessions, r.views
    began = []  # a view's day is the local day its session started (a brute-force search)
    for u, t in zip(v["user"], v["time_h"], strict=True):
        (hit,) = np.flatnonzero((s["user"] == u) & (s["start_h"] <= t) & (t <= s["end_h"]))
        began.append(s["start_h"][hit])
    tz = r.agents.users["tz_h"][v["user"]]
    df = pd.DataFrame(
        {
            "user": v["user"],
            "day": np.floor((np.array(began) + tz) / 24).astype(int),
            "source": r.views["source"],
            **{a: r.views[a] for a in ACTIONS},
        }
    )
    g = df.groupby(["user", "day"])
    table = pd.DataFrame(
        {
            "views": g.size(),
            "sources": g["source"].nunique(),
            "kinds": sum((g[a].sum() > 0).astype(int) for a in ACTIONS).clip(upper=2),
        }
    )
    table = table[table["views"] <= 25].reset_index()
    best = table.sort_values(
        ["sources", "kinds", "views", "user", "day"], ascending=[False, False, False, True, True]
    ).iloc[0]
    assert (user, day) == (best["user"], best["day"])
    assert len(user_day(r, user, day).views) == best["views"] <= 25


# -- comparing modes -----------------------------------------------------------------------------
def test_compare_modes_one_row_per_mode_with_the_run_numbers(runs: dict[str, Any]) -> None:
    table = compare_modes(runs)
    assert list(table.index) == list(MODES)
    for m in MODES:
        r = rank_correlations(runs[m])
        assert table.loc[m, "rho_appeal"] == pytest.approx(r["appeal"].rho)
        assert table.loc[m, "rho_followers"] == pytest.approx(r["followers"].rho)
        assert table.loc[m, "gini"] == pytest.approx(gini(runs[m].agents.videos["views"]))
        assert table.loc[m, "runs"] == 1
        shares = table.loc[m, ["for_you_share", "following_share", "share_share"]].sum()
        assert shares == pytest.approx(1.0)
    # the fake content world picks videos by appeal, the social one by followers
    assert table.loc["content", "rho_appeal"] > table.loc["content", "rho_followers"]
    assert table.loc["social", "rho_followers"] > table.loc["social", "rho_appeal"]


def test_compare_modes_takes_medians_over_seeds() -> None:
    many = {"content": [fake_run("content", s) for s in range(3)], "social": fake_run("social", 9)}
    rows = runs_table(many)
    assert rows["mode"].tolist() == ["content"] * 3 + ["social"] and rows["seed"].tolist() == [0, 1, 2, 9]
    table = compare_modes(many)
    assert table.loc["content", "runs"] == 3
    assert table.loc["content", "gini"] == pytest.approx(np.median([run_metrics(r)["gini"] for r in many["content"]]))
    assert table.loc["social", "views"] == run_metrics(many["social"])["views"]


# -- figures -------------------------------------------------------------------------------------
def test_ccdf_figure(runs: dict[str, Any], tmp_path: Any) -> None:
    fig = plot_views_ccdf(runs)
    (ax,) = fig.axes
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert len(ax.get_lines()) == len(MODES)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    for m, text in zip(MODES, texts, strict=True):
        assert text.startswith(f"{m}: Gini {gini(runs[m].agents.videos['views']):.2f}")
    line = ax.get_lines()[0]
    x, p = ccdf(runs["content"].agents.videos["views"])
    assert line.get_xdata().tolist() == x[x > 0].tolist()
    assert "views per video" in ax.get_xlabel()
    assert save_figure(fig, tmp_path / "ccdf.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scatter_figure(runs: dict[str, Any]) -> None:
    fig = plot_views_vs(runs)
    assert len(fig.axes) == 2 * len(MODES)
    for j, m in enumerate(MODES):
        r = rank_correlations(runs[m])
        top, low = fig.axes[j], fig.axes[len(MODES) + j]
        assert top.get_title().startswith(f"{m}: ρ = {r['followers'].rho:+.2f}")
        assert low.get_title().startswith(f"{m}: ρ = {r['appeal'].rho:+.2f}")
        assert top.get_yscale() == "symlog" and top.get_xscale() == "symlog" and low.get_xscale() == "linear"
        n = len(runs[m].agents.videos["views"])
        assert [len(c.get_offsets()) for c in top.collections] == [n]
        assert top.get_xlabel().startswith("creator's followers") and low.get_xlabel().startswith("video appeal")


def test_user_day_figure_draws_every_session_video_and_action() -> None:
    day = user_day(tiny_day_run(), 7, 1)
    fig = plot_user_day(day)
    top, low = fig.axes
    assert top.get_xlim() == (0, 24)
    assert len(top.collections[0].get_paths()) == 2  # the two sessions on the clock
    assert sum(len(c.get_segments()) for c in top.collections[1:]) == len(day.views)  # one tick per video
    assert len(low.get_yticks()) == 2
    labels = [t.get_text() for t in low.get_yticklabels()]
    assert labels == ["14:00  ·  1 video  ·  feed_empty", "04:00  ·  3 videos  ·  bored"]
    bars = [c for c in low.collections if type(c).__name__ == "PolyCollection"]
    assert len(bars) == 4  # the four views inside sessions
    marks = sum(len(c.get_offsets()) for c in low.collections if type(c).__name__ == "PathCollection")
    assert marks == 3  # two likes and a share
    assert "User 7, day 1: 5 videos in 2 sessions" == fig._suptitle.get_text()


def test_feed_narrowing_figure(runs: dict[str, Any]) -> None:
    fig = plot_feed_narrowing(runs)
    ent, top = fig.axes
    assert len(ent.get_lines()) == len(top.get_lines()) == len(MODES)
    f = feed_narrowing(runs["content"])
    assert ent.get_legend().get_texts()[0].get_text() == f"content: {f.entropy_change:+.3f}"
    assert ent.get_lines()[0].get_ydata().tolist() == pytest.approx(f.drift["mean_entropy"].tolist())
    assert "entropy" in ent.get_ylabel() and "favourite topic" in top.get_ylabel()


def test_clock() -> None:
    assert [clock(h) for h in (0.0, 7.5, 11.999, 13.26, 23.995)] == ["00:00", "07:30", "12:00", "13:16", "00:00"]


def test_figures_refuse_an_empty_mapping() -> None:
    with pytest.raises(ValueError, match="no runs"):
        plot_views_ccdf({})


# -- on a real agent run -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_run() -> Any:
    from viralsim import load_scenario, simulate
    from viralsim.scenario import apply_variant

    tiny = load_scenario(TINY)
    world = apply_variant(
        tiny,
        {
            "engine": "agents",
            "population": {"users": 1_500},
            "horizon_h": 36,
            "marketplace": {"creators": 30, "uploads_per_day": 40},
            "platform": {"push": {"cohorts": [40, 160, 600]}},
        },
    )
    return simulate(world, seed=2)


def test_the_engine_log_fits_the_timeline(real_run: Any) -> None:
    log, v = real_run.agents, real_run.views
    assert log.videos["views"].sum() == len(v["time_h"]) > 0
    s = log.sessions
    at = _session_of(s["user"], s["start_h"], s["end_h"], v["user"], v["time_h"])
    assert (at >= 0).all()  # every view happens in a session of its user
    assert np.bincount(at, minlength=len(s["user"])).tolist() == s["watched"].tolist()
    user, day = busiest_user(real_run)
    d = user_day(real_run, user, day)
    assert len(d.views) > 0 and (d.sessions["views"] == d.sessions["watched"]).all()
    assert d.sessions["views"].sum() == len(d.views)
    m = run_metrics(real_run)
    ref = spearmanr(log.videos["appeal"], log.videos["views"])
    assert m["rho_appeal"] == pytest.approx(ref.statistic)
    assert m["for_you_share"] + m["following_share"] + m["share_share"] == pytest.approx(1.0)
