"""An agent run's log: where to find it in a run, and the names its columns use.

The agent engine returns an :class:`~viralsim.records.AgentLog` in ``RunResult.agents``
(numpy columns per video, session and user, plus the interest-drift curve). The analysis
functions accept a run or the log itself, or any object with the log's attributes (the
:class:`Log` protocol: ``videos``, ``sessions``, ``users``, ``drift``, ``topics``,
``mode``), so they are tested on small hand-made logs. No IO, no printing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeAlias, cast

import numpy as np

from viralsim.records import SESSION_END

__all__ = ["ACTIONS", "SESSION_END", "AgentRun", "Log", "RunOrLog", "log_of"]

#: The actions of a view, in the order the timeline lists them.
ACTIONS = ("liked", "commented", "shared", "followed", "profile_click")


class Log(Protocol):
    """What the analysis reads of an agent log: an :class:`~viralsim.records.AgentLog` or any look-alike."""

    @property
    def videos(self) -> Mapping[str, np.ndarray]: ...

    @property
    def sessions(self) -> Mapping[str, np.ndarray]: ...

    @property
    def users(self) -> Mapping[str, np.ndarray]: ...

    @property
    def drift(self) -> Mapping[str, np.ndarray]: ...

    @property
    def topics(self) -> Sequence[str]: ...

    @property
    def mode(self) -> str: ...


class AgentRun(Protocol):
    """What the analysis reads of a run: its views log and its agent log (a :class:`~viralsim.result.RunResult`)."""

    @property
    def views(self) -> Mapping[str, np.ndarray]: ...

    @property
    def agents(self) -> Log | None: ...


#: A run of the agent engine, or its log alone.
RunOrLog: TypeAlias = AgentRun | Log


def log_of(result: RunOrLog) -> Log:
    """The agent log of a run (``result.agents``), or ``result`` itself if it is already a log.

    Raises ValueError when ``result`` is a run of the core engine (no agent log).
    """
    if hasattr(result, "videos") and hasattr(result, "sessions"):
        return cast(Log, result)
    log = getattr(result, "agents", None)
    if log is None:
        raise ValueError('this run has no agent log: run a scenario with engine = "agents"')
    return cast(Log, log)
