"""Inputs the command line must refuse in one line, before any work (issue 12, defects 7, 9, 10 and 11).

Each test names the defect it covers; each failed on the code before the fix. The scenario
checks of defect 12 are corpus files in ``tests/data/bad`` (``upload_after_horizon``,
``cohorts_and_growth``, ``missing_table_header``, ``probability_as_percentage``), run by
``tests/test_scenario_file.py``; the seed's is ``seed_too_large``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from paths import TINY

from viralsim import load_scenario
from viralsim.cli import main
from viralsim.experiments.plan import ensemble_plan, sweep_plan
from viralsim.io.graph_file import GraphFileError, load_graph
from viralsim.io.params import ParamError, parse_params

MAX_SEED = 2**63 - 1


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line(res: Result, code: int = 1) -> str:
    assert res.exit_code == code, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


# -- defect 7: seeds too large for the 64-bit columns are refused at parse time ---------------------


@pytest.mark.parametrize("command", [["run"], ["run", "--runs", "3"], ["compare", "--runs", "2"]])
def test_a_seed_of_2_to_the_63_is_a_usage_error_and_leaves_no_folder(command: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = invoke(command[0], TINY, *command[1:], "--seed", str(2**63), "--out", out)
    assert res.exit_code == 2, res.output
    assert "--seed" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_the_largest_seed_runs_with_a_results_folder(tmp_path: Path) -> None:
    res = invoke("run", TINY, "--runs", "2", "--seed", str(MAX_SEED), "--out", tmp_path / "out", "--json")
    assert res.exit_code == 0, res.output
    import pandas as pd

    assert set(pd.read_parquet(tmp_path / "out" / "runs.parquet")["seed"]) == {MAX_SEED}


def test_a_scenario_seed_of_10_to_the_30_is_refused_by_validate(tmp_path: Path) -> None:
    path = tmp_path / "big_seed.toml"
    path.write_text(re.sub(r"(?m)^seed = .*$", f"seed = {10**30}", TINY.read_text(encoding="utf-8")), "utf-8")
    assert "seed: must be <= 2**63 - 1" in one_line(invoke("validate", path))
    with pytest.raises(ValueError, match="seed"):
        ensemble_plan(load_scenario(TINY), runs=2, seed=2**64)


# -- defect 9: --param seed would make copies of one grid point ---------------------------------------


def test_sweeping_the_seed_is_refused_with_the_reason() -> None:
    line = one_line(invoke("sweep", TINY, "--param", "seed=1,2,3", "--runs", "2"))
    assert line.startswith("--param seed:") and "--runs" in line and "replicates" in line
    with pytest.raises(ParamError, match="--param name"):
        parse_params(["name=a,b"], load_scenario(TINY))


def test_sweeping_the_growth_rule_under_explicit_cohorts_is_refused() -> None:
    sc = load_scenario(TINY).derive({"platform": {"push": {"cohorts": [100, 1000]}}})
    with pytest.raises(ParamError, match="has no effect.*cohorts"):
        parse_params(["platform.push.growth=2,3"], sc)


# -- defect 10: absurd plans are refused from an estimate, before anything is allocated -------------


@pytest.mark.parametrize(
    "args",
    [
        ["run", TINY, "--runs", "300000000"],
        ["compare", TINY, "--runs", "100000000"],
        ["sweep", TINY, "--param", "video.appeal=0:1:10000", "--param", "behaviour.p_like=0:1:10000", "--runs", "1"],
    ],
    ids=["run", "compare", "grid"],
)
def test_a_plan_too_large_for_memory_is_one_line(args: list[str | Path]) -> None:
    line = one_line(invoke(*args))
    assert "would need ~" in line and "a run may use" in line


def test_a_huge_grid_is_refused_before_its_points_are_built() -> None:
    values = list(range(10_000))
    with pytest.raises(ValueError, match="100000000 runs"):  # itertools.product of 1e8 points never starts
        sweep_plan(load_scenario(TINY), {"video.duration_s": values, "horizon_h": values}, runs=1)


# -- defect 11: edge lists are read by validate and refused when empty or with more columns ----------

EDGES = """\
name = "edges"
[population]
users = 500
topics = ["a"]
[social_graph]
kind = "edge_list"
path = "graph/edges.txt"
[creator]
user = 0
[video]
topic = "a"
[variants.other]
social_graph.path = "graph/other.txt"
"""


def edge_scenario(tmp_path: Path, edges: bytes | None, other: bytes = b"0 1\n") -> Path:
    (tmp_path / "graph").mkdir(exist_ok=True)
    if edges is not None:
        (tmp_path / "graph" / "edges.txt").write_bytes(edges)
    (tmp_path / "graph" / "other.txt").write_bytes(other)
    path = tmp_path / "s.toml"
    path.write_text(EDGES, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edges", "reason"),
    [
        (None, "cannot read: no such file"),
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a UTF-8 text file"),
        (b"0 1\n0 500\n", "edges.txt:2: node 500 is outside 0..499"),
        (b"", "is empty"),
        (b"# nothing yet\n\n", "has no edge"),
        (b"0 1 0.5\n", "edges.txt:1: expected 2 columns"),
    ],
    ids=["missing", "binary", "out_of_range", "empty", "comments_only", "weight_column"],
)
def test_validate_reports_a_bad_edge_list_at_the_path_line(edges: bytes | None, reason: str, tmp_path: Path) -> None:
    path = edge_scenario(tmp_path, edges)
    line = one_line(invoke("validate", path))
    assert line.startswith(f"{path}:7: social_graph.path: ") and reason in line, line
    run = one_line(invoke("run", path))  # and run refuses it too, naming the edge list
    assert reason in run and "edges.txt" in run


def test_validate_reports_a_variant_edge_list_at_its_own_line(tmp_path: Path) -> None:
    path = edge_scenario(tmp_path, b"0 1\n", other=b"0 1 0.5\n")
    line = one_line(invoke("validate", path))
    assert line.startswith(f"{path}:13: variants.other.social_graph.path: ") and "other.txt:1:" in line


def test_an_edge_list_with_a_header_row_is_read(tmp_path: Path) -> None:
    path = edge_scenario(tmp_path, b"source,target\n0,1\n0,2  # the creator's second follower\n")
    assert invoke("validate", path).exit_code == 0
    graph = load_graph(load_scenario(path), path)
    assert graph is not None and sorted(graph.indices[graph.indptr[0] : graph.indptr[1]]) == [1, 2]
    with pytest.raises(GraphFileError, match="node ids must be integers"):  # only the first line may be a header
        (tmp_path / "graph" / "edges.txt").write_bytes(b"0 1\nsource target\n")
        load_graph(load_scenario(path), path)
