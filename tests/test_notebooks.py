"""The teaching notebooks run from top to bottom and show what they say they show.

Each ``notebooks/*.py`` (jupytext percent format) is converted to a notebook and
executed with nbclient in a kernel of *this* Python (a kernelspec written to a
temporary folder, so no ``jupyter kernelspec install`` is needed and no other
Python on the machine is picked up). Every notebook is executed once per test
session; the tests then read its outputs: no error, its figures are there (each
exactly once), and the numbers it prints are the ones viralsim computes here.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from paths import BEES, NOTEBOOKS, SCENARIOS_DIR, TINY

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

from viralsim import load_scenario, simulate  # noqa: E402
from viralsim.analysis.marketplace import rank_correlations  # noqa: E402
from viralsim.ensemble import compare, run_ensemble, sweep  # noqa: E402
from viralsim.executors import InProcess  # noqa: E402
from viralsim.scenario import apply_variant  # noqa: E402

KERNEL = "viralsim-notebook-test"
#: notebook -> figures it must show (at least)
EXPECTED = {
    "01_how_the_push_works": 3,
    "02_content_vs_social_graph": 3,
    "03_what_kpis_matter": 3,
    "04_cascade_shapes": 4,
    "05_a_day_on_the_platform": 4,
    "06_what_moves_the_views": 3,
}

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec that starts ipykernel in this interpreter, headless (Agg until ``%matplotlib inline``)."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "viralsim tests",
                "language": "python",
                "env": {"MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
            }
        )
    )
    return root


_executed: dict[str, object] = {}


@pytest.fixture
def run_notebook(kernel_dir: Path):
    """Execute a notebook once per session (cells time out after 120 s); return it with its outputs."""

    def run(name: str):
        if name not in _executed:
            nb = jupytext.read(NOTEBOOKS / f"{name}.py")
            km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))
            client = nbclient.NotebookClient(
                nb, km=km, timeout=120, allow_errors=False, resources={"metadata": {"path": str(NOTEBOOKS)}}
            )
            client.execute()
            _executed[name] = nb
        return _executed[name]

    return run


def _text(nb) -> str:
    """Everything the notebook printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                parts.append(out["text"])
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def _images_per_cell(nb) -> list[int]:
    return [
        sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def test_every_notebook_is_listed() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == sorted(EXPECTED)
    readme = (NOTEBOOKS / "README.md").read_text()
    for name in EXPECTED:
        assert name in readme


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_and_shows_its_figures(name: str, run_notebook) -> None:
    nb = run_notebook(name)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
            if out["output_type"] == "stream":
                assert out["name"] == "stdout" or "Warning" not in out["text"], f"{name}: {out['text']}"
    images = _images_per_cell(nb)
    assert sum(images) >= EXPECTED[name]
    assert max(images) == 1, f"{name}: a figure shown twice (or two figures in one cell): {images}"
    as_text = [
        out
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "<Figure size" in out.get("data", {}).get("text/plain", "") and "image/png" not in out["data"]
    ]
    assert not as_text, f"{name}: a figure shown as text instead of an image"


def test_01_prints_the_run_viralsim_computes(run_notebook) -> None:
    text = _text(run_notebook("01_how_the_push_works"))
    s = simulate(load_scenario(BEES), seed=1).summary
    assert f"views: {s['views']:,}   shares: {s['shares']:,}" in text
    assert f"= {s['algorithmic_share']:.2%}" in text
    assert "The push stopped at stage" in text or "Every stage passed" in text
    strict = simulate(load_scenario(TINY), seed=1, variant="strict").summary
    assert f"strict thresholds: {strict['views']:,} views, {strict['stages_reached']} stage" in text
    assert strict["stages_reached"] == 1  # the story of the notebook: the push stops at the first gate


def test_02_social_numbers(run_notebook) -> None:
    text = _text(run_notebook("02_content_vs_social_graph"))
    bees = load_scenario(BEES)
    social = run_ensemble(bees, runs=10, seed=1, variant="social", executor=InProcess()).runs
    assert f"simulated median: {social['views'].median():,.0f}" in text
    famous = simulate(
        apply_variant(bees.variant("social"), {"creator": {"followers": 10_000}}), seed=1, record="summary"
    )
    assert re.search(rf"^10000\s+{famous.summary['views']}\s+{famous.summary['shares']}$", text, re.M)
    assert "share-to-view ratio:" in text


def test_03_like_sweep_numbers(run_notebook) -> None:
    text = _text(run_notebook("03_what_kpis_matter"))
    tiny = load_scenario(TINY)
    easy = apply_variant(tiny, {"video": {"appeal": 0.8}, "platform": {"push": {"thresholds": {"completion": 0.05}}}})
    like = "platform.push.thresholds.like"
    runs = sweep(easy, {like: [0.02, 0.12]}, runs=8, seed=1, executor=InProcess()).runs
    for threshold, group in runs.groupby(like):
        assert f"like threshold {threshold:.0%}: median {group['views'].median():,.0f} views" in text
    assert "completion threshold 5%: the push goes all the way with" in text


def test_04_virality_numbers(run_notebook) -> None:
    text = _text(run_notebook("04_cascade_shapes"))
    assert "star of 10:  structural virality 1.800, formula 2(n-1)/n = 1.800" in text
    assert "chain of 10: structural virality 3.667, formula (n+1)/3 = 3.667" in text
    chain = load_scenario(SCENARIOS_DIR / "viral_chain.toml")
    runs = compare(chain, runs=20, seed=chain.seed, executor=InProcess()).runs
    base = runs[runs["variant"] == "base"]
    views, sv = base["views"].median(), base["structural_virality"].median()
    assert re.search(rf"^ +viral_chain: +{views:,.0f} views, .* structural virality {sv:.2f}$", text, re.M)
    bees = run_ensemble(load_scenario(BEES), runs=10, seed=1, executor=InProcess()).runs
    bees_sv = bees["structural_virality"].median()
    assert re.search(rf"^ +bees_bike: .* structural virality {bees_sv:.2f}$", text, re.M)
    assert sv > 5 * bees_sv  # the story: a sharing chain is far from the push's star
    early = simulate(apply_variant(chain, {"horizon_h": 48}), seed=chain.seed).summary
    assert f"first 48 h: {early['views']:,} views, {early['shares']:,} shares, {early['cascade_depth']} share" in text


def test_05_marketplace_numbers(run_notebook) -> None:
    text = _text(run_notebook("05_a_day_on_the_platform"))
    market = load_scenario(SCENARIOS_DIR / "creator_marketplace.toml")
    for mode, variant in (("content", None), ("social", "social")):
        r = rank_correlations(simulate(market, variant=variant, record="summary"))
        assert (
            f"{mode:>8}: rho(views, appeal) = {r['appeal'].rho:+.2f}, rho(views, followers) = {r['followers'].rho:+.2f}"
        ) in text
    # the story of the notebook: the push rewards appeal, the social graph rewards followers
    assert re.search(r"^ content: .* -> appeal predicts views better$", text, re.M)
    assert re.search(r"^  social: .* -> followers predicts views better$", text, re.M)
    # the user's day: the sessions printed add up to the videos announced
    head = re.search(r"^user \d+, day \d+ \(time zone UTC[+-][\d.]+\): (\d+) videos in (\d+) sessions", text, re.M)
    assert head
    counts = [int(n) for n in re.findall(r"^\d\d:\d\d  (\d+) videos? in ", text, re.M)]
    assert len(counts) == int(head.group(2)) and sum(counts) == int(head.group(1)) > 0
