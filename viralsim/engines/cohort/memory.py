"""What a cohort-engine run needs before anything is allocated, and what the engine refuses.

The memory model of ``engine = "core"`` (:func:`memory_parts`, :func:`memory_estimate`),
the users a run can reach (which also sizes the run's population), the limit of a
materialised population, and :func:`problems`: the engine's own checks, added to the
scenario's table checks by :mod:`viralsim.engines.checks`. No IO, no OS probing
(the machine's memory comes in as ``memory_limit``).
"""

from __future__ import annotations

from viralsim.engines.memory import BYTES_PER_EDGE, graph_bytes, pushed_users
from viralsim.machine import format_bytes
from viralsim.scenario import MAX_MATERIALISED_USERS, Problem, Scenario, representation

__all__ = [
    "BYTES_PER_EDGE",
    "BYTES_PER_IMPLICIT_USER",
    "BYTES_PER_REACHED_USER",
    "BYTES_PER_REACHED_USER_SUMMARY",
    "BYTES_PER_USER",
    "FIXED_BYTES",
    "MAX_MATERIALISED_USERS",
    "materialised_problem",
    "memory_estimate",
    "memory_parts",
    "memory_problem",
    "problems",
    "reachable_users",
    "representation",
]

# Peak figures measured with tracemalloc on simulate() (numpy 2, 1M and 5M users); the
# estimate is meant to be a little above the real peak, never far below it.

#: Peak bytes per user of a materialised population, besides 4 bytes a topic: the session rate,
#: time zone, taken flag, the ranking's sort order and the sort's temporaries.
BYTES_PER_USER = 26
#: Peak bytes per reached user of an implicit population's hash set of taken ids (8 bytes a
#: slot at a load of 0.3-0.6, both tables while it doubles).
BYTES_PER_IMPLICIT_USER = 40
#: Peak bytes per user the push and the following feed reach: float32 attributes grown by
#: doubling, the views log (column batches, then the time-ordered table) and the temporaries
#: of a delivery batch (measured 132 with batches of 20k, 220 with one batch of 4M).
BYTES_PER_REACHED_USER = 224
#: The same for a run that keeps only its summary (``record = "summary"``: ensembles, and
#: ``viralsim run`` without ``--out``): no views log (measured 36-52 in whole processes,
#: bees_bike 0.7M and platform_scale 19.6M users reached).
BYTES_PER_REACHED_USER_SUMMARY = 64
#: Tables and buffers whose size does not depend on the scenario.
FIXED_BYTES = 64 * 2**20


def memory_parts(sc: Scenario, record: str = "summary") -> dict[str, float]:
    """Estimated peak bytes of one run of ``sc``, by what needs them.

    Parameters
    ----------
    sc : Scenario
        A schema-valid scenario (its variants are not included).
    record : {"summary", "full"}
        Whether the run keeps its views log (``simulate(record=...)``).

    Returns
    -------
    dict
        ``"population"``: the arrays of a materialised population (0 for an implicit one);
        ``"reached"``: the users the push cohorts and the following feed can reach
        (at most the population; share cascades are assumed to add few);
        ``"social_graph"``: the edges of a generated graph while it is built (an
        ``edge_list`` counts its row index only: its size is known once the file is read).
        ``"second_platform"`` (a ``cross_post`` scenario): all of the above for the
        second platform's world.
        Floats, so that absurd scenarios do not overflow.
    """
    n = float(sc.population.users)
    reached = reachable_users(sc, scaled=True)
    per_reached = float(BYTES_PER_REACHED_USER if record == "full" else BYTES_PER_REACHED_USER_SUMMARY)
    if representation(sc.population) == "materialised":
        held = n * (BYTES_PER_USER + 4.0 * len(sc.population.topics))
    else:
        held, per_reached = 0.0, per_reached + BYTES_PER_IMPLICIT_USER
    parts = {"population": held, "reached": reached * per_reached, "social_graph": graph_bytes(sc)}
    if sc.cross_post is not None:  # the second platform's world is built while the first's result is kept
        try:
            second = sc.second_platform()
        except ValueError:  # upload_h + after_h overflows: the table checks report it
            second = None
        if second is not None:
            parts["second_platform"] = sum(memory_parts(second, record).values())
    return parts


def reachable_users(sc: Scenario, *, scaled: bool = False) -> float:
    """The users the push cohorts and the following feed can reach (at most the population).

    The listed cohort sizes; ``scaled``: the larger pools a video may draw with ``pool_spread``
    or ``graded``, as estimates count them (:func:`~viralsim.engines.memory.pushed_users`).
    """
    return min(float(sc.population.users), pushed_users(sc.platform.push, scaled=scaled) + sc.creator.followers)


def memory_estimate(sc: Scenario, record: str = "summary") -> int:
    """Estimated peak memory of one run of ``sc``, in bytes (see :func:`memory_parts`).

    This is the one place that knows what a population costs (:func:`memory_parts`);
    the checks follow it.
    """
    return int(min(sum(memory_parts(sc, record).values()) + FIXED_BYTES, 2.0**100))


def memory_problem(sc: Scenario, limit: int, record: str = "summary") -> Problem | None:
    """The memory problem of ``sc``, pointed at the field behind its largest part, or None."""
    need = memory_estimate(sc, record)
    if need <= limit:
        return None
    parts = memory_parts(sc, record)
    biggest = max(parts, key=lambda k: parts[k])
    users = sc.population.users
    push = sc.platform.push
    if biggest == "social_graph":
        edges = (parts["social_graph"] - (users + 1) * 8.0) / BYTES_PER_EDGE[sc.social_graph.kind]
        where: tuple[str | int, ...] = ("social_graph", "mean_following")
        what = f"a {sc.social_graph.kind} graph of {users} users and ~{edges:.3g} edges"
    elif biggest == "reached":
        where = ("platform", "push", "cohorts" if push.cohorts is not None else "first_cohort")
        what = f"reaching up to {round(reachable_users(sc, scaled=True))} users"
    else:
        where, what = ("population", "users"), f"a materialised population of {users} users"
        return where, (
            f"{what} would need ~{format_bytes(need)} of memory (a run may use {format_bytes(limit)} here):"
            ' use population.representation = "implicit" (users exist only once reached)'
        )
    return where, f"{what} would need ~{format_bytes(need)} of memory (a run may use {format_bytes(limit)} here)"


def materialised_problem(sc: Scenario) -> Problem | None:
    """A materialised population larger than :data:`MAX_MATERIALISED_USERS`, or None."""
    pop = sc.population
    if pop.users > MAX_MATERIALISED_USERS and representation(pop) == "materialised":
        return (
            ("population", "representation"),
            f"a materialised population holds at most {MAX_MATERIALISED_USERS} users, got {pop.users}:"
            ' use representation = "implicit" (users exist only once reached)',
        )
    return None


def problems(sc: Scenario, *, record: str = "summary", memory_limit: int) -> list[Problem]:
    """What the cohort engine refuses to run: a marketplace, a too large materialised population, too much memory.

    Parameters
    ----------
    sc : Scenario
        A schema-valid scenario (its table checks are not repeated here).
    record : {"summary", "full"}
        Whether the run keeps its views log (the log's memory is counted for ``"full"``).
    memory_limit : int
        Bytes a run may need; a larger :func:`memory_estimate` is refused.
    """
    out: list[Problem] = []
    if sc.marketplace is not None:
        out.append((("marketplace",), 'a marketplace needs engine = "agents"'))
    for found in (materialised_problem(sc), memory_problem(sc, memory_limit, record)):
        if found is not None:
            out.append(found)
    return out
