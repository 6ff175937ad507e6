"""Memory both engines share: what building the scenario's social graph costs.

Both engines build the social graph with :func:`viralsim.model.graph.scenario_graph`
before t = 0; each engine adds this to its own estimate
(:mod:`viralsim.engines.cohort.memory`, :mod:`viralsim.engines.agents.memory`).
Peak figures measured with tracemalloc; an estimate is meant to be a little above
the real peak, never far below it. No IO.
"""

from __future__ import annotations

import math

from viralsim.scenario import Push, Scenario

__all__ = ["BYTES_PER_EDGE", "POOL_FACTOR_Z", "graph_bytes", "graph_edges", "push_scale", "pushed_users"]

#: A push with ``pool_spread`` scales a video's cohorts by a log-normal factor: an estimate
#: assumes its 99.9th percentile (this many log-sds above the median of 1).
POOL_FACTOR_Z = 3.09

#: Peak bytes per edge while a generated graph is built (a finished CSR graph keeps 8): the
#: edge arrays, the self-loop mask and the sort (measured 34 and 59); barabasi_albert is
#: built by networkx, ~400 bytes per undirected edge.
BYTES_PER_EDGE = {"erdos_renyi": 34, "small_world": 59, "barabasi_albert": 400}


def graph_edges(sc: Scenario) -> float:
    """Edges a generated graph of ``sc`` has (0 for ``random_powerlaw`` and ``edge_list``)."""
    n = float(sc.population.users)
    graph = sc.social_graph
    half = max(1.0, float(round(graph.mean_following / 2)))
    return {
        "erdos_renyi": n * graph.mean_following,
        "small_world": n * 2.0 * half,
        "barabasi_albert": n * min(n - 1.0, half),
    }.get(graph.kind, 0.0)


def graph_bytes(sc: Scenario) -> float:
    """Peak bytes of building the social graph: its edges, and the row index of a CSR graph.

    An ``edge_list`` counts its row index only: its size is known once the file is read.
    """
    n = float(sc.population.users)
    kind = sc.social_graph.kind
    return graph_edges(sc) * BYTES_PER_EDGE.get(kind, 0) + (n + 1) * 8.0 * (kind != "random_powerlaw")


def push_scale(push: Push) -> float:
    """The multiple of the listed cohort sizes an estimate assumes a video's push reaches.

    1 for a push without ``pool_spread`` or ``graded``; otherwise the pool factor at its
    99.9th percentile (:data:`POOL_FACTOR_Z`) times ``graded_cap`` when stages are graded
    (at most that factor on every cohort after the first). About one video in a thousand
    draws a larger pool factor than this.
    """
    scale = math.exp(push.pool_spread * POOL_FACTOR_Z)
    return scale * push.graded_cap if push.graded > 0 else scale


def pushed_users(push: Push, *, scaled: bool) -> float:
    """Users a video's push cohorts deliver to in all (0 for the social-graph mode).

    The listed cohort sizes; ``scaled``: times :func:`push_scale`, as the memory estimates count them.
    """
    if push.mode == "social":
        return 0.0
    listed = float(sum(push.cohort_sizes()))
    return listed * push_scale(push) if scaled else listed
