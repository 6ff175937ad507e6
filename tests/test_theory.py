"""Theory as the oracle: the engine against exact results, through ``simulate()``.

Each check drives the public ``simulate()`` with a scenario reduced to the piece of
the model under test, and compares it with a closed-form result:

- share cascades from one root on a random d-out graph: the Galton-Watson total
  progeny (mean 1/(1 - R), the whole size distribution by the Otter-Dwass formula,
  and the survival probability for R > 1);
- the staged push with identical viewers: each stage's pass probability is a binomial
  tail, the stage reached is a product of those probabilities;
- structural virality of star, chain and balanced binary spread trees built by the
  engine on explicit graphs, against their closed forms;
- the human moderation queue with Poisson uploads and exponential review times
  against the M/M/c queue (Erlang C).

This complements tests/test_engine.py (1 000-root cascades on the annealed graph, a
single-stage binomial gate) and tests/test_metrics.py (virality of parent arrays).
Every stochastic assertion states its tolerance in standard errors (4 sd) or its
significance level (ALPHA = 0.001); seeds are fixed, so a run either always passes
or always fails. Run sizes keep this module near 20 s on one core.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from scipy import optimize, stats
from worlds import cascade_scenario

from viralsim import CSRGraph, Scenario, simulate
from viralsim.model.behaviour import engagement, mean_watch_fraction

ALPHA = 0.001  # significance level of the goodness-of-fit tests


# -- share cascades: a Galton-Watson process ---------------------------------------------------


def d_out_graph(n: int, d: int, seed: int) -> CSRGraph:
    """A random directed graph where every node has exactly ``d`` distinct out-neighbours (not itself)."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(1, n, size=(n, d))
    while True:  # redraw the (rare) rows with a repeated neighbour
        s = np.sort(offsets, axis=1)
        bad = (np.diff(s, axis=1) == 0).any(axis=1)
        if not bad.any():
            break
        offsets[bad] = rng.integers(1, n, size=(int(bad.sum()), d))
    src = np.repeat(np.arange(n), d)
    return CSRGraph.from_edges(src, (src + offsets.ravel()) % n, n)


def total_progeny_pmf(k: np.ndarray, d: int, p: float) -> np.ndarray:
    """P(T = k) for a Galton-Watson tree with Binomial(d, p) offspring from one root (Otter-Dwass).

    T = k iff the first k individuals have k - 1 children in all, and that sum is
    Binomial(k d, p): P(T = k) = P(Binomial(k d, p) = k - 1) / k.
    """
    return stats.binom.pmf(k - 1, k * d, p) / k


def cascade_sizes(graph: CSRGraph, p: float, runs: int) -> np.ndarray:
    sc = cascade_scenario(graph.n, p)
    return np.array([simulate(sc, seed=s, graph=graph).summary["views"] for s in range(runs)])


def binned_chisquare(observed_sizes: np.ndarray, pmf: np.ndarray) -> tuple[float, float]:
    """Chi-square goodness of fit of sizes 1..len(pmf) and a tail bin; bins merged to >= 5 expected."""
    n = len(observed_sizes)
    k_max = len(pmf)
    counts = np.bincount(np.minimum(observed_sizes, k_max + 1), minlength=k_max + 2)[1:]
    expected = np.append(pmf, max(0.0, 1.0 - pmf.sum())) * n
    obs_bins, exp_bins = [], []
    o_acc = e_acc = 0.0
    for o, e in zip(counts, expected, strict=True):
        o_acc, e_acc = o_acc + o, e_acc + e
        if e_acc >= 5:
            obs_bins.append(o_acc)
            exp_bins.append(e_acc)
            o_acc = e_acc = 0.0
    obs_bins[-1] += o_acc
    exp_bins[-1] += e_acc
    exp_arr = np.array(exp_bins) * (n / np.sum(exp_bins))  # the tail mass can round: renormalise
    res = stats.chisquare(obs_bins, exp_arr)
    return float(res.statistic), float(res.pvalue)


@pytest.fixture(scope="module")
def sparse_graph() -> CSRGraph:
    # 100 000 users: a cascade of s views meets an already-reached user ~ s^2 R / N times,
    # so for these subcritical cascades (E[s^2] < 60) the bias on the mean is below 0.1 %
    return d_out_graph(100_000, 5, seed=11)


@pytest.mark.parametrize(("p", "runs"), [(0.10, 3_000), (0.15, 6_000)])
def test_subcritical_cascade_size_is_the_branching_process_total_progeny(
    sparse_graph: CSRGraph, p: float, runs: int
) -> None:
    # offspring of every view: Binomial(d = 5, p); R = d p < 1; E[T] = 1 / (1 - R),
    # Var[T] = d p (1 - p) / (1 - R)^3. Tolerance: 4 standard errors of the mean of `runs` cascades.
    d = 5
    r0 = d * p
    sizes = cascade_sizes(sparse_graph, p, runs)
    mean_theory = 1 / (1 - r0)
    se = math.sqrt(d * p * (1 - p) / (1 - r0) ** 3 / runs)
    print(f"R={r0:.2f}: mean size {sizes.mean():.4f} vs 1/(1-R) = {mean_theory:.4f} (se {se:.4f}, {runs} runs)")
    assert abs(sizes.mean() - mean_theory) < 4 * se
    # the whole distribution, not only its mean: chi-square against Otter-Dwass, at ALPHA
    chi2, pvalue = binned_chisquare(sizes, total_progeny_pmf(np.arange(1, 61), d, p))
    print(f"R={r0:.2f}: size distribution chi2 = {chi2:.2f}, p = {pvalue:.3f}")
    assert pvalue > ALPHA


@pytest.mark.slow
def test_supercritical_cascade_takes_off_with_the_survival_probability() -> None:
    # R = 5 x 0.3 = 1.5: the tree survives with 1 - q, q = (1 - p + p q)^5 (q = 0.3189).
    # "Takes off" = reaches >= 100 views; a finite tree reaches 100 with probability
    # q - P(T < 100) = 5e-9, so the predicted fraction is 1 - sum_{k<100} P(T = k) = 1 - q.
    # On 3 000 users, until a cascade has ~20 views (when its fate is settled: with ~10 views
    # still sharing it dies out with probability q^10 < 1e-4) it meets an already-reached user
    # ~20^2 x 1.5 / 3 000 = 0.2 times, losing one of ~30 children: far below the tolerance.
    # Tolerance: 4 binomial standard errors over 2 000 runs (+-0.042).
    d, p, runs, take_off = 5, 0.3, 2_000, 100
    graph = d_out_graph(3_000, d, seed=12)
    sizes = cascade_sizes(graph, p, runs)
    q = optimize.brentq(lambda x: (1 - p + p * x) ** d - x, 0.0, 1.0 - 1e-12)
    small = total_progeny_pmf(np.arange(1, take_off), d, p)
    assert abs(small.sum() - q) < 1e-8
    survival = 1 - q
    observed = float(np.mean(sizes >= take_off))
    sd = math.sqrt(survival * (1 - survival) / runs)
    print(f"R=1.50: take-off fraction {observed:.4f} vs survival 1 - q = {survival:.4f} (sd {sd:.4f}, {runs} runs)")
    assert abs(observed - survival) < 4 * sd
    # the runs that die out follow the sub-distribution P(T = k), k < 100 (ALPHA)
    finite = sizes[sizes < take_off]
    chi2, pvalue = binned_chisquare(finite, small[:30] / q)
    print(f"R=1.50: extinct-size distribution chi2 = {chi2:.2f}, p = {pvalue:.3f} ({len(finite)} runs)")
    assert pvalue > ALPHA
    # and a cascade that takes off is a giant one, never stuck in between
    assert not np.any((sizes >= 60) & (sizes < 500))


# -- the staged push with identical viewers ----------------------------------------------------

COHORTS = [100, 300, 900, 2_700]


def push_scenario(stage_thresholds: list[dict[str, float]]) -> Scenario:
    """Content mode with one topic: every viewer has interest 1, so views are i.i.d.

    Every delivered user watches (``watch_probability = 1``) in one batch per stage, and
    a stage is evaluated when its last viewer has watched (``evaluate_after_fraction =
    1``, a 500 h window): the gate sees exactly ``cohort`` views. ``propensity_spread = 0``
    makes the like probability the same for everyone.
    """
    return Scenario.model_validate(
        {
            "name": "iid_push",
            "horizon_h": 5_000,
            "population": {
                "users": 5_000,
                "topics": ["a"],
                "sessions_per_day": {"median": 4.0, "spread": 0.0},
                "propensity_spread": 0.0,
            },
            "creator": {"followers": 0},
            "video": {"topic": "a", "appeal": 0.6},
            "platform": {
                "moderation": {"auto_approve_below": 1.0, "auto_remove_above": 1.0},
                "push": {
                    "mode": "content",
                    "cohorts": COHORTS,
                    "delivery_batch": 10_000,
                    "watch_probability": 1.0,
                    "evaluate_after_fraction": 1.0,
                    "eval_window_h": 500.0,
                    "thresholds": {"completion": 0.0},
                    "stage_thresholds": stage_thresholds,
                },
            },
            "behaviour": {"p_share": 0.0},
        }
    )


@pytest.mark.slow
def test_stage_pass_probabilities_and_stages_reached_match_binomial_tails() -> None:
    runs = 800
    base = push_scenario([])
    e = engagement(np.array([1.0]), base.video, base.behaviour)
    mu = float(mean_watch_fraction(e, base.video, base.behaviour)[0])
    k = base.behaviour.watch_concentration
    q_complete = float(stats.beta.sf(base.behaviour.completion_at_fraction, mu * k, (1 - mu) * k))
    q_like = float(base.behaviour.p_like * (e[0] / 0.5) ** base.behaviour.engagement_elasticity)

    def gate(n: int, q: float, target: float) -> tuple[float, float]:
        """Threshold halfway between two attainable rates, and the exact P(pass) = P(Bin(n, q) >= m)."""
        m = int(stats.binom.isf(target, n, q)) + 1  # smallest m with P(X >= m) <= target
        return (m - 0.5) / n, float(stats.binom.sf(m - 1, n, q))

    # stage 1 and 3 gate on completion, stage 2 on completion AND likes (independent draws:
    # the pass probability is the product of two tails), stage 4 on likes alone
    c1, p1 = gate(COHORTS[0], q_complete, 0.8)
    c2, p2c = gate(COHORTS[1], q_complete, 0.9)
    l2, p2l = gate(COHORTS[1], q_like, 0.9)
    c3, p3 = gate(COHORTS[2], q_complete, 0.7)
    l4, p4 = gate(COHORTS[3], q_like, 0.6)
    p_pass = [p1, p2c * p2l, p3, p4]
    sc = push_scenario([{"completion": c1}, {"completion": c2, "like": l2}, {"completion": c3}, {"like": l4}])
    results = [simulate(sc, seed=s) for s in range(runs)]
    for r in results:
        assert [row["views_evaluated"] for row in r.stages] == COHORTS[: len(r.stages)]
    # per stage: passes among the runs that reached it, within 4 binomial sd of the exact tail
    for stage, p in enumerate(p_pass, start=1):
        reached = [r for r in results if r.summary["stages_reached"] >= stage]
        passed = sum(r.stages[stage - 1]["passed"] for r in reached)
        sd = math.sqrt(len(reached) * p * (1 - p))
        print(f"stage {stage}: passed {passed}/{len(reached)} = {passed / len(reached):.4f} vs P = {p:.4f}")
        assert abs(passed - len(reached) * p) < 4 * sd
    # the joint outcome: stop after failing stage j (j = 1..4) or pass all four,
    # P(fail at j) = p_1 ... p_{j-1} (1 - p_j); chi-square at ALPHA
    survive = np.cumprod([1.0, *p_pass])
    expected = np.append(survive[:-1] * (1 - np.array(p_pass)), survive[-1]) * runs
    outcome = [len(r.stages) if not r.stages[-1]["passed"] else len(COHORTS) + 1 for r in results]
    observed = np.bincount(outcome, minlength=len(COHORTS) + 2)[1:]
    chi2, pvalue = stats.chisquare(observed, expected)
    print(
        f"stage outcomes {observed.tolist()} vs expected {np.round(expected, 1).tolist()}: chi2 = {chi2:.2f}, p = {pvalue:.3f}"
    )
    assert pvalue > ALPHA
    reached_dist = np.bincount([r.summary["stages_reached"] for r in results], minlength=len(COHORTS) + 1)[1:]
    assert reached_dist.tolist() == [*observed[:3].tolist(), int(observed[3] + observed[4])]


# -- structural virality of trees the engine builds --------------------------------------------


def tree_world(graph: nx.DiGraph, p_share: float) -> Scenario:
    """User 0 is the creator; every follower watches; a sharer's every contact opens and watches."""
    return Scenario.model_validate(
        {
            "name": "tree",
            "horizon_h": 1e6,
            "population": {"users": graph.number_of_nodes(), "topics": ["a"], "propensity_spread": 0.0},
            "social_graph": {"kind": "edge_list", "path": "unused.txt"},
            "creator": {"user": 0},
            "video": {"topic": "a"},
            "platform": {
                "moderation": {"auto_approve_below": 1.0, "auto_remove_above": 1.0},
                "push": {"mode": "social", "cohorts": [1]},
                "following": {"watch_probability": 1.0},
                "sharing": {"recipients_per_share": "all", "open_probability": 1.0},
            },
            "behaviour": {"p_share": p_share, "engagement_elasticity": 0.0},
        }
    )


def binary_tree_virality(height: int) -> float:
    """Closed form for the balanced binary tree of ``height`` (n = 2^(h+1) - 1 nodes).

    Wiener index W = sum over edges of s (n - s), s the size below the edge; at depth d
    there are 2^d edges with s = 2^(h-d+1) - 1, which sums to
    W = 2^(h+1) ((h - 2) 2^(h+1) + h + 4); virality = 2 W / (n (n - 1)).
    """
    n = 2 ** (height + 1) - 1
    w = 2 ** (height + 1) * ((height - 2) * 2 ** (height + 1) + height + 4)
    return 2 * w / (n * (n - 1))


@pytest.mark.parametrize("n", [2, 10, 500])
def test_engine_star_has_virality_2_n_minus_1_over_n(n: int) -> None:
    # the creator's n - 1 followers watch and nobody shares: the spread tree is the
    # upload plus n - 1 leaves, a star of n nodes
    g = nx.DiGraph([(0, v) for v in range(1, n)])
    r = simulate(tree_world(g, p_share=0.0), seed=1, graph=g)
    assert r.summary["views"] == n - 1
    assert r.summary["structural_virality"] == pytest.approx(2 * (n - 1) / n, rel=1e-12)


@pytest.mark.parametrize("n", [2, 3, 50, 300])
def test_engine_chain_has_virality_n_plus_1_over_3(n: int) -> None:
    # creator 0 -> 1 -> 2 -> ... -> n-1, every viewer shares: the spread tree is a chain of n nodes
    g = nx.DiGraph([(v, v + 1) for v in range(n - 1)])
    r = simulate(tree_world(g, p_share=1.0), seed=1, graph=g)
    assert r.summary["views"] == n - 1
    assert r.summary["cascade_depth"] == n - 2
    assert r.summary["structural_virality"] == pytest.approx((n + 1) / 3, rel=1e-12)


@pytest.mark.parametrize("height", [1, 2, 4, 9])
def test_engine_balanced_binary_tree_has_its_closed_form_virality(height: int) -> None:
    # heap layout: node i -> 2i + 1, 2i + 2; the creator is node 0, so the upload is the root
    n = 2 ** (height + 1) - 1
    g = nx.DiGraph([(i, c) for i in range(n) for c in (2 * i + 1, 2 * i + 2) if c < n])
    r = simulate(tree_world(g, p_share=1.0), seed=2, graph=g)
    assert r.summary["views"] == n - 1
    assert r.summary["structural_virality"] == pytest.approx(binary_tree_virality(height), rel=1e-12)
    if height <= 4:  # the closed form itself, against networkx
        assert binary_tree_virality(height) == pytest.approx(
            nx.average_shortest_path_length(nx.balanced_tree(2, height)), rel=1e-12
        )


# -- the moderation queue: M/M/c ---------------------------------------------------------------


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load a = lambda / mu < c."""
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail)


def queue_scenario(servers: int, arrivals_per_h: float, review_mean_min: float, upload_h: float) -> Scenario:
    """The video always goes to the human queue; other uploads arrive as a Poisson process.

    ``auto_approve_below = 0`` and ``auto_remove_above = 1`` put every classifier score
    in the doubtful band (human path); review times are exponential; background uploads
    arrive at ``arrivals_per_h`` from t = 0 into an empty queue, so the video is uploaded
    late enough (``upload_h``) for the queue to be in steady state. Nothing else happens:
    social mode, no followers.
    """
    return Scenario.model_validate(
        {
            "name": "mmc",
            "horizon_h": upload_h + 24.0,
            "population": {"users": 1_000, "topics": ["a"]},
            "creator": {"followers": 0},
            "video": {"topic": "a", "upload_h": upload_h},
            "platform": {
                "moderation": {
                    "auto_approve_below": 0.0,
                    "auto_remove_above": 1.0,
                    "moderators": servers,
                    "review_time_min": {"distribution": "exponential", "mean": review_mean_min},
                    "human_accuracy": 1.0,
                    "background_reviews_per_h": arrivals_per_h,
                },
                "push": {"mode": "social"},
            },
        }
    )


@pytest.mark.slow
def test_moderation_queue_wait_is_erlang_c() -> None:
    # c = 3 moderators, 3-minute exponential reviews (mu = 20 / h), lambda = 48 / h: rho = 0.8.
    # An upload at a fixed time sees the stationary queue (PASTA), so its wait is one draw of
    # the M/M/c waiting time: 0 with probability 1 - C, else Exp(c mu - lambda), where C is
    # Erlang C; E[Wq] = C / (c mu - lambda), Var[Wq] = C (2 - C) / (c mu - lambda)^2.
    # The queue relaxes in ~1 / (mu (sqrt(c) - sqrt(a))^2) = 1.5 h; the upload is at 6 h.
    c, lam, mean_min, runs = 3, 48.0, 3.0, 2_000
    mu = 60.0 / mean_min
    a = lam / mu
    big_c = erlang_c(c, a)
    rate = c * mu - lam
    wq = big_c / rate
    sc = queue_scenario(c, lam, mean_min, upload_h=6.0)
    records = [simulate(sc, seed=s).moderation for s in range(runs)]
    assert all(m["path"] == "human" and m["decision"] == "approved" for m in records)
    waits = np.array([m["queue_delay_h"] for m in records])
    se = math.sqrt(big_c * (2 - big_c) / rate**2 / runs)
    print(f"M/M/3: mean wait {waits.mean() * 60:.3f} min vs Erlang C {wq * 60:.3f} min (se {se * 60:.3f} min)")
    assert abs(waits.mean() - wq) < 4 * se
    # P(wait > 0) is C itself (4 binomial sd)
    waited = waits > 0
    print(f"M/M/3: P(wait > 0) = {waited.mean():.4f} vs C = {big_c:.4f}")
    assert abs(waited.mean() - big_c) < 4 * math.sqrt(big_c * (1 - big_c) / runs)
    # a positive wait is Exp(c mu - lambda): one-sample KS at ALPHA
    ks = stats.kstest(waits[waited], "expon", args=(0.0, 1.0 / rate))
    print(f"M/M/3: positive waits vs Exp({rate:.0f}/h): KS D = {ks.statistic:.4f}, p = {ks.pvalue:.3f}")
    assert ks.pvalue > ALPHA
    # review times are exponential with the configured mean (4 sd)
    reviews = np.array([m["review_h"] for m in records])
    assert abs(reviews.mean() - mean_min / 60) < 4 * (mean_min / 60) / math.sqrt(runs)
