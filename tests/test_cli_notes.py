"""What commands say on stderr besides errors: the followers warning, the files written, progress when piped.

- ``viralsim run`` warns in one line (``FILE:LINE: creator.followers: warning: ...``, exit 0)
  when the creator's followers are >= 5 % of a pushed video's users
  (:func:`viralsim.scenario.checks.followers_warning`);
- ``--out`` and ``--plot`` list what they wrote on stderr (stdout keeps the table or the one JSON
  object); ``--quiet`` silences that and the progress;
- a long experiment whose stderr is a pipe prints a plain progress line every
  ``VIRALSIM_PROGRESS_S`` seconds (a real subprocess, its stderr piped).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import paths
import pytest
from click.testing import CliRunner

from viralsim import load_scenario
from viralsim.cli import main
from viralsim.cli.progress import PlainProgress
from viralsim.scenario import apply_variant
from viralsim.scenario.checks import FOLLOWERS_WARNING_SHARE, followers_warning

TINY_TEXT = paths.TINY.read_text(encoding="utf-8")
WARNING = re.compile(r"^(?P<file>.+):(?P<line>\d+): creator\.followers: warning: the creator's (?P<n>[\d,]+) followers")


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def _tiny_with_followers(tmp_path: Path, followers: int, variant_followers: int | None = None) -> Path:
    text = TINY_TEXT.replace("followers = 300", f"followers = {followers}")
    if variant_followers is not None:
        text += f"\n[variants.famous]\ncreator.followers = {variant_followers}\n"
    f = tmp_path / "world.toml"
    f.write_text(text, encoding="utf-8")
    return f


def test_followers_warning_threshold_and_where_it_applies() -> None:
    tiny = load_scenario(paths.TINY)  # 20 000 users
    at = int(FOLLOWERS_WARNING_SHARE * 20_000)
    assert followers_warning(apply_variant(tiny, {"creator": {"followers": at - 1}})) is None
    loc, message = followers_warning(apply_variant(tiny, {"creator": {"followers": at}}))
    assert loc == ("creator", "followers") and "5 % of the 20,000 users" in message
    # no push, nothing to pre-empt
    social = apply_variant(tiny, {"creator": {"followers": 5_000}, "platform": {"push": {"mode": "social"}}})
    assert followers_warning(social) is None


def test_run_warns_in_one_line_with_the_line_that_sets_the_followers(tmp_path: Path) -> None:
    f = _tiny_with_followers(tmp_path, 4_000, variant_followers=8_000)
    lines = f.read_text(encoding="utf-8").splitlines()
    code, out, err = _run("run", str(f), "--json")
    assert code == 0, err
    json.loads(out)  # stdout is still exactly one JSON object
    [line] = err.splitlines()
    m = WARNING.match(line)
    assert m and m["file"] == str(f) and m["n"] == "4,000" and "20 % of the 20,000 users" in line
    assert lines[int(m["line"]) - 1].startswith("followers = 4000")
    code, out, err = _run("run", str(f), "--variant", "famous", "--runs", "2", "--json")
    assert code == 0, err
    [line] = [x for x in err.splitlines() if "warning" in x]
    m = WARNING.match(line)
    assert m and m["n"] == "8,000" and lines[int(m["line"]) - 1] == "creator.followers = 8000"


def test_run_does_not_warn_below_the_threshold(tmp_path: Path) -> None:
    code, _, err = _run("run", str(_tiny_with_followers(tmp_path, 999)), "--json")  # 4.995 %
    assert code == 0 and err == ""


def test_out_and_plot_list_what_they_wrote(tmp_path: Path) -> None:
    out, png = tmp_path / "res", tmp_path / "reach.png"
    code, stdout, err = _run("run", str(paths.TINY), "--out", str(out), "--plot", str(png), "--json")
    assert code == 0, err
    json.loads(stdout)
    names = sorted(p.name for p in out.iterdir())
    assert err.splitlines() == [f"wrote {out}/: {', '.join(names)}", f"wrote {png}"]
    code, _, err = _run("run", str(paths.TINY), "--out", str(out), "--plot", str(png), "--quiet")
    assert code == 0 and err == ""
    sw = tmp_path / "sweep"
    code, _, err = _run(
        "sweep", str(paths.TINY), "--param", "video.appeal=0.6,0.8", "--runs", "2", "--out", str(sw), "--plot",
        str(tmp_path / "s.png"),
    )  # fmt: skip
    assert code == 0, err
    listed = err.splitlines()[0].split(": ", 1)[1].split(", ")
    assert sorted(listed) == sorted(p.name for p in sw.iterdir() if not p.name.startswith("."))
    assert err.splitlines()[1] == f"wrote {tmp_path / 's.png'}"


def test_plain_progress_line_and_estimate() -> None:
    lines: list[str] = []
    p = PlainProgress("sweep tiny", 3600.0, echo=lines.append)
    assert p.line().startswith("sweep tiny: starting, ")
    p.update(100, 400)  # resumed: not in the rate
    assert re.fullmatch(r"sweep tiny: 100/400 runs, \d+ s", p.line())
    p._start -= 30.0  # 30 s in, 100 new runs done: 200 left take ~60 s
    p.update(200, 400)
    assert re.fullmatch(r"sweep tiny: 200/400 runs, 30 s, ~1 min 00 s left", p.line())
    p.close()
    assert lines == []  # nothing printed before the first interval: no closing line either


def _piped(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "viralsim", *args],
        capture_output=True,  # stdout and stderr are pipes, not terminals
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


@pytest.mark.timeout(600)
def test_progress_lines_when_piped_and_quiet_silences_them(tmp_path: Path) -> None:
    args = ("compare", str(paths.TINY), "--runs", "20", "--processes", "1", "--json")
    done = _piped(*args, VIRALSIM_PROGRESS_S="0.05")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # stdout: the one JSON object, untouched
    total = 20 * len(data["variants"])
    lines = done.stderr.splitlines()
    ticks = [
        re.fullmatch(rf"compare tiny: (\d+)/{total} runs, [\dminh ]+s(, ~[\dminh ]+s left)?", x) for x in lines[:-1]
    ]
    assert len(lines) >= 3 and all(ticks), lines
    counts = [int(m[1]) for m in ticks if m]
    assert counts == sorted(counts) and counts[-1] < total
    assert re.fullmatch(rf"compare tiny: {total}/{total} runs in [\dminh ]+s", lines[-1])
    quiet = _piped(*args, "--quiet", VIRALSIM_PROGRESS_S="0.05")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["table"] == data["table"]
