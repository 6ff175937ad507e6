"""The lab (``viralsim lab``): its controls, its bad-input errors, its live runs, and the page in a real browser.

Without a browser: watching a run (``simulate(watch=...)``) changes none of
its numbers and every progress report is a prefix of the final reach curve;
the lab's background jobs end on ``simulate``'s and ``compare``'s numbers and
stop when asked. The browser test starts the lab on a free local port in a
thread, opens it in Debian's headless Chromium (Python playwright with
``executable_path``; no browser is ever downloaded), moves the appeal slider
with the keyboard, presses Run at a watchable pace and records the page as it
changes: the numbers grow through intermediate frames (the reach so far equal
to the start of the final curve) and end on what ``viralsim.simulate`` gives
for those parameters and seed; Stop stops a run; "compare N runs" shows runs
done as they complete; Reset brings the scenario's own numbers back. The page must log no error and request nothing
but the lab itself. Outside CI it is skipped when chromium or playwright is
missing; in CI (``CI`` set) it must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, browser_or_skip
from click.testing import CliRunner
from paths import BEES, SCENARIOS_DIR

from viralsim import load_scenario, simulate
from viralsim.cli import main
from viralsim.engines.contracts import Watch
from viralsim.lab.bands import band_numbers
from viralsim.lab.figures import live_reach_figure
from viralsim.lab.live import Jobs, start_many, start_pair
from viralsim.lab.params import PARAMS, help_text, override, values_of
from viralsim.lab.runs import LabError, many_plan, resolve, run_many, run_pair, sides

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def bees():
    return load_scenario(BEES)


# --- controls, runs and errors, without a browser ------------------------------------------------


def test_every_control_has_its_fields_description():
    for p in PARAMS:
        assert len(help_text(p.path)) > 40, p.path
    paths = {p.path for p in PARAMS}
    for needed in (
        "video.appeal",
        "video.duration_s",
        "creator.followers",
        "platform.push.mode",
        "platform.push.thresholds.completion",
        "platform.recognition.accuracy",
        "behaviour.p_share",
        "population.users",
    ):
        assert needed in paths
    tables = {p.path.rsplit(".", 1)[0] for p in PARAMS}
    for table in ("video", "creator", "population", "social_graph", "platform.recognition", "platform.moderation"):
        assert table in tables, table
    for table in ("platform.push", "platform.following", "platform.sharing", "behaviour"):
        assert table in tables, table


def test_override_holds_only_what_changed(bees):
    values = values_of(bees)
    assert values["video.appeal"] == 0.91 and values["platform.push.mode"] == "hybrid"
    assert override(bees, values) == {}
    moved = {**values, "video.appeal": 0.8, "creator.followers": 1000.0, "population.users": None}
    assert override(bees, moved) == {"video": {"appeal": 0.8}, "creator": {"followers": 1000}}


def test_run_pair_is_simulate_as_set_and_social(tiny):
    pair = run_pair(tiny, {"video": {"appeal": 0.5}}, seed=4)
    tuned = tiny.derive({"video": {"appeal": 0.5}})
    assert pair.as_set.summary["views"] == simulate(tuned, seed=4).summary["views"]
    social = simulate(tuned.derive({"platform": {"push": {"mode": "social"}}}), seed=4)
    assert pair.social.summary["views"] == social.summary["views"]
    assert pair.social.scenario.platform.push.mode == "social" and pair.social.stages == []


def test_run_pair_refuses_what_would_not_fit(tiny):
    with pytest.raises(ValueError, match="memory"):  # refused before anything is allocated
        run_pair(tiny, {"population": {"users": 1_000_000_000}}, seed=1)
    with pytest.raises(ValueError, match="creator.followers"):
        run_pair(tiny, {"creator": {"followers": 50_000}}, seed=1)


def test_run_many_is_compare(tiny):
    ens = run_many(tiny, {"video": {"appeal": 0.5}}, seed=4, runs=3)
    tuned = tiny.derive({"video": {"appeal": 0.5}})
    views = ens.runs[ens.runs["variant"] == "base"]["views"].tolist()
    assert views == [simulate(tuned, seed=4, run=i).summary["views"] for i in range(3)]
    assert set(ens.runs["variant"]) == {"base", "social"} and len(ens.runs) == 6
    numbers = band_numbers(ens, "base")
    assert len(numbers) == 6 and numbers[0][1] is not None and numbers[-1][1] is None  # stop reason: no interval
    with pytest.raises(ValueError, match="runs"):
        run_many(tiny, {}, seed=1, runs=0)


# --- live runs: watched, in background jobs -------------------------------------------------------


def _watched(sc, frames, **kw):
    """A run unwatched and watched ``frames`` times: the same run, each frame the start of it."""
    plain = simulate(sc, record="summary", **kw)
    seen = []
    watched = simulate(sc, record="summary", watch=Watch(sc.horizon_h / frames, seen.append), **kw)
    assert watched.summary == plain.summary and watched.stages == plain.stages
    assert all(np.array_equal(watched.reach_curve[k], plain.reach_curve[k]) for k in plain.reach_curve)
    assert len(seen) == frames
    views = [sum(p.views_by_source.values()) for p in seen]
    assert views == sorted(views) and views[-1] <= plain.summary["views"]
    assert len({*views}) > 5  # the numbers grow through the run
    for p in seen:
        n = len(p.reach_curve["time_h"])
        assert n == int((plain.reach_curve["time_h"] < p.time_h).sum())
        assert all(np.array_equal(p.reach_curve[k], plain.reach_curve[k][:n]) for k in plain.reach_curve)
        assert p.shares <= plain.summary["shares"] and p.stages == tuple(plain.stages[: len(p.stages)])
    return plain, seen


@pytest.mark.parametrize("name", ["bees", "tiny"])
def test_watching_changes_nothing_and_shows_the_final_curve_so_far(name, bees, tiny):
    sc = {"bees": bees, "tiny": tiny}[name]
    plain, seen = _watched(sc, 50)
    assert [p.time_h for p in seen] == sorted(p.time_h for p in seen)
    views = [sum(p.views_by_source.values()) for p in seen]
    assert 0 < views[len(views) // 2]
    assert seen[-1].views_by_source["for_you"] <= plain.summary["views_by_source"]["for_you"]
    # the push's stop in hours after the upload, as the summary's (the live stop line sits where the final one does)
    stopped = [p for p in seen if p.stop_h is not None]
    assert stopped and all(p.stop_h == plain.summary["stop_h"] for p in stopped)
    lines = [sh.x0 for sh in live_reach_figure(sc, stopped[-1]).layout.shapes if sh.line.dash == "dot"]
    assert lines == [pytest.approx(plain.summary["stop_h"])]
    with pytest.raises(ValueError, match="every_h"):
        Watch(0, seen.append)


@pytest.mark.parametrize("kind", ["one_video", "marketplace"])
def test_the_agent_engine_is_watched_without_changing_its_run(tiny, kind):
    from test_agents import market

    sc = tiny.derive({"engine": "agents"}) if kind == "one_video" else market().derive({"horizon_h": 24})
    plain, seen = _watched(sc, 20, seed=2)
    for p in seen:
        assert len(p.reach_curve["time_h"]) > 0
        for source, count in p.views_by_source.items():
            assert count <= plain.summary["views_by_source"][source]
    assert len(seen[len(seen) // 2].stages) < len(plain.stages)  # the stages arrive through the run
    if kind == "one_video":
        stopped = [p for p in seen if p.stop_h is not None]
        assert stopped and all(p.stop_h == plain.summary["stop_h"] for p in stopped)
        assert seen[-1].stop_reason == plain.summary["stop_reason"] or plain.summary["stop_reason"] == "horizon"
    else:
        assert all(p.stop_reason is None and p.stop_h is None for p in seen)


def test_a_watcher_can_abandon_a_run(tiny):
    class Enough(Exception):
        pass

    def see(p):
        if p.time_h > tiny.horizon_h / 2:
            raise Enough

    with pytest.raises(Enough):
        simulate(tiny, watch=Watch(1.0, see))


def test_live_pair_ends_on_simulate(bees):
    as_set, social = sides(bees, {"video": {"appeal": 0.8}})
    job = start_pair(Jobs(), as_set, social, seed=3)
    assert job.wait(120) and job.error is None and not job.stopped
    shown = job.view()
    for key, sc in (("as_set", as_set), ("social", social)):
        assert shown.sides[key].result.summary == simulate(sc, seed=3, record="summary").summary
        assert shown.sides[key].progress is not None  # it reported while it ran
    assert shown.version > 2 * 10


def test_live_pair_stops_when_asked(bees):
    as_set, social = sides(bees, {})
    job = start_pair(Jobs(), as_set, social, seed=1, pace_s=60.0)  # a run stretched to a minute
    deadline = time.monotonic() + 60
    while job.view().sides["as_set"].progress is None and time.monotonic() < deadline:
        time.sleep(0.05)
    job.stop()
    assert job.wait(30) and job.stopped and job.error is None
    shown = job.view().sides["as_set"]
    assert shown.result is None and shown.progress is not None
    assert shown.progress.time_h < bees.horizon_h


def test_live_many_is_compare_run_by_run(tiny):
    plan = many_plan(tiny, {"video": {"appeal": 0.5}}, seed=4, runs=3)
    job = start_many(Jobs(), plan)
    assert job.wait(120) and job.error is None and job.done_runs == 3
    ens, ref = job.view().ensemble, run_many(tiny, {"video": {"appeal": 0.5}}, seed=4, runs=3)
    assert ens.runs.equals(ref.runs) and ens.bands.equals(ref.bands)


def test_resolve_names_and_files(tmp_path):
    assert resolve("bees_bike", SCENARIOS_DIR) == BEES
    assert resolve("bees_bike.toml", SCENARIOS_DIR) == BEES
    assert resolve(None, SCENARIOS_DIR) == BEES
    assert resolve(str(BEES), None) == BEES
    with pytest.raises(LabError, match="no such bundled scenario"):
        resolve("no_such_scenario", SCENARIOS_DIR)
    with pytest.raises(LabError, match="no such file"):
        resolve(str(tmp_path / "missing.toml"), SCENARIOS_DIR)
    with pytest.raises(LabError, match="not a scenario file"):
        resolve(str(tmp_path), SCENARIOS_DIR)


def test_resolve_is_the_clis_rule_a_file_before_a_bundled_name(tmp_path, monkeypatch):
    from viralsim.cli.common import find_scenario

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIRALSIM_SCENARIOS", str(SCENARIOS_DIR))
    (tmp_path / "bees_bike").write_text(BEES.read_text())  # a file here named like a bundled scenario
    for arg in ("bees_bike", "tiny", "tiny.toml", "missing.toml", "sub/bees_bike"):
        expected = Path(find_scenario(arg))
        if expected.is_file():
            assert resolve(arg, SCENARIOS_DIR) == expected, arg
        else:
            with pytest.raises(LabError):
                resolve(arg, SCENARIOS_DIR)
    assert resolve("bees_bike", SCENARIOS_DIR) == Path("bees_bike")  # the file wins, as in the CLI
    assert resolve("tiny", SCENARIOS_DIR) == SCENARIOS_DIR / "tiny.toml"


@pytest.mark.parametrize("arg", ["no_such_scenario", "missing/file.toml", "bad"])
def test_cli_bad_input_is_one_line(arg, tmp_path):
    if arg == "bad":
        arg = str(tmp_path / "bad.toml")
        Path(arg).write_text("name = \n")
    res = CliRunner().invoke(main, ["lab", arg, "--no-browser", "--port", "0"])
    assert res.exit_code == 1, res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output, res.output


def test_cli_without_dash_says_what_to_install():
    code = "import sys; sys.modules['dash'] = None; from viralsim.cli import main; main(['lab', '--no-browser'])"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (
        res.returncode == 1
        and res.stderr.strip() == "the lab needs dash (dash is missing): pip install 'viralsim[lab]'"
    )


def test_cli_help():
    res = CliRunner().invoke(main, ["lab", "--help"])
    assert res.exit_code == 0 and "--port" in res.output and "--no-browser" in res.output


def test_nothing_else_imports_the_lab():
    code = (
        "import sys, viralsim, viralsim.cli, viralsim.report, viralsim.explain;"
        "print(sorted(m for m in sys.modules if m.startswith(('viralsim.lab', 'dash', 'flask'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- the live page in headless Chromium ----------------------------------------------------------


@pytest.fixture(scope="module")
def lab():
    pytest.importorskip("dash")
    from viralsim.lab import start

    server = start("bees_bike", SCENARIOS_DIR, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=10)


_REACH = """() => {
  const g = document.querySelector('#as_set-reach .js-plotly-plot');
  return {title: g.layout.title.text, for_you: g.data[0].y[g.data[0].y.length - 1]};
}"""


def _text(page, element_id: str) -> str:
    return page.locator(f"#{element_id}").inner_text().strip()


_FINISHED = "document.getElementById('status').innerText.trim().startsWith('run ')"

#: Records the page each time the as-set side's views change: the numbers, the status, the reach plot's data.
_RECORD = """() => {
  window.__frames = [];
  const record = () => {
    const g = document.querySelector('#as_set-reach .js-plotly-plot');
    window.__frames.push({
      views: document.getElementById('as_set-views').innerText.trim(),
      mode: document.getElementById('as_set-mode').innerText.trim(),
      status: document.getElementById('status').innerText.trim(),
      title: g && g.layout && g.layout.title ? g.layout.title.text : '',
      y: g && g.data && g.data.length ? Array.from(g.data[0].y) : [],
    });
  };
  const watch = {childList: true, subtree: true, characterData: true};
  new MutationObserver(record).observe(document.getElementById('as_set-views'), watch);
  new MutationObserver(record).observe(document.getElementById('as_set-mode'), watch);
}"""


def _run_and_wait(page, button: str) -> float:
    """Press ``button`` and wait for the run it starts to finish showing; the seconds it took."""
    before = _text(page, "status")
    t0 = time.perf_counter()
    page.locator(f"#{button}").click()
    page.wait_for_function(
        f"() => {_FINISHED} && document.getElementById('status').innerText.trim() !== {before!r}", timeout=WAIT_MS
    )
    return time.perf_counter() - t0


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def _pace(page, label: str) -> None:
    page.locator(f"#pace input[value='{label}']").check()


def test_lab_in_headless_chromium(lab, bees, tmp_path):
    sync_playwright = browser_or_skip()
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(lab.url)
            page.wait_for_function(
                f"() => document.getElementById('status') && {_FINISHED}"
                " && document.querySelector('#as_set-reach .js-plotly-plot')",
                timeout=WAIT_MS,
            )

            # the scenario as set and social-only, as simulate() gives them
            first = simulate(bees, seed=bees.seed)
            social = simulate(bees.variant("social"), seed=bees.seed)
            assert _text(page, "as_set-views") == f"{first.summary['views']:,}"
            assert _text(page, "social-views") == f"{social.summary['views']:,}"
            assert "help" in page.locator("#param-video-appeal .help").get_attribute("class")
            assert "Latent quality" in page.locator("#param-video-appeal label").get_attribute("title")
            before = page.evaluate(_REACH)

            # watch the push: the report's animation of this run, with its play button and time slider
            page.locator("#animate").click()
            page.wait_for_function(
                "() => { const g = document.querySelector('#push-animation .js-plotly-plot');"
                " return g && g._fullLayout && g._fullLayout.sliders && g._fullLayout.sliders.length; }",
                timeout=WAIT_MS,
            )
            assert page.locator("#push-animation .updatemenu-button").count() == 2
            assert not _text(page, "animate-msg")

            # move the appeal slider down by 0.10 with the keyboard, then Run
            thumb = page.locator("#param-video-appeal [role=slider]")
            thumb.focus()
            for _ in range(10):
                thumb.press("ArrowLeft")
            page.wait_for_function(
                "() => document.querySelector('#param-video-appeal [role=slider]')"
                ".getAttribute('aria-valuenow') === '0.81'",
                timeout=WAIT_MS,
            )
            # Run at a watchable pace: the numbers and the reach grow through frames, then end on simulate's
            _pace(page, "5 s")
            page.evaluate(_RECORD)
            _run_and_wait(page, "run")
            page.wait_for_function(  # the replay of the previous run is put away
                "() => document.getElementById('push-animation').style.display === 'none'", timeout=WAIT_MS
            )
            moved = simulate(bees.derive({"video": {"appeal": 0.81}}), seed=bees.seed)
            assert moved.summary["views"] != first.summary["views"]
            assert _text(page, "as_set-views") == f"{moved.summary['views']:,}"
            after = page.evaluate(_REACH)
            assert after != before and after["for_you"] == moved.summary["views_by_source"]["for_you"]
            frames = page.evaluate("() => window.__frames")
            live = [f for f in frames if f["status"].startswith("running") and f["views"][:1].isdigit()]
            grown = [_count(f["views"]) for f in live]
            # intermediate frames were shown: at least 3 different counts short of the final one (a last
            # "running" frame may already hold the final count, drawn before the run is marked done)
            assert len({g for g in grown if g < moved.summary["views"]}) >= 3, frames
            assert grown == sorted(grown) and max(grown) <= moved.summary["views"], grown
            keep = moved.reach_curve["time_h"] >= bees.video.upload_h
            final_for_you = moved.reach_curve["for_you"][keep].tolist()
            partial = [f["y"] for f in live if "so far" in f["title"] and 0 < len(f["y"]) < len(final_for_you)]
            assert partial and all(y == final_for_you[: len(y)] for y in partial)  # the final curve, so far
            shot = tmp_path / "lab.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            if keep := os.environ.get("VIRALSIM_SCREENSHOT"):
                shutil.copy(shot, keep)

            # Stop: a run stretched to 20 s stops where it is, its numbers short of the end
            _pace(page, "20 s")
            page.locator("#run").click()
            page.wait_for_function(
                "() => document.getElementById('status').innerText.startsWith('running')"
                " && /^[1-9]/.test(document.getElementById('as_set-views').innerText)",
                timeout=WAIT_MS,
            )
            assert page.locator("#stop").is_enabled()
            page.locator("#stop").click()
            page.wait_for_function(
                "() => document.getElementById('status').innerText.startsWith('stopped')", timeout=WAIT_MS
            )
            page.wait_for_function("() => document.getElementById('stop').disabled", timeout=WAIT_MS)
            assert 0 < _count(_text(page, "as_set-views")) < moved.summary["views"]
            _pace(page, "fastest")

            # compare 4 paired runs: the runs done show as they complete, then compare's medians
            page.locator("#runs").fill("4")
            page.evaluate(_RECORD)
            _run_and_wait(page, "run")
            modes = [f["mode"] for f in page.evaluate("() => window.__frames")]
            assert any("of 4 runs" in m and not m.endswith("4 of 4 runs)") for m in modes), modes
            assert _text(page, "as_set-mode").endswith("4 of 4 runs)")
            median, interval = band_numbers(run_many(bees, {"video": {"appeal": 0.81}}, bees.seed, 4), "base")[0]
            assert _text(page, "as_set-views") == f"{median}\n5 %–95 %: {interval}"
            page.locator("#runs").fill("1")

            # another seed, then Reset: the scenario's own values and numbers come back
            page.locator("#seed").fill("2")
            took = _run_and_wait(page, "run")
            seed2 = simulate(bees.derive({"video": {"appeal": 0.81}}), seed=2)
            assert _text(page, "as_set-views") == f"{seed2.summary['views']:,}"
            _run_and_wait(page, "reset")
            assert _text(page, "as_set-views") == f"{first.summary['views']:,}"
            assert page.locator("#param-video-appeal [role=slider]").get_attribute("aria-valuenow") == "0.91"
            assert page.locator("#seed").input_value() == str(bees.seed)

            # a run the checks refuse says why in one line, and keeps the last numbers
            page.locator("#param-creator-followers input").fill("5000000")
            page.locator("#run").click()
            page.wait_for_function("() => document.getElementById('run-msg').innerText.length > 0", timeout=WAIT_MS)
            assert "creator.followers" in _text(page, "run-msg")
            assert _text(page, "as_set-views") == f"{first.summary['views']:,}"

            # a file that does not exist: one line; another bundled scenario: its controls and numbers
            page.locator("#path").fill(str(tmp_path / "missing.toml"))
            page.locator("#open").click()
            page.wait_for_function("() => document.getElementById('load-msg').innerText.length > 0", timeout=WAIT_MS)
            assert "missing.toml" in _text(page, "load-msg")
            page.locator("#scenario").click()
            page.get_by_role("option", name="tiny").click()
            page.wait_for_function(
                f"() => document.getElementById('status').innerText.includes('tiny') && {_FINISHED}"
                " && !document.getElementById('run-msg').innerText",
                timeout=WAIT_MS,
            )
            tiny = load_scenario(SCENARIOS_DIR / "tiny.toml")
            assert _text(page, "as_set-views") == f"{simulate(tiny, seed=tiny.seed).summary['views']:,}"
            assert page.locator("#param-creator-followers input").input_value() == str(tiny.creator.followers)

            # compare 3 paired runs: medians with their intervals, and bands
            page.locator("#runs").fill("3")
            _run_and_wait(page, "run")
            assert "3 paired runs" in _text(page, "status")
            median, interval = band_numbers(run_many(tiny, {}, tiny.seed, 3), "base")[0]
            assert _text(page, "as_set-views") == f"{median}\n5 %–95 %: {interval}"
            title = page.evaluate("() => document.querySelector('#as_set-reach .js-plotly-plot').layout.title.text")
            assert title == "Reach over 3 runs (median, 5 %-95 %)"
        finally:
            browser.close()
    assert not problems, problems
    local = ("http://127.0.0.1:", "data:", "blob:", "about:")
    assert requests and all(u.startswith(local) for u in requests), [u for u in requests if not u.startswith(local)]
    print(f"bees_bike re-run shown in {took:.2f} s")
