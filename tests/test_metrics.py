"""Spread-tree metrics against theory: structural virality of stars, chains and trees.

Structural virality (Goel et al. 2016) is the mean shortest-path distance over all
pairs of nodes of the spread tree: a star of n nodes gives 2(n-1)/n and a chain of n
gives (n+1)/3. networkx is the independent oracle for other trees.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viralsim import structural_virality
from viralsim.model.metrics import tree_depths, tree_stats


def star(n: int) -> np.ndarray:
    """Node 0 is the hub, every other node hangs from it."""
    return np.array([-1] + [0] * (n - 1))


def chain(n: int) -> np.ndarray:
    """0 <- 1 <- 2 <- ... <- n-1."""
    return np.arange(-1, n - 1)


def parents_from_networkx(tree: nx.Graph, root: int = 0) -> np.ndarray:
    """The parent array of an undirected networkx tree with nodes 0..n-1, rooted at ``root``."""
    parent = np.full(tree.number_of_nodes(), -1)
    for u, v in nx.bfs_edges(tree, root):
        parent[v] = u
    return parent


def undirected(parent: np.ndarray) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(len(parent)))
    g.add_edges_from((int(p), i) for i, p in enumerate(parent) if p >= 0)
    return g


@pytest.mark.parametrize("n", [2, 3, 4, 5, 10, 100, 1_000, 100_000])
def test_star_virality_is_2_n_minus_1_over_n(n: int) -> None:
    assert structural_virality(star(n)) == pytest.approx(2 * (n - 1) / n, rel=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 10, 100, 1_000])
def test_chain_virality_is_n_plus_1_over_3(n: int) -> None:
    assert structural_virality(chain(n)) == pytest.approx((n + 1) / 3, rel=1e-12)


@pytest.mark.parametrize("n", [0, 1])
def test_trees_below_two_nodes_have_virality_zero(n: int) -> None:
    assert structural_virality(chain(n)) == 0.0


@pytest.mark.parametrize("height", [1, 2, 3, 5, 8])
def test_balanced_binary_tree_matches_networkx(height: int) -> None:
    tree = nx.balanced_tree(2, height)
    expected = nx.average_shortest_path_length(tree)
    assert structural_virality(parents_from_networkx(tree)) == pytest.approx(expected, rel=1e-12)


def test_virality_does_not_depend_on_node_labels() -> None:
    # a balanced ternary tree, relabelled at random so that children often precede parents
    tree = nx.balanced_tree(3, 4)
    perm = np.random.default_rng(5).permutation(tree.number_of_nodes())
    relabelled = nx.relabel_nodes(tree, {i: int(perm[i]) for i in tree.nodes})
    parent = parents_from_networkx(relabelled, root=int(perm[0]))
    assert np.any(parent[parent >= 0] > np.flatnonzero(parent >= 0))  # labels really are out of order
    assert structural_virality(parent) == pytest.approx(nx.average_shortest_path_length(tree), rel=1e-12)


@st.composite
def random_trees(draw: st.DrawFn) -> np.ndarray:
    """A random recursive tree on n nodes, labels shuffled."""
    n = draw(st.integers(2, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])
    perm = rng.permutation(n)  # node i becomes perm[i]
    out = np.full(n, -1)
    out[perm] = np.where(parent >= 0, perm[np.maximum(parent, 0)], -1)
    return out


@settings(max_examples=60, deadline=None)
@given(random_trees())
def test_random_trees_match_networkx(parent: np.ndarray) -> None:
    expected = nx.average_shortest_path_length(undirected(parent))
    assert structural_virality(parent) == pytest.approx(expected, rel=1e-12)
    depth = tree_depths(parent)
    root = int(np.flatnonzero(parent < 0)[0])
    lengths = nx.single_source_shortest_path_length(undirected(parent), root)
    assert depth.tolist() == [lengths[i] for i in range(len(parent))]


def test_tree_stats_of_a_star() -> None:
    s = tree_stats(star(50))
    assert s == {
        "size": 50,
        "depth": 1,
        "max_breadth": 49,
        "breadth_by_depth": [1, 49],
        "structural_virality": pytest.approx(2 * 49 / 50),
    }


def test_tree_stats_of_a_chain() -> None:
    s = tree_stats(chain(30))
    assert s["size"] == 30
    assert s["depth"] == 29
    assert s["breadth_by_depth"] == [1] * 30
    assert s["max_breadth"] == 1
    assert s["structural_virality"] == pytest.approx(31 / 3)


def test_tree_stats_of_a_binary_tree() -> None:
    s = tree_stats(parents_from_networkx(nx.balanced_tree(2, 6)))
    assert s["size"] == 2**7 - 1
    assert s["depth"] == 6
    assert s["max_breadth"] == 2**6  # the leaves


def test_tree_stats_of_an_empty_tree() -> None:
    assert tree_stats(np.empty(0, dtype=np.int64)) == {
        "size": 0,
        "depth": 0,
        "max_breadth": 0,
        "breadth_by_depth": [],
        "structural_virality": 0.0,
    }


def test_depths_of_a_forest() -> None:
    # two roots (0 and 3) are fine for depths, which are defined per forest
    assert tree_depths(np.array([-1, 0, 1, -1, 3])).tolist() == [0, 1, 2, 0, 1]


@pytest.mark.parametrize("parent", [[-1, -1], [-1, 0, -1, 2], [-1, 0, 0, -1]])
def test_two_roots_are_an_error(parent: list[int]) -> None:
    with pytest.raises(ValueError, match="exactly one root"):
        structural_virality(np.array(parent))
    with pytest.raises(ValueError, match="exactly one root"):
        tree_stats(np.array(parent))


def test_no_root_is_an_error() -> None:
    with pytest.raises(ValueError, match="exactly one root"):
        structural_virality(np.array([1, 0]))


def test_a_cycle_is_an_error() -> None:
    with pytest.raises(ValueError, match="cycle"):
        tree_depths(np.array([-1, 2, 1]))
