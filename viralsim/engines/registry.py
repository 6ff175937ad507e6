"""The registry of engines: the scenario's ``engine`` field -> the engine object.

Each entry names the package that holds the engine's ``ENGINE`` (an object
behind :class:`~viralsim.engines.contracts.Engine`); it is imported on first
use, so a cohort-engine run never imports the agent engine, and nothing below
the engine packages imports them by name.
"""

from __future__ import annotations

import importlib

from viralsim.engines.contracts import Engine

__all__ = ["ENGINES", "engine_for"]

#: Engine name (the scenario's ``engine`` field) -> module holding its ``ENGINE``.
ENGINES: dict[str, str] = {
    "core": "viralsim.engines.cohort",
    "agents": "viralsim.engines.agents",
}


def engine_for(name: str) -> Engine:
    """The engine registered under ``name``."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
    engine: Engine = importlib.import_module(ENGINES[name]).ENGINE
    return engine
