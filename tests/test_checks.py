"""Check once: one command checks each scenario object once, and an unchecked scenario is still refused."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import viralsim.engines.checks as checks
from viralsim import Scenario, load_scenario, simulate
from viralsim.cli import main
from viralsim.engines.cohort.engine import CohortEngine
from viralsim.experiments.plan import ensemble_plan, sweep_plan
from viralsim.io.params import parse_params

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.toml"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[int, str]]:
    """Every table check and engine check, counted by (scenario object, record mode)."""
    seen: Counter[tuple[int, str]] = Counter()
    tables, engine = checks.scenario_problems, CohortEngine.problems

    def counted_tables(sc: Scenario) -> list[checks.Problem]:
        seen[(id(sc), "tables")] += 1
        return tables(sc)

    def counted_engine(self: CohortEngine, sc: Scenario, *, record: str, memory_limit: int) -> list[checks.Problem]:
        seen[(id(sc), record)] += 1
        return engine(self, sc, record=record, memory_limit=memory_limit)

    monkeypatch.setattr(checks, "scenario_problems", counted_tables)
    monkeypatch.setattr(CohortEngine, "problems", counted_engine)
    return seen


def _once(seen: Counter[tuple[int, str]]) -> None:
    assert seen and max(seen.values()) == 1, seen


def test_loading_checks_the_scenario_and_each_variant_once(calls: Counter[tuple[int, str]]) -> None:
    sc = load_scenario(TINY)
    assert sc.is_checked() and not sc.is_checked("full")
    _once(calls)
    assert sum(n for (_, what), n in calls.items() if what == "summary") == 1 + len(sc.variants)
    assert all(sc.variant(name).is_checked() for name in sc.variants)


def test_simulate_trusts_a_loaded_scenario_and_checks_the_full_log_once(calls: Counter[tuple[int, str]]) -> None:
    sc = load_scenario(TINY)
    loaded = calls.copy()
    simulate(sc, record="summary")
    simulate(sc, variant="social", record="summary")
    assert calls == loaded  # nothing checked again
    simulate(sc, record="full")
    simulate(sc, record="full")
    assert calls - loaded == Counter({(id(sc), "full"): 1})  # the tables were checked on loading
    assert sc.is_checked("full")


def test_run_command_checks_once(calls: Counter[tuple[int, str]], tmp_path: Path) -> None:
    n_variants = len(Scenario.model_validate(load_scenario(TINY).model_dump()).variants)
    calls.clear()
    res = CliRunner().invoke(main, ["run", str(TINY), "--variant", "strict", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    _once(calls)
    records = Counter(what for _, what in calls)
    # loading: the base and every variant (summary); the run: the variant's full log
    assert records == Counter({"tables": 1 + n_variants, "summary": 1 + n_variants, "full": 1})


def test_a_sweep_checks_each_grid_point_once(calls: Counter[tuple[int, str]]) -> None:
    sc = load_scenario(TINY)
    before = sum(calls.values())
    grid = parse_params(["video.appeal=0.3,0.5,0.7"], sc)  # each value checked here ...
    plan = sweep_plan(sc, grid, runs=2)  # ... and trusted by the plan
    for i in range(len(plan.points)):
        simulate(plan.resolved("base", i), record="summary")  # and by simulate
    _once(calls)
    assert sum(calls.values()) - before == 2 * 3  # tables + engine, three grid points
    ensemble_plan(sc, runs=3).resolved("base", 0)
    assert sum(calls.values()) - before == 2 * 3


def test_a_scenario_built_in_python_is_checked_once_by_simulate(calls: Counter[tuple[int, str]]) -> None:
    sc = Scenario.model_validate(
        {"population": {"users": 3000, "topics": ["a"]}, "video": {"topic": "a"}, "horizon_h": 30.0}
    )
    assert not sc.is_checked()
    simulate(sc, record="summary")
    simulate(sc, record="summary")
    assert calls == Counter({(id(sc), "tables"): 1, (id(sc), "summary"): 1})


def test_an_unchecked_scenario_is_still_refused() -> None:
    bad = Scenario.model_validate({"population": {"users": 100, "topics": ["a"]}, "video": {"topic": "a"}})
    with pytest.raises(ValueError, match=r"platform\.push\.first_cohort: first cohort \(200\) is larger"):
        simulate(bad)
    assert not bad.is_checked()
    with pytest.raises(ValueError, match="first cohort"):
        simulate(bad)  # refused again: a failed check marks nothing


def test_a_copy_with_changes_is_not_trusted() -> None:
    sc = load_scenario(TINY)
    broken = sc.model_copy(update={"population": sc.population.model_copy(update={"users": 10})})
    assert broken == broken and not broken.is_checked()
    with pytest.raises(ValueError, match="population.users"):
        simulate(broken)


def test_the_check_mark_is_not_part_of_the_value() -> None:
    loaded = load_scenario(TINY)
    fresh = Scenario.model_validate(loaded.model_dump())
    assert loaded.is_checked() and not fresh.is_checked()
    assert loaded == fresh
    assert loaded.model_dump() == fresh.model_dump()


def test_a_run_may_plan_on_a_share_of_the_physical_memory_only(monkeypatch, tiny) -> None:
    """A run estimated just under the physical memory would be killed by the kernel: it is refused instead."""
    import os
    import resource

    from viralsim import machine
    from viralsim.engines.checks import check
    from viralsim.engines.cohort import memory

    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert machine.machine_memory() == int(machine.USABLE_FRACTION * physical)
    monkeypatch.setattr(memory, "memory_estimate", lambda sc, record="summary": 0.9 * physical)
    found = check(tiny)
    assert len(found) == 1 and "would need ~" in found[0][1] and "a run may use" in found[0][1]
    monkeypatch.setattr(memory, "memory_estimate", lambda sc, record="summary": 0.8 * physical)
    assert check(tiny) == []
