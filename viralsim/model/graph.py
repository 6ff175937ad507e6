"""The social graph: who receives what a user shares, and who follows the creator.

Two implementations behind one small interface (``recipients`` and
``followers``):

- :class:`CSRGraph` — an explicit directed graph as compressed sparse rows
  (``indptr``, ``indices``; ~8 bytes an edge), built straight from edge
  arrays. Edges point the way content flows: ``u -> v`` means v follows u, so
  row u lists who sees what u posts or shares.
- :class:`AnnealedGraph` — a random graph with a power-law contact
  distribution that is never built: a user's contacts are drawn when needed
  (annealed), so a 10M-user population costs no edges at all.

networkx is only the interchange format (:meth:`CSRGraph.from_networkx`,
small generated graphs). Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, TypeAlias

import numpy as np

from viralsim.scenario import SocialGraph

if TYPE_CHECKING:
    import networkx as nx
    from scipy import sparse

__all__ = [
    "AnnealedGraph",
    "CSRGraph",
    "ContactGraph",
    "GraphInput",
    "NetworkxGraph",
    "build_graph",
    "scenario_graph",
]

#: Above this many users, barabasi_albert (built with networkx) is refused.
MAX_NETWORKX_USERS = 200_000


class ContactGraph(Protocol):
    """What the engine needs of a social graph."""

    n: int

    def recipients(
        self, senders: np.ndarray, per_sender: int | str, *, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(index into ``senders``, recipient user) for every message sent."""
        ...

    def followers(self, creator: int | None, count: int, *, rng: np.random.Generator) -> np.ndarray:
        """The creator's followers (distinct users)."""
        ...


class NetworkxGraph(Protocol):
    """What :meth:`CSRGraph.from_networkx` reads of a networkx graph (``nx.Graph``, ``nx.DiGraph``, ...)."""

    @property
    def nodes(self) -> Iterable[int]:
        """The nodes (the integers ``0 .. n-1``)."""
        ...

    def number_of_nodes(self) -> int:
        """How many nodes."""
        ...

    def edges(self) -> Iterable[tuple[int, int]]:
        """The edges ``(u, v)`` (networkx's edge view, called)."""
        ...

    def is_directed(self) -> bool:
        """Whether an edge ``u -> v`` leaves ``v -> u`` out."""
        ...


class CSRGraph:
    """An explicit directed graph in CSR form (row u = users who receive u's content)."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray) -> None:
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.n = len(self.indptr) - 1

    @classmethod
    def from_edges(cls, src: np.ndarray, dst: np.ndarray, n: int) -> CSRGraph:
        """Build from edge arrays (``src -> dst``) over users ``0 .. n-1``; drops self-loops."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        if len(src) != len(dst):
            raise ValueError("src and dst must have the same length")
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise ValueError(f"edge endpoints must be in 0..{n - 1}")
        loops = np.flatnonzero(src == dst)
        if len(loops):
            src, dst = _without(src, loops), _without(dst, loops)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        if len(src) < 2 or bool((src[1:] >= src[:-1]).all()):  # already by source (generated graphs): keep the order
            return cls(indptr, dst.copy() if not len(loops) else dst)
        return cls(indptr, dst[np.argsort(src, kind="stable")])

    @classmethod
    def from_networkx(cls, graph: NetworkxGraph) -> CSRGraph:
        """Build from a networkx graph whose nodes are the integers ``0 .. n-1``.

        An undirected graph gives edges both ways.
        """
        n = graph.number_of_nodes()
        if set(graph.nodes) != set(range(n)):
            raise ValueError("graph nodes must be the integers 0..n-1 (use nx.convert_node_labels_to_integers)")
        edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
        src, dst = edges[:, 0], edges[:, 1]
        if not graph.is_directed():
            src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
        return cls.from_edges(src, dst, n)

    def to_networkx(self) -> nx.DiGraph:
        """The graph as a networkx DiGraph (for analysis and small teaching graphs)."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(range(self.n))
        src = np.repeat(np.arange(self.n), np.diff(self.indptr))
        g.add_edges_from(zip(src.tolist(), self.indices.tolist(), strict=True))
        return g

    def to_scipy(self) -> sparse.csr_array:
        """The adjacency matrix as a ``scipy.sparse.csr_array`` (shares these arrays' layout)."""
        from scipy import sparse

        data = np.ones(len(self.indices), dtype=np.int8)
        return sparse.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    @classmethod
    def from_scipy(cls, matrix: sparse.sparray | sparse.spmatrix) -> CSRGraph:
        """Build from a square scipy sparse matrix (nonzero (u, v) means u -> v)."""
        m = matrix.tocsr()
        if m.shape[0] != m.shape[1]:
            raise ValueError(f"adjacency matrix must be square, got {m.shape}")
        m.sum_duplicates()
        return cls(m.indptr, m.indices)

    @property
    def edges(self) -> int:
        """Number of edges."""
        return len(self.indices)

    def degree(self, users: np.ndarray) -> np.ndarray:
        """Out-degree (number of recipients) of each user."""
        return self.indptr[users + 1] - self.indptr[users]

    def recipients(
        self, senders: np.ndarray, per_sender: int | str, *, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every contact (``"all"``) or ``per_sender`` contacts drawn per sender.

        Draws are with replacement and then made distinct per sender, so a
        sender with fewer contacts reaches each of them at most once.
        """
        senders = np.asarray(senders, dtype=np.int64)
        deg = self.degree(senders)
        if per_sender == "all":
            idx = np.repeat(np.arange(len(senders)), deg)
            starts = np.repeat(self.indptr[senders], deg)
            offs = np.arange(len(idx)) - np.repeat(np.cumsum(deg) - deg, deg)
            return idx, self.indices[starts + offs]
        k = int(per_sender)
        has = deg > 0
        idx = np.repeat(np.flatnonzero(has), k)
        off = (rng.random(len(idx)) * np.repeat(deg[has], k)).astype(np.int64)
        rec = self.indices[self.indptr[senders[idx]] + off]
        pairs = np.unique(np.stack([idx, rec]), axis=1)
        return pairs[0], pairs[1]

    def followers(self, creator: int | None, count: int, *, rng: np.random.Generator) -> np.ndarray:
        """Row ``creator`` of the graph (its followers); a new random set if no creator node."""
        if creator is None:
            return rng.choice(self.n, size=min(count, self.n), replace=False)
        return self.indices[self.indptr[creator] : self.indptr[creator + 1]].copy()


def _without(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a`` without the (sorted, distinct) ``rows``: ``a[mask]``, by copying the runs between them when few."""
    if len(rows) > 64:
        keep = np.ones(len(a), dtype=bool)
        keep[rows] = False
        return a[keep]
    pieces = np.split(a, rows)
    return np.concatenate([pieces[0], *(p[1:] for p in pieces[1:])])


class AnnealedGraph:
    """A random contact graph sampled on demand, with power-law contact counts."""

    def __init__(self, n: int, mean_contacts: float, exponent: float) -> None:
        self.n = n
        self.mean = mean_contacts
        self.exponent = exponent
        # Pareto with minimum m has mean m (a-1)/(a-2) for tail exponent a-1 of the density a
        self._xmin = mean_contacts * (exponent - 2.0) / (exponent - 1.0)

    def contact_counts(self, k: int, *, rng: np.random.Generator) -> np.ndarray:
        """Power-law contact counts (mean ``mean_contacts``, capped at n - 1)."""
        x = self._xmin * (1.0 - rng.random(k)) ** (-1.0 / (self.exponent - 1.0))
        return np.minimum(np.floor(x + rng.random(k)).astype(np.int64), self.n - 1)

    def recipients(
        self, senders: np.ndarray, per_sender: int | str, *, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Uniform random recipients: all of a fresh contact count, or ``per_sender``."""
        senders = np.asarray(senders, dtype=np.int64)
        if per_sender == "all":
            counts = self.contact_counts(len(senders), rng=rng)
        else:
            counts = np.minimum(np.full(len(senders), int(per_sender)), self.n - 1)
        idx = np.repeat(np.arange(len(senders)), counts)
        rec = rng.integers(0, self.n - 1, size=len(idx))
        rec = rec + (rec >= senders[idx])  # never oneself
        return idx, rec

    def followers(self, creator: int | None, count: int, *, rng: np.random.Generator) -> np.ndarray:
        """``count`` distinct random users."""
        count = min(count, self.n)
        if count * 4 < self.n:
            out = np.unique(rng.integers(0, self.n, size=count + count // 8 + 16))
            while len(out) < count:
                out = np.unique(np.concatenate([out, rng.integers(0, self.n, size=count)]))
            return rng.permutation(out)[:count]
        return rng.choice(self.n, size=count, replace=False)


#: A social graph passed to ``simulate(graph=...)``: CSR, networkx, or ``None`` (the scenario's generator).
GraphInput: TypeAlias = CSRGraph | NetworkxGraph | None


def build_graph(config: SocialGraph, n: int, *, rng: np.random.Generator) -> ContactGraph:
    """The social graph a scenario describes (``edge_list`` graphs come from the io layer)."""
    kind = config.kind
    mean = config.mean_following
    if kind == "random_powerlaw":
        return AnnealedGraph(n, mean, config.degree_exponent)
    if kind == "erdos_renyi":
        m = int(round(n * mean))
        return CSRGraph.from_edges(rng.integers(0, n, m), rng.integers(0, n, m), n)
    if kind == "small_world":
        k = max(1, int(round(mean / 2)))
        src = np.repeat(np.arange(n), 2 * k)
        offs = np.tile(np.concatenate([np.arange(1, k + 1), -np.arange(1, k + 1)]), n)
        dst = src + offs
        if k < n:  # in (-n, 2n): wrap around the ring without an integer division (the same as % n)
            dst[dst < 0] += n
            dst[dst >= n] -= n
        else:
            dst %= n
        rewire = rng.random(len(dst)) < config.rewire_probability
        dst[rewire] = rng.integers(0, n, np.count_nonzero(rewire))
        return CSRGraph.from_edges(src, dst, n)
    if kind == "barabasi_albert":
        if n > MAX_NETWORKX_USERS:
            raise ValueError(
                f"social_graph.kind = 'barabasi_albert' is built with networkx and limited to"
                f" {MAX_NETWORKX_USERS:,} users; use 'random_powerlaw' for {n:,}"
            )
        import networkx as nx

        m = max(1, min(n - 1, int(round(mean / 2))))
        seed = int(rng.integers(0, 2**31 - 1))
        return CSRGraph.from_networkx(nx.barabasi_albert_graph(n, m, seed=seed))
    raise ValueError(f"social_graph.kind = {kind!r} needs a graph passed to simulate(graph=...)")


def scenario_graph(config: SocialGraph, n: int, graph: GraphInput, *, rng: np.random.Generator) -> ContactGraph:
    """The run's social graph: ``graph`` when one is passed (CSR or networkx, ``n`` nodes), else the generator's.

    Raises ``ValueError`` for an ``edge_list`` scenario without a graph, and for a graph
    of the wrong size.
    """
    if graph is None:
        if config.kind == "edge_list":
            raise ValueError("social_graph.kind = 'edge_list': pass graph=viralsim.load_graph(scenario, scenario_path)")
        return build_graph(config, n, rng=rng)
    g = graph if isinstance(graph, CSRGraph) else CSRGraph.from_networkx(graph)
    if g.n != n:
        raise ValueError(f"the graph has {g.n} nodes but population.users = {n}")
    return g
