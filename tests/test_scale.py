"""Platform scale: implicit populations against materialised ones and against sorting.

- the set of reached ids (hash set and byte mask) against Python's ``set``;
- the order-statistics ranking against the truth it replaces: draw every user's
  interests, sort, take the top (two-sample KS per order statistic);
- whole runs on a materialised and an implicit population of the same world
  agree in distribution on views, shares, stages reached and each stage's cohort
  interest (two-sample KS over seeds), and a materialised world with other tastes
  is told apart (the check can fail);
- the hash set changes nothing: a run with it is identical to a run with the byte mask;
  taking the lowest free ids (interchangeable users) agrees in distribution too;
- identities stay consistent: a user reached by the push, the Following feed and
  shares is one user, counted once;
- memory follows the users reached: 1.5e9 users run under a 1 GiB address-space limit,
  and the bundled ``platform_scale`` scenario reaches > 10^7 views through every stage.

ALPHA is the significance level of each goodness-of-fit test; seeds are fixed, so a
run either always passes or always fails.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from invariants import check_invariants
from paths import SCENARIOS_DIR
from scipy import stats

import viralsim.model.idset as idset
from viralsim import Scenario, load_scenario, simulate
from viralsim.model.idset import ByteMask, IdSet
from viralsim.model.population import ImplicitPopulation, MaterialisedPopulation, make_population
from viralsim.scenario import Population as PopulationConfig
from viralsim.scenario import representation

ALPHA = 0.001


# -- the set of reached ids -----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**40), max_size=400), max_size=10), st.booleans())
def test_id_sets_behave_like_a_python_set(batches: list[list[int]], mask: bool) -> None:
    s: IdSet | ByteMask = IdSet()
    if mask:  # a byte mask over a small range: fold the ids into it
        batches = [[x % 5000 for x in b] for b in batches]
        s = ByteMask(5000)
    truth: set[int] = set()
    for b in batches:
        ids = np.array(b, dtype=np.int64)
        assert s.contains(ids).tolist() == [x in truth for x in b]
        new = np.array(sorted(set(b) - truth), dtype=np.int64)
        s.add(np.random.default_rng(len(b)).permutation(new))
        truth.update(new.tolist())
        assert len(s) == len(truth)
    assert sorted(s.members().tolist()) == sorted(truth)


def test_first_occurrences_marks_each_ids_first_position() -> None:
    # against the definition (a Python set walked in order), small and huge ids (the latter
    # take the np.unique way), repeats dense and rare, reversed (strided) input
    rng = np.random.default_rng(8)
    for trial in range(200):
        k = int(rng.integers(0, 2_000))
        ids = rng.integers(0, int(rng.choice([3, 1_000, 2_400_000, 2**61])), k)
        if trial % 4 == 0:
            ids = ids[::-1]
        seen: set[int] = set()
        want = np.zeros(k, dtype=bool)
        for i, u in enumerate(ids.tolist()):
            want[i] = u not in seen
            seen.add(u)
        assert np.array_equal(idset.first_occurrences(ids), want)


def test_hash_set_grows_past_millions_and_stays_exact() -> None:
    rng = np.random.default_rng(3)
    s = IdSet()
    ids = np.unique(rng.integers(0, 1_500_000_000, 1_200_000))
    rng.shuffle(ids)
    for part in np.array_split(ids, 7):
        s.add(part)
    assert len(s) == len(ids)
    assert s.contains(ids).all()
    others = rng.integers(0, 1_500_000_000, 200_000)
    np.testing.assert_array_equal(s.contains(others), np.isin(others, ids))
    assert s.nbytes <= 8 * len(ids) / 0.25  # load never below 0.3 after a doubling: < 27 bytes a member


# -- order statistics against sorting a full sample ------------------------------------------------


def config(users: int, how: str, topics: int = 4, alpha: float = 0.3) -> PopulationConfig:
    return PopulationConfig(
        users=users, topics=[f"t{i}" for i in range(topics)], interest_concentration=alpha, representation=how
    )


def test_order_statistics_sampler_matches_sorting_every_user() -> None:
    # the top 60 of 6 000 users by interest in t0, taken in three calls (30, 20, 10): order
    # statistics of the implicit ranking vs the sorted Dirichlet sample of a materialised one
    n, seeds, picks = 6_000, 300, [0, 9, 29, 30, 59]
    mix = {"t0": 0.7, "t2": 0.3}  # the video is mostly about the ranking topic
    implicit: list[np.ndarray] = []
    sorted_: list[np.ndarray] = []
    mixed: list[tuple[np.ndarray, np.ndarray]] = []
    for seed in range(seeds):
        parts = []
        for how, out in (("implicit", implicit), ("materialised", sorted_)):
            pop = make_population(config(n, how), mix, rng=np.random.default_rng(seed))
            pop.set_ranking_topic("t0")
            users, keys = zip(*(pop.next_by_affinity(k) for k in (30, 20, 10)), strict=True)
            u, key = np.concatenate(users), np.concatenate(keys)
            assert len(np.unique(u)) == 60
            out.append(pop.ranking_interest(u, key))
            parts.append(pop.interest(u, key, rng=np.random.default_rng(10_000 + seed)))
        mixed.append((parts[0], parts[1]))
    a, b = np.array(implicit), np.array(sorted_)
    assert np.all(np.diff(a, axis=1) <= 1e-12) and np.all(np.diff(b, axis=1) <= 1e-6)  # descending
    for j in picks:
        p = stats.ks_2samp(a[:, j], b[:, j]).pvalue
        assert p > ALPHA, (j, p)
    # the interest in the video's whole mixture (ranking topic and the conditional rest)
    p = stats.ks_2samp(np.concatenate([m[0] for m in mixed]), np.concatenate([m[1] for m in mixed])).pvalue
    assert p > ALPHA, p
    # and the check has power: the sorted sample of a population with other tastes is told apart
    other = []
    for seed in range(seeds):
        pop = MaterialisedPopulation(config(n, "materialised", alpha=0.36), mix, rng=np.random.default_rng(seed))
        pop.set_ranking_topic("t0")
        u, key = pop.next_by_affinity(60)
        other.append(pop.ranking_interest(u, key)[29])
    assert stats.ks_2samp(a[:, 29], np.array(other)).pvalue < ALPHA


def test_users_reached_outside_the_ranking_are_not_ranked_again() -> None:
    for how in ("implicit", "materialised"):
        pop = make_population(config(20_000, how), {"t0": 1.0}, rng=np.random.default_rng(1))
        pop.set_ranking_topic("t0")
        followers = np.random.default_rng(2).choice(20_000, 5_000, replace=False)
        pop.reach(followers)
        ranked = np.concatenate([pop.next_by_affinity(k)[0] for k in (200, 1_000, 5_000)])
        assert not np.isin(ranked, followers).any()
        assert len(np.unique(ranked)) == len(ranked) == 6_200
        assert pop.reached_count == 11_200 and pop.available == 20_000 - 11_200


def test_auto_representation_is_by_size() -> None:
    assert representation(config(50_000, "auto")) == "materialised"
    assert representation(config(50_001, "auto")) == "implicit"
    assert representation(config(10, "implicit")) == "implicit"
    assert isinstance(
        make_population(config(10**9, "auto"), {"t0": 1.0}, rng=np.random.default_rng(0)), ImplicitPopulation
    )


# -- whole runs: materialised vs implicit -----------------------------------------------------------


def world(users: int, how: str, followers: int = 400, graph: str = "random_powerlaw", **population: Any) -> Scenario:
    """A world where the push stops at different stages from seed to seed, with shares and followers."""
    return Scenario.model_validate(
        {
            "name": f"equivalence_{how}",
            "horizon_h": 96,
            "social_graph": {"kind": graph, "mean_following": 20},
            "population": {
                "users": users,
                "topics": ["a", "b", "c", "d"],
                "interest_concentration": 0.3,
                "representation": how,
                **population,
            },
            "creator": {"followers": followers},
            "video": {"topic": "a", "appeal": 0.7, "duration_s": 20},
            "platform": {
                "recognition": {"accuracy": 1.0},
                "push": {
                    "mode": "hybrid",
                    "cohorts": [200, 1_000, 5_000, 20_000],
                    "delivery_batch": 5_000,
                    "thresholds": {"completion": 0.1},
                },
                "sharing": {"recipients_per_share": 4, "open_probability": 0.6},
            },
            "behaviour": {"p_share": 0.02, "interest_floor": 0.3},
        }
    )


def outcomes(sc: Scenario, seeds: range) -> dict[str, np.ndarray]:
    rows: dict[str, list[float]] = {"views": [], "shares": [], "stages": [], "share_views": []}
    interest: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for seed in seeds:
        r = simulate(sc, seed=seed, record="summary")
        s = r.summary
        rows["views"].append(s["views"])
        rows["shares"].append(s["shares"])
        rows["stages"].append(s["stages_reached"])
        rows["share_views"].append(s["views_by_source"]["share"])
        for st_ in r.stages:
            if st_["stage"] in interest:
                interest[st_["stage"]].append(st_["cohort_interest"])
    out = {k: np.array(v) for k, v in rows.items()}
    out.update({f"interest_{k}": np.array(v) for k, v in interest.items()})
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("users", "ids", "runs"), [(100_000, "random", 150), (100_000, "lowest_first", 150), (1_000_000, "random", 60)]
)
def test_materialised_and_implicit_populations_agree_in_distribution(
    users: int, ids: str, runs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "random": below 2^24 users an implicit population takes random free ids (byte mask);
    # "lowest_first": above it, with an annealed graph, the push takes the lowest free ids
    seeds = range(runs)
    m = outcomes(world(users, "materialised"), seeds)
    if ids == "lowest_first":
        monkeypatch.setattr(idset, "MASK_MAX_IDS", 0)
    i = outcomes(world(users, "implicit"), range(1_000, 1_000 + len(seeds)))
    # the world is one where the outcome varies: the push stops at different stages
    assert len(np.unique(m["stages"])) >= 2 and len(np.unique(i["stages"])) >= 2
    assert np.median(m["shares"]) > 10
    for key in m:
        p = stats.ks_2samp(m[key], i[key]).pvalue
        assert p > ALPHA, (key, p, np.median(m[key]), np.median(i[key]))
    # stage 1's cohort: the top 200 by interest, the same in both
    assert abs(np.mean(m["interest_1"]) - np.mean(i["interest_1"])) < 0.01
    if users > 100_000:
        return
    # negative control: tastes a little broader (alpha 0.36 instead of 0.3) are told apart
    wider = outcomes(world(users, "materialised", interest_concentration=0.36), range(60))
    assert stats.ks_2samp(wider["interest_1"], i["interest_1"]).pvalue < ALPHA


def test_hash_set_gives_the_same_run_as_the_byte_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    # an explicit graph: ids are its nodes, so the hash set keeps drawing random free ids
    sc = world(200_000, "implicit", graph="erdos_renyi")
    masked = [simulate(sc, seed=s) for s in range(3)]
    monkeypatch.setattr(idset, "MASK_MAX_IDS", 0)  # every implicit population now hashes its ids
    hashed = [simulate(sc, seed=s) for s in range(3)]
    for a, b in zip(masked, hashed, strict=True):
        assert a.summary == b.summary
        for col in a.views:
            np.testing.assert_array_equal(a.views[col], b.views[col])


@pytest.mark.parametrize("how", ["implicit", "hashed", "lowest_first", "materialised"])
def test_a_user_reached_several_ways_is_one_user(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a small world where the push, 5 000 followers and heavy sharing all reach the same people
    if how in ("hashed", "lowest_first"):
        monkeypatch.setattr(idset, "MASK_MAX_IDS", 0)
    graph = "erdos_renyi" if how == "hashed" else "random_powerlaw"
    sc = world(30_000, "materialised" if how == "materialised" else "implicit", followers=5_000, graph=graph)
    for seed in range(3):
        r = simulate(sc, seed=seed)
        users = r.views["user"]
        assert len(np.unique(users)) == len(users) == r.summary["unique_viewers"] == r.summary["views"]
        by = r.summary["views_by_source"]
        assert min(by.values()) > 0  # all three ways reached someone
        delivered = sum(r.summary["deliveries"].values())
        assert r.summary["users_materialised"] == (30_000 if how == "materialised" else delivered)
        assert delivered <= 30_000


def test_users_in_memory_follow_the_users_reached_not_the_population() -> None:
    counts = {}
    for users in (10**5, 10**7, 1_500_000_000):
        sc = world(users, "implicit")
        r = simulate(sc, seed=4, record="summary")
        assert r.summary["population"] == users
        counts[users] = (r.summary["users_materialised"], sum(r.summary["deliveries"].values()))
    for materialised, delivered in counts.values():
        assert materialised == delivered < 40_000


# -- whole processes ------------------------------------------------------------------------------


def run_cli(*args: str | Path, limit_as: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "viralsim", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limit,
        timeout=600,
        check=False,
    )


def test_a_billion_and_a_half_users_fit_under_one_gib(tmp_path: Path) -> None:
    text = (SCENARIOS_DIR / "platform_scale.toml").read_text(encoding="utf-8")
    text = text.replace(
        "cohorts = [300, 3_000, 15_000, 100_000, 500_000, 2_000_000, 5_000_000, 12_000_000]",
        "cohorts = [300, 3_000, 15_000, 100_000]",
    )
    path = tmp_path / "small_push.toml"
    path.write_text(text, encoding="utf-8")
    done = run_cli("run", path, "--json", limit_as=2**30)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["population"] == 1_500_000_000 and out["representation"] == "implicit"
    assert out["stages_passed"] == 4 and out["views"] > 70_000
    assert out["users_materialised"] < 200_000
    assert 0 < out["peak_memory_mib"] < 1024


@pytest.mark.slow
def test_platform_scale_scenario_goes_platform_wide() -> None:
    sc = load_scenario(SCENARIOS_DIR / "platform_scale.toml")
    assert sc.population.users == 1_500_000_000 and representation(sc.population) == "implicit"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = simulate(sc)  # with the views log: every invariant, on 16.5M views
    check_invariants(r)
    s = r.summary
    assert s["views"] >= 10_000_000
    assert s["stages_passed"] == len(sc.platform.push.cohort_sizes()) == 8
    assert s["unique_viewers"] == s["views"]
    assert s["users_materialised"] == sum(s["deliveries"].values()) < 25_000_000
    # each wider cohort reaches further down the interest ranking
    interest = [row["cohort_interest"] for row in r.stages]
    assert all(a > b for a, b in zip(interest, interest[1:], strict=False))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 3 * 1024  # with the views log (the CLI keeps it only for --out)


def test_lowest_first_takes_free_ids_in_order_around_random_ones() -> None:
    taken = idset.LowestFirst(1_000)
    taken.add(np.array([0, 2, 3, 7, 500]))
    np.testing.assert_array_equal(taken.take_lowest(4), [1, 4, 5, 6])
    np.testing.assert_array_equal(
        taken.contains(np.array([0, 1, 6, 7, 8, 500, 999])), [True, True, True, True, False, True, False]
    )
    np.testing.assert_array_equal(taken.take_lowest(3), [8, 9, 10])
    assert len(taken) == 12 and sorted(taken.members().tolist()) == [*range(11), 500]


# -- sorting views by time at scale ----------------------------------------------------------------


@pytest.mark.parametrize(("n", "pairs"), [(2, 1), (3, 1), (57, 2), (1_000, 20), (300_000, 12), (300_000, 6_000)])
def test_time_order_is_a_stable_argsort_even_with_views_closer_than_its_quantum(n: int, pairs: int) -> None:
    # a few near-ties are re-sorted within their quantum, many send it to a plain argsort
    from viralsim.views import time_order

    rng = np.random.default_rng(n)
    times = rng.random(n) * 168.0
    times[rng.integers(0, n, n // 3)] = 17.25  # exact ties keep their append order
    close = rng.integers(0, n, pairs)  # neighbours 1e-13 h apart: closer than any quantum
    times[close] = times[close - 1] + 1e-13
    times[-1] = 168.0  # the largest time maps to the top of the key range
    order, sorted_h = time_order(times)
    np.testing.assert_array_equal(order, np.argsort(times, kind="stable"))
    np.testing.assert_array_equal(sorted_h, np.sort(times))
