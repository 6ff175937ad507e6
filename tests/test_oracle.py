"""EoN as an independent oracle for the share cascade.

EoN (Epidemics on Networks, Kiss, Miller and Simon) simulates SIR epidemics on the
same networkx graph with its own event-driven algorithm. An independent cascade with
edge probability p is an SIR epidemic with a constant infectious period of 1 and
exponential transmission times of rate tau = -ln(1 - p) along every edge
(``EoN.fast_nonMarkov_SIR``): a node transmits along an edge iff the edge's
transmission time comes before its recovery, which happens independently for each
edge with probability 1 - exp(-tau) = p. The final size (everyone ever infected) is
then the set reached in the independent cascade.

The engine runs the same cascade through ``simulate()`` (the mapping is in
:func:`cascade_scenario`). For each graph family the final-size distributions of
``RUNS`` cascades from one uniformly random root are compared with a two-sample
Kolmogorov-Smirnov test at ALPHA = 0.001 (the sizes are discrete, which makes the
test conservative). Edge probabilities are above the epidemic threshold, so each
distribution has a small-outbreak part and a giant-outbreak part: both the take-off
probability and the giant size must agree. A negative control shows the test has the
power to see a plausible mistake (rate p instead of -ln(1 - p)).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import networkx as nx
import numpy as np
import pytest
from scipy import stats
from worlds import cascade_scenario

from viralsim import CSRGraph, simulate

EoN = pytest.importorskip("EoN")

ALPHA = 0.001
RUNS = 1_000
USERS = 1_000

#: graph family -> (graph generator, edge probability p); p is above each graph's threshold
FAMILIES: dict[str, tuple[Any, float]] = {
    "erdos_renyi": (lambda: nx.fast_gnp_random_graph(USERS, 6 / (USERS - 1), seed=21), 0.25),
    "watts_strogatz": (lambda: nx.watts_strogatz_graph(USERS, 6, 0.1, seed=22), 0.30),
    "barabasi_albert": (lambda: nx.barabasi_albert_graph(USERS, 3, seed=23), 0.15),
    "directed_gnp": (lambda: nx.gnp_random_graph(USERS, 4 / (USERS - 1), seed=24, directed=True), 0.40),
}


@functools.cache
def graph_of(family: str) -> nx.Graph:
    return FAMILIES[family][0]()


@functools.cache
def viralsim_sizes(family: str) -> np.ndarray:
    g = graph_of(family)
    csr = CSRGraph.from_networkx(g)  # built once: every run shares it
    sc = cascade_scenario(g.number_of_nodes(), FAMILIES[family][1])
    return np.array([simulate(sc, seed=s, graph=csr).summary["views"] for s in range(RUNS)])


def eon_sizes(family: str, rate: float, seed0: int) -> np.ndarray:
    """Final sizes of RUNS EoN SIR epidemics: recovery after exactly 1, Exp(rate) transmission times."""
    g = graph_of(family)
    nodes = np.array(list(g.nodes))
    out = []
    for s in range(RUNS):
        rng = np.random.default_rng([seed0, s])

        def trans_time(source: Any, target: Any, rng: np.random.Generator = rng) -> float:
            return float(rng.exponential(1.0 / rate))

        def rec_time(node: Any) -> float:
            return 1.0

        root = int(nodes[rng.integers(len(nodes))])
        _, _, infected, recovered = EoN.fast_nonMarkov_SIR(
            g, trans_time_fxn=trans_time, rec_time_fxn=rec_time, initial_infecteds=[root], rng=rng
        )
        assert infected[-1] == 0
        out.append(int(recovered[-1]))
    return np.array(out)


def describe(sizes: np.ndarray) -> str:
    big = sizes >= 50
    return f"mean {sizes.mean():.1f}, take-off {big.mean():.3f}, giant mean {sizes[big].mean() if big.any() else 0:.1f}"


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_final_sizes_match_eon(family: str) -> None:
    p = FAMILIES[family][1]
    ours = viralsim_sizes(family)
    theirs = eon_sizes(family, rate=-math.log1p(-p), seed0=1)
    ks = stats.ks_2samp(ours, theirs)
    print(
        f"{family} (p={p}): KS D = {ks.statistic:.4f}, p-value = {ks.pvalue:.3f}; "
        f"viralsim {describe(ours)}; EoN {describe(theirs)}"
    )
    assert ks.pvalue > ALPHA
    # both sides really run the supercritical cascade: small and giant outbreaks
    for sizes in (ours, theirs):
        assert 0.1 < np.mean(sizes >= 50) < 0.9


@pytest.mark.slow
def test_the_comparison_detects_a_wrong_mapping() -> None:
    # EoN with rate p instead of -ln(1 - p): per-edge probability 1 - exp(-0.25) = 0.221
    # instead of 0.25 on the Erdos-Renyi graph. The KS test must reject it at ALPHA.
    p = FAMILIES["erdos_renyi"][1]
    ks = stats.ks_2samp(viralsim_sizes("erdos_renyi"), eon_sizes("erdos_renyi", rate=p, seed0=2))
    print(f"negative control: KS D = {ks.statistic:.4f}, p-value = {ks.pvalue:.2e}")
    assert ks.pvalue < ALPHA
