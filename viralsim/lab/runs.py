"""The lab's scenarios and runs: find a scenario by name or path, load it, run it as set and without the push.

:func:`bundled` lists the bundled scenario files; :func:`resolve` turns the
lab's argument (a path, else a bundled name: the CLI's rule,
:func:`viralsim.io.bundled.find_scenario`) into a file or a :class:`LabError`
(one line); :func:`load` reads and checks it (kept per file and modification
time, so a re-run does not read it again). :func:`run_pair` applies the
controls' override and simulates the scenario as set and with
``platform.push.mode = "social"``, same seed, each with ``record="summary"``
(the reach curve and the stages come with the summary: no views log is
needed); :func:`sides` gives the two scenarios for runs watched as they go
(:mod:`viralsim.lab.live`). :func:`run_many` runs :func:`many_plan`, the plan of
``viralsim compare`` with a ``social`` variant. Nothing here imports dash.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viralsim.engines import simulate
from viralsim.engines.checks import engine_problems, ensure_checked, first_problem
from viralsim.engines.contracts import Record
from viralsim.experiments.executors import make_executor
from viralsim.experiments.plan import Plan, compare_plan
from viralsim.experiments.run import execute
from viralsim.experiments.stats import EnsembleResult
from viralsim.io.bundled import bundled, find_scenario
from viralsim.io.scenario_file import ScenarioError, load_scenario
from viralsim.machine import machine_memory
from viralsim.result import RunResult
from viralsim.scenario import Scenario

__all__ = [
    "MAX_RUNS",
    "LabError",
    "Pair",
    "bundled",
    "load",
    "many_plan",
    "resolve",
    "run_full",
    "run_many",
    "run_pair",
    "sides",
]

#: The override that turns any scenario into its social-graph-only twin.
SOCIAL = {"platform": {"push": {"mode": "social"}}}
#: The share of the machine's memory a lab run may need: a slider must not take the machine down
#: (the run-time checks allow a run up to all of it, which leaves nothing for the browser and the rest).
MEMORY_SHARE = 0.5
#: The most paired runs the lab's "compare N runs" makes (each side).
MAX_RUNS = 50


class LabError(Exception):
    """Bad input to the lab (an unknown scenario, an unreadable file, a busy port): ``str()`` is one line."""


def resolve(name: str | None, folder: Path | None) -> Path:
    """The scenario file for ``name``: a path to a scenario file, else a bundled scenario's name.

    The CLI's rule (:func:`viralsim.io.bundled.find_scenario`): an existing path
    wins over a bundled name. ``None`` picks ``bees_bike`` (or the first bundled scenario).

    Raises
    ------
    LabError
        When ``name`` is neither an existing file nor a bundled scenario.
    """
    known = bundled(folder)
    if name is None:
        if not known:
            raise LabError("no bundled scenarios found: name a scenario file (viralsim lab FILE)")
        return known.get("bees_bike", next(iter(known.values())))
    path = Path(find_scenario(str(Path(name).expanduser()), folder))
    if path.is_file():
        return path
    if path.exists():
        raise LabError(f"{name}: not a scenario file")
    if Path(name).parent == Path("."):
        listed = ", ".join(known) or "none found"
        raise LabError(f"{name}: no such bundled scenario (bundled: {listed})")
    raise LabError(f"{name}: no such file")


_LOADED: dict[tuple[str, float], Scenario] = {}


def load(path: Path) -> Scenario:
    """The checked scenario in ``path`` (read once per modification time).

    Raises
    ------
    LabError
        When the file cannot be read or is no valid scenario (its first problem, and how many more).
    """
    try:
        key = (str(path.resolve()), path.stat().st_mtime)
    except OSError as err:
        raise LabError(f"{path}: cannot read: {err.strerror or err}") from None
    if key not in _LOADED:
        try:
            _LOADED[key] = load_scenario(path)
        except ScenarioError as err:
            more = len(err.problems) - 1
            raise LabError(err.problems[0] + (f" (and {more} more problems)" if more > 0 else "")) from None
    return _LOADED[key]


@dataclass(frozen=True)
class Pair:
    """The two runs the lab shows: the scenario as set, and the same without the push."""

    as_set: RunResult
    social: RunResult


def _tuned(sc: Scenario, override: dict[str, Any], record: Record = "summary") -> Scenario:
    """``sc`` with ``override``, refused when a run would need more than the lab's share of memory."""
    tuned = sc.derive(override) if override else sc
    found = engine_problems(tuned, record=record, memory_limit=int(machine_memory() * MEMORY_SHARE))
    if found:
        raise ValueError(first_problem(found) + " (the lab lets a run use half of it)")
    return tuned


def sides(sc: Scenario, override: dict[str, Any]) -> tuple[Scenario, Scenario | None]:
    """``sc`` with ``override`` and its social-only twin (``None`` when it is already social-only).

    Raises
    ------
    ValueError
        As :func:`run_pair`.
    """
    tuned = ensure_checked(_tuned(sc, override))  # refused here, before a run starts in the background
    return tuned, None if tuned.platform.push.mode == "social" else ensure_checked(tuned.derive(SOCIAL))


def run_pair(sc: Scenario, override: dict[str, Any], seed: int) -> Pair:
    """Simulate ``sc`` with ``override`` applied, as set and in social mode, both with ``seed``.

    Raises
    ------
    ValueError
        When the override makes an invalid scenario (pydantic's or the checks' message), or a run
        that needs more than :data:`MEMORY_SHARE` of the machine's memory.
    """
    tuned, social = sides(sc, override)
    as_set = simulate(tuned, seed=seed, record="summary")
    return Pair(as_set, as_set if social is None else simulate(social, seed=seed, record="summary"))


def run_full(sc: Scenario, override: dict[str, Any], seed: int) -> RunResult:
    """The scenario as set with its views log (``record="full"``): the push's animation needs it.

    Same scenario and seed as :func:`run_pair`'s ``as_set``, so the same numbers.
    """
    return simulate(_tuned(sc, override, "full"), seed=seed, record="full")


def many_plan(sc: Scenario, override: dict[str, Any], seed: int, runs: int) -> Plan:
    """The plan of ``runs`` paired runs of ``sc`` with ``override`` (variant ``base``) and social-only (``social``).

    It is ``viralsim compare``'s plan for that scenario with one variant
    ``social``: the same seeds, rows, quantiles and bands.

    Raises
    ------
    ValueError
        As :func:`run_pair`, or when ``runs`` is not in 1..:data:`MAX_RUNS`.
    """
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs: between 1 and {MAX_RUNS}, got {runs}")
    tuned = ensure_checked(_tuned(sc, override))
    data = tuned.model_dump(exclude={"variants"}, exclude_none=True)
    data["variants"] = {"social": SOCIAL}
    return compare_plan(Scenario.model_validate(data), ["social"], runs, seed)


def run_many(sc: Scenario, override: dict[str, Any], seed: int, runs: int) -> EnsembleResult:
    """``runs`` paired runs of :func:`many_plan`, in this process (no worker processes behind a web server).

    Raises
    ------
    ValueError
        As :func:`many_plan`.
    """
    with closing(make_executor("inprocess")) as executor:
        return execute(many_plan(sc, override, seed, runs), executor)
