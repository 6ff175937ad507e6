"""The pure, vectorised model: behaviour, KPI gate, platform decisions, population, graphs, streams.

Every stochastic check uses a fixed seed and enough draws that the stated tolerance
(a number of binomial standard errors, or a chi-square p-value) is far from the
observed noise; the tolerances are in the comments.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from viralsim import CSRGraph
from viralsim.model.behaviour import (
    ACTION_COLUMNS,
    action_probability,
    engagement,
    mean_watch_fraction,
    view_outcomes,
)
from viralsim.model.beta import beta_ppf
from viralsim.model.graph import MAX_NETWORKX_USERS, AnnealedGraph, build_graph
from viralsim.model.kpi import KPI_COLUMNS, evaluate_counts, evaluate_gate, kpi_rates
from viralsim.model.platform import classifier_path, classifier_score, human_removes, recognise, review_time_h
from viralsim.model.population import ACTIONS, ImplicitPopulation
from viralsim.model.sessions import SessionClock
from viralsim.rng import Streams
from viralsim.scenario import (
    DEFAULT_DIURNAL,
    KPI_NAMES,
    Behaviour,
    Moderation,
    Recognition,
    ReviewTime,
    ScoreWeights,
    SocialGraph,
    Thresholds,
    Video,
)
from viralsim.scenario import Population as PopulationConfig

unit = st.floats(0.0, 1.0, allow_nan=False)


def binomial_close(hits: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    """Is ``hits / n`` within ``sigmas`` binomial standard errors of ``p`` (plus one count)?"""
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


# -- behaviour ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(i1=unit, i2=unit, appeal=unit, originality=unit, trend=st.floats(0.0, 2.0))
def test_engagement_is_monotone_in_interest(
    i1: float, i2: float, appeal: float, originality: float, trend: float
) -> None:
    lo, hi = sorted((i1, i2))
    video = Video(topic="a", appeal=appeal, originality=originality, trend_boost=trend)
    b = Behaviour()
    e_lo, e_hi = engagement(np.array([lo]), video, b)[0], engagement(np.array([hi]), video, b)[0]
    assert 0.0 <= e_lo <= e_hi <= 1.0
    assert mean_watch_fraction(np.array([e_lo]), video, b)[0] <= mean_watch_fraction(np.array([e_hi]), video, b)[0]


@settings(max_examples=200, deadline=None)
@given(a1=unit, a2=unit, interest=unit, floor=unit)
def test_engagement_is_monotone_in_appeal(a1: float, a2: float, interest: float, floor: float) -> None:
    lo, hi = sorted((a1, a2))
    b = Behaviour(interest_floor=floor)
    e_lo = engagement(np.array([interest]), Video(topic="a", appeal=lo), b)[0]
    e_hi = engagement(np.array([interest]), Video(topic="a", appeal=hi), b)[0]
    assert 0.0 <= e_lo <= e_hi <= 1.0
    v = Video(topic="a")
    assert mean_watch_fraction(np.array([e_lo]), v, b)[0] <= mean_watch_fraction(np.array([e_hi]), v, b)[0]


def test_engagement_formula() -> None:
    b = Behaviour(interest_floor=0.2, novelty_weight=0.5)
    v = Video(topic="a", appeal=0.5, originality=0.6, trend_boost=0.1)
    # appeal x (floor + (1 - floor) x interest) x (1 - w (1 - originality)) x (1 + trend)
    expected = 0.5 * (0.2 + 0.8 * 0.5) * (1 - 0.5 * 0.4) * 1.1
    assert engagement(np.array([0.5]), v, b)[0] == pytest.approx(expected)
    assert engagement(np.array([1.0]), Video(topic="a", appeal=1.0, trend_boost=5.0), b)[0] == 1.0  # capped


def test_longer_videos_are_watched_less() -> None:
    b = Behaviour()
    e = np.array([0.5])
    short = mean_watch_fraction(e, Video(topic="a", duration_s=15), b)[0]
    long = mean_watch_fraction(e, Video(topic="a", duration_s=120), b)[0]
    very_short = mean_watch_fraction(e, Video(topic="a", duration_s=5), b)[0]
    assert long < short
    assert very_short == short  # never above the reference duration's fraction
    assert long == pytest.approx(short * (15 / 120) ** b.duration_elasticity)


@pytest.mark.parametrize("interest", [0.0, 0.3, 0.9])
def test_view_outcome_rates_match_their_probabilities(interest: float) -> None:
    n = 400_000
    video = Video(topic="a", appeal=0.8, duration_s=20)
    b = Behaviour(p_like=0.08, p_comment=0.01, p_share=0.002, p_follow=0.005, p_profile_click=0.03)
    rng = np.random.default_rng(11)
    out = view_outcomes(np.full(n, interest), video, b, propensity_spread=0.0, rng=rng)
    e = float(engagement(np.array([interest]), video, b)[0])
    mu = float(mean_watch_fraction(np.array([e]), video, b)[0])
    lift = (e / 0.5) ** b.engagement_elasticity
    for action, col in zip(ACTIONS, ACTION_COLUMNS, strict=True):
        p = getattr(b, f"p_{action}") * lift
        # tolerance: 5 binomial standard errors
        assert binomial_close(len(out.actions[col]), n, p), (action, len(out.actions[col]) / n, p)
        assert np.all(np.diff(out.actions[col]) > 0)  # sorted, distinct views
    k = b.watch_concentration
    p_complete = float(stats.beta.sf(b.completion_at_fraction, mu * k, (1 - mu) * k))
    assert binomial_close(int(out.completed.sum()), n, p_complete)
    frac = out.watch_s.astype(float) / video.duration_s
    assert np.all((frac >= 0) & (frac <= 1 + 1e-6))
    # mean watch fraction: Beta mean mu, sd sqrt(mu(1-mu)/(k+1)); tolerance 5 standard errors
    assert abs(frac.mean() - mu) < 5 * math.sqrt(mu * (1 - mu) / (k + 1) / n)
    # the whole distribution (the tabulated quantile function): Kolmogorov-Smirnov
    assert stats.kstest(frac[:50_000], stats.beta(mu * k, (1 - mu) * k).cdf).pvalue > 1e-3
    # completed means watched at least completion_at_fraction (watch_s is float32: rounding at the edge)
    assert np.mean(out.completed != (frac >= b.completion_at_fraction)) < 1e-4


def test_propensity_is_integrated_out_of_action_probabilities() -> None:
    # a log-normal propensity X (mean 1) multiplies p: the action happens with probability E[min(1, pX)]
    rng = np.random.default_rng(4)
    for c, spread in [(0.05, 0.5), (0.4, 1.0), (2.0, 0.8), (0.9, 0.0)]:
        x = np.exp(spread * rng.standard_normal(2_000_000) - spread**2 / 2)
        expected = float(np.mean(np.minimum(1.0, c * x)))
        assert float(action_probability(np.array([c]), spread)[0]) == pytest.approx(expected, abs=2e-3)
    assert float(action_probability(np.array([0.01]), 0.5)[0]) == pytest.approx(0.01, rel=1e-6)
    n = 400_000
    video = Video(topic="a", appeal=0.5)
    b = Behaviour(p_like=0.5, engagement_elasticity=0.0)  # lift = 1; p X > 1 often when spread = 1
    out = view_outcomes(np.full(n, 0.5), video, b, propensity_spread=1.0, rng=np.random.default_rng(3))
    x = np.exp(rng.standard_normal(n) - 0.5)
    p_like = float(np.mean(np.minimum(1.0, 0.5 * x)))
    assert abs(len(out.actions["liked"]) / n - p_like) < 5 * math.sqrt(0.25 / n) + 2e-3
    assert binomial_close(len(out.actions["commented"]), n, b.p_comment)


def test_view_outcomes_of_no_viewers() -> None:
    out = view_outcomes(np.empty(0), Video(topic="a"), Behaviour(), propensity_spread=0.5, rng=np.random.default_rng(0))
    assert len(out) == 0 and len(out.completed) == 0
    assert set(out.actions) == set(ACTION_COLUMNS)
    assert all(len(v) == 0 for v in out.actions.values())


# -- the KPI gate ----------------------------------------------------------------------------

DURATION = 20.0


def sums(views: int, **rates: float) -> dict[str, float]:
    """Column sums of ``views`` views with the given per-view rates (watch_fraction as a fraction)."""
    base = dict.fromkeys(KPI_NAMES, 0.0) | rates
    out = {c: base[k] * views for k, c in zip(KPI_NAMES, KPI_COLUMNS, strict=True)}
    out["watch_s"] *= DURATION
    return out


def test_kpi_rates_are_per_view() -> None:
    r = kpi_rates(200, sums(200, completion=0.25, watch_fraction=0.6, like=0.05, share=0.01), DURATION)
    assert r["completion"] == pytest.approx(0.25)
    assert r["watch_fraction"] == pytest.approx(0.6)
    assert r["like"] == pytest.approx(0.05)
    assert r["share"] == pytest.approx(0.01)
    assert r["comment"] == 0.0


def test_gate_passes_at_and_above_the_thresholds() -> None:
    s = sums(100, completion=0.3, like=0.05)
    ok = evaluate_counts(100, s, DURATION, Thresholds(completion=0.3, like=0.05), ScoreWeights())
    assert ok.passed and ok.failed == ()
    bad = evaluate_counts(100, s, DURATION, Thresholds(completion=0.31, like=0.05), ScoreWeights())
    assert not bad.passed and bad.failed == ("completion",)
    both = evaluate_counts(100, s, DURATION, Thresholds(completion=0.5, like=0.06, share=0.0), ScoreWeights())
    assert both.failed == ("completion", "like")  # share >= 0 holds


def test_unset_thresholds_are_not_checked() -> None:
    g = evaluate_counts(100, sums(100), DURATION, Thresholds(), ScoreWeights())
    assert g.passed


def test_score_is_the_weighted_sum_of_rates() -> None:
    rates = {
        "completion": 0.3,
        "watch_fraction": 0.5,
        "like": 0.04,
        "comment": 0.01,
        "share": 0.002,
        "follow": 0.003,
        "profile_click": 0.02,
    }
    w = ScoreWeights(
        completion=2.0, watch_fraction=1.0, like=10.0, comment=20.0, share=50.0, follow=30.0, profile_click=5.0
    )
    expected = sum(getattr(w, k) * rates[k] for k in KPI_NAMES)  # 0.6 + 0.5 + 0.4 + 0.2 + 0.1 + 0.09 + 0.1
    assert expected == pytest.approx(1.99)
    g = evaluate_counts(1000, sums(1000, **rates), DURATION, Thresholds(score=1.99), w)
    assert g.score == pytest.approx(expected)
    assert g.passed
    g = evaluate_counts(1000, sums(1000, **rates), DURATION, Thresholds(score=2.0), w)
    assert g.failed == ("score",)


def test_no_views_fails_every_set_threshold() -> None:
    g = evaluate_counts(0, sums(0), DURATION, Thresholds(completion=0.0, like=0.0, score=0.0), ScoreWeights())
    assert g.views == 0
    assert g.failed == ("completion", "like", "score")
    assert not g.passed
    assert math.isnan(g.score)
    assert all(math.isnan(v) for v in g.rates.values())


def test_gate_on_columns_equals_gate_on_counts() -> None:
    rng = np.random.default_rng(4)
    n = 500
    cols = {c: rng.random(n) < 0.2 for c in KPI_COLUMNS}
    cols["watch_s"] = rng.random(n) * DURATION
    th = Thresholds(completion=0.19, like=0.21, score=1.0)
    g = evaluate_gate(cols, DURATION, th, ScoreWeights())
    s = {c: float(np.sum(cols[c])) for c in KPI_COLUMNS}
    assert g == evaluate_counts(n, s, DURATION, th, ScoreWeights())
    assert g.rates["completion"] == pytest.approx(cols["completed"].mean())
    assert g.rates["watch_fraction"] == pytest.approx(cols["watch_s"].mean() / DURATION)


# -- platform: moderation and recognition ----------------------------------------------------


def test_classifier_path_bands() -> None:
    m = Moderation(auto_approve_below=0.2, auto_remove_above=0.9)
    assert classifier_path(0.0, m) == "auto_approve"
    assert classifier_path(0.1999, m) == "auto_approve"
    assert classifier_path(0.2, m) == "human"  # the bands are open: equality goes to a human
    assert classifier_path(0.5, m) == "human"
    assert classifier_path(0.9, m) == "human"
    assert classifier_path(0.9001, m) == "auto_remove"
    assert classifier_path(1.0, m) == "auto_remove"
    every = Moderation(auto_approve_below=0.0, auto_remove_above=1.0)
    assert {classifier_path(s, every) for s in np.linspace(0, 1, 101)} == {"human"}


@pytest.mark.parametrize("violation", [False, True])
def test_classifier_score_mean(violation: bool) -> None:
    m = Moderation(score_mean_clean=0.1, score_mean_violating=0.8, score_concentration=10.0)
    rng = np.random.default_rng(8)
    x = np.array([classifier_score(violation, m, rng=rng) for _ in range(20_000)])
    mean = 0.8 if violation else 0.1
    sd = math.sqrt(mean * (1 - mean) / (m.score_concentration + 1))  # Beta(mean k, (1-mean) k)
    assert np.all((x > 0) & (x < 1))
    assert abs(x.mean() - mean) < 5 * sd / math.sqrt(len(x))  # tolerance: 5 standard errors


@pytest.mark.parametrize("distribution", ["exponential", "lognormal", "fixed"])
def test_review_time_mean_is_in_minutes(distribution: str) -> None:
    cfg = ReviewTime(distribution=distribution, mean=6.0, sigma=0.5)
    t = review_time_h(cfg, 200_000, rng=np.random.default_rng(2))
    assert t.shape == (200_000,)
    assert np.all(t > 0)
    # tolerance: 2 % (about 9 standard errors of an exponential mean over 200k draws)
    assert t.mean() == pytest.approx(0.1, rel=0.02)
    assert review_time_h(cfg, rng=np.random.default_rng(2)).shape == (1,)


@pytest.mark.parametrize("violation", [False, True])
def test_human_moderators_are_right_with_their_accuracy(violation: bool) -> None:
    rng = np.random.default_rng(9)
    n = 20_000
    removed = sum(human_removes(violation, 0.9, rng=rng) for _ in range(n))
    assert binomial_close(removed, n, 0.9 if violation else 0.1)  # tolerance: 5 binomial standard errors


TOPICS = ["a", "b", "c", "d"]


def recognised_counts(cfg: Recognition, n: int = 20_000, true: str = "a", seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    got = [recognise(true, TOPICS, cfg, rng=rng) for _ in range(n)]
    return np.array([got.count(t) for t in TOPICS])


def test_recognition_is_right_with_accuracy_else_uniform() -> None:
    counts = recognised_counts(Recognition(accuracy=0.7))
    expected = np.array([0.7, 0.1, 0.1, 0.1]) * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-3  # tolerance: chi-square p-value > 0.001


def test_recognition_follows_the_confusion_row() -> None:
    cfg = Recognition(accuracy=0.5, confusion={"a": {"b": 0.75, "c": 0.25, "d": 0.0}})
    counts = recognised_counts(cfg)
    assert counts[3] == 0  # probability 0 is never drawn
    expected = np.array([0.5, 0.375, 0.125]) * counts.sum()
    assert stats.chisquare(counts[:3], expected).pvalue > 1e-3  # tolerance: chi-square p-value > 0.001


def test_a_topic_without_a_confusion_row_is_confused_uniformly() -> None:
    cfg = Recognition(accuracy=0.0, confusion={"b": {"c": 1.0}})
    counts = recognised_counts(cfg, true="a")
    assert counts[0] == 0
    assert stats.chisquare(counts[1:]).pvalue > 1e-3  # uniform over b, c, d; p-value > 0.001


def test_recognition_extremes() -> None:
    assert recognised_counts(Recognition(accuracy=1.0), n=2000)[0] == 2000
    assert recognised_counts(Recognition(accuracy=0.0), n=2000)[0] == 0
    rng = np.random.default_rng(0)
    assert {recognise("a", ["a"], Recognition(accuracy=0.0), rng=rng) for _ in range(100)} == {"a"}


# -- population: the content graph ----------------------------------------------------------


def make_population(
    users: int = 200_000,
    topics: int = 3,
    alpha: float = 0.3,
    mix: dict[str, float] | None = None,
    seed: int = 1,
    **kw: object,
) -> ImplicitPopulation:
    names = [f"t{i}" for i in range(topics)]
    cfg = PopulationConfig(users=users, topics=names, interest_concentration=alpha, **kw)
    return ImplicitPopulation(cfg, mix or {"t0": 1.0}, rng=np.random.default_rng(seed))


def test_next_by_affinity_before_a_ranking_topic_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        make_population(users=1000).next_by_affinity(10)


def test_next_by_affinity_gives_distinct_unreached_users_in_affinity_order() -> None:
    pop = make_population(users=50_000)
    pop.set_ranking_topic("t0")
    rng = np.random.default_rng(5)
    already = rng.choice(pop.n, size=5_000, replace=False)  # e.g. followers, reached first
    pop.reach(already)
    seen = set(already.tolist())
    last_q = 1.0
    for k in [200, 1_000, 5_000, 20_000]:
        users, q = pop.next_by_affinity(k)
        assert len(users) == k
        assert len(np.unique(users)) == k
        assert not seen.intersection(users.tolist())
        assert pop.is_reached(users).all()  # ranked users count as reached
        seen.update(users.tolist())
        assert np.all(np.diff(q) <= 0) and q[0] <= last_q  # non-increasing quantiles
        last_q = float(q[-1])
    assert pop.reached_count == len(seen)
    assert pop.available == pop.n - len(seen)


def test_ranking_quantiles_are_the_order_statistics() -> None:
    # the k-th highest of m uniforms is Beta(m - k + 1, k): the push's cut after 1 % of the users
    n, k = 100_000, 1_000
    cuts = []
    for seed in range(200):
        pop = make_population(users=n, seed=seed)
        pop.set_ranking_topic("t0")
        cuts.append(pop.next_by_affinity(k)[1][-1])
    # mean of Beta(n - k + 1, k) is (n - k + 1) / (n + 1); tolerance 5 standard errors
    sd = math.sqrt(k * (n - k + 1) / ((n + 1) ** 2 * (n + 2))) / math.sqrt(len(cuts))
    assert abs(np.mean(cuts) - (n - k + 1) / (n + 1)) < 5 * sd


def test_users_reached_outside_the_ranking_are_below_its_frontier() -> None:
    pop = make_population(users=20_000)
    pop.set_ranking_topic("t0")
    _, q = pop.next_by_affinity(5_000)
    others = np.setdiff1d(np.arange(pop.n), np.flatnonzero(pop.is_reached(np.arange(pop.n))))[:3_000]
    q_other = pop.reach(others)
    assert np.all(q_other <= q[-1])
    # uniform below the frontier: Kolmogorov-Smirnov
    assert stats.kstest(q_other / q[-1], "uniform").pvalue > 1e-3


def test_ranked_users_are_uniformly_random_members_of_the_pool() -> None:
    pop = make_population(users=1_000)
    pop.set_ranking_topic("t0")
    pop.withhold(7)
    counts = np.zeros(pop.n)
    for _ in range(400):
        pop = make_population(users=1_000, seed=int(counts.sum()) + 1)
        pop.set_ranking_topic("t0")
        pop.withhold(7)
        counts[pop.next_by_affinity(10)[0]] += 1
    assert counts[7] == 0  # the withheld creator is never ranked
    others = np.delete(counts, 7)
    assert stats.chisquare(others).pvalue > 1e-3


def test_next_by_affinity_runs_out() -> None:
    pop = make_population(users=3_000)
    pop.set_ranking_topic("t1")
    first, _ = pop.next_by_affinity(2_000)
    rest, _ = pop.next_by_affinity(2_000)
    assert len(rest) == 1_000
    assert np.array_equal(np.sort(np.concatenate([first, rest])), np.arange(3_000))
    assert len(pop.next_by_affinity(10)[0]) == 0 and pop.available == 0


@pytest.mark.parametrize(("topics", "alpha"), [(3, 0.3), (6, 0.3), (4, 1.0), (3, 5.0)])
def test_top_users_interest_is_the_beta_upper_tail(topics: int, alpha: float) -> None:
    n, top = 200_000, 2_000  # the first 1 %
    pop = make_population(users=n, topics=topics, alpha=alpha, seed=topics)
    pop.set_ranking_topic("t0")
    _, q = pop.next_by_affinity(top)
    x = pop.ranking_interest(q, q)
    a, b = alpha, (topics - 1) * alpha
    for p in [0.05, 0.25, 0.5, 0.75, 0.95]:
        # the p-quantile of the top 1 % is the (1 - 0.01 (1 - p))-quantile of Beta(a, (T-1) a);
        # tolerance 0.001 in quantile space (~5 standard errors of the cut and of the quantile)
        qq = 1 - (top / n) * (1 - p)
        lo, hi = stats.beta.ppf([qq - 1e-3, min(qq + 1e-3, 1.0)], a, b)
        assert lo <= np.quantile(x, p) <= hi, (p, np.quantile(x, p), lo, hi)
    # the video is about the ranking topic alone: its interest is the ranking interest
    np.testing.assert_array_equal(pop.interest(q, q, rng=np.random.default_rng(0)), x)


@pytest.mark.parametrize(("a", "b"), [(0.3, 0.6), (0.3, 1.5), (1.0, 3.0), (5.0, 10.0), (0.05, 0.1), (2.0, 0.3)])
def test_beta_quantile_function_is_exact(a: float, b: float) -> None:
    q = np.concatenate([np.linspace(0, 1, 10_001), 1 - np.logspace(-9, -1, 50), np.logspace(-9, -1, 50)])
    np.testing.assert_allclose(beta_ppf(q, a, b), stats.beta.ppf(q, a, b), rtol=1e-5, atol=2e-7)


def test_interest_in_another_topic_follows_the_dirichlet() -> None:
    # a video about t1 ranked (misrecognised) by t0: E[x_t1 | x_t0] = (1 - x_t0) / (T - 1)
    pop = make_population(users=200_000, topics=4, alpha=0.3, mix={"t1": 1.0}, seed=3)
    pop.set_ranking_topic("t0")
    _, q = pop.next_by_affinity(50_000)
    x_r = pop.ranking_interest(q, q)
    x_t = pop.interest(q, q, rng=np.random.default_rng(1))
    assert np.all((x_t >= 0) & (x_t <= 1 - x_r + 1e-6))
    expected = (1 - x_r) / 3
    # conditional variance of (1 - x_r) Beta(a, 2a) is at most 1/4 a draw; tolerance 5 standard errors
    assert abs(x_t.mean() - expected.mean()) < 5 * 0.5 / math.sqrt(len(x_t))
    # the people the push found love t0, so they care little for t1
    assert x_t.mean() < 0.5 * x_r.mean()


def test_reached_users_attributes() -> None:
    pop = make_population(
        users=100_000,
        sessions_per_day={"median": 6.0, "spread": 0.8},
        timezone_offsets_h=[-5.0, 1.0],
        timezone_weights=[0.25, 0.75],
    )
    rate, tz = pop.sessions(np.arange(100_000), rng=np.random.default_rng(2))
    assert isinstance(rate, np.ndarray) and isinstance(tz, np.ndarray)
    rate_per_day = rate.astype(float) * 24
    # log-normal sessions per day: median 6, sigma 0.8; tolerance 3 % on the median (~8 standard errors)
    assert np.median(rate_per_day) == pytest.approx(6.0, rel=0.03)
    assert np.std(np.log(rate_per_day)) == pytest.approx(0.8, rel=0.02)
    assert set(np.unique(tz).tolist()) == {-5.0, 1.0}
    assert binomial_close(int(np.sum(tz == 1.0)), 100_000, 0.75)


# -- the session clock ---------------------------------------------------------------------------


def test_flat_profile_sessions_are_exponential() -> None:
    clock = SessionClock([1.0] * 24)
    rng = np.random.default_rng(12)
    n = 200_000
    t = rng.uniform(0, 24 * 7, n)
    rate = np.full(n, 0.25)
    delay = clock.next_session(t, rate, np.zeros(n), rng=rng) - t
    assert np.all(delay >= 0)
    # mean 1/rate = 4 h; tolerance 1.5 % (~7 standard errors)
    assert delay.mean() == pytest.approx(4.0, rel=0.015)
    assert binomial_close(int(np.sum(delay > 4.0)), n, math.exp(-1.0))  # the exponential tail


def test_sessions_avoid_inactive_hours() -> None:
    profile = [0.0] * 24
    for h in range(18, 22):
        profile[h] = 1.0  # only active 18:00-22:00 local time
    clock = SessionClock(profile)
    rng = np.random.default_rng(13)
    n = 100_000
    t = rng.uniform(0, 24 * 7, n)
    for tz in (0.0, 5.0, -8.0):
        when = clock.next_session(t, np.full(n, 0.2), np.full(n, tz), rng=rng)
        local_hour = np.floor((when + tz) % 24)
        assert np.mean((local_hour >= 18) & (local_hour < 22)) > 0.999
        assert np.all(when >= t)


def test_session_hours_follow_the_diurnal_profile() -> None:
    # all sessions of a week: the count in each local hour is proportional to the profile
    clock = SessionClock(list(DEFAULT_DIURNAL))
    rng = np.random.default_rng(14)
    n, days = 5_000, 7
    start = rng.uniform(0, 24, n)
    t, end = start.copy(), start + 24 * days
    tz = rng.choice([-5.0, 0.0, 3.0], size=n)
    rate = np.full(n, 0.5)
    hours: list[np.ndarray] = []
    active = np.ones(n, dtype=bool)
    while active.any():
        t[active] = clock.next_session(t[active], rate[active], tz[active], rng=rng)
        active &= t < end
        hours.append(np.floor((t[active] + tz[active]) % 24).astype(int))
    counts = np.bincount(np.concatenate(hours), minlength=24)
    w = np.asarray(DEFAULT_DIURNAL)
    expected = counts.sum() * w / w.sum()
    # Poisson counts; tolerance 5 standard deviations per hour
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected)), (counts, expected.round())
    assert counts.sum() == pytest.approx(n * rate[0] * 24 * days, rel=0.01)


# -- graphs --------------------------------------------------------------------------------------


def rows(g: CSRGraph) -> list[set[int]]:
    return [set(g.indices[g.indptr[u] : g.indptr[u + 1]].tolist()) for u in range(g.n)]


def test_csr_from_edges() -> None:
    src = np.array([0, 0, 2, 3, 3, 1, 4])
    dst = np.array([1, 2, 0, 3, 0, 4, 0])
    g = CSRGraph.from_edges(src, dst, 5)
    assert g.n == 5
    assert rows(g) == [{1, 2}, {4}, {0}, {0}, {0}]  # the self-loop 3 -> 3 is dropped
    assert g.edges == 6
    assert g.degree(np.arange(5)).tolist() == [2, 1, 1, 1, 1]
    with pytest.raises(ValueError):
        CSRGraph.from_edges(np.array([0]), np.array([5]), 5)
    with pytest.raises(ValueError):
        CSRGraph.from_edges(np.array([0, 1]), np.array([1]), 5)


def test_csr_from_edges_keeps_each_rows_edge_order() -> None:
    # row u lists u's edges in their input order, self-loops dropped: the stable sort by source
    # (or no sort when the edges come by source already, as the generators' do), few or many loops
    rng = np.random.default_rng(3)
    for trial in range(60):
        n, m = int(rng.integers(1, 40)), int(rng.integers(0, 400))
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        if trial % 2:
            src = np.sort(src)
        if trial % 3 == 0:
            dst = np.where(rng.random(m) < 0.05, src, (src + 1) % max(n, 2))  # a few loops (all when n = 1)
        keep = src != dst
        order = np.argsort(src[keep], kind="stable")
        g = CSRGraph.from_edges(src, dst, n)
        assert np.array_equal(g.indices, dst[keep][order])
        assert np.array_equal(np.diff(g.indptr), np.bincount(src[keep], minlength=n))
        assert not np.shares_memory(g.indices, dst)


def test_csr_networkx_round_trip() -> None:
    nxg = nx.gnp_random_graph(300, 0.03, seed=4, directed=True)
    g = CSRGraph.from_networkx(nxg)
    assert g.n == 300
    assert g.edges == nxg.number_of_edges()
    assert set(g.to_networkx().edges()) == set(nxg.edges())
    again = CSRGraph.from_networkx(g.to_networkx())
    assert rows(again) == rows(g)
    back = CSRGraph.from_scipy(g.to_scipy())
    assert rows(back) == rows(g)


def test_csr_from_undirected_networkx_has_both_directions() -> None:
    g = CSRGraph.from_networkx(nx.path_graph(4))
    assert rows(g) == [{1}, {0, 2}, {1, 3}, {2}]


def test_csr_from_networkx_needs_integer_nodes() -> None:
    with pytest.raises(ValueError, match="0..n-1"):
        CSRGraph.from_networkx(nx.relabel_nodes(nx.path_graph(3), {0: "a"}))


def test_recipients_all_is_the_row() -> None:
    g = CSRGraph.from_networkx(nx.gnp_random_graph(200, 0.05, seed=1, directed=True))
    r = rows(g)
    senders = np.array([5, 17, 5, 199, 0, 42])
    idx, rec = g.recipients(senders, "all", rng=np.random.default_rng(0))
    assert len(idx) == sum(len(r[s]) for s in senders)
    for i, s in enumerate(senders):
        got = rec[idx == i]
        assert sorted(got.tolist()) == sorted(r[s])


def test_recipients_per_sender_are_distinct_contacts() -> None:
    g = CSRGraph.from_networkx(nx.gnp_random_graph(300, 0.02, seed=2, directed=True))
    r = rows(g)
    senders = np.arange(300)
    idx, rec = g.recipients(senders, 3, rng=np.random.default_rng(1))
    for i, s in enumerate(senders):
        got = rec[idx == i].tolist()
        assert len(got) == len(set(got)) <= min(3, len(r[s]))
        assert set(got) <= r[s]
        if r[s]:
            assert got  # a sender with contacts reaches at least one


def test_csr_followers() -> None:
    g = CSRGraph.from_edges(np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2]), 10)
    assert sorted(g.followers(0, 99, rng=np.random.default_rng(0)).tolist()) == [1, 2, 3]
    some = g.followers(None, 5, rng=np.random.default_rng(0))
    assert len(set(some.tolist())) == 5


@pytest.mark.parametrize(("n", "exponent"), [(2_000, 2.5), (1_000_000, 3.5)])
def test_annealed_contact_counts_mean(n: int, exponent: float) -> None:
    g = AnnealedGraph(n, 150.0, exponent)
    c = g.contact_counts(400_000, rng=np.random.default_rng(6))
    assert c.min() >= 0 and c.max() <= n - 1
    # Pareto(alpha = exponent - 1, x_min) with mean 150, capped at n - 1 (randomised rounding keeps the mean):
    # E[min(X, c)] = mean - x_min^alpha c^(1 - alpha) / (alpha - 1)
    alpha = exponent - 1
    x_min = 150.0 * (exponent - 2) / (exponent - 1)
    expected = 150.0 - x_min**alpha * (n - 1) ** (1 - alpha) / (alpha - 1)
    assert c.mean() == pytest.approx(expected, rel=0.02)  # tolerance 2 % (> 5 standard errors)


@pytest.mark.parametrize("per_sender", [1, 5, "all"])
def test_annealed_recipients_are_never_oneself(per_sender: int | str) -> None:
    n = 1_000
    g = AnnealedGraph(n, 20.0, 2.5)
    senders = np.random.default_rng(1).integers(0, n, 5_000)
    idx, rec = g.recipients(senders, per_sender, rng=np.random.default_rng(2))
    assert np.all(rec != senders[idx])
    assert rec.min() >= 0 and rec.max() <= n - 1
    if per_sender != "all":
        assert np.all(np.bincount(idx, minlength=len(senders)) == per_sender)


def test_annealed_recipients_are_uniform_over_the_others() -> None:
    g = AnnealedGraph(4, 2.0, 2.5)
    idx, rec = g.recipients(np.full(30_000, 1), 1, rng=np.random.default_rng(3))
    counts = np.bincount(rec, minlength=4)
    assert counts[1] == 0
    assert stats.chisquare(counts[[0, 2, 3]]).pvalue > 1e-3  # tolerance: chi-square p-value > 0.001


@pytest.mark.parametrize("count", [10, 900, 1_000, 5_000])
def test_annealed_followers_are_distinct(count: int) -> None:
    f = AnnealedGraph(1_000, 20.0, 2.5).followers(None, count, rng=np.random.default_rng(4))
    assert len(f) == min(count, 1_000) == len(np.unique(f))
    assert f.min() >= 0 and f.max() < 1_000


def test_build_graph_kinds() -> None:
    rng = np.random.default_rng(0)
    n = 5_000
    assert isinstance(build_graph(SocialGraph(kind="random_powerlaw"), n, rng=rng), AnnealedGraph)
    er = build_graph(SocialGraph(kind="erdos_renyi", mean_following=12.0), n, rng=rng)
    assert isinstance(er, CSRGraph)
    assert er.edges / n == pytest.approx(12.0, rel=0.01)  # only self-loops (1/n of them) are dropped
    sw = build_graph(SocialGraph(kind="small_world", mean_following=10.0, rewire_probability=0.0), n, rng=rng)
    assert np.all(sw.degree(np.arange(n)) == 10)
    assert rows(sw)[0] == {1, 2, 3, 4, 5, n - 1, n - 2, n - 3, n - 4, n - 5}
    ba = build_graph(SocialGraph(kind="barabasi_albert", mean_following=4.0), 2_000, rng=rng)
    assert ba.degree(np.arange(2_000)).min() >= 2
    with pytest.raises(ValueError, match="barabasi_albert"):
        build_graph(SocialGraph(kind="barabasi_albert"), MAX_NETWORKX_USERS + 1, rng=rng)
    with pytest.raises(ValueError, match="edge_list"):
        build_graph(SocialGraph(kind="edge_list", path="x.txt"), n, rng=rng)


# -- random streams ------------------------------------------------------------------------------


def test_same_name_same_stream() -> None:
    s = Streams(42)
    assert s["shares"] is s["shares"]
    assert np.array_equal(Streams(42)["shares"].random(10), Streams(42)["shares"].random(10))


def test_streams_do_not_depend_on_request_order() -> None:
    a, b = Streams(7, run=3), Streams(7, run=3)
    a_first = a["population"].random(5), a["moderation"].random(5)
    b["graph"].random(100)  # an extra source, asked for first
    b_mod = b["moderation"].random(5)
    b_pop = b["population"].random(5)
    assert np.array_equal(a_first[0], b_pop)
    assert np.array_equal(a_first[1], b_mod)


def test_streams_differ_by_name_seed_and_run() -> None:
    draws = {
        "name": Streams(1)["push.stage.2"].random(4),
        "base": Streams(1)["push.stage.1"].random(4),
        "seed": Streams(2)["push.stage.1"].random(4),
        "run": Streams(1, run=1)["push.stage.1"].random(4),
    }
    values = [tuple(v) for v in draws.values()]
    assert len(set(values)) == len(values)
