"""Bundled scenarios by name: installed with the package, runnable from any folder (``viralsim run bees_bike``).

A path that exists wins over a bundled name; a misspelt name gets one line with a suggestion and exit 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from paths import BEES, SCENARIOS, TINY

from viralsim import load_scenario
from viralsim.cli import main
from viralsim.cli.common import bundled_scenarios, find_scenario


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line(res: Result, *fragments: str) -> str:
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 1 and len(lines) == 1 and "Traceback" not in res.stderr, res.output
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def test_the_bundled_scenarios_are_the_repository_scenarios() -> None:
    # one source of truth: scenarios/ is the package's folder, installed with it (package data)
    assert {name: p.read_bytes() for name, p in bundled_scenarios().items()} == {
        p.stem: p.read_bytes() for p in SCENARIOS
    }
    assert Path(find_scenario("bees_bike")).resolve() == BEES.resolve()


def test_run_by_name_from_a_folder_without_scenarios(tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("VIRALSIM_SCENARIOS", None)
    done = subprocess.run(
        [sys.executable, "-m", "viralsim", "run", "bees_bike", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    by_name = json.loads(done.stdout)
    by_file = json.loads(invoke("run", BEES, "--json").stdout)
    assert by_name["scenario"] == "bees_bike"
    assert {k: v for k, v in by_name.items() if k != "peak_memory_mib"} == {
        k: v for k, v in by_file.items() if k != "peak_memory_mib"
    }


@pytest.mark.parametrize("args", [["validate", "tiny"], ["validate", "tiny.toml"], ["new", "x", "--like", "tiny"]])
def test_other_commands_take_a_name(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = invoke(*args)
    assert res.exit_code == 0, res.output


def test_compare_and_sweep_take_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = invoke("compare", "tiny", "--runs", "2", "--json", "--processes", "1")
    assert res.exit_code == 0, res.output
    res = invoke("sweep", "tiny", "--runs", "1", "--param", "video.appeal=0.5,0.6", "--json", "--processes", "1")
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("command", [["run"], ["compare"], ["validate"], ["report", "-o", "r.html"]])
def test_a_misspelt_name_gets_one_line_with_a_suggestion(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = one_line(invoke(command[0], "bees_bik", *command[1:]), "bees_bik: cannot read", "did you mean bees_bike?")
    assert line.startswith("bees_bik:")


def test_a_missing_file_far_from_any_name_gets_no_suggestion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = one_line(invoke("run", "zzzz_qqqq.toml"), "zzzz_qqqq.toml: cannot read")
    assert "did you mean" not in line


def test_a_local_file_named_like_a_bundled_scenario_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = TINY.read_text(encoding="utf-8").replace("users = 20_000", "users = 12_000")
    assert text != TINY.read_text(encoding="utf-8")
    for local in ("tiny.toml", "tiny"):  # a bare name too, when such a file exists
        (tmp_path / local).write_text(text, encoding="utf-8")
        res = invoke("run", local, "--json")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["population"] == 12_000
        assert find_scenario(local) == local
    (tmp_path / "tiny").unlink()
    res = invoke("run", "tiny", "--json")  # no file "tiny" here: the bundled one
    assert json.loads(res.stdout)["population"] == load_scenario(TINY).population.users == 20_000


def test_scenarios_lists_names_that_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    names = [line.split()[0] for line in invoke("scenarios").stdout.strip().splitlines()]
    assert names == sorted(p.stem for p in SCENARIOS)
    assert all(Path(find_scenario(n)).is_file() for n in names)
