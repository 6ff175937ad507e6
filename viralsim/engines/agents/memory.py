"""What an agent-engine run needs before anything is allocated, and what the engine refuses.

Every user is a SimPy process with its own inbox and interests, so the agent
engine has its own limits (:data:`MAX_AGENT_USERS`, :data:`MAX_AGENT_REACH_BYTES`),
its own memory estimate (:func:`agent_memory_estimate`) and fields it does not
support (a cross-post, publishing before a pending review, a human review between
stages). :func:`problems` adds these, and the marketplace's table checks, to the
scenario's table checks (see :mod:`viralsim.engines.checks`). No IO, no OS probing.
"""

from __future__ import annotations

import math

from viralsim.engines.memory import graph_bytes, pushed_users
from viralsim.machine import format_bytes
from viralsim.scenario import Problem, Scenario
from viralsim.scenario.checks import marketplace_problems

__all__ = ["MAX_AGENT_REACH_BYTES", "MAX_AGENT_USERS", "agent_memory_estimate", "problems"]

#: Most users the agents engine runs (one SimPy process each, ~1 KB and ~6 us a session).
MAX_AGENT_USERS = 5_000_000
#: Most bytes of the agents engine's per-video reach flags (one byte per user and video).
MAX_AGENT_REACH_BYTES = 4 * 2**30


def agent_memory_estimate(sc: Scenario) -> float:
    """Rough peak bytes of an agents-engine run (measured: 50k users x 7 days x 500 videos, 0.6-1.2 GiB).

    Per user ~1 KB (process, inbox, interests) and 40 bytes a session; one byte per user and
    video (reach flags); ~100 bytes per delivery of every push cohort of every video (the
    delivery row, the inbox item, the view and its log row; cohorts scaled by
    :func:`viralsim.engines.memory.pushed_users`); and the social graph while it
    is built (:func:`viralsim.engines.memory.graph_bytes`).
    """
    pop, s = sc.population, sc.population.sessions_per_day
    sessions = sc.horizon_h / 24.0 * s.median * math.exp(min(s.spread, 10.0) ** 2 / 2)
    videos = 1.0 if sc.marketplace is None else float(sc.marketplace.videos(sc.horizon_h))
    pushed = pushed_users(sc.platform.push, scaled=True)
    per_user = 1000.0 + 4.0 * len(pop.topics) + 40.0 * sessions
    return pop.users * (per_user + videos) + 100.0 * videos * min(pushed, float(pop.users)) + graph_bytes(sc)


def problems(sc: Scenario, *, record: str = "summary", memory_limit: int) -> list[Problem]:
    """What the agent engine refuses to run: too many users or bytes, unsupported fields, a bad marketplace.

    Parameters
    ----------
    sc : Scenario
        A schema-valid scenario (its table checks are not repeated here).
    record : {"summary", "full"}
        Unused: the agent engine's memory hardly depends on it.
    memory_limit : int
        Bytes a run may need; a larger :func:`agent_memory_estimate` is refused.
    """
    out: list[Problem] = []
    n = sc.population.users
    if n > MAX_AGENT_USERS:
        out.append(
            (
                ("population", "users"),
                f"the agents engine runs at most {MAX_AGENT_USERS} users (one process each), got {n}",
            )
        )
    elif (need := agent_memory_estimate(sc)) > memory_limit:
        out.append(
            (
                ("population", "users"),
                f"the agents engine would need ~{format_bytes(need)} of memory for {n} users"
                f" (a run may use {format_bytes(memory_limit)} here)",
            )
        )
    if sc.cross_post is not None:
        out.append((("cross_post",), 'engine = "agents" does not cross-post; use engine = "core"'))
    if sc.platform.moderation.publish_unreviewed_after_h is not None:
        out.append((("platform", "moderation", "publish_unreviewed_after_h"), 'not supported by engine = "agents"'))
    if sc.platform.push.human_review_after_stage is not None:
        out.append((("platform", "push", "human_review_after_stage"), 'not supported by engine = "agents"'))
    out.extend(marketplace_problems(sc))
    m = sc.marketplace
    if m is not None and (videos := m.videos(sc.horizon_h)) >= 1 and float(videos) * n > MAX_AGENT_REACH_BYTES:
        flags = format_bytes(float(videos) * n)
        out.append(
            (
                ("marketplace", "uploads_per_day"),
                f"{videos} videos x {n} users need {flags} of reach flags (limit {format_bytes(MAX_AGENT_REACH_BYTES)})",
            )
        )
    return out
