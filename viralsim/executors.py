"""Where runs execute: in-process, local processes, or a Dask cluster — the public names.

The executors live in :mod:`viralsim.experiments.executors`; this module only
re-exports what users import as ``viralsim.executors``.
"""

from viralsim.experiments.executors import (
    SMALL_WORK,
    DaskExecutor,
    Executor,
    ExecutorError,
    InProcess,
    LocalProcesses,
    make_executor,
)

__all__ = ["SMALL_WORK", "DaskExecutor", "Executor", "ExecutorError", "InProcess", "LocalProcesses", "make_executor"]
