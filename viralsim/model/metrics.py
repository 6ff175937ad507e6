"""Metrics of a spread tree: size, depth, breadth and structural virality.

The spread tree has one node per view plus a root (the creator's upload):
views from the For You and Following feeds hang from the root, views from a
share hang from the sharer's view. Structural virality (Goel, Anderson,
Hofman and Watts 2016) is the mean shortest-path distance over all pairs of
nodes; a star of n nodes gives 2(n-1)/n and a chain of n gives (n+1)/3.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tree_depths", "tree_stats", "structural_virality"]


def tree_depths(parent: np.ndarray) -> np.ndarray:
    """Depth of every node of a forest given as a parent array (-1 marks a root).

    Parents need not precede children; runs in O(n x depth) with numpy.
    """
    parent = np.asarray(parent, dtype=np.int64)
    depth = np.zeros(len(parent), dtype=np.int64)
    anc = parent.copy()
    active = anc >= 0
    while active.any():
        depth[active] += 1
        anc[active] = parent[anc[active]]
        active = anc >= 0
        if depth.max(initial=0) > len(parent):
            raise ValueError("parent array has a cycle")
    return depth


def structural_virality(parent: np.ndarray) -> float:
    """Mean distance between all pairs of nodes of the tree given by ``parent``.

    ``parent[i]`` is the index of node i's parent, -1 for the single root.
    Uses the Wiener index: the sum over edges of ``size(subtree) x (n - size)``.
    A tree of fewer than two nodes has virality 0.
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = len(parent)
    if n < 2:
        return 0.0
    if np.count_nonzero(parent < 0) != 1:
        raise ValueError("a tree needs exactly one root (parent -1)")
    depth = tree_depths(parent)
    size = np.ones(n, dtype=np.int64)
    order = np.argsort(-depth, kind="stable")
    d_sorted = depth[order]
    # accumulate subtree sizes one depth level at a time, deepest first
    bounds = np.flatnonzero(np.diff(d_sorted)) + 1
    for level in np.split(order, bounds):
        nodes = level[parent[level] >= 0]
        np.add.at(size, parent[nodes], size[nodes])
    child = parent >= 0
    wiener = float(np.sum(size[child] * (n - size[child]), dtype=float))
    return 2.0 * wiener / (n * (n - 1))


def tree_stats(parent: np.ndarray) -> dict[str, float]:
    """Size, depth, max breadth and structural virality of the tree ``parent``."""
    parent = np.asarray(parent, dtype=np.int64)
    if len(parent) == 0:
        return {"size": 0, "depth": 0, "max_breadth": 0, "structural_virality": 0.0}
    depth = tree_depths(parent)
    breadth = np.bincount(depth)
    return {
        "size": int(len(parent)),
        "depth": int(depth.max()),
        "max_breadth": int(breadth.max()),
        "structural_virality": structural_virality(parent),
    }
