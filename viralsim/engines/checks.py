"""One check of a scenario: its table checks and its engine's own, run once per scenario object.

:func:`check` returns every problem as ``(location, message)`` pairs: the
scenario layer's table checks (:func:`viralsim.scenario.checks.scenario_problems`)
then those of the engine the scenario names (``ENGINE.problems``: its limits,
memory and unsupported fields). :func:`ensure_checked` is what loading,
``simulate``, plans and ``--param`` call: it checks a scenario object once per
record mode (against this machine's memory), marks it, and trusts the mark after
that, so one command checks each scenario once. No IO, no printing.
"""

from __future__ import annotations

from viralsim.engines.contracts import Record
from viralsim.engines.registry import engine_for
from viralsim.machine import machine_memory
from viralsim.scenario import Problem, Scenario
from viralsim.scenario.checks import scenario_problems

__all__ = ["check", "engine_problems", "ensure_checked", "first_problem"]


def check(sc: Scenario, *, record: Record = "summary", memory_limit: int | None = None) -> list[Problem]:
    """Every problem of a schema-valid scenario, as ``(location, message)``.

    Parameters
    ----------
    sc : Scenario
        A schema-valid scenario (variant applied).
    record : {"summary", "full"}
        The memory a run needs depends on whether it keeps its views log; loading
        checks the summary (what ensembles and ``viralsim run`` without ``--out``
        keep), ``simulate(record="full")`` checks again for the log.
    memory_limit : int, optional
        Bytes a run may need (default: :func:`~viralsim.machine.machine_memory`); a
        scenario whose engine's memory estimate is larger is refused before anything
        is allocated.
    """
    return scenario_problems(sc) + engine_problems(sc, record=record, memory_limit=memory_limit)


def engine_problems(sc: Scenario, *, record: Record = "summary", memory_limit: int | None = None) -> list[Problem]:
    """The problems of the engine ``sc`` names only (its limits, memory and unsupported fields)."""
    limit = machine_memory() if memory_limit is None else memory_limit
    return engine_for(sc.engine).problems(sc, record=record, memory_limit=limit)


def first_problem(found: list[Problem]) -> str:
    """``dotted.location: message`` of the first problem (what a ``ValueError`` says)."""
    loc, msg = found[0]
    return f"{'.'.join(map(str, loc))}: {msg}"


def ensure_checked(sc: Scenario, record: Record = "summary") -> Scenario:
    """``sc`` once it passed :func:`check` for ``record``; checked at most once per object and mode.

    Raises
    ------
    ValueError
        ``dotted.location: message`` of the first problem.
    """
    if not sc.is_checked(record):
        # the tables do not depend on the record mode: a scenario checked for the summary
        # only needs its engine's check of the full log's memory
        found = engine_problems(sc, record=record) if sc.is_checked() else check(sc, record=record)
        if found:
            raise ValueError(first_problem(found))
        sc.mark_checked(record)
    return sc
