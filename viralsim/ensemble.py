"""Ensembles, paired comparisons and parameter sweeps: the public names.

The work lives in :mod:`viralsim.experiments` (plan, run, stats); this module
only re-exports what users import as ``viralsim.ensemble``.
"""

from viralsim.experiments.plan import BASE, Plan, compare_plan, dotted_override, ensemble_plan, sweep_plan
from viralsim.experiments.run import (
    SUMMARY_COLUMNS,
    Chunk,
    MemorySink,
    Sink,
    chunk_size,
    chunks,
    compare,
    execute,
    run_chunk,
    run_ensemble,
    sweep,
)
from viralsim.experiments.stats import (
    COMPARE_METRICS,
    QUANTILES,
    EnsembleResult,
    bands,
    paired_differences,
    summary_table,
)

__all__ = [
    "BASE",
    "COMPARE_METRICS",
    "QUANTILES",
    "SUMMARY_COLUMNS",
    "Chunk",
    "EnsembleResult",
    "MemorySink",
    "Plan",
    "Sink",
    "bands",
    "chunk_size",
    "chunks",
    "compare",
    "compare_plan",
    "dotted_override",
    "ensemble_plan",
    "execute",
    "paired_differences",
    "run_chunk",
    "run_ensemble",
    "summary_table",
    "sweep",
    "sweep_plan",
]
