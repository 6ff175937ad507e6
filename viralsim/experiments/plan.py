"""Plans of many runs: which variants, grid points and run indices an experiment has.

A *plan* names every run to do: the scenario's variants (``"base"`` for the
scenario itself), the points of a parameter grid (dotted field -> value) and
the run indices ``0..runs-1``. Run ``i`` of every variant and every grid point
uses ``SeedSequence(seed, spawn_key=(i,))``: variants and grid points are
paired on common random numbers, and a run's result depends on nothing but
(scenario, seed, run) — not on the executor, the number of workers or the
chunking. Every scenario of a plan is resolved and checked before any run,
and a plan whose results could not fit in this machine's memory is refused
before anything is allocated (:func:`check_size`). No IO, no printing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from viralsim._version import __version__
from viralsim.engines.checks import ensure_checked
from viralsim.machine import format_bytes, machine_memory
from viralsim.scenario import Scenario, merge_tables
from viralsim.scenario.root import MAX_SEED

__all__ = [
    "BASE",
    "BYTES_PER_RUN",
    "BYTES_PER_SCENARIO",
    "RESULTS_FORMAT",
    "Plan",
    "check_size",
    "compare_plan",
    "dotted_override",
    "ensemble_plan",
    "sweep_plan",
]

#: The label of the scenario itself among its variants.
BASE = "base"
#: What the per-run columns mean, in the manifest and the fingerprint: a results folder of another
#: format is never resumed into (2: ``stop_h``, ``peak_rate_h`` and stage times are hours after the
#: upload; 1, before it had a number: hours since the simulation's t = 0).
RESULTS_FORMAT = 2
#: Memory one run's results hold until the end of the plan: its row (summary columns and a
#: 241-point reach curve by source), its key and its share of the tables built from the rows
#: (measured ~18 KiB a run, peak, with scenarios/tiny.toml).
BYTES_PER_RUN = 20 * 2**10
#: Memory of one resolved, checked scenario (a variant at a grid point; measured ~16 KiB).
BYTES_PER_SCENARIO = 16 * 2**10


def check_size(variants: int, points: int, runs: int) -> None:
    """Refuse a plan whose results would not fit in memory, from an estimate, before allocating it.

    Raises
    ------
    ValueError
        One line: how many runs, the memory they would need and the machine's.
    """
    total = variants * points * runs
    need = total * BYTES_PER_RUN + variants * points * BYTES_PER_SCENARIO
    limit = machine_memory()
    if need > limit:
        shape = [f"{variants} variants"] if variants > 1 else []
        shape += [f"{points} grid points"] if points > 1 else []
        of = f" ({' x '.join([*shape, f'{runs} run' + 's' * (runs != 1)])})" if shape else ""
        raise ValueError(
            f"{total} runs{of} would need ~{format_bytes(need)} of memory for their results "
            f"(a run may use {format_bytes(limit)} here): use fewer runs or grid points, or split the work"
        )


def dotted_override(path: str, value: Any) -> dict[str, Any]:
    """``"a.b.c", v`` -> ``{"a": {"b": {"c": v}}}`` (how a swept field becomes a variant table)."""
    out: dict[str, Any] = {}
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


@dataclass(frozen=True)
class Plan:
    """Every run of an ensemble, comparison or sweep, and how to resolve its scenario.

    ``variants`` are labels (:data:`BASE` or names of the scenario's variants);
    ``points`` are grid points (dotted field -> value), ``({},)`` when nothing
    is swept. A grid point is applied on top of the variant.
    """

    kind: str
    scenario: Scenario
    seed: int
    runs: int
    variants: tuple[str, ...] = (BASE,)
    params: tuple[str, ...] = ()
    points: tuple[Mapping[str, Any], ...] = ({},)
    _cache: dict[tuple[str, int], Scenario] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise ValueError(f"runs must be >= 1, got {self.runs}")
        check_size(len(self.variants), len(self.points), self.runs)
        for label in self.variants:
            if label != BASE and label not in self.scenario.variants:
                self.scenario.variant(label)  # raises KeyError naming the known variants
        for i in range(len(self.points)):
            for label in self.variants:
                self.resolved(label, i)  # every combination is valid before any run starts

    def resolved(self, label: str, point: int) -> Scenario:
        """The scenario run for variant ``label`` at grid point ``point`` (validated and checked once)."""
        key = (label, point)
        sc = self._cache.get(key)
        if sc is None:
            sc = self.scenario.variant(None if label == BASE else label)
            override: dict[str, Any] = {}
            for path, value in self.points[point].items():
                override = merge_tables(override, dotted_override(path, value))
            if override:
                sc = sc.derive(override)  # kept on sc: a point --param checked is not checked again
            self._cache[key] = ensure_checked(sc)  # once per scenario: a loaded one is trusted
        return sc

    def label(self, variant: str) -> str:
        """The display name of ``variant`` (:data:`BASE` or a variant's name): see ``Scenario.variant_label``."""
        return self.scenario.variant_label(None if variant == BASE else variant)

    def labels(self) -> dict[str, str]:
        """Variant -> display name, in plan order."""
        return {v: self.label(v) for v in self.variants}

    def keys(self) -> list[tuple[str, int, int]]:
        """Every run as ``(variant, point, run)``, in table order."""
        return [(v, p, r) for v in self.variants for p in range(len(self.points)) for r in range(self.runs)]

    def in_order(self, rows: Iterable[Mapping[str, Any]]) -> list[Any]:
        """``rows`` (one per run) sorted in table order: variant, grid point, run."""
        order = {k: i for i, k in enumerate(self.keys())}
        return sorted(rows, key=lambda r: order[(r["variant"], r["point"], r["run"])])

    def manifest(self) -> dict[str, Any]:
        """What the plan is, as JSON-ready data (the results folder's ``manifest.json``)."""
        return {
            "kind": self.kind,
            "scenario": self.scenario.name,
            **self._asked(),
            "fingerprint": self.fingerprint(),
            "provenance": {"scenario": self.scenario.model_dump(mode="json"), "version": __version__},
        }

    def _asked(self) -> dict[str, Any]:
        """The runs asked for, as JSON-ready data (in the manifest and the fingerprint alike)."""
        return {
            "seed": self.seed,
            "runs": self.runs,
            "variants": list(self.variants),
            "params": list(self.params),
            "points": [dict(p) for p in self.points],
            "version": __version__,
            "results_format": RESULTS_FORMAT,
        }

    def fingerprint(self) -> str:
        """A hash of everything that decides the results (to refuse resuming a different command).

        Display names (``base_label``, a variant's ``label``) decide nothing: renaming a variant
        keeps the fingerprint, and a scenario without them hashes as before they existed.
        """
        sc = self.scenario.model_dump(mode="json", exclude={"base_label"})
        sc["variants"] = {name: self.scenario.override(name) for name in self.scenario.variants}
        data = {"scenario": sc, **self._asked()}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _seed(scenario: Scenario, seed: int | None) -> int:
    seed = scenario.seed if seed is None else seed
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be in 0..2**63 - 1 (stored as a 64-bit integer), got {seed}")
    return seed


def ensemble_plan(scenario: Scenario, runs: int = 100, seed: int | None = None, variant: str | None = None) -> Plan:
    """The plan of ``runs`` replications of the scenario (or one of its variants)."""
    return Plan("ensemble", scenario, _seed(scenario, seed), runs, variants=(variant or BASE,))


def compare_plan(
    scenario: Scenario, variants: Iterable[str] | None = None, runs: int = 100, seed: int | None = None
) -> Plan:
    """The plan of a paired comparison: the base and ``variants`` (default: all of them)."""
    names = list(scenario.variants) if variants is None else list(variants)
    if BASE in names:
        raise ValueError(f"a variant may not be called {BASE!r}: that label is the scenario itself")
    return Plan("compare", scenario, _seed(scenario, seed), runs, variants=(BASE, *dict.fromkeys(names)))


def sweep_plan(
    scenario: Scenario,
    params: Mapping[str, Sequence[Any]],
    runs: int = 20,
    seed: int | None = None,
    variant: str | None = None,
) -> Plan:
    """The plan of a sweep: the full grid over ``params`` (dotted field -> values)."""
    seed = _seed(scenario, seed)
    if not params:
        raise ValueError("a sweep needs at least one parameter")
    names = tuple(params)
    check_size(1, math.prod(len(v) for v in params.values()), runs)  # before the grid is built
    points = tuple(dict(zip(names, values, strict=True)) for values in itertools.product(*params.values()))
    return Plan("sweep", scenario, seed, runs, variants=(variant or BASE,), params=names, points=points)
