"""The spread tree of one run, drawn with networkx on rings by generation."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.plots._base import COLOURS, LABELS, TREE_LIMIT, pyplot
from viralsim.views import SOURCES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["plot_tree"]


def _radial_layout(g: Any, root: int) -> tuple[dict[int, tuple[float, float]], int]:
    """Positions on rings by depth; each subtree gets an angle in proportion to its leaves."""
    order, stack = [], [root]
    while stack:  # pre-order: a parent before its children
        n = stack.pop()
        order.append(n)
        stack.extend(sorted(g.successors(n), reverse=True))
    leaves: dict[int, int] = {}
    for n in reversed(order):
        leaves[n] = sum(leaves[c] for c in g.successors(n)) or 1
    pos, span, depth = {root: (0.0, 0.0)}, {root: (0.0, 2 * math.pi)}, {root: 0}
    for n in order:
        a, a1 = span[n]
        for c in sorted(g.successors(n)):
            w = (a1 - span[n][0]) * leaves[c] / leaves[n]
            span[c], depth[c] = (a, a + w), depth[n] + 1
            mid = a + w / 2
            pos[c] = (depth[c] * math.cos(mid), depth[c] * math.sin(mid))
            a += w
    return pos, max(depth.values())


def plot_tree(views: pd.DataFrame, max_nodes: int = 1500, *, title: str | None = None) -> Figure:
    """The spread tree of one run, drawn with networkx on rings by generation.

    The upload is the centre; views straight from the platform or the Following
    feed are on the first ring; each share generation is one ring further out.
    When the run has more than ``max_nodes`` views, only the share cascades are
    drawn (the viewers who passed the video on, and everything that followed),
    the largest first until ``max_nodes`` is reached; the title says what is shown.

    Parameters
    ----------
    views
        One run's views log (``parent``: row of the view this one came from by
        a share, -1 otherwise; ``source``: category name or code into ``SOURCES``).
    max_nodes
        Most views to draw (at most 20 000).
    title
        Figure title (default: counts of views, shares and depth).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When even the largest share cascade has more than ``max_nodes`` views,
        or the run is larger than ``max_nodes`` and has no cascade (a star).
    """
    import networkx as nx

    if not 1 <= max_nodes <= TREE_LIMIT:
        raise ValueError(f"max_nodes must be in 1..{TREE_LIMIT:,}, got {max_nodes:,}")
    parent = views["parent"].to_numpy(np.int64)
    src = views["source"]
    names = np.asarray(
        src.astype(str) if str(src.dtype) in {"category", "object", "str", "string"} else [SOURCES[int(c)] for c in src]
    )
    n = len(parent)
    n_share = int(np.count_nonzero(parent >= 0))
    if n <= max_nodes:
        keep = np.ones(n, dtype=bool)
        shown = f"all {n:,} views"
    else:
        if n_share == 0:
            raise ValueError(
                f"the tree is a star of {n:,} views with no share cascade: nothing readable to draw "
                f"above max_nodes={max_nodes:,}"
            )
        keep = parent >= 0
        cur = parent[keep]
        while cur.size:  # add the ancestors of every share view
            cur = np.unique(cur[~keep[cur]])
            keep[cur] = True
            cur = parent[cur]
            cur = cur[cur >= 0]
        top = np.arange(n)  # the view under the upload each kept view descends from
        for _ in range(n):  # depth is small: a few vectorised hops
            up = parent[top]
            if not np.any(up >= 0):
                break
            top = np.where(up >= 0, up, top)
        sizes = np.bincount(top[keep], minlength=n)
        roots = np.flatnonzero(sizes)[np.argsort(-sizes[np.flatnonzero(sizes)], kind="stable")]
        if sizes[roots[0]] > max_nodes:
            raise ValueError(
                f"the largest share cascade has {int(sizes[roots[0]]):,} views, more than "
                f"max_nodes={max_nodes:,}: too big to draw readably"
            )
        take = roots[np.cumsum(sizes[roots]) <= max_nodes]
        keep &= np.isin(top, take)
        which = f"the {len(take):,} largest of {len(roots):,}" if len(take) < len(roots) else f"all {len(roots):,}"
        shown = f"showing {which} share cascades only: {int(keep.sum()):,} of {n:,} views"
    idx = np.flatnonzero(keep)
    g = nx.DiGraph()
    g.add_node(-1)
    g.add_nodes_from(idx.tolist())
    g.add_edges_from(zip(np.where(parent[idx] >= 0, parent[idx], -1).tolist(), idx.tolist(), strict=True))
    pos, depth = _radial_layout(g, -1)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 8.4), constrained_layout=True)
    for r in range(1, depth + 1):
        ax.add_patch(plt.Circle((0, 0), r, fill=False, color="grey", lw=0.6, ls=":", alpha=0.6))
        ax.text(0, r, f" {r}", fontsize=8, color="grey", va="bottom")
    size = float(np.clip(4000 / max(len(idx), 1), 4, 60))
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=False, width=0.5 if len(idx) > 300 else 0.8, edge_color="#9ca3af")
    for s in dict.fromkeys([*SOURCES, *names[idx].tolist()]):
        nodes = idx[names[idx] == s].tolist()
        if nodes:
            nx.draw_networkx_nodes(
                g,
                pos,
                nodelist=nodes,
                ax=ax,
                node_size=size,
                linewidths=0,
                node_color=COLOURS.get(s, "#6b7280"),
                label=f"{LABELS.get(s, s)}: {len(nodes):,}",
            )
    nx.draw_networkx_nodes(
        g, pos, nodelist=[-1], ax=ax, node_size=160, node_color="black", node_shape="*", label="upload"
    )
    ax.set_aspect("equal")
    ax.axis("off")
    fig.legend(
        *ax.get_legend_handles_labels(),
        loc="outside lower center",
        ncol=4,
        fontsize=9,
        frameon=False,
        title_fontsize=8,
        title="rings: generations from the upload (1 = views straight from the platform or the Following feed; "
        "2, 3, ... = share generations)",
    )
    lim = depth + 0.15
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    head = f"{title}: " if title else ""
    gens = depth - 1  # ring 1 is not a share generation (= the summary's cascade_depth when all is drawn)
    fig.suptitle(
        f"{head}spread tree of {n:,} views, {n_share:,} by shares, "
        f"{gens} share generation{'s' if gens != 1 else ''} shown\n({shown})"
    )
    return fig
