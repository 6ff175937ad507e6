"""Memory both engines share: what building the scenario's social graph costs.

Both engines build the social graph with :func:`viralsim.model.graph.scenario_graph`
before t = 0; each engine adds this to its own estimate
(:mod:`viralsim.engines.cohort.memory`, :mod:`viralsim.engines.agents.memory`).
Peak figures measured with tracemalloc; an estimate is meant to be a little above
the real peak, never far below it. No IO.
"""

from __future__ import annotations

from viralsim.scenario import Scenario

__all__ = ["BYTES_PER_EDGE", "graph_bytes", "graph_edges"]

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
