"""The stylised-facts check: each fact measured right on hand-made data, and the check on realistic_platform.

The fact functions (:mod:`viralsim.analysis.facts`) are checked against values
computed by hand or by closed forms (the Gini of a log-normal, a star's and a
chain's structural virality, a Pareto tail's doubling probability). The slow test
runs ``realistic_platform`` over 20 seeds and requires all 14 facts
(docs/realism.md) to sit inside their bands.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner
from paths import SCENARIOS_DIR, TINY

from viralsim import Scenario, simulate
from viralsim.analysis import facts as f
from viralsim.analysis.stylised import FACTS, Fact, Measured, _stall_h, measure, run_data
from viralsim.cli import main
from viralsim.views import SOURCES


# -- concentration ---------------------------------------------------------------------------------
def test_gini_of_a_lognormal_sample_matches_its_closed_form() -> None:
    sigma = 2.0  # Gini of a log-normal = 2 Phi(sigma / sqrt 2) - 1 = erf(sigma / 2)
    x = np.random.default_rng(1).lognormal(3.0, sigma, 200_000)
    assert f.gini_views(x) == pytest.approx(math.erf(sigma / 2), abs=0.01)
    assert f.gini_views([5, 5, 5]) == 0.0
    assert math.isnan(f.gini_views([]))


def test_mean_to_median() -> None:
    assert f.mean_to_median([1, 2, 3, 100]) == pytest.approx(26.5 / 2.5)
    x = np.random.default_rng(2).lognormal(0.0, 2.33, 400_000)  # exp(sigma^2 / 2) = 15.1
    assert f.mean_to_median(x) == pytest.approx(math.exp(2.33**2 / 2), rel=0.1)
    assert math.isnan(f.mean_to_median([0, 0, 5]))
    assert math.isnan(f.mean_to_median([]))


def test_lognormal_body_is_close_for_a_lognormal_and_far_for_steps() -> None:
    rng = np.random.default_rng(3)
    x = np.round(rng.lognormal(4.0, 2.0, 20_000)) + 1
    assert f.lognormal_body_distance(x) < 0.03
    steps = rng.choice([10, 200, 4000], size=5000, p=[0.8, 0.15, 0.05])  # a push ladder: views pile on a few values
    assert f.lognormal_body_distance(steps) > 0.2
    assert f.lognormal_body_distance([7] * 50) == 1.0
    assert math.isnan(f.lognormal_body_distance([1, 2, 3]))


# -- per view --------------------------------------------------------------------------------------
def test_per_view_rates_are_pooled_over_videos() -> None:
    r = f.per_view_rates([1, 9], [0, 1], [1, 1], [10, 90])
    assert r == {"like": 0.1, "comment": 0.01, "share": 0.02}
    assert all(math.isnan(v) for v in f.per_view_rates([0], [0], [0], [0]).values())


def test_watched_fraction_caps_each_view_at_the_whole_video() -> None:
    assert f.watched_fraction([3.0, 15.0, 30.0], 15.0) == pytest.approx((0.2 + 1.0 + 1.0) / 3)
    assert f.watched_fraction([1.0, 1.0], [2.0, 4.0]) == pytest.approx(0.375)
    assert math.isnan(f.watched_fraction([], 15.0))


def test_for_you_share_overall_and_by_follower_band() -> None:
    overall, per = f.for_you_share([9, 5, 1], [10, 10, 10], [5, 50, 500], [10, 100])
    assert overall == pytest.approx(15 / 30)
    assert per == pytest.approx([0.9, 0.5, 0.1])
    _, per = f.for_you_share([1], [2], [5], [10])
    assert per[0] == 0.5 and math.isnan(per[1])


# -- cascades --------------------------------------------------------------------------------------
def _log(parent: list[int]) -> tuple[np.ndarray, np.ndarray]:
    p = np.array(parent)
    return p, p >= 0


def test_cascade_trees_sizes_depths_and_virality() -> None:
    # rows: 0 root A; 1 root B; 2,3,4 shares of A (a star of 4); 5 share of 2 (depth 2); 6 root C; 7 share of 5
    parent, share = _log([-1, -1, 0, 0, 0, 2, -1, 5])
    t = f.cascade_trees(parent, share)
    assert t["size"].tolist() == [6, 1, 1]
    assert t["depth"].tolist() == [3, 0, 0]
    # tree A: edges 0-2, 0-3, 0-4, 2-5, 5-7; the pair distances sum to the Wiener index, sum over
    # edges of (nodes below) x (nodes above): 3x3 + 1x5 + 1x5 + 2x4 + 1x5 = 32, over 15 pairs
    assert t["virality"][0] == pytest.approx(32 / 15)
    assert t["virality"][1] == 0.0


def test_cascade_trees_star_and_chain_viralities() -> None:
    star, share = _log([-1] + [0] * 9)
    assert f.cascade_trees(star, share)["virality"][0] == pytest.approx(2 * 9 / 10)
    chain, share = _log([-1, *range(9)])
    t = f.cascade_trees(chain, share)
    assert t["virality"][0] == pytest.approx(11 / 3)
    assert t["depth"][0] == 9


def test_shallow_share_and_virality_slope() -> None:
    assert f.shallow_share([0, 0, 1, 2]) == 0.75
    assert math.isnan(f.shallow_share([]))
    n = np.array([3, 5, 10, 20, 50, 100] * 3, dtype=float)
    assert f.virality_slope(n, 2 * (n - 1) / n) == pytest.approx(0.0, abs=1e-9)  # stars: flat
    assert f.virality_slope(n, (n + 1) / 3) == pytest.approx(0.8, abs=0.1)  # chains: steep
    assert math.isnan(f.virality_slope([3, 4], [1.3, 1.5]))


def test_doubling_probability_of_a_pareto_tail_is_one_half() -> None:
    # P(S >= s) = 1/s (tail exponent 1): P(S >= 2k | S >= k) = 1/2 for every k
    s = np.floor(1.0 / np.random.default_rng(4).random(400_000))
    p = f.doubling_probability(s, ks=(2, 4, 8, 16))
    assert list(p) == [2, 4, 8, 16]
    assert all(v == pytest.approx(0.5, abs=0.02) for v in p.values())
    assert f.doubling_probability([1, 2, 3], ks=(1,), min_count=5) == {}
    assert f.doubling_probability([1, 2, 3, 4], ks=(1, 2), min_count=2) == {1: 0.75, 2: 1 / 3}


# -- view curves -----------------------------------------------------------------------------------
def test_step_ups_compare_the_hours_around_a_promotion() -> None:
    # video 0: 2 views of stage 1 in the 2 h before its first stage-2 view at t = 10, then 8 in the next 2 h
    t = [8.5, 9.5, 10.0, 10.2, 10.4, 10.6, 10.8, 11.0, 11.5, 11.9, 13.0]
    stage = [1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    r = f.step_ups(t, [0] * len(t), stage)
    assert r.tolist() == [pytest.approx((8 + 1) / (2 + 1))]
    assert len(f.step_ups([1.0, 2.0], [0, 1], [1, 1])) == 0  # no promotion


def test_trickle_share_counts_stalled_videos_still_viewed_later() -> None:
    stall = [10.0, 10.0, 50.0, np.nan]  # video 2 stalled too late to count, video 3 never stalled
    t = [11.0, 30.0, 60.0, 61.0]
    v = [0, 0, 2, 3]
    assert f.trickle_share(t, v, stall, horizon_h=72.0) == 0.5  # video 0 viewed 20 h after, video 1 never
    assert math.isnan(f.trickle_share(t, v, [np.nan] * 4, horizon_h=72.0))


def test_stall_time_is_the_last_evaluation_of_a_stopped_push() -> None:
    row = SimpleNamespace
    stages = [
        row(video=0, stage=1, passed=True, evaluated_h=2.0),
        row(video=0, stage=2, passed=False, evaluated_h=5.0),
        row(video=1, stage=1, passed=True, evaluated_h=3.0),  # promoted, next stage still running
        row(video=2, stage=1, passed=True, evaluated_h=4.0),
        row(video=2, stage=2, passed=True, evaluated_h=9.0),  # the last stage: the push is over
    ]
    s = _stall_h(stages, np.array([0.0, 1.0, 10.0, 3.0]), last_stage=2)  # rows count hours after the upload
    assert s[0] == 5.0 and math.isnan(s[1]) and s[2] == 19.0 and math.isnan(s[3])  # on the clock


# -- the trickle after the push (agents.trickle) ----------------------------------------------------
def _market(mode: str = "content", per_day: float = 0.0) -> Scenario:
    """2 000 users, 2 days, 40 videos, most of them stopped at the first gate."""
    return Scenario.model_validate(
        {
            "name": "trickle",
            "horizon_h": 48,
            "engine": "agents",
            "population": {"users": 2000, "topics": ["a", "b"], "interest_concentration": 0.3},
            "video": {"topic": "a"},
            "marketplace": {"creators": 20, "uploads_per_day": 20, "followers": {"median": 5, "spread": 0.5}},
            "platform": {"push": {"mode": mode, "cohorts": [30, 300], "thresholds": {"like": 0.07}}},
            "agents": {"trickle": {"per_day": per_day, "half_life_h": 12}},
        }
    )


def _late_views(per_day: float, seed: int) -> tuple[int, int, int]:
    """Views >= 12 h after their video's stall; of those, For You views and views of the trickle's first day."""
    r = simulate(_market(per_day=per_day), seed=seed)
    d = run_data(r, min_age_h=0.0)
    w = d["views"]
    stall = d["stall_h"][w["video"]]
    late = w["time_h"] >= stall + 12.0  # NaN stall: never late
    for_you = int(np.sum(late & (w["source"] == SOURCES.index("for_you"))))
    first_day = int(np.sum(late & (w["time_h"] < stall + 24.0)))
    return int(late.sum()), for_you, first_day


def test_trickle_brings_for_you_views_after_the_stall_that_fade() -> None:
    off = [_late_views(0.0, s) for s in (1, 2, 3)]
    on = [_late_views(0.5, s) for s in (1, 2, 3)]
    # without the trickle only deliveries waiting for a rare user's session come late
    assert sum(x[0] for x in on) > 3 * max(sum(x[0] for x in off), 1), (on, off)
    assert sum(x[1] for x in on) >= 0.9 * sum(x[0] for x in on)  # counted as For You views
    # half-life 12 h: the hours 12-24 after the stall get more than the 24 h after (a quarter of the rate)
    late, _, first = (sum(col) for col in zip(*on, strict=True))
    assert first > late - first


def test_trickle_in_social_mode_starts_at_upload() -> None:
    r = simulate(_market("social", per_day=0.5), seed=4)
    sources = r.views["source"]
    assert np.any(sources == SOURCES.index("for_you"))  # no push, yet For You views: the trickle's
    assert not np.any(r.views["stage"][sources == SOURCES.index("for_you")] != 0)
    off = simulate(_market("social"), seed=4)
    assert not np.any(off.views["source"] == SOURCES.index("for_you"))


# -- the table and the check -----------------------------------------------------------------------
def test_every_fact_has_a_band_a_published_figure_and_a_trusted_source() -> None:
    assert len({x.key for x in FACTS}) == len(FACTS)
    for x in FACTS:
        assert x.low < x.high and x.published and x.source
        assert any(tag in x.source for tag in ("[peer-reviewed]", "[vendor]", "[official]", "[folklore]"))
    fact = Fact("k", "label", 0.1, math.inf, "p", "s")
    assert fact.band() == ">= 0.1"
    assert Measured(fact, 0.2).passed and not Measured(fact, math.nan).passed
    assert Measured(fact, math.nan).to_dict()["value"] is None


def test_measure_refuses_no_runs() -> None:
    with pytest.raises(ValueError, match="no runs"):
        measure([])


def test_cli_refuses_a_scenario_without_a_marketplace() -> None:
    res = CliRunner().invoke(main, ["facts", str(TINY), "--runs", "1"])
    assert res.exit_code == 1
    assert "the facts need engine" in res.output and "Traceback" not in res.output


SMALL_MARKET = """
name = "small_market"
horizon_h = 48
engine = "agents"
[population]
users = 2000
topics = ["a", "b"]
[video]
topic = "a"
[marketplace]
creators = 20
uploads_per_day = 20
[platform.push]
cohorts = [30, 300]
thresholds = { like = 0.07 }
"""


def test_cli_prints_every_fact_measured_vs_published(tmp_path: Path) -> None:
    path = tmp_path / "small_market.toml"
    path.write_text(SMALL_MARKET)
    res = CliRunner().invoke(main, ["facts", str(path), "--runs", "2", "--seed", "5"])
    assert res.exit_code == 0, res.output  # a measurement: 0 whatever the facts say
    for fact in FACTS:
        assert fact.label[:20] in res.output
    assert "facts inside their bands" in res.output
    js = CliRunner().invoke(main, ["facts", str(path), "--runs", "2", "--seed", "5", "--json"])
    out = json.loads(js.output)
    assert (out["runs"], out["seed"]) == (2, 5)
    assert [r["key"] for r in out["facts"]] == [x.key for x in FACTS]
    # the same runs give the same measurements: the table and the JSON agree on the Gini
    gini = next(r for r in out["facts"] if r["key"] == "gini")["value"]
    assert f"{gini:.4g}" in res.output


def test_cli_refuses_a_min_age_beyond_the_horizon(tmp_path: Path) -> None:
    path = tmp_path / "small_market.toml"
    path.write_text(SMALL_MARKET)
    res = CliRunner().invoke(main, ["facts", str(path), "--min-age-h", "48"])
    assert res.exit_code == 1 and "--min-age-h 48: must be below" in res.output


@pytest.mark.slow
def test_realistic_platform_reproduces_the_stylised_facts_over_20_seeds() -> None:
    res = CliRunner().invoke(
        main, ["facts", str(SCENARIOS_DIR / "realistic_platform.toml"), "--runs", "20", "--processes", "2", "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = {r["key"]: r for r in json.loads(res.output)["facts"]}
    assert set(rows) == {fact.key for fact in FACTS} and len(rows) == 14
    failed = {k: (r["value"], r["low"], r["high"]) for k, r in rows.items() if not r["passed"]}
    assert not failed, failed  # every fact inside its band, the log-normal body included
