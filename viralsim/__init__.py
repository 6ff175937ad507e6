"""viralsim: how far a short video travels when the platform, or people, decide who sees it.

A discrete-event simulator (SimPy + numpy) of a TikTok-like platform: moderation,
topic recognition, a staged push gated by KPIs, the Following feed and share
cascades. This module only re-exports the public API; importing it never
imports matplotlib, pandas or networkx.
"""

from typing import TYPE_CHECKING, Any

from viralsim._version import __version__
from viralsim.engines import simulate
from viralsim.model.graph import CSRGraph
from viralsim.model.metrics import structural_virality
from viralsim.result import RunResult
from viralsim.scenario import Scenario

if TYPE_CHECKING:  # what __getattr__ returns, for type checkers
    from viralsim.io.graph_file import load_graph
    from viralsim.io.scenario_file import load_scenario

__all__ = [
    "CSRGraph",
    "RunResult",
    "Scenario",
    "__version__",
    "load_graph",
    "load_scenario",
    "simulate",
    "structural_virality",
]


def __getattr__(name: str) -> Any:  # the io layer sits above the core: import it on first use
    if name == "load_scenario":
        from viralsim.io.scenario_file import load_scenario

        return load_scenario
    if name == "load_graph":
        from viralsim.io.graph_file import load_graph

        return load_graph
    raise AttributeError(f"module 'viralsim' has no attribute {name!r}")
