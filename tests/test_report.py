"""The HTML report: self-contained, right numbers, atomic writes, clean CLI errors, and a real browser.

The browser test opens the report in Debian's headless Chromium (Python
playwright with ``executable_path``; no browser is ever downloaded), presses
play, moves the slider, and checks that the figure changed and that the page
logged no error. Outside CI it is skipped when chromium or playwright is
missing; in CI (``CI`` set) it must run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, browser_or_skip
from click.testing import CliRunner
from paths import TINY

from viralsim import load_scenario, simulate
from viralsim.cli import main
from viralsim.io.outputs import OutputError
from viralsim.report import build_report, write_report
from viralsim.report.comparison import run_numbers
from viralsim.report.words import scenario_in_words
from viralsim.scenario import apply_variant

RUNS = 4  # enough for medians and intervals to exist; the report's numbers are checked against simulate()


@pytest.fixture(scope="module")
def page(tiny) -> str:
    return build_report(tiny, seed=3, runs=RUNS, frames=40)


@pytest.fixture(scope="module")
def report_file(page, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "tiny.html"
    write_report(page, path)
    return path


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="viralsim-data">(.*?)</script>', page, re.S)
    assert m, "the page carries its data and provenance as JSON"
    return json.loads(m.group(1).replace("<\\/", "</"))


# --- the page itself ------------------------------------------------------------------------------


def test_self_contained_offline(page):
    assert not re.search(r"<script[^>]+src\s*=", page, re.I), "no external script"
    assert not re.search(r"<link[^>]+href\s*=\s*[\"']?https?:", page, re.I), "no external stylesheet or font"
    assert not re.search(r"@import|url\(\s*[\"']?https?:", page, re.I), "no CSS import or web font"
    assert "cdn.plot.ly/plotly" not in page.split("plotly.js v")[0]  # no loader in front of the bundle
    assert page.count("plotly.js v") == 1, "plotly.js embedded exactly once"
    assert len(page) < 7_000_000, f"{len(page) / 1e6:.1f} MB"


def test_scenario_in_words(page, tiny):
    paragraphs = scenario_in_words(tiny)
    text = " ".join(paragraphs).replace("\u00a0", " ")
    assert "20,000 users" in text and "300 followers" in text and "comedy" in text
    assert "100 users most interested in comedy" in text and "500, 2,500 and 10,000" in text
    assert "at least 12 % of views must be watched to the end" in text and "at least 3 % of views must be liked" in text
    for p in paragraphs:
        assert p.replace("“", "&#x201c;") in page or p in page.replace("&#x27;", "'")


def test_key_numbers_match_simulate(page, tiny):
    res = simulate(tiny, seed=3)
    data = _data(page)
    for key in (
        "views",
        "shares",
        "share_to_view",
        "algorithmic_share",
        "stages_reached",
        "stop_reason",
        "structural_virality",
    ):
        assert data["run"][key] == pytest.approx(res.summary[key]), key
    shown = run_numbers(res)
    assert shown["views"] == f"{res.summary['views']:,}"
    for metric, text in shown.items():
        assert f'data-metric="{metric}"><div class="v">{text}</div>' in page.replace("&#x27;", "'"), metric
    assert data["provenance"]["seed"] == 3 and data["provenance"]["scenario"]["name"] == "tiny"


def test_variants_compared(page):
    data = _data(page)
    assert data["variants"] == ["base", "social", "strict"]
    assert "The variants compared" in page and "<b>social</b>: a median of" in page
    assert 'id="variants-chart"' in page


def test_animation_frames_and_controls(page):
    data = _data(page)
    assert data["frames"] == 40
    assert page.count('"name":"f39"') == 1 or page.count('"name": "f39"') == 1
    assert '"sliders"' in page and '"updatemenus"' in page
    assert '"duration":50' in page.replace(" ", ""), "frames play at 50 ms"
    figures = page.split("plotly.js v", 1)[1].split("</script>", 1)[1]  # the page after the bundle
    assert "Plotly.animate" not in figures, "does not start playing by itself"


def test_run_without_push(tiny):
    """A base scenario without a push (social mode) shows its reach alone, and says why."""
    social = apply_variant(tiny, {"platform": {"push": {"mode": "social"}}})  # variants dropped
    page = build_report(social, seed=3, runs=2, frames=10)
    assert "This run has no algorithmic push" in page and "no algorithmic push (social mode)" in page
    animation = page.split("plotly.js v", 1)[1].split("</script>", 1)[1].split('id="variants-chart"')[0]
    assert "after upload: %{y:,} views" in animation and "cohort of %{y:,} users" not in animation
    assert "This scenario declares no variants" in page


def test_write_report_atomic(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    target.write_text("old")

    def broken(fd, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", broken)
    with pytest.raises(OutputError, match=r"r\.html: cannot write: No space left on device"):
        write_report("<html>new</html>", target)
    monkeypatch.undo()
    assert target.read_text() == "old", "the old file is untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"], "no temporary file left"
    with pytest.raises(OutputError, match="cannot write"):
        write_report("x", tmp_path / "missing" / "r.html")
    write_report("<html>new</html>", target)
    assert target.read_text() == "<html>new</html>"


# --- the command ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.toml", "-o", "{tmp}/r.html"], "missing.toml: cannot read"),
        ([str(TINY), "-o", "{tmp}/r.html", "--variants", "nope"], "--variants: unknown variant 'nope'"),
        ([str(TINY), "-o", "{tmp}/r.html", "--variants", "base"], "--variants: 'base' is the scenario itself"),
        ([str(TINY), "-o", "{tmp}/no/such/dir/r.html"], "cannot write: No such file or directory"),
        ([str(TINY), "-o", "{tmp}/r.png"], "a report is an .html file"),
    ],
)
def test_cli_errors_one_line(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = CliRunner().invoke(main, ["report", *args])
    assert out.exit_code == 1, out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.output
    assert not list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".*"))


def test_cli_writes_report(tmp_path):
    target = tmp_path / "tiny.html"
    out = CliRunner().invoke(
        main,
        [
            "report",
            str(TINY),
            "-o",
            str(target),
            "--runs",
            "2",
            "--seed",
            "3",
            "--variants",
            "social",
            "--processes",
            "1",
        ],
    )
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == str(target)
    data = _data(target.read_text(encoding="utf-8"))
    assert data["variants"] == ["base", "social"] and data["runs"] == 2 and data["seed"] == 3
    assert data["run"]["views"] == simulate(load_scenario(TINY), seed=3).summary["views"]


# --- in a real browser ----------------------------------------------------------------------------


_STATE = """() => {
  const g = document.getElementById('push-animation');
  return {active: g._fullLayout.sliders[0].active, title: g._fullLayout.title.text,
          now: Array.from(g.data[g.data.findIndex(d => d.name === 'now')].x)};
}"""


def test_report_in_headless_chromium(report_file, tmp_path):
    sync_playwright = browser_or_skip()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_file.as_uri())
            page.wait_for_function(
                "() => { const g = document.getElementById('push-animation');"
                " return g && g._fullLayout && g._fullLayout.sliders; }",
                timeout=20_000,
            )
            assert page.locator("h1").inner_text() == "tiny"
            start = page.evaluate(_STATE)
            assert start["active"] == 39, "opens on the last frame (the whole story)"

            # press play: the animation restarts from the upload and moves on
            page.locator("#push-animation .updatemenu-button").nth(0).click()
            page.wait_for_function(
                f"() => document.getElementById('push-animation')._fullLayout.sliders[0].active < {start['active']}",
                timeout=10_000,
            )
            first = page.evaluate(_STATE)
            page.wait_for_timeout(400)
            playing = page.evaluate(_STATE)
            assert playing["active"] > first["active"], "the slider advances while playing"
            assert playing["title"] != start["title"] and playing["now"] != start["now"]
            page.locator("#push-animation .updatemenu-button").nth(1).click()  # pause
            page.wait_for_timeout(200)
            paused = page.evaluate(_STATE)
            page.wait_for_timeout(300)
            assert page.evaluate(_STATE)["active"] == paused["active"], "pause stops it"

            # move the slider: click a step near the start of the rail
            rail = page.locator("#push-animation .slider-rail-rect").bounding_box()
            assert rail is not None
            page.mouse.click(rail["x"] + rail["width"] * 0.1, rail["y"] + rail["height"] / 2)
            page.wait_for_function(
                f"() => document.getElementById('push-animation')._fullLayout.sliders[0].active !== {paused['active']}",
                timeout=5_000,
            )
            page.wait_for_timeout(200)
            moved = page.evaluate(_STATE)
            assert moved["active"] <= 8 and moved["title"] != paused["title"] and moved["now"] != paused["now"]
            assert re.search(r"\d+ h after upload", moved["title"])
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            keep = os.environ.get("VIRALSIM_SCREENSHOT")
            if keep:
                shutil.copy(shot, keep)
        finally:
            browser.close()
    assert not problems, problems
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), "fetched nothing from a network"
