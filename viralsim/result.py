"""What a run returns: plain columnar data, convertible to tables and graphs.

A :class:`RunResult` holds the views log (one row per view, sorted by time,
with source and parent view), the stage history of the push, the moderation
record, the summary metrics and the reach curve. It does no file IO; pandas
and networkx are imported only when a conversion asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from viralsim.records import AgentLog, StageRecord, Summary
from viralsim.scenario import Scenario
from viralsim.views import SOURCES

__all__ = ["RunResult"]


@dataclass(frozen=True)
class RunResult:
    """The outcome of one simulated run.

    Attributes
    ----------
    scenario
        The resolved scenario that ran (variant applied).
    seed, run, variant
        Provenance: root seed, run index, variant name (``None`` for the base).
    views
        Columns of the views log (see ``viralsim.views.VIEW_COLUMNS``), sorted by
        ``time_h`` (hours); ``source`` is a code into :data:`SOURCES`; ``parent`` is
        the row of the view this one came from by a share, -1 otherwise. Zero-length
        columns (same keys and dtypes) when the run recorded only its summary.
    stages
        One :class:`~viralsim.records.StageRecord` per evaluated push stage: cohort,
        timing, every KPI, thresholds, decision (a read-only mapping too).
    moderation
        The moderation record: path, delays (hours), decision, whether it was right.
    summary
        The :class:`~viralsim.records.Summary` (see :func:`viralsim.views.summarise`),
        a read-only mapping too: ``summary["views"]``, ``dict(summary)``.
    reach_curve
        ``time_h`` grid and cumulative views in total and by source.
    version
        viralsim version that ran.
    record
        ``"full"`` (with the views log) or ``"summary"`` (``views`` left empty).
    second_platform
        The cross-post's own result (its views, stages, moderation, summary) when the
        scenario has a ``cross_post`` table and the video qualified, else ``None``; the
        summary's ``cross_posted``, ``views_first``, ``views_second`` and
        ``views_total`` split the views by platform (``views`` stays the first's).
    agents
        ``engine = "agents"``: the :class:`~viralsim.records.AgentLog` (one row per
        video, session and user, and the interest-drift measure); ``None`` for the core.
    """

    scenario: Scenario
    seed: int
    run: int
    variant: str | None
    views: dict[str, np.ndarray]
    stages: list[StageRecord]
    moderation: dict[str, Any]
    summary: Summary
    reach_curve: dict[str, np.ndarray]
    version: str = field(default="")
    record: str = field(default="full")
    #: The run on the second platform when the scenario cross-posted the video (``cross_post``).
    second_platform: RunResult | None = field(default=None)
    #: The agent engine's log (videos, sessions, users, interest drift); None for the core engine.
    agents: AgentLog | None = field(default=None)

    def views_frame(self) -> Any:
        """The views log as a pandas DataFrame (``source`` as category names)."""
        import pandas as pd

        df = pd.DataFrame(self.views)
        df["source"] = pd.Categorical.from_codes(df["source"].to_numpy(), categories=pd.Index(SOURCES))
        return df

    def stages_frame(self) -> Any:
        """The stage history as a pandas DataFrame, one row per stage."""
        import pandas as pd

        return pd.DataFrame([row.to_dict() for row in self.stages])

    def reach_frame(self) -> Any:
        """The reach curve as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.reach_curve)

    def spread_tree(self) -> Any:
        """The spread tree as a networkx DiGraph.

        Node ``"root"`` is the upload; every other node is a view row with its
        ``user``, ``source`` and ``time_h``. Edges go from parent to child.
        """
        import networkx as nx

        g = nx.DiGraph()
        g.add_node("root", source="upload", time_h=self.moderation.get("decided_h", 0.0))
        v = self.views
        for i in range(len(v["time_h"])):
            g.add_node(i, user=int(v["user"][i]), source=SOURCES[v["source"][i]], time_h=float(v["time_h"][i]))
        par = v["parent"]
        g.add_edges_from(("root" if p < 0 else int(p), i) for i, p in enumerate(par.tolist()))
        return g

    @property
    def label(self) -> str:
        """The display name of what ran: the variant's ``label`` or the base's ``base_label``, else its key."""
        return self.scenario.base_label or self.variant or "base"

    def provenance(self) -> dict[str, Any]:
        """Resolved scenario, seed, run, variant and version, for every output."""
        return {
            "scenario": self.scenario.model_dump(mode="json"),
            "seed": self.seed,
            "run": self.run,
            "variant": self.variant,
            "version": self.version,
        }
