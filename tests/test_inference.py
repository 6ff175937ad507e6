"""``fit`` (ABC-SMC), ``sensitivity`` (SALib) and observed analytics files.

The statistics of an observation made from a run equal the statistics of that run;
observed files round-trip and every bad file is one ``FILE:LINE: column: message``; a
fit with one process and a seed is identical run to run; the CLI writes its folder,
resumes, and runs on local processes and on a local Dask cluster; sensitivity ranks a
dominant field above a nearly inert one. Whether the 90 % intervals of fits of synthetic
observations hold the true values is ``tests/test_fit_recovery.py`` (opt-in, ~100 minutes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from paths import SCENARIOS_DIR

from viralsim import load_scenario, simulate
from viralsim.cli import main
from viralsim.inference import fit, observed_from_run, sensitivity
from viralsim.inference.summary import observed_statistics, simulated_statistics, statistic_names
from viralsim.io.observed import ObservedError, read_observed, write_observed
from viralsim.io.params import ParamError, parse_priors

ANALYTICS = SCENARIOS_DIR / "analytics.toml"
EXAMPLE = SCENARIOS_DIR / "observed" / "analytics.csv"
PRIORS = ["video.appeal=0.3:0.99", "behaviour.p_share=0.0005:0.01"]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def sc():  # type: ignore[no-untyped-def]
    return load_scenario(ANALYTICS)


# --- observations and statistics ----------------------------------------------------------------


def test_an_observation_of_a_run_has_the_statistics_of_that_run(sc) -> None:  # type: ignore[no-untyped-def]
    res = simulate(sc, run=3)
    obs = observed_from_run(res, every_h=2.0)
    assert obs.hours[0] == 2.0 and obs.hours[-1] == sc.horizon_h - sc.video.upload_h
    assert obs.views[-1] == res.summary["views"] and obs.counts["likes"][-1] == res.summary["likes"]
    assert sum(v[-1] for v in obs.sources.values()) == res.summary["views"]
    mine = observed_statistics(obs)
    theirs = simulated_statistics(res.summary, res.reach_curve, sc.video.upload_h, obs)
    assert list(mine) == list(theirs) == statistic_names(obs)
    for k in mine:
        assert theirs[k] == pytest.approx(mine[k], abs=1e-12), k


def test_observed_files_round_trip(tmp_path: Path, sc) -> None:  # type: ignore[no-untyped-def]
    obs = observed_from_run(simulate(sc, run=1), every_h=4.0)
    path = write_observed(obs, tmp_path / "o.csv", {"made": "test"})
    back = read_observed(path)
    assert back.lines[0] == 3  # provenance comment, header, first row
    np.testing.assert_array_equal(back.hours, obs.hours)
    np.testing.assert_array_equal(back.views, obs.views)
    for k in obs.counts:
        np.testing.assert_array_equal(back.counts[k], obs.counts[k])
    assert observed_statistics(back) == observed_statistics(obs)


def test_the_example_file_reads_and_fits_its_scenario(sc) -> None:  # type: ignore[no-untyped-def]
    obs = read_observed(EXAMPLE)
    assert len(obs.hours) == 48 and set(obs.sources) == {"for_you", "following", "share"}
    assert obs.views[-1] > 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "o.csv:1: hour: no header"),
        ("hour,views,lieks\n1,2,0\n", "o.csv:1: lieks: unknown column"),
        ("hour,likes\n1,2\n", "o.csv:1: views: missing column (required: hour, views)"),
        ("hour,views\n", "o.csv:1: hour: no rows after the header"),
        ("# c\nhour,views\n1,5\n2,4\n", "o.csv:4: views: cumulative counts never decrease, got 4 after 5"),
        ("hour,views\n1,5\n1,6\n", "o.csv:3: hour: must increase, got 1 after 1"),
        ("hour,views\n0,5\n", "o.csv:2: hour: must be > 0 (hours since the upload), got 0"),
        ("hour,views\n1,2.5\n", "o.csv:2: views: must be a whole number >= 0 (a cumulative count), got 2.5"),
        ("hour,views\n1,abc\n", "o.csv:2: views: not a number: 'abc'"),
        ("hour,views,likes\n1,5,6\n", "o.csv:2: likes: 6 is more than the row's views (5)"),
        ("hour,views\n1,5,3\n", "o.csv:2: hour: 3 values, expected 2 (hour,views)"),
        ("hour,views\n1,\n", "o.csv:2: views: missing value (every row needs hour and views)"),
        (
            "hour,views,views_for_you,views_share\n1,5,4,3\n",
            "o.csv:2: views: the sources add up to 7, more than views 5",
        ),
    ],
)
def test_a_bad_observed_file_is_one_line_naming_its_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "o.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ObservedError) as err:
        read_observed(path)
    assert err.value.problems[0] == f"{tmp_path}/{message}" or err.value.problems[0].startswith(f"{tmp_path}/{message}")


def test_a_blank_optional_value_is_unknown_and_the_last_known_row_counts(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("hour,views,likes\n1,10,\n2,40,4\n3,50,\n", encoding="utf-8")
    obs = read_observed(path)
    assert obs.count_row("likes") == 1
    assert observed_statistics(obs)["rate:likes"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("video.appeal=0.3:1.5", "--param video.appeal=0.3:1.5: must be <= 1, got 1.5"),
        ("video.appeal=0.9:0.3", "--param video.appeal=0.9:0.3: LO must be below HI, both finite"),
        ("video.appeal=0.3", "--param video.appeal=0.3: expected a range LO:HI of two numbers"),
        ("video.apeal=0.3:0.9", "--param video.apeal: unknown field 'video.apeal' (did you mean 'appeal'?)"),
        ("seed=1:5", "--param seed: the seed is not swept"),
    ],
)
def test_a_bad_prior_is_one_line(sc, param: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParamError) as err:
        parse_priors([param], sc)
    assert str(err.value).startswith(message)


def test_a_whole_number_field_draws_whole_numbers(sc) -> None:  # type: ignore[no-untyped-def]
    (p,) = parse_priors(["creator.followers=10:500"], sc)
    assert p.integer and p.value(37.6) == 38
    (q,) = parse_priors(["creator.followers=10.0:500"], sc)
    assert q.integer and q.value(10.2) == 10
    assert not parse_priors(["video.appeal=0:1"], sc)[0].integer


# --- fit ------------------------------------------------------------------------------------------


def _small_fit(sc, tmp: Path, name: str, seed: int = 5):  # type: ignore[no-untyped-def]
    obs = read_observed(EXAMPLE)
    priors = parse_priors(PRIORS, sc)
    return fit(sc, priors, obs, db=tmp / f"{name}.db", populations=2, particles=16, seed=seed)


def test_a_single_process_fit_with_a_seed_is_identical_run_to_run(sc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = _small_fit(sc, tmp_path, "a")
    b = _small_fit(sc, tmp_path, "b")
    c = _small_fit(sc, tmp_path, "c", seed=6)
    assert len(a.populations) == 2 and len(a.samples) == 16
    assert a.samples.equals(b.samples) and a.simulations == b.simulations
    assert not a.samples.equals(c.samples)
    assert a.samples["weight"].sum() == pytest.approx(1.0)
    lo, hi = a.samples["video.appeal"].min(), a.samples["video.appeal"].max()
    assert 0.3 <= lo and hi <= 0.99


def test_fit_cli_writes_its_folder_then_resumes(tmp_path: Path) -> None:
    out = tmp_path / "fit"
    args = ["fit", ANALYTICS, "--observed", EXAMPLE, *sum((["--param", p] for p in PRIORS), [])]
    small = ["--particles", "12", "--predictive", "8", "--out", out]
    res = invoke(*args, "--populations", "1", *small)
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[-2].startswith("video.appeal: median ") and "90 % interval [" in lines[-2]
    for name in ("posterior.parquet", "posterior.csv", "populations.parquet", "predictive.parquet", "pairs.png",
                 "predictive.png", "summary.json", "fit.db"):  # fmt: skip
        assert (out / name).is_file(), name
    meta = json.loads(pq.read_schema(out / "posterior.parquet").metadata[b"viralsim"])
    assert meta["scenario"] == "analytics" and meta["params"] == PRIORS
    posterior = pq.read_table(out / "posterior.parquet").to_pandas()
    assert list(posterior.columns) == ["video.appeal", "behaviour.p_share", "weight"] and len(posterior) == 12
    res = invoke(*args, "--populations", "2", *small)  # one more population: resumed, not started again
    assert res.exit_code == 0, res.output
    assert "resuming the fit" in res.stderr and "population 2/2" in res.stderr
    assert "population 1/2:" in res.stderr  # the stored one, reported as done
    assert len(pq.read_table(out / "populations.parquet")) == 2
    other = invoke(*args, "--populations", "2", "--seed", "9", *small)
    assert other.exit_code == 1 and "holds another fit" in other.stderr


@pytest.mark.parametrize("where", [["--processes", "2"], ["--workers", "2"]], ids=["processes", "dask"])
def test_fit_cli_runs_on_local_processes_and_on_a_local_dask_cluster(tmp_path: Path, where: list[str]) -> None:
    # not repeatable (which particle is simulated where depends on timing), but a complete fit
    out = tmp_path / "fit"
    args = ["fit", ANALYTICS, "--observed", EXAMPLE, *sum((["--param", p] for p in PRIORS), [])]
    res = invoke(*args, "--populations", "2", "--particles", "12", "--predictive", "4", "--out", out, *where)
    assert res.exit_code == 0, res.output
    assert "population 2/2" in res.stderr
    posterior = pq.read_table(out / "posterior.parquet").to_pandas()
    assert len(posterior) == 12 and posterior["weight"].sum() == pytest.approx(1.0)
    assert posterior["video.appeal"].between(0.3, 0.99).all()
    assert posterior["behaviour.p_share"].between(0.0005, 0.01).all()
    pops = pq.read_table(out / "populations.parquet").to_pandas()
    assert pops["particles"].tolist() == [12, 12] and (pops["simulations"] >= 12).all()
    assert pops["epsilon"].iloc[1] < pops["epsilon"].iloc[0]


def test_fit_cli_refuses_a_bad_observation_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "o.csv"
    bad.write_text("hour,views\n1,5\n60,9\n", encoding="utf-8")
    res = invoke("fit", ANALYTICS, "--observed", bad, "--param", PRIORS[0], "--out", tmp_path / "x")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        f"{bad}:3: hour: 60 is after the end of a run of {ANALYTICS} (horizon_h 48, upload at 0 h: "
        "at most 48 h after the upload)"
    )
    assert not (tmp_path / "x").exists()


def test_observe_cli_regenerates_the_example_file(tmp_path: Path) -> None:
    made = tmp_path / "analytics.csv"
    res = invoke("observe", ANALYTICS, "--param", "video.appeal=0.8", "--param", "behaviour.p_share=0.006",
                 "--seed", "2024", "-o", made)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert made.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")


# --- sensitivity ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_ranks_appeal_far_above_a_nearly_inert_field(sc, method: str) -> None:  # type: ignore[no-untyped-def]
    priors = parse_priors(["behaviour.p_share=0.0005:0.01", "video.appeal=0.3:0.99", "creator.fee=0:1000"], sc)
    table = sensitivity(sc, priors, "views", method=method, n=32 if method == "sobol" else 8, seed=3).set_index("param")
    key = "ST" if method == "sobol" else "mu_star"
    appeal, share, fee = (table.loc[p, key] for p in ("video.appeal", "behaviour.p_share", "creator.fee"))
    assert fee == 0.0  # the fee moves no view at all
    assert appeal > 5 * share and share >= fee  # ranked: appeal, then p_share (a few share views), then the fee
    if method == "sobol":
        assert table.loc["video.appeal", "S1"] > 0.5


def test_sensitivity_cli_prints_indices_and_draws_bars(tmp_path: Path) -> None:
    plot = tmp_path / "s.png"
    res = invoke("sensitivity", ANALYTICS, "--param", PRIORS[0], "--param", PRIORS[1], "--n", "8", "--plot", plot,
                 "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["method"] == "sobol" and data["points"] == 8 * 4
    assert [r["param"] for r in data["indices"]] == ["video.appeal", "behaviour.p_share"]
    assert plot.stat().st_size > 0
    bad = invoke("sensitivity", ANALYTICS, "--param", PRIORS[0], "--n", "12")
    assert bad.exit_code == 1 and "a power of two" in bad.stderr
