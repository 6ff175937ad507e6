"""``viralsim explain`` (every field and table explained) and ``viralsim new`` (a commented starter scenario)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from paths import SCENARIOS

from viralsim import load_scenario, simulate
from viralsim.cli import main
from viralsim.explain import _walk, starter_toml
from viralsim.scenario import Scenario

ALL_PATHS = [path for path, _, _ in _walk(Scenario)]


def _invoke(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_explain_lists_the_tables() -> None:
    code, out, _ = _invoke("explain")
    assert code == 0
    for table in ("population", "video", "platform.push", "platform.push.thresholds", "behaviour", "marketplace"):
        assert any(line.split()[0] == table for line in out.splitlines()), table


def test_explain_a_table_lists_its_fields() -> None:
    code, out, _ = _invoke("explain", "behaviour")
    assert code == 0
    for field in Scenario.model_fields["behaviour"].annotation.model_fields:
        assert f"  {field} " in out
    assert "Hidden lever of completion" in out


def test_explain_a_field_shows_description_type_default_and_bundled_values() -> None:
    code, out, _ = _invoke("explain", "platform.push.thresholds.completion")
    assert code == 0
    assert "Least completion rate" in out
    assert "type:    number in [0, 1], or unset" in out
    assert "default: 0.3" in out  # the default Push table sets it
    assert "bees_bike: 0.15" in out and "tiny [variant strict]: 0.5" in out


def test_explain_the_hidden_levers() -> None:
    _, out, _ = _invoke("explain", "behaviour.watch_concentration")
    assert "default: 4.0" in out and "bees_bike: 2.0" in out
    _, out, _ = _invoke("explain", "behaviour.duration_elasticity")
    assert "none sets it" in out and "unit" not in out
    _, out, _ = _invoke("explain", "video.upload_h")
    assert "unit:    hours" in out


@pytest.mark.parametrize("path", ALL_PATHS)
def test_every_field_can_be_explained(path: str) -> None:
    code, out, err = _invoke("explain", path)
    assert code == 0, err
    assert out.strip()


def test_an_unknown_field_is_one_line_with_suggestions() -> None:
    code, out, err = _invoke("explain", "platform.push.treshold")
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "unknown scenario field 'platform.push.treshold'" in err
    assert "did you mean platform.push.thresholds" in err
    code, _, err = _invoke("explain", "behaviour.watch_concentraton")
    assert code == 1 and "behaviour.watch_concentration" in err


def test_new_writes_a_starter_that_validates_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _invoke("new", "mine")
    assert code == 0, err
    assert out.strip() == "mine.toml"
    text = (tmp_path / "mine.toml").read_text()
    assert text.count("\n# ") > 100  # every field after its description
    for table in ("[population]", "[video]", "[platform.push]", "[behaviour]"):
        assert table in text
    code, out, err = _invoke("validate", "mine.toml")
    assert code == 0, err
    r = simulate(load_scenario(tmp_path / "mine.toml"), seed=1)
    assert r.summary["stages_reached"] >= 2  # the starter's levers let a fair video through stage 1
    code, out, err = _invoke("new", "mine")
    assert code == 1 and "exists already" in err
    assert (tmp_path / "mine.toml").read_text() == text  # not overwritten


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_new_like_a_bundled_scenario_is_that_scenario(path: Path, tmp_path: Path) -> None:
    """``--like NAME`` writes the same scenario (every value, every variant), only renamed."""
    like = load_scenario(path)
    text = starter_toml("copy", like, path.stem)
    tomllib.loads(text)
    out = tmp_path / "copy.toml"
    out.write_text(text)
    if like.social_graph.kind == "edge_list":  # its graph file is relative to the scenario
        pytest.skip("an edge_list scenario's path is relative to its folder")
    copy = load_scenario(out)
    assert copy.model_dump(exclude={"name"}) == like.model_dump(exclude={"name"})


def test_new_like_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _invoke("new", "bees", "--like", "bees_bike")
    assert code == 0, err
    code, out, err = _invoke("validate", "bees.toml")
    assert code == 0 and "2 variants" in out
    code, _, err = _invoke("new", "x", "--like", "no_such_scenario")
    assert code == 1 and "no such bundled scenario" in err and not (tmp_path / "x.toml").exists()
