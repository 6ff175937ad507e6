"""The command line of ensembles: run --runs, compare, sweep, plot — outputs, JSON, and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import paths
import pytest
from click.testing import CliRunner

from viralsim.cli import main

TINY = str(paths.TINY)


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def _one_line_error(*args: str) -> str:
    code, out, err = _run(*args)
    assert code == 1, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("video.apeal=0.5", "--param video.apeal: unknown field 'video.apeal' (did you mean 'appeal'?)"),
        ("vidoe.appeal=0.5", "unknown field 'vidoe' (did you mean 'video'?)"),
        ("video.appeal=0.5,1.5", "--param video.appeal=0.5,1.5: must be <= 1, got 1.5"),
        ("video.appeal=0.2:x:3", "bad range: expected START:STOP:COUNT"),
        ("video.appeal=0.2:0.8:0", "bad range: COUNT must be >= 1"),
        ("video.appeal=0.2:0.8:2.5", "bad range"),
        ("video.appeal", "expected FIELD=VALUES"),
        ("video.appeal=", "no values after '='"),
        ("=0.5", "no field name before '='"),
        ("population.users=1.5", "--param population.users=1.5: expected an integer, got float 1.5"),
        ("platform.push=3", "--param platform.push: is a table; sweep one of its fields"),
        ("video.appeal.x=1", "video.appeal is not a table"),
        ("platform.push.mode=content,viral", "--param platform.push.mode=content,viral: must be"),
        ("video.appeal=0.5,0.5", "a value is repeated"),
        ("variants.social=1", "unknown field 'variants'"),
    ],
)
def test_bad_param_is_one_clear_line(param, expected, tmp_path):
    out = tmp_path / "never"
    line = _one_line_error("sweep", TINY, "--param", param, "--runs", "2", "--out", str(out))
    assert expected in line
    assert not out.exists()  # refused before anything was written


def test_sweep_cross_field_problem_and_bad_metric():
    line = _one_line_error("sweep", TINY, "--param", "platform.push.cohorts=5")
    assert line.startswith("--param platform.push.cohorts=5: expected")
    line = _one_line_error("sweep", TINY, "--param", "video.appeal=0.5", "--metric", "vews")
    assert line.startswith("--metric vews: unknown metric (use one of: views,")
    line = _one_line_error("sweep", TINY, "--param", "video.appeal=0.5", "--param", "video.appeal=0.6")
    assert "given twice" in line


def test_compare_errors():
    assert "unknown variant 'nope'" in _one_line_error("compare", TINY, "--variants", "social,nope", "--runs", "2")
    assert "'base' is the scenario itself" in _one_line_error("compare", TINY, "--variants", "base", "--runs", "2")


def test_compare_without_variants(tmp_path):
    f = tmp_path / "plain.toml"
    f.write_text('name = "plain"\n[population]\nusers = 2000\n[video]\ntopic = "animals"\n', encoding="utf-8")
    assert "nothing to compare" in _one_line_error("compare", str(f), "--runs", "2")


def test_compare_json_and_saved_folder(tmp_path):
    out = tmp_path / "cmp"
    code, stdout, stderr = _run("compare", TINY, "--runs", "12", "--seed", "3", "--out", str(out), "--json")
    assert code == 0, stderr
    # no progress bar when stderr is not a terminal (and no plain line in a run this short): only what was written
    assert stderr == f"wrote {out}/: manifest.json, runs.parquet, runs.csv, bands.parquet, curves.parquet\n"
    data = json.loads(stdout)
    assert data["kind"] == "compare" and data["variants"] == ["base", "social", "strict"] and data["runs"] == 12
    table = {r["variant"]: r for r in data["table"]}
    assert table["base"]["views_median"] > 10 * table["social"]["views_median"]
    assert {r["variant"] for r in data["differences"]} == {"social", "strict"}
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 36 and list(runs["variant"].unique()) == ["base", "social", "strict"]
    # the JSON table is the folder's table
    med = runs.groupby("variant", sort=False)["views"].median()
    assert table["social"]["views_median"] == med["social"]
    # rerunning the same command answers from the folder, and a different one is refused
    code2, stdout2, _ = _run("compare", TINY, "--runs", "12", "--seed", "3", "--out", str(out), "--json")
    assert code2 == 0 and json.loads(stdout2)["table"] == data["table"]
    line = _one_line_error("compare", TINY, "--runs", "13", "--seed", "3", "--out", str(out))
    assert "holds results of a different command" in line


def test_run_runs_prints_a_table_and_plots(tmp_path):
    png = tmp_path / "bands.png"
    code, stdout, stderr = _run("run", TINY, "--runs", "8", "--plot", str(png))
    assert code == 0, stderr
    assert "8 runs" in stdout and "median" in stdout and "why the push stopped:" in stdout
    assert png.stat().st_size > 10_000
    code, stdout, _ = _run("run", TINY, "--runs", "8", "--json", "--variant", "social")
    data = json.loads(stdout)
    assert data["kind"] == "ensemble" and data["variants"] == ["social"] and data["table"][0]["runs"] == 8
    assert "--variant: unknown variant 'x'" in _one_line_error("run", TINY, "--runs", "3", "--variant", "x")
    assert "unknown figure type" in _one_line_error("run", TINY, "--runs", "3", "--plot", str(tmp_path / "a.gif"))


def test_sweep_table_plot_and_plot_command(tmp_path):
    out = tmp_path / "sw"
    code, stdout, stderr = _run(
        "sweep",
        TINY,
        "--param",
        "video.appeal=0.5:0.9:3",
        "--param",
        "platform.push.thresholds.completion=0.2,0.5",
        "--runs",
        "4",
        "--out",
        str(out),
        "--plot",
        str(tmp_path / "heat.png"),
    )
    assert code == 0, stderr
    assert "video.appeal" in stdout and "views: median" in stdout
    assert (tmp_path / "heat.png").stat().st_size > 10_000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"] == ["video.appeal", "platform.push.thresholds.completion"]
    assert [p["video.appeal"] for p in manifest["points"]] == [0.5, 0.5, 0.7, 0.7, 0.9, 0.9]
    for kind in ("reach", "ccdf", "sweep", "funnel", "sources"):
        target = tmp_path / f"{kind}.svg"
        code, stdout, stderr = _run("plot", str(out), "--kind", kind, "-o", str(target))
        assert code == 0, (kind, stderr)
        assert target.read_text().startswith("<?xml")
    line = _one_line_error("plot", str(out), "--kind", "tree", "-o", str(tmp_path / "t.png"))
    assert line.startswith(str(out)) and "tree" in line
    line = _one_line_error("plot", str(tmp_path / "missing"), "--kind", "reach", "-o", str(tmp_path / "t.png"))
    assert "missing" in line


def test_compare_metrics_option():
    code, stdout, stderr = _run(
        "compare", TINY, "--runs", "4", "--variants", "social", "--json", "--metrics", "engaged_views,views_following"
    )
    assert code == 0, stderr
    row = json.loads(stdout)["table"][0]
    assert "engaged_views_median" in row and "views_following_median" in row and "views_median" not in row
    assert "unknown metric 'vews'" in _one_line_error("compare", TINY, "--runs", "2", "--metrics", "views,vews")


def test_edge_list_ensembles_read_the_graph_once_and_use_it_in_every_run(tmp_path):
    from test_cli import EDGE_SCENARIO

    (tmp_path / "graph").mkdir()
    edges = [f"0 {v}" for v in range(1, 41)]
    (tmp_path / "graph" / "edges.txt").write_text("\n".join(edges) + "\n", encoding="utf-8")
    (tmp_path / "edges.toml").write_text(EDGE_SCENARIO, encoding="utf-8")
    code, stdout, stderr = _run("run", str(tmp_path / "edges.toml"), "--runs", "6", "--json", "--processes", "2")
    assert code == 0, stderr
    row = json.loads(stdout)["table"][0]
    assert 30 <= row["views_q05"] and row["views_q95"] <= 40  # the creator's 40 followers, in every run
    (tmp_path / "graph" / "edges.txt").write_text("0 1\n0 999\n", encoding="utf-8")
    line = _one_line_error("sweep", str(tmp_path / "edges.toml"), "--param", "video.appeal=0.5", "--runs", "2")
    assert "edges.txt:2:" in line


def test_a_bug_is_one_line_unless_debugging(monkeypatch):
    import viralsim.experiments.run

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(viralsim.experiments.run, "simulate", broken)
    line = _one_line_error("run", TINY, "--runs", "2", "--processes", "1")
    assert line.endswith("internal error: RuntimeError: boom (set VIRALSIM_DEBUG=1 for the traceback)")
    monkeypatch.setenv("VIRALSIM_DEBUG", "1")
    res = CliRunner().invoke(main, ["run", TINY, "--runs", "2", "--processes", "1"])
    assert isinstance(res.exception, RuntimeError)
