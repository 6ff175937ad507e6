"""The command line, in-process (click's CliRunner) and as ``python -m viralsim``, and the bundled scenarios.

Exit codes: 0 ok, 1 bad input or a failed run (one line per problem, no traceback), 2 usage.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invariants import check_invariants
from paths import BEES, SCENARIOS, TINY
from rich.console import Console
from strategies import scenarios

from viralsim import Scenario, load_scenario, simulate
from viralsim.cli import main
from viralsim.console import print_run
from viralsim.io.graph_file import load_graph
from viralsim.io.outputs import summary_json

JSON_KEYS = {
    "views",
    "unique_viewers",
    "likes",
    "comments",
    "shares",
    "follows",
    "share_to_view",
    "views_by_source",
    "algorithmic_share",
    "stages_reached",
    "stop_reason",
    "structural_virality",
    "moderation",
    "seed",
    "scenario",
    "variant",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def python_m(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "viralsim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def one_json_object(text: str) -> dict[str, Any]:
    """Parse ``text`` as exactly one JSON object (and nothing else but a final newline)."""
    obj, end = json.JSONDecoder().raw_decode(text)
    assert text[end:].strip() == "", f"more than one JSON object: {text[end:][:80]!r}"
    assert isinstance(obj, dict)
    return obj


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


# -- run --json ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "seed", "variant"),
    [([], 7, None), (["--seed", "3"], 3, None), (["--seed", "3", "--variant", "social"], 3, "social")],
)
def test_run_json_prints_one_object_with_the_summary(extra: list[str], seed: int, variant: str | None) -> None:
    res = invoke("run", TINY, "--json", *extra)
    assert res.exit_code == 0, res.output
    out = one_json_object(res.stdout)
    assert JSON_KEYS <= set(out)
    assert set(out["views_by_source"]) == {"for_you", "following", "share"}
    assert (out["seed"], out["scenario"], out["variant"]) == (seed, "tiny", variant)
    # the numbers are those of the Python API with the same seed
    r = simulate(load_scenario(TINY), seed=seed, variant=variant)
    for key in (
        "views",
        "unique_viewers",
        "likes",
        "comments",
        "shares",
        "follows",
        "views_by_source",
        "stages_reached",
        "stop_reason",
    ):
        assert out[key] == r.summary[key], key
    assert out["share_to_view"] == pytest.approx(r.summary["share_to_view"])
    assert out["algorithmic_share"] == pytest.approx(r.summary["algorithmic_share"])
    assert out["structural_virality"] == pytest.approx(r.summary["structural_virality"])
    assert out["moderation"]["decision"] == r.moderation["decision"]
    assert sum(out["views_by_source"].values()) == out["views"]


def test_python_m_run_json() -> None:
    done = python_m("run", TINY, "--json", "--seed", "2")
    assert done.returncode == 0, done.stderr
    out = one_json_object(done.stdout)
    assert JSON_KEYS <= set(out)
    assert out["seed"] == 2
    assert out["views"] == simulate(load_scenario(TINY), seed=2).summary["views"]
    assert "Traceback" not in done.stderr


def test_run_prints_a_table_without_json() -> None:
    res = invoke("run", TINY)
    assert res.exit_code == 0, res.output
    assert "views" in res.stdout and "stop reason" in res.stdout
    with pytest.raises(ValueError):
        json.loads(res.stdout)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_summary_is_strict_json_and_prints_for_any_run(sc: Scenario, seed: int) -> None:
    # whatever happened (removed, pending review, no views, NaN KPIs), --json is valid strict JSON
    # and the table prints
    r = simulate(sc, seed=seed)
    text = json.dumps(summary_json(r), allow_nan=False)
    assert JSON_KEYS <= set(json.loads(text))
    buf = io.StringIO()
    print_run(r, Console(file=buf, width=140))
    assert "views" in buf.getvalue()


# -- outputs -------------------------------------------------------------------------------------


def test_run_out_writes_tables_and_summary_with_provenance(tmp_path: Path) -> None:
    out = tmp_path / "results" / "tiny"  # parents are created
    res = invoke("run", TINY, "--seed", "5", "--variant", "strict", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"views.parquet", "views.csv", "stages.parquet", "stages.csv", "summary.json"} <= names
    assert not any(n.startswith(".") for n in names)  # no temporary folder left behind
    resolved = load_scenario(TINY).variant("strict").model_dump(mode="json")
    r = simulate(load_scenario(TINY), seed=5, variant="strict")

    for table, rows in (("views", r.summary["views"]), ("stages", len(r.stages))):
        meta = pq.read_schema(out / f"{table}.parquet").metadata
        prov = json.loads(meta[b"viralsim"])
        assert prov["seed"] == 5 and prov["variant"] == "strict"
        assert prov["scenario"] == resolved
        assert pq.read_table(out / f"{table}.parquet").num_rows == rows
        with open(out / f"{table}.csv", encoding="utf-8") as fh:
            first = fh.readline()
        assert first.startswith("# provenance:")
        assert json.loads(first.removeprefix("# provenance:"))["seed"] == 5
        assert len(pd.read_csv(out / f"{table}.csv", comment="#")) == rows

    views = pd.read_parquet(out / "views.parquet")
    assert views["user"].tolist() == r.views["user"].tolist()
    assert set(views["source"].astype(str)) <= {"for_you", "following", "share"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["views"] == r.summary["views"] == one_json_object(res.stdout)["views"]
    assert summary["provenance"]["seed"] == 5
    assert summary["provenance"]["scenario"] == resolved


def test_run_plot_writes_a_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    png = tmp_path / "reach.png"
    res = invoke("run", TINY, "--plot", png, "--json")
    assert res.exit_code == 0, res.output
    one_json_object(res.stdout)
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert png.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["reach.png"]  # no temporary file left


def test_python_m_run_plot_svg(tmp_path: Path) -> None:
    done = python_m("run", TINY, "--plot", "reach.svg", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert b"<svg" in (tmp_path / "reach.svg").read_bytes()[:2000]


# -- bad input: exit 1, one line, no traceback, no output -----------------------------------------


def test_unknown_variant_exits_1() -> None:
    done = python_m("run", TINY, "--variant", "nope")
    assert done.returncode == 1
    assert done.stdout == ""
    assert_one_line_error(done.stderr, "nope", "social", "strict")  # names the known variants


def test_missing_file_exits_1(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    done = python_m("run", missing)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "missing.toml")
    res = invoke("run", missing)
    assert res.exit_code == 1
    assert_one_line_error(res.stderr, "missing.toml")


def test_unknown_plot_type_exits_1(tmp_path: Path) -> None:
    res = invoke("run", TINY, "--plot", tmp_path / "x.txt")
    assert res.exit_code == 1
    assert_one_line_error(res.stderr, "x.txt")
    assert list(tmp_path.iterdir()) == []


def test_out_under_a_regular_file_exits_1_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("keep me\n", encoding="utf-8")
    done = python_m("run", TINY, "--out", blocker / "results", "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    assert_one_line_error(done.stderr, "file.txt")
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
    assert blocker.read_text(encoding="utf-8") == "keep me\n"


def test_bad_scenario_exits_1_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.read_text(encoding="utf-8").replace("appeal = 0.75", "appeal = 1.5"), encoding="utf-8")
    line = next(i for i, text in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "appeal = 1.5" in text)
    for res in (invoke("run", bad), invoke("validate", bad)):
        assert res.exit_code == 1
        assert_one_line_error(res.stderr, f"bad.toml:{line}:", "video.appeal")


EDGE_SCENARIO = """\
name = "edges"
description = "a creator and an explicit follower graph"
[population]
users = 500
topics = ["a", "b"]
[social_graph]
kind = "edge_list"
path = "graph/edges.txt"
[creator]
user = 0
[video]
topic = "a"
[platform.push]
mode = "social"
[platform.following]
watch_probability = 1.0
"""


def test_run_with_an_edge_list_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    edges = ["# creator -> followers"] + [f"0 {v}" for v in range(1, 41)] + ["5, 77", "77 78  # comment"]
    (tmp_path / "graph" / "edges.txt").write_text("\n".join(edges) + "\n", encoding="utf-8")
    (tmp_path / "edges.toml").write_text(EDGE_SCENARIO, encoding="utf-8")
    res = invoke("run", tmp_path / "edges.toml", "--json")
    assert res.exit_code == 0, res.output
    out = one_json_object(res.stdout)
    assert 30 <= out["views_by_source"]["following"] <= 40  # all 40 followers watch within the week
    assert out["views_by_source"]["for_you"] == 0


def test_bad_edge_list_exits_1_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "edges.txt").write_text("0 1\n0 2\n0 999\n", encoding="utf-8")
    (tmp_path / "edges.toml").write_text(EDGE_SCENARIO, encoding="utf-8")
    res = invoke("run", tmp_path / "edges.toml")
    assert res.exit_code == 1
    assert_one_line_error(res.stderr, "edges.txt:3:", "999")


def test_usage_error_exits_2() -> None:
    assert invoke("run", TINY, "--seed", "-1").exit_code == 2
    assert invoke("run").exit_code == 2
    assert invoke("no-such-command").exit_code == 2


# -- validate, schema, scenarios ------------------------------------------------------------------


def test_validate_good_files() -> None:
    res = invoke("validate", *SCENARIOS)
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == len(SCENARIOS)
    assert all(": ok" in line for line in lines)
    done = python_m("validate", TINY, BEES)
    assert done.returncode == 0, done.stderr


def test_validate_reports_the_bad_file_among_good_ones(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\n[population]\nusers = 1000\ntopics = ["a"]\nunknown_key = 1\n[video]\ntopic = "a"\n',
        encoding="utf-8",
    )
    res = invoke("validate", TINY, bad)
    assert res.exit_code == 1
    assert "tiny.toml: ok" in res.stdout
    assert_one_line_error(res.stderr, "bad.toml:5:", "unknown_key")


def test_schema_prints_json_schema() -> None:
    res = invoke("schema")
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert {"population", "video", "platform", "behaviour"} <= set(schema["properties"])


def test_scenarios_lists_the_bundled_files() -> None:
    res = invoke("scenarios")
    assert res.exit_code == 0
    names = {line.split()[0] for line in res.stdout.strip().splitlines()}
    assert {"bees_bike", "tiny"} <= names
    assert names == {p.stem for p in SCENARIOS}


# -- every bundled scenario and variant ----------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenario_validates_and_runs(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.description, "a bundled scenario describes itself"
    # platform_scale's base run (16.5M views) is checked with the invariants in tests/test_scale.py
    for variant in (None, *sc.variants) if path.stem != "platform_scale" else tuple(sc.variants):
        # a variant on two seeds, but one for the marketplaces (each of their runs takes seconds)
        seeds = [sc.seed] if variant is None or sc.marketplace is not None else [sc.seed, sc.seed + 1]
        graph = load_graph(sc.variant(variant), path)
        for seed in seeds:
            r = simulate(sc, seed=seed, variant=variant, graph=graph)
            assert r.scenario == sc.variant(variant)
            check_invariants(r)
