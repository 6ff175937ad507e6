"""Time the lab (``viralsim lab``) as a user meets it: start-up, and a bees_bike re-run shown in the browser.

Whole processes and a real page, medians of ``--repeat`` tries:

- ``start``: from launching ``python -m viralsim lab bees_bike --no-browser``
  (a fresh process) to the server answering its page (HTTP 200); and to the
  page, opened in headless Chromium, showing its first run's final numbers
  (``page``). Target: the server answers in ≤ 3 s.
- ``rerun``: in one lab, press Run (pace "fastest") and wait until the page
  shows the finished bees_bike run (the status line says ``run N``): the
  click-to-numbers time a user sees. Target ≤ 2 s. Beside it, the same pair of
  runs (as set and social-only) by :func:`viralsim.lab.runs.run_pair` in this
  process, untimed warm-up first (``simulate``: the floor the page adds to).

Needs Debian's ``chromium`` and playwright (as the browser tests). Prints one
JSON object (every timing and the medians); exits 1 if a page shows numbers
that are not ``simulate``'s.

Usage::

    python benchmarks/lab.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from viralsim import load_scenario, simulate  # noqa: E402
from viralsim.lab.runs import run_pair  # noqa: E402

BEES = ROOT / "scenarios" / "bees_bike.toml"
FINISHED = "() => (document.getElementById('status') || {innerText: ''}).innerText.trim().startsWith('run ')"
START_TARGET_S = 3.0
RERUN_TARGET_S = 2.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as res:
            return bool(res.status == 200)
    except OSError:
        return False


def start_once(browser: object, expected: str) -> tuple[float, float]:
    """(seconds to the server's first answer, seconds to the first run shown) of one fresh lab process."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-m", "viralsim", "lab", "bees_bike", "--no-browser", "--port", str(port)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        while not _answers(url):
            if proc.poll() is not None:
                raise SystemExit(f"the lab exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.02)
        served = time.perf_counter() - t0
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(url)
        page.wait_for_function(FINISHED, timeout=60_000)
        shown = time.perf_counter() - t0
        views = page.locator("#as_set-views").inner_text().strip()
        page.close()
        if views != expected:
            raise SystemExit(f"start: the page shows {views} views, simulate gives {expected}")
        return served, shown
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def reruns(browser: object, repeat: int, expected: str) -> list[float]:
    """Click-to-numbers seconds of ``repeat`` bees_bike re-runs in one lab."""
    import threading

    from viralsim.lab import start

    lab = start("bees_bike", ROOT / "scenarios", port=0)
    threading.Thread(target=lab.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(lab.url)
        page.wait_for_function(FINISHED, timeout=60_000)
        times = []
        for _ in range(repeat):
            before = page.locator("#status").inner_text().strip()
            t0 = time.perf_counter()
            page.locator("#run").click()
            page.wait_for_function(
                f"() => ({FINISHED})() && document.getElementById('status').innerText.trim() !== {before!r}",
                timeout=60_000,
                polling=10,
            )
            times.append(time.perf_counter() - t0)
            views = page.locator("#as_set-views").inner_text().strip()
            if views != expected:
                raise SystemExit(f"rerun: the page shows {views} views, simulate gives {expected}")
        return times
    finally:
        lab.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="tries of each (default 5)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    sc = load_scenario(BEES)
    expected = f"{simulate(sc, record='summary').summary['views']:,}"
    run_pair(sc, {}, sc.seed)  # warm-up
    pair = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run_pair(sc, {}, sc.seed)
        pair.append(time.perf_counter() - t0)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            starts = [start_once(browser, expected) for _ in range(args.repeat)]
            rerun = reruns(browser, args.repeat, expected)
        finally:
            browser.close()
    med = statistics.median
    out = {
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "start_served_s": [round(s, 3) for s, _ in starts],
        "start_page_s": [round(p, 3) for _, p in starts],
        "rerun_s": [round(t, 3) for t in rerun],
        "run_pair_s": [round(t, 3) for t in pair],
        "median": {
            "start_served_s": round(med(s for s, _ in starts), 3),
            "start_page_s": round(med(p for _, p in starts), 3),
            "rerun_s": round(med(rerun), 3),
            "run_pair_s": round(med(pair), 3),
        },
        "targets": {"start_served_s": START_TARGET_S, "rerun_s": RERUN_TARGET_S},
    }
    out["met"] = {
        "start": out["median"]["start_served_s"] <= START_TARGET_S,
        "rerun": out["median"]["rerun_s"] <= RERUN_TARGET_S,
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
