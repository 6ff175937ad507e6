"""An agent run's log: where to find it in a run, and the names its columns use.

The agent engine returns an :class:`~viralsim.records.AgentLog` in ``RunResult.agents``
(numpy columns per video, session and user, plus the interest-drift curve). The analysis
functions accept a run or the log itself, or any object with the log's attributes
(``videos``, ``sessions``, ``users``, ``drift``, ``topics``, ``mode``), so they are tested
on small hand-made logs. No IO, no printing.
"""

from __future__ import annotations

from typing import Any

from viralsim.records import SESSION_END

__all__ = ["ACTIONS", "SESSION_END", "log_of"]

#: The actions of a view, in the order the timeline lists them.
ACTIONS = ("liked", "commented", "shared", "followed", "profile_click")


def log_of(result: Any) -> Any:
    """The agent log of a run (``result.agents``), or ``result`` itself if it is already a log.

    Raises ValueError when ``result`` is a run of the core engine (no agent log).
    """
    if hasattr(result, "videos") and hasattr(result, "sessions"):
        return result
    log = getattr(result, "agents", None)
    if log is None:
        raise ValueError('this run has no agent log: run a scenario with engine = "agents"')
    return log
