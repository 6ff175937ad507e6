"""The agent engine (``engine = "agents"``): users as SimPy processes, a For You feed, a marketplace.

Each user is a process with sessions (diurnal Poisson arrivals, time zones); in
a session the user plays a ranked feed until attention or satisfaction runs
out. Without a ``[marketplace]`` table the engine runs the scenario's one
video with the cohort engine's mechanics (the two engines agree in
distribution); with one, many creators' videos compete for the same users.
Run it through ``viralsim.simulate``; it returns a ``RunResult`` whose
``agents`` field is a :class:`~viralsim.records.AgentLog`. This module only
re-exports.
"""

from viralsim.engines.agents.engine import ENGINE

__all__ = ["ENGINE"]
