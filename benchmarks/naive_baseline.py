"""The naive baseline: the bees_bike model written the obvious, per-object way.

This is the yardstick for viralsim's performance design (docs/design.md §3.1). It runs
the *same model* as ``viralsim run scenarios/bees_bike.toml`` -- the same
parameters, read from the same scenario file, the same distributions -- but the
way one would first write it:

- one Python ``User`` object per member of the population, each with its own
  interests (a Dirichlet draw), sessions per day, time zone and action
  propensities, drawn one user at a time;
- the platform's ranking is a Python sort of all users by interest in the
  recognised topic;
- one SimPy process per delivered viewer, which waits for the viewer's next
  session (drawn by thinning the diurnal profile, one exponential at a time)
  and then draws the view's outcome (a Beta watch fraction and one Bernoulli
  per action) with scalar calls on a numpy ``Generator`` (no global random);
- one ``View`` object per view; the staged push and its KPI gate are plain
  Python loops over per-stage tallies that every viewer process updates.

Only the scenario *file* is read with viralsim (``load_scenario``, for the
parameters and their defaults); nothing of viralsim's engine is used.

Usage::

    python benchmarks/naive_baseline.py [scenarios/bees_bike.toml] [--seed 1] [--json]

It takes tens of seconds and about a gigabyte; ``benchmarks/run.py`` times it.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from viralsim.io.scenario_file import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = ("like", "comment", "share", "follow", "profile_click")
Proc = Generator[simpy.Event, Any, Any]
KPIS = ("completion", "watch_fraction", "like", "comment", "share", "follow", "profile_click")


class User:
    """One member of the population, with everything about them drawn up front."""

    __slots__ = ("interests", "propensity", "reached", "sessions_per_h", "tz_h", "uid")

    def __init__(self, uid: int, sc: Any, rng: np.random.Generator, tz: list[float], tz_p: list[float]) -> None:
        pop = sc.population
        self.uid = uid
        shares = rng.dirichlet([pop.interest_concentration] * len(pop.topics))
        self.interests = {topic: float(x) for topic, x in zip(pop.topics, shares, strict=True)}
        spd = pop.sessions_per_day
        self.sessions_per_h = spd.median * math.exp(spd.spread * rng.standard_normal()) / 24.0
        self.tz_h = tz[int(rng.choice(len(tz), p=tz_p))] if len(tz) > 1 else tz[0]
        s = pop.propensity_spread
        self.propensity = {a: math.exp(s * rng.standard_normal() - s * s / 2) for a in ACTIONS}
        self.reached = False


class View:
    """One view of the video."""

    __slots__ = ("actions", "completed", "parent", "source", "stage", "time_h", "user", "vid", "watch_s")

    def __init__(self, vid: int, user: User, time_h: float, source: str, stage: int, parent: int) -> None:
        self.vid = vid
        self.user = user
        self.time_h = time_h
        self.source = source
        self.stage = stage
        self.parent = parent
        self.watch_s = 0.0
        self.completed = False
        self.actions: dict[str, bool] = {}


class StageTally:
    """Running totals of one push stage, updated by every viewer process of the stage."""

    def __init__(self, env: simpy.Environment) -> None:
        self.views = 0
        self.completed = 0
        self.watch_s = 0.0
        self.actions = dict.fromkeys(ACTIONS, 0)
        self.target: int | None = None  # views that trigger the stage's evaluation
        self.reached_target = env.event()


class NaiveWorld:
    """The whole simulation: users, the ranking, the views, and the SimPy processes."""

    def __init__(self, sc: Any, seed: int) -> None:
        self.sc = sc
        self.rng = np.random.default_rng(seed)
        self.env = simpy.Environment()
        pop = sc.population
        tz = list(pop.timezone_offsets_h)
        weights = pop.timezone_weights or [1.0] * len(tz)
        tz_p = [w / sum(weights) for w in weights]
        self.users = [User(i, sc, self.rng, tz, tz_p) for i in range(pop.users)]
        self.video_mix = sc.video.mix()
        self.p_action = {a: getattr(sc.behaviour, f"p_{a}") for a in ACTIONS}
        # the diurnal profile as a step function of the local hour, normalised to mean 1
        w = [x + 1e-9 for x in pop.diurnal_profile]
        self.diurnal = [x * 24.0 / sum(w) for x in w]
        self.diurnal_max = max(self.diurnal)
        self.views: list[View] = []
        self.deliveries = {"for_you": 0, "following": 0, "share": 0}
        self.stages: list[dict[str, Any]] = []
        self.tallies: dict[int, StageTally] = {}
        self.stop_reason: str | None = None
        self.stop_h: float | None = None
        self.recognised: str | None = None
        self.ranking: list[User] = []
        self.cursor = 0
        self.moderation: dict[str, Any] = {}

    # -- helpers ---------------------------------------------------------------------------
    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_h = self.env.now

    def next_session(self, user: User, now: float) -> float:
        """The user's next session after ``now``: thinning of the diurnal Poisson process."""
        rng = self.rng
        top = user.sessions_per_h * self.diurnal_max
        t = now
        while True:
            t += rng.exponential(1.0 / top)
            hour = int((t + user.tz_h) % 24.0)
            if rng.random() * self.diurnal_max < self.diurnal[hour]:
                return t

    def deliver(self, user: User, source: str, watch_probability: float, stage: int = 0, parent: int = -1) -> bool:
        """Put the video in one user's feed (once per user); start their viewer process."""
        if user.reached:
            return False
        user.reached = True
        self.deliveries[source] += 1
        if self.rng.random() < watch_probability:
            self.env.process(self.viewer(user, source, stage, parent))
        return True

    # -- processes -------------------------------------------------------------------------
    def viewer(self, user: User, source: str, stage: int, parent: int) -> Proc:
        """One viewer: wait for their next session, watch, maybe act, maybe share."""
        env, rng, sc = self.env, self.rng, self.sc
        when = self.next_session(user, env.now)
        if when > sc.horizon_h:
            return
        yield env.timeout(when - env.now)
        video, b = sc.video, sc.behaviour
        p_action = self.p_action
        view = View(len(self.views), user, env.now, source, stage, parent)
        self.views.append(view)
        interest = sum(weight * user.interests[topic] for topic, weight in self.video_mix.items())
        e = video.appeal * (b.interest_floor + (1.0 - b.interest_floor) * interest)
        e = e * (1.0 - b.novelty_weight * (1.0 - video.originality)) * (1.0 + video.trend_boost)
        e = min(max(e, 0.0), 1.0)
        mu = b.watch_fraction_min + (b.watch_fraction_max - b.watch_fraction_min) * e
        mu = mu * min(1.0, (b.reference_duration_s / video.duration_s) ** b.duration_elasticity)
        mu = min(max(mu, 1e-3), 1.0 - 1e-3)
        frac = rng.beta(mu * b.watch_concentration, (1.0 - mu) * b.watch_concentration)
        view.watch_s = frac * video.duration_s
        view.completed = bool(frac >= b.completion_at_fraction)
        lift = (e / 0.5) ** b.engagement_elasticity
        for action in ACTIONS:
            p = p_action[action] * user.propensity[action] * lift
            view.actions[action] = bool(rng.random() < p)
        if stage:
            tally = self.tallies[stage]
            tally.views += 1
            tally.completed += view.completed
            tally.watch_s += view.watch_s
            for action in ACTIONS:
                tally.actions[action] += view.actions[action]
            if tally.target is not None and tally.views >= tally.target and not tally.reached_target.triggered:
                tally.reached_target.succeed()
        if view.actions["share"] and sc.platform.push.mode != "content":
            sharing = sc.platform.sharing
            n = len(self.users)
            for _ in range(int(sharing.recipients_per_share)):
                r = int(rng.integers(0, n - 1))
                r += r >= user.uid  # never oneself
                if rng.random() < sharing.open_probability:
                    self.deliver(self.users[r], "share", 1.0, parent=view.vid)

    def human_review(self, moderators: simpy.Resource) -> Proc:
        mod = self.sc.platform.moderation
        arrived = self.env.now
        with moderators.request() as req:
            yield req
            waited = self.env.now - arrived
            took = self.review_time_h()
            yield self.env.timeout(took)
        right = self.rng.random() < mod.human_accuracy
        return self.sc.video.violation == right, waited, took

    def review_time_h(self) -> float:
        rt = self.sc.platform.moderation.review_time_min
        mean_h = rt.mean / 60.0
        if rt.distribution == "fixed":
            return mean_h
        if rt.distribution == "exponential":
            return float(self.rng.exponential(mean_h))
        return mean_h * math.exp(rt.sigma * self.rng.standard_normal() - rt.sigma**2 / 2)

    def background(self, moderators: simpy.Resource, until: simpy.Event) -> Proc:
        """Other doubtful uploads competing for the moderators."""
        rate = self.sc.platform.moderation.background_reviews_per_h
        if rate <= 0:
            return

        def one() -> Proc:
            with moderators.request() as req:
                yield req
                yield self.env.timeout(self.review_time_h())

        while not until.triggered:
            yield self.env.timeout(self.rng.exponential(1.0 / rate)) | until
            if not until.triggered:
                self.env.process(one())

    def upload(self) -> Proc:
        env, sc, rng = self.env, self.sc, self.rng
        mod = sc.platform.moderation
        mean = mod.score_mean_violating if sc.video.violation else mod.score_mean_clean
        score = rng.beta(mean * mod.score_concentration, (1.0 - mean) * mod.score_concentration)
        path = (
            "auto_approve"
            if score < mod.auto_approve_below
            else "auto_remove"
            if score > mod.auto_remove_above
            else "human"
        )
        self.moderation = {"classifier_score": float(score), "path": path}
        moderators = simpy.Resource(env, capacity=mod.moderators)
        self.moderators = moderators
        reviewed = env.event()
        if path == "human":
            env.process(self.background(moderators, reviewed))
        yield env.timeout(sc.video.upload_h)
        if path == "human":
            removed, _, _ = yield env.process(self.human_review(moderators))
            reviewed.succeed()
        else:
            removed = path == "auto_remove"
        if removed:
            self.stop("removed_by_moderation")
            return
        # recognition
        true_topic = sc.video.main_topic()
        topics = list(sc.population.topics)
        if rng.random() < sc.platform.recognition.accuracy or len(topics) == 1:
            topic = true_topic
        else:
            others = [t for t in topics if t != true_topic]
            topic = others[int(rng.random() * len(others))]
        self.recognised = topic
        # the content graph: every user ranked by interest in the recognised topic
        self.ranking = sorted(self.users, key=lambda u: u.interests[topic], reverse=True)
        # the following feed: the creator's followers (random users; no creator node)
        followers: set[int] = set()
        while len(followers) < min(sc.creator.followers, len(self.users)):
            followers.add(int(rng.integers(0, len(self.users))))
        for uid in followers:
            self.deliver(self.users[uid], "following", sc.platform.following.watch_probability)
        if sc.platform.push.mode in ("content", "hybrid"):
            env.process(self.push())
        else:
            self.stop("no_push_social_mode")

    def next_cohort(self, size: int) -> list[User]:
        cohort: list[User] = []
        while len(cohort) < size and self.cursor < len(self.ranking):
            user = self.ranking[self.cursor]
            self.cursor += 1
            if not user.reached:
                cohort.append(user)
        return cohort

    def gate(self, stage: int) -> tuple[int, dict[str, float], float, list[str]]:
        """The KPI gate on what the stage's viewers have done so far."""
        push = self.sc.platform.push
        tally = self.tallies[stage]
        n = tally.views
        rates: dict[str, float] = {}
        for kpi in KPIS:
            if n == 0:
                rates[kpi] = float("nan")
            elif kpi == "completion":
                rates[kpi] = tally.completed / n
            elif kpi == "watch_fraction":
                rates[kpi] = tally.watch_s / n / self.sc.video.duration_s
            else:
                rates[kpi] = tally.actions[kpi] / n
        score = sum(getattr(push.score_weights, k) * rates[k] for k in KPIS) if n else float("nan")
        thresholds = push.thresholds_for(stage)
        failed = []
        for name in (*KPIS, "score"):
            limit = getattr(thresholds, name)
            if limit is None:
                continue
            value = score if name == "score" else rates[name]
            if n == 0 or value < limit:
                failed.append(name)
        return n, rates, score, failed

    def push(self) -> Proc:
        """The staged push: deliver a stage in batches, gate it on its KPIs, go on or stop."""
        env, sc = self.env, self.sc
        cfg = sc.platform.push
        for stage, size in enumerate(cfg.cohort_sizes(), start=1):
            cohort = self.next_cohort(size)
            if not cohort:
                self.stop("population_exhausted")
                return
            tally = self.tallies[stage] = StageTally(env)
            start_h = env.now
            delivered = 0
            early = None
            for j in range(0, len(cohort), cfg.delivery_batch):
                if j > 0:
                    yield env.timeout(cfg.batch_interval_h)
                    check = self.gate(stage)
                    if check[0] >= cfg.min_views_to_evaluate and check[3]:
                        early = check
                        break
                for user in cohort[j : j + cfg.delivery_batch]:
                    delivered += self.deliver(user, "for_you", cfg.watch_probability, stage=stage)
            if early is None:
                # evaluate once a fraction of the cohort has watched, or after the window
                tally.target = math.ceil(cfg.evaluate_after_fraction * delivered)
                if tally.views < tally.target:
                    yield tally.reached_target | env.timeout(cfg.eval_window_h)
                views, rates, score, failed = self.gate(stage)
            else:
                views, rates, score, failed = early
            self.stages.append(
                {
                    "stage": stage,
                    "cohort_size": size,
                    "delivered": delivered,
                    "start_h": start_h,
                    "evaluated_h": env.now,
                    "views_evaluated": views,
                    **rates,
                    "score": score,
                    "passed": not failed,
                    "stopped_mid_stage": early is not None,
                }
            )
            if failed:
                self.stop("kpi_below_threshold:" + ",".join(failed))
                return
            if cfg.human_review_after_stage == stage:
                removed, _, _ = yield env.process(self.human_review(self.moderators))
                if removed:
                    self.stop("removed_at_stage_review")
                    return
        self.stop("all_stages_passed")

    def run(self) -> None:
        self.env.process(self.upload())
        self.env.run(until=self.sc.horizon_h)
        if self.stop_reason is None:
            self.stop_reason, self.stop_h = "horizon", self.sc.horizon_h

    def summary(self) -> dict[str, Any]:
        by_source = {"for_you": 0, "following": 0, "share": 0}
        shares = likes = completions = 0
        for view in self.views:
            by_source[view.source] += 1
            shares += view.actions["share"]
            likes += view.actions["like"]
            completions += view.completed
        return {
            "views": len(self.views),
            "shares": shares,
            "likes": likes,
            "completions": completions,
            "views_by_source": by_source,
            "deliveries": self.deliveries,
            "recognised_topic": self.recognised,
            "stages_reached": len(self.stages),
            "stop_reason": self.stop_reason,
            "stop_h": self.stop_h,
            "moderation": self.moderation,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "bees_bike.toml"))
    parser.add_argument("--seed", type=int, default=None, help="seed of the numpy Generator (default: the scenario's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-gc", action="store_true", help="gc.disable(): how much of the time is the cyclic GC rescanning objects"
    )
    args = parser.parse_args(argv)
    try:
        sc = load_scenario(args.scenario)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        return 1
    if sc.social_graph.kind != "random_powerlaw" or sc.platform.sharing.recipients_per_share == "all":
        print("naive baseline: only random_powerlaw graphs with a fixed recipients_per_share", file=sys.stderr)
        return 1
    seed = sc.seed if args.seed is None else args.seed
    t0 = time.perf_counter()
    if args.no_gc:
        gc.disable()
    world = NaiveWorld(sc, seed)
    t1 = time.perf_counter()
    world.run()
    t2 = time.perf_counter()
    out = world.summary()
    out.update(seed=seed, gc=not args.no_gc, build_population_s=round(t1 - t0, 3), simulate_s=round(t2 - t1, 3))
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:>20}: {value}")
        for st in world.stages:
            print(
                f"  stage {st['stage']}: cohort {st['cohort_size']:>9,} delivered {st['delivered']:>9,}"
                f" views {st['views_evaluated']:>9,} completion {st['completion']:.3f} like {st['like']:.3f}"
                f" {'pass' if st['passed'] else 'FAIL'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
