"""The shared push loop (:func:`viralsim.engines.push.push`) driven over a tiny scripted traffic pool.

The pool below has no randomness: every delivered user watches ``delay_h`` after the
delivery, and a stage's views complete the video at a scripted rate (exactly, over
every ten views). What the tests check is the loop's own sequencing: batches and
their pacing, early stops between batches, the evaluation time, the KPI gate, the
stage rows, and why and when the push stopped; and the optional cohort scaling
(``pool_spread``, ``graded``), including that without it nothing changes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import simpy

from viralsim.engines.moderation import Proc
from viralsim.engines.push import TrafficPool, pool_factor, push, scaled_size
from viralsim.model.behaviour import ACTION_COLUMNS
from viralsim.model.kpi import GateResult, evaluate_counts, gate_margin
from viralsim.records import StageRecord
from viralsim.scenario import KPI_NAMES, Push, Thresholds


class ScriptedPool:
    """``population`` users; stage ``s``'s views complete at rate ``completion[s]``, each ``delay_h`` after delivery."""

    def __init__(
        self,
        cfg: Push,
        population: int,
        completion: dict[int, float],
        delay_h: float = 0.5,
        review_removes_after: int | None = None,
    ) -> None:
        self.cfg = cfg
        self.video: int | None = 7  # carried by every stage row
        self.upload_h = 0.0  # stage rows count hours from it
        self.left = population
        self.completion = completion
        self.delay_h = delay_h
        self.review_removes_after = review_removes_after
        self.views: dict[int, list[tuple[float, bool]]] = {}  # stage -> (time, completed)
        self.deliveries: list[tuple[int, float, int]] = []  # (stage, time, delivered)
        self.opened: list[int] = []
        self.rows: list[StageRecord] = []
        self.stop_reason: str | None = None
        self.stop_h: float | None = None
        self.removed = False

    def available(self) -> bool:
        return self.left > 0

    def open_stage(self, stage: int) -> None:
        self.opened.append(stage)
        self.views[stage] = []

    def deliver(self, k: int, stage: int, t_h: float) -> int:
        sent = min(k, self.left)
        self.left -= sent
        views = self.views[stage]
        p = self.completion[stage]
        for _ in range(sent):
            views.append((t_h + self.delay_h, (len(views) % 10) < round(10 * p)))
        self.deliveries.append((stage, t_h, sent))
        return sent

    def evaluate(self, stage: int, at_h: float) -> GateResult:
        seen = [done for t, done in self.views[stage] if t <= at_h]
        sums = {"completed": float(sum(seen)), "watch_s": 0.0, **dict.fromkeys(ACTION_COLUMNS, 0.0)}
        return evaluate_counts(len(seen), sums, 10.0, self.cfg.thresholds_for(stage), self.cfg.score_weights)

    def wait_for_evaluation(self, env: simpy.Environment, stage: int, delivered: int, last_h: float) -> Proc:
        need = math.ceil(round(self.cfg.evaluate_after_fraction * delivered, 9))
        times = sorted(t for t, _ in self.views[stage])
        window = last_h + self.cfg.eval_window_h
        t_eval = max(env.now, min(times[need - 1], window) if 1 <= need <= len(times) else window)
        yield env.timeout(t_eval - env.now)
        return t_eval

    def cohort_interest(self, stage: int) -> float:
        return 0.5 * sum(sent for s, _, sent in self.deliveries if s == stage)

    def record_stage(self, row: StageRecord) -> None:
        self.rows.append(row)

    def stop(self, reason: str, at_h: float) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stop_h = reason, at_h

    def taken_down(self) -> bool:
        return self.removed

    def after_stage(self, env: simpy.Environment, stage: int) -> Proc:
        if stage != self.review_removes_after:
            return False
        yield env.timeout(2.0)  # a review takes two hours and removes the video
        self.removed = True
        self.stop("removed_at_stage_review", env.now)
        return True


def run(pool: ScriptedPool, until: float = 1000.0) -> ScriptedPool:
    env = simpy.Environment()
    typed: TrafficPool = pool  # the scripted pool is a TrafficPool (checked by mypy)
    env.process(push(env, typed, pool.cfg))
    env.run(until=until)
    return pool


def test_stage_rows_count_hours_after_the_upload() -> None:
    # the push of a video uploaded at 3 h on the simulation clock: its rows read as if it started at 0,
    # while the stop the pool is told of stays on the clock (the summary converts it)
    pool = ScriptedPool(config(), 10_000, {1: 0.5, 2: 0.5, 3: 0.5})
    pool.upload_h = 3.0
    env = simpy.Environment()

    def later() -> Any:
        yield env.timeout(3.0)
        yield from push(env, pool, pool.cfg)

    env.process(later())
    env.run(until=1000.0)
    plain = run(ScriptedPool(config(), 10_000, {1: 0.5, 2: 0.5, 3: 0.5}))
    assert [(r["start_h"], r["evaluated_h"]) for r in pool.rows] == [
        (r["start_h"], r["evaluated_h"]) for r in plain.rows
    ]
    assert pool.rows[0]["start_h"] == 0.0 and pool.rows[0]["evaluated_h"] == 0.5
    assert pool.stop_h == 3.0 + plain.rows[-1]["evaluated_h"]


def config(**kw: Any) -> Push:
    base: dict[str, Any] = {
        "cohorts": [100, 400, 1600],
        "delivery_batch": 1000,
        "batch_interval_h": 1.0,
        "evaluate_after_fraction": 0.5,
        "eval_window_h": 24.0,
        "min_views_to_evaluate": 100,
        "thresholds": Thresholds(completion=0.3),
    }
    return Push(**{**base, **kw})


def test_all_stages_pass_and_rows_hold_the_gate() -> None:
    pool = run(ScriptedPool(config(), 10_000, {1: 0.5, 2: 0.5, 3: 0.5}))
    assert pool.stop_reason == "all_stages_passed"
    assert [r["stage"] for r in pool.rows] == [1, 2, 3]
    # stage 2 (400 users) is delivered in one batch at stage 1's evaluation; half watched 0.5 h later
    first, second = pool.rows[0], pool.rows[1]
    assert first["start_h"] == 0.0 and first["evaluated_h"] == 0.5
    assert second["start_h"] == 0.5 and second["evaluated_h"] == 1.0
    assert second["delivered"] == 400 and second["views_evaluated"] == 400
    assert second["completion"] == pytest.approx(0.5)
    assert second["cohort_interest"] == pytest.approx(0.5)
    assert second["threshold_completion"] == 0.3 and second["threshold_like"] is None
    assert second["passed"] and second["failed"] == "" and not second["stopped_mid_stage"]
    assert isinstance(first, StageRecord) and first["video"] == second.video == 7  # the pool's video
    assert set(first) == {
        "video",
        "stage",
        "cohort_size",
        "delivered",
        "cohort_interest",
        "start_h",
        "evaluated_h",
        "views_evaluated",
        *KPI_NAMES,
        "score",
        *(f"threshold_{k}" for k in (*KPI_NAMES, "score")),
        "passed",
        "failed",
        "stopped_mid_stage",
    }
    # stage 3 (1600) goes out in two batches, at 1 h and 2 h (the check at 2 h passes on the first
    # batch's views); half the cohort watched at 1.5 h already, but a stage is not evaluated before
    # its last delivery
    assert [(s, t) for s, t, _ in pool.deliveries if s == 3] == [(3, 1.0), (3, 2.0)]
    assert pool.stop_h == pool.rows[-1]["evaluated_h"] == 2.0


def test_stops_at_the_first_failing_gate() -> None:
    pool = run(ScriptedPool(config(), 10_000, {1: 0.5, 2: 0.1, 3: 0.9}))
    assert pool.stop_reason == "kpi_below_threshold:completion"
    assert pool.opened == [1, 2]  # stage 3 never starts
    assert [r["passed"] for r in pool.rows] == [True, False]
    assert pool.rows[1]["failed"] == "completion"
    assert pool.rows[1]["completion"] == pytest.approx(0.1)
    assert pool.stop_h == pool.rows[1]["evaluated_h"] == 1.0


def test_a_failing_check_between_batches_stops_mid_stage() -> None:
    # stage 1: 500 users in batches of 100 an hour apart; the first batch's 100 views are in by
    # the check at 1 h, enough to evaluate, and they fail: no more batches
    cfg = config(cohorts=[500, 2000], delivery_batch=100, min_views_to_evaluate=100)
    pool = run(ScriptedPool(cfg, 10_000, {1: 0.2, 2: 0.9}))
    assert pool.deliveries == [(1, 0.0, 100)]
    row = pool.rows[0]
    assert row["stopped_mid_stage"] and not row["passed"]
    assert row["delivered"] == 100 and row["views_evaluated"] == 100
    assert row["evaluated_h"] == 1.0
    assert pool.stop_reason == "kpi_below_threshold:completion" and pool.stop_h == 1.0


def test_too_few_views_between_batches_do_not_stop_the_stage() -> None:
    # failing views, but a check needs 1000: every batch goes out, the stage is evaluated once all watched
    cfg = config(cohorts=[500, 2000], delivery_batch=100, min_views_to_evaluate=1000, evaluate_after_fraction=1.0)
    pool = run(ScriptedPool(cfg, 10_000, {1: 0.0, 2: 0.9}, delay_h=1.5))
    assert [t for _, t, _ in pool.deliveries] == [0.0, 1.0, 2.0, 3.0, 4.0]
    row = pool.rows[0]
    assert not row["stopped_mid_stage"] and row["delivered"] == 500
    assert row["evaluated_h"] == 5.5  # every view in: the last batch's, 1.5 h after 4 h
    assert pool.stop_reason == "kpi_below_threshold:completion"


def test_evaluation_waits_for_the_fraction_or_the_window() -> None:
    # the views come 30 h after delivery, past the 24 h window: evaluated at the window with no views
    pool = run(ScriptedPool(config(eval_window_h=24.0), 10_000, {1: 0.9, 2: 0.9, 3: 0.9}, delay_h=30.0))
    row = pool.rows[0]
    assert row["evaluated_h"] == 24.0 and row["views_evaluated"] == 0
    assert math.isnan(row["completion"]) and not row["passed"]  # no views fail every set threshold
    assert pool.stop_reason == "kpi_below_threshold:completion"


def test_population_exhausted() -> None:
    # 250 users: stage 1 takes 100, stage 2 gets the last 150 of its 400 and passes; stage 3 finds nobody
    pool = run(ScriptedPool(config(), 250, {1: 0.5, 2: 0.5, 3: 0.5}))
    assert [r["delivered"] for r in pool.rows] == [100, 150]
    assert pool.rows[1]["cohort_size"] == 400 and pool.rows[1]["passed"]
    assert pool.rows[1]["evaluated_h"] == 1.0  # half of the 150 delivered watched
    assert pool.opened == [1, 2]
    assert pool.stop_reason == "population_exhausted" and pool.stop_h == 1.0


def test_a_batch_cut_short_ends_the_stage_early() -> None:
    # 250 users, stage 1 of 500 in batches of 100: the third batch gets 50, and no fourth is sent
    cfg = config(cohorts=[500, 2000], delivery_batch=100, min_views_to_evaluate=10_000)
    pool = run(ScriptedPool(cfg, 250, {1: 0.5, 2: 0.5}))
    assert pool.deliveries == [(1, 0.0, 100), (1, 1.0, 100), (1, 2.0, 50)]
    # half of the 250 watched by 1.5 h, but the stage is evaluated at its last delivery, not before
    assert pool.rows[0]["delivered"] == 250 and pool.rows[0]["evaluated_h"] == 2.0
    assert pool.stop_reason == "population_exhausted"


def test_the_after_stage_hook_can_end_the_push() -> None:
    pool = run(ScriptedPool(config(), 10_000, {1: 0.5, 2: 0.5, 3: 0.5}, review_removes_after=1))
    assert [r["stage"] for r in pool.rows] == [1]
    assert pool.opened == [1]
    assert pool.stop_reason == "removed_at_stage_review" and pool.stop_h == 2.5  # evaluated at 0.5, reviewed 2 h


def test_a_take_down_between_batches_ends_the_push_silently() -> None:
    cfg = config(cohorts=[500, 2000], delivery_batch=100, min_views_to_evaluate=10_000)
    pool = ScriptedPool(cfg, 10_000, {1: 0.5, 2: 0.5})
    env = simpy.Environment()

    def take_down(env: simpy.Environment) -> Proc:
        yield env.timeout(1.5)
        pool.removed = True

    env.process(take_down(env))
    env.process(push(env, pool, cfg))
    env.run()
    assert [t for _, t, _ in pool.deliveries] == [0.0, 1.0]  # the check at 2 h finds it taken down
    assert pool.rows == [] and pool.stop_reason is None


# -- optional cohort scaling: a per-video pool factor and a graded promotion ----------------------


def test_gate_margin_is_the_least_ratio_of_a_kpi_to_its_threshold() -> None:
    sums = {"completed": 6.0, "watch_s": 0.0, **dict.fromkeys(ACTION_COLUMNS, 0.0), "liked": 1.5}
    both = Thresholds(completion=0.3, like=0.1)
    gate = evaluate_counts(10, sums, 10.0, both, Push().score_weights)
    assert gate.passed and gate_margin(gate, both) == pytest.approx(1.5)  # like 0.15 / 0.1; completion 0.6 / 0.3 = 2
    assert gate_margin(gate, Thresholds(completion=0.3)) == pytest.approx(2.0)
    assert gate_margin(gate, Thresholds(completion=0.3, like=0.0)) == pytest.approx(2.0)  # a zero threshold: no ratio
    assert gate_margin(gate, Thresholds()) == math.inf
    none = evaluate_counts(0, sums, 10.0, both, Push().score_weights)
    assert math.isnan(gate_margin(none, both))


def test_a_graded_push_scales_the_next_cohort_by_the_margin_up_to_the_cap() -> None:
    # stage 1 completes 60 % against a threshold of 30 %: margin 2; stage 2 clears it exactly: margin 1
    pool = run(ScriptedPool(config(graded=1.0), 10_000, {1: 0.6, 2: 0.3, 3: 0.5}))
    assert [r["cohort_size"] for r in pool.rows] == [100, 800, 1600]
    assert [r["delivered"] for r in pool.rows] == [100, 800, 1600]
    capped = run(ScriptedPool(config(graded=2.0, graded_cap=3.0), 10_000, {1: 0.6, 2: 0.3, 3: 0.5}))
    assert [r["cohort_size"] for r in capped.rows] == [100, 1200, 1600]  # 2 ** 2 = 4, capped at 3


def test_a_pool_spread_scales_every_cohort_of_the_video_by_one_lognormal_factor() -> None:
    cfg = config(pool_spread=0.8)
    z = np.random.default_rng(5).standard_normal()
    pool = ScriptedPool(cfg, 10_000, {1: 0.5, 2: 0.5, 3: 0.5})
    env = simpy.Environment()
    env.process(push(env, pool, cfg, np.random.default_rng(5)))
    env.run(until=1000.0)
    factor = math.exp(0.8 * z)
    assert [r["cohort_size"] for r in pool.rows] == [round(s * factor) for s in (100, 400, 1600)]
    # over many videos the factor is log-normal: median 1, log-sd pool_spread
    rng = np.random.default_rng(6)
    logs = np.log([pool_factor(cfg, rng) for _ in range(4000)])
    assert abs(np.median(logs)) < 0.06 and np.std(logs) == pytest.approx(0.8, rel=0.05)
    assert scaled_size(100, 1e-9) == 1  # a pool has at least one user
    with pytest.raises(ValueError, match="random generator"):
        pool_factor(cfg, None)


def test_without_pool_spread_and_graded_the_cohorts_are_the_listed_ones_and_nothing_is_drawn() -> None:
    rng = np.random.default_rng(9)
    state = rng.bit_generator.state
    cfg = config()
    plain = run(ScriptedPool(cfg, 10_000, {1: 0.6, 2: 0.3, 3: 0.5}))
    given = ScriptedPool(cfg, 10_000, {1: 0.6, 2: 0.3, 3: 0.5})
    env = simpy.Environment()
    env.process(push(env, given, cfg, rng))
    env.run(until=1000.0)
    assert given.rows == plain.rows and [r["cohort_size"] for r in given.rows] == [100, 400, 1600]
    assert rng.bit_generator.state == state  # no draw: the runs of every existing scenario stay the same
    assert pool_factor(cfg, None) == 1.0


def test_both_engines_draw_the_pool_factor_from_the_stream_push_pool_size() -> None:
    from paths import TINY

    from viralsim import load_scenario, simulate
    from viralsim.rng import Streams

    sc = load_scenario(TINY).derive({"platform": {"push": {"pool_spread": 0.5}}})
    listed = sc.platform.push.cohort_sizes()
    factor = math.exp(0.5 * Streams(3)["push.pool_size"].standard_normal())
    stages = simulate(sc, seed=3).stages
    assert [r["cohort_size"] for r in stages] == [round(s * factor) for s in listed[: len(stages)]]
    market = sc.derive(
        {
            "engine": "agents",
            "horizon_h": 36,
            "population": {"users": 3000},
            "social_graph": {"kind": "random_powerlaw", "mean_following": 20},
            "marketplace": {"creators": 20, "uploads_per_day": 40},
            "platform": {"push": {"cohorts": [50, 500]}},
        }
    )
    first = [r["cohort_size"] for r in simulate(market, seed=3).stages if r["stage"] == 1]
    # each video its own pool: log(size / 50) spreads with sd ~0.5 (32 videos: within +-40 %)
    assert len(first) >= 20 and 0.3 < np.std(np.log(np.divide(first, 50))) < 0.7
    assert 50 * math.exp(-0.5 * 4) < min(first) and max(first) < 50 * math.exp(0.5 * 4)
    fixed = market.derive({"platform": {"push": {"pool_spread": 0.0}}})
    assert {r["cohort_size"] for r in simulate(fixed, seed=3).stages if r["stage"] == 1} == {50}
