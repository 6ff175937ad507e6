"""Results folders that cannot be corrupted: input digests, no symlink followed, a lock, verified chunks and tables.

Each test is the regression test of one defect of issue 12 (it fails on the store before the fix):
edited edge list (1), symlinked chunks (2), no lock (3), damaged or foreign chunks (5),
damaged consolidated tables and stale chunks (6). The slow fault-injection test (the issue's "done
when") kills one sweep 20 times over the three executors (local processes, in-process, a real Dask
scheduler and worker), damages a chunk and races two identical commands on the folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from viralsim import load_scenario
from viralsim.cli import main
from viralsim.ensemble import ensemble_plan, execute
from viralsim.executors import InProcess
from viralsim.io.results_store import ResultStore

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.toml"
RUNS, SEED = 12, 5


@pytest.fixture(scope="module")
def plan():
    return ensemble_plan(load_scenario(TINY), RUNS, SEED)


@pytest.fixture(scope="module")
def reference(plan):
    return execute(plan, InProcess()).runs


def _cli(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr


def _run_tiny(out: Path, *more: str) -> tuple[int, str, str]:
    # --quiet: stderr holds only what these tests look for (the notes on damage), not the list of files written
    return _cli(
        "run", TINY, "--runs", RUNS, "--seed", SEED, "--processes", "1", "--out", out, "--json", "--quiet", *more
    )


def _one_line_error(code: int, stdout: str, stderr: str) -> str:
    assert code == 1, (code, stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.sort_values(["variant", "point", "run"]).reset_index(drop=True).copy()
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype).startswith("string"):
            out[c] = out[c].astype(object)
    return out


def _same_runs(out: Path, reference: pd.DataFrame) -> None:
    saved = pd.read_parquet(out / "runs.parquet")
    assert not saved.duplicated(["variant", "point", "run"]).any()
    pd.testing.assert_frame_equal(_frame(saved), _frame(reference), check_dtype=False)


def _partial(out: Path, plan, chunks: int = 3) -> None:
    """A folder as left by a killed command: ``chunks`` chunk files of 2 runs, no tables."""
    store = ResultStore(out, plan)
    ex = InProcess()
    ex.max_chunk = 2
    calls = 0

    class Stop(Exception):
        pass

    def progress(done, total):
        nonlocal calls
        calls += 1
        if calls == chunks + 1:
            raise Stop

    with pytest.raises(Stop):
        execute(plan, ex, sink=store, progress=progress)
    getattr(store, "close", lambda: None)()
    assert len(_chunk_files(out)) == chunks


def _chunk_files(out: Path) -> list[Path]:
    return sorted((out / "chunks").glob("*.parquet"))


# --- defect 1: the fingerprint covers the files the scenario reads --------------------------------


def test_an_edited_edge_list_is_refused_like_a_changed_scenario(tmp_path):
    from test_cli import EDGE_SCENARIO

    (tmp_path / "graph").mkdir()
    edges = tmp_path / "graph" / "edges.txt"
    edges.write_text("".join(f"0 {v}\n" for v in range(1, 41)), encoding="utf-8")
    (tmp_path / "edges.toml").write_text(EDGE_SCENARIO, encoding="utf-8")
    out = tmp_path / "res"
    cmd = ("run", tmp_path / "edges.toml", "--runs", "4", "--processes", "1", "--out", out, "--json")
    code, _, stderr = _cli(*cmd)
    assert code == 0, stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["inputs"]) == {"graph/edges.txt"}
    code, _, stderr = _cli(*cmd)  # the same file: the folder answers
    assert code == 0, stderr
    edges.write_text("".join(f"0 {v}\n" for v in range(1, 11)), encoding="utf-8")  # 10 followers, not 40
    line = _one_line_error(*_cli(*cmd))
    assert line.startswith(str(out)) and "graph/edges.txt" in line and "changed" in line
    # an interrupted folder is refused the same way (no rows of two graphs in one table)
    manifest["complete"] = False
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert "graph/edges.txt" in _one_line_error(*_cli(*cmd))


def test_a_folder_of_an_older_results_format_is_refused(tmp_path):
    # before the results format 2, stop_h and peak_rate_h counted hours since t = 0: the same command's
    # old folder must not be resumed into (its rows would mean something else) nor read as complete
    out = tmp_path / "res"
    code, _, stderr = _run_tiny(out)
    assert code == 0, stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["results_format"] == 2
    old = {k: v for k, v in manifest.items() if k != "results_format"}
    old["fingerprint"] = "0123456789abcdef"  # its fingerprint did not include the format
    for complete in (True, False):
        (out / "manifest.json").write_text(json.dumps(dict(old, complete=complete)))
        line = _one_line_error(*_run_tiny(out))
        assert line.startswith(str(out)) and "results format 1" in line and "after the upload" in line


# --- defect 2: no symbolic link inside a results folder is followed -----------------------------------


def test_a_symlinked_chunks_folder_is_refused_and_nothing_outside_is_deleted(tmp_path, plan):
    out = tmp_path / "res"
    _partial(out, plan, chunks=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in (".precious", ".bashrc", "notes.parquet"):
        (elsewhere / name).write_text("mine")
    shutil.rmtree(out / "chunks")
    (out / "chunks").symlink_to(elsewhere, target_is_directory=True)
    line = _one_line_error(*_run_tiny(out))
    assert line.startswith(str(out / "chunks")) and "symbolic link" in line
    assert sorted(p.name for p in elsewhere.iterdir()) == [".bashrc", ".precious", "notes.parquet"]
    assert all(p.read_text() == "mine" for p in elsewhere.iterdir())


def test_links_inside_chunks_are_never_followed(tmp_path, plan, reference):
    out = tmp_path / "res"
    _partial(out, plan, chunks=2)
    outside = tmp_path / "outside.parquet"
    shutil.copy(_chunk_files(out)[0], outside)  # a sound chunk of this very command, but outside
    (out / "chunks" / "zz-link.parquet").symlink_to(outside)
    (tmp_path / "victim").write_text("mine")
    (out / "chunks" / ".tmp-link").symlink_to(tmp_path / "victim")  # a "stray temporary file"
    code, _, stderr = _run_tiny(out)
    assert code == 0, stderr
    assert "zz-link.parquet: damaged (a symbolic link)" in stderr
    assert (tmp_path / "victim").read_text() == "mine" and outside.exists()
    _same_runs(out, reference)


# --- defect 3: one command per folder ------------------------------------------------------------------

SWEEP = ["sweep", str(TINY), "--param", "video.appeal=0.6,0.9", "--runs", "150", "--seed", "9"]


def _popen(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_chunks(proc: subprocess.Popen, out: Path, at_least: int) -> None:
    deadline = time.monotonic() + 120
    while not (out / "chunks").is_dir() or len(_chunk_files(out)) < at_least:
        assert proc.poll() is None, f"finished before the test could act: {proc.communicate()}"
        assert time.monotonic() < deadline, "no chunk written in 120 s"
        time.sleep(0.02)


def test_a_second_command_on_a_folder_in_use_is_refused_in_one_line(tmp_path):
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "viralsim", *SWEEP, "--processes", "2", "--out", str(out), "--json"]
    first = _popen(cmd)
    try:
        _wait_for_chunks(first, out, at_least=1)
        # the first command (and its workers) paused while it holds the lock: on a fast machine it
        # could otherwise finish its 300 runs before the second one has started
        os.killpg(first.pid, signal.SIGSTOP)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first command ended before the second could be refused"
        assert second.returncode == 1, second.stderr
        assert second.stderr.strip() == f"{out} is in use by another viralsim command (pid {first.pid})"
        first.send_signal(signal.SIGINT)  # Ctrl-C (delivered when it goes on): the lock goes with the first command
        os.killpg(first.pid, signal.SIGCONT)
        first.communicate(timeout=120)
        assert first.returncode == 1
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate()
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    saved = pd.read_parquet(out / "runs.parquet")
    assert len(saved) == 300 and not saved.duplicated(["variant", "point", "run"]).any()


def test_the_lock_is_released_after_an_error_in_this_process(tmp_path, plan):
    out = tmp_path / "res"
    _partial(out, plan, chunks=1)
    code, _, stderr = _run_tiny(out, "--plot", tmp_path / "no-such-folder" / "x.png")
    assert code == 1
    lock = out / ".lock"
    assert lock.exists()
    # another process can take it at once
    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"
    )
    assert subprocess.run([sys.executable, "-c", probe, str(lock)], capture_output=True).returncode == 0


# --- defect 5: every chunk is verified on resume ---------------------------------------------------------


def _damage(path: Path, how: str, tmp_path: Path, plan) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "empty":
        path.write_bytes(b"")
    else:  # a sound chunk of another command (another seed): same runs, other numbers
        other = tmp_path / "other"
        _partial(other, ensemble_plan(plan.scenario, RUNS, SEED + 1), chunks=1)
        shutil.copy(_chunk_files(other)[0], path)


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "another command's"])
def test_a_damaged_chunk_is_named_and_its_runs_run_again(tmp_path, plan, reference, how):
    out = tmp_path / "res"
    _partial(out, plan, chunks=3)
    bad = _chunk_files(out)[0]
    _damage(bad, how, tmp_path, plan)
    code, stdout, stderr = _run_tiny(out)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    notes = [line for line in stderr.splitlines() if "damaged" in line]
    assert len(notes) == 1 and notes[0].startswith(f"{bad}: damaged (")
    assert notes[0].endswith("; its runs will be run again")
    _same_runs(out, reference)
    assert json.loads(stdout)["runs"] == RUNS
    assert not (out / "chunks").exists()


# --- defect 6: a complete folder is verified, repaired and cleaned ---------------------------------------------


@pytest.mark.parametrize("table", ["runs.parquet", "bands.parquet", "runs.csv", "curves.parquet"])
def test_a_truncated_table_of_a_complete_folder_is_rebuilt(tmp_path, reference, table):
    out = tmp_path / "res"
    code, first, stderr = _run_tiny(out)
    assert code == 0, stderr
    before = {n: pd.read_parquet(out / n) for n in ("runs.parquet", "bands.parquet", "curves.parquet")}
    data = (out / table).read_bytes()
    (out / table).write_bytes(data[: len(data) // 2])
    code, second, stderr = _run_tiny(out)
    assert code == 0, stderr
    assert stderr.strip().startswith(f"{out / table}: damaged (")
    assert json.loads(second) == json.loads(first)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), frame)
    assert len(pd.read_csv(out / "runs.csv", comment="#")) == RUNS
    _same_runs(out, reference)
    code, _, stderr = _run_tiny(out)  # repaired for good: nothing to say the next time
    assert code == 0 and stderr == ""


def test_a_complete_folder_with_rows_missing_is_not_taken_as_complete(tmp_path, reference):
    out = tmp_path / "res"
    assert _run_tiny(out)[0] == 0
    import pyarrow.parquet as pq

    table = pq.read_table(out / "runs.parquet")
    pq.write_table(table.slice(0, RUNS - 3), out / "runs.parquet")  # readable, with its provenance, 3 rows short
    code, _, stderr = _run_tiny(out)
    assert code == 0 and "runs.parquet: damaged" in stderr
    _same_runs(out, reference)


def test_stale_chunks_of_a_complete_folder_are_removed(tmp_path, plan, reference):
    partial = tmp_path / "partial"
    _partial(partial, plan, chunks=2)
    out = tmp_path / "res"
    assert _run_tiny(out)[0] == 0
    shutil.copytree(partial / "chunks", out / "chunks")  # killed between "complete" and the clean-up
    code, _, stderr = _run_tiny(out)
    assert code == 0, stderr
    assert not (out / "chunks").exists()
    _same_runs(out, reference)


# --- defect 13: the README's Dask section says who can run code on the workers ------------------------------


def test_the_dask_section_warns_about_an_open_scheduler_and_shows_the_safe_ways():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### On a Dask cluster")
    section = text[start : text.index("\n## ", start)]
    assert "can run code on your workers" in section
    commands = [line for line in section.splitlines() if line.startswith("dask scheduler")]
    assert commands and not any("0.0.0.0" in line for line in commands)  # never shown as the way to start one
    for safe in ("--host 127.0.0.1", "ssh -N -L 8786:127.0.0.1:8786", "--tls-ca-file", "tls://SCHEDULER:8786"):
        assert safe in section, safe


# --- fault injection: kills at random moments, a damaged chunk, then a rerun ------------------------------------


def _group(pgid: int) -> list[int]:
    """Live processes of a process group (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def _saved_runs(out: Path) -> int:
    import pyarrow.parquet as pq

    if not (out / "chunks").is_dir():
        return 0
    total = 0
    for f in _chunk_files(out):
        try:
            total += pq.read_metadata(f).num_rows
        except Exception:  # being written, or damaged: counted by nobody
            pass
    return total


def _kill_at_a_random_moment(proc: subprocess.Popen, out: Path, rng, attempt: int, near_the_end: bool) -> bool:
    """Kill ``proc`` (and check it leaves no process behind); False if it finished first."""
    if near_the_end:  # at most one more chunk to go: kill while it starts, so that kills remain to be made
        time.sleep(rng.uniform(0.1, 1.0))
    elif attempt % 2:  # any moment: while importing, starting the pool or the client, writing a chunk...
        time.sleep(rng.uniform(0.2, 2.5))
    else:  # a moment after one more chunk is in (so the work moves on however slow the machine)
        before = len(_chunk_files(out)) if (out / "chunks").is_dir() else 0
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if (out / "chunks").is_dir() and len(_chunk_files(out)) > before:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
    if proc.poll() is not None:  # finished (or resumed to the end) before the kill
        return False
    whole_group = attempt % 4 < 2
    if whole_group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.kill()  # the parent alone: its workers (local processes) must follow
    proc.wait(timeout=60)
    _assert_no_process_left(proc, "the group" if whole_group else "the parent")
    return True


def _assert_no_process_left(proc: subprocess.Popen, killed: str = "") -> None:
    deadline = time.monotonic() + 10
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _group(proc.pid)
    assert not left, f"orphaned processes {left} after {'killing ' + killed if killed else 'the command ended'}"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_sweep_killed_at_random_moments_ends_as_an_uninterrupted_one(tmp_path):
    """20 kills spread over the three executors on one folder, a damaged chunk, two commands racing.

    The attempts take turns: local processes (the group, or the parent alone), in-process, and
    a real Dask scheduler and worker (the client is killed). The final tables must equal an
    uninterrupted run's, whatever executor computed which chunk.
    """
    import numpy as np
    import pyarrow.parquet as pq
    from dask_procs import start_cluster, stop

    from viralsim.ensemble import sweep_plan
    from viralsim.executors import LocalProcesses

    pytest.importorskip("distributed")
    runs, seed, wanted = 200, 9, 20
    plan = sweep_plan(load_scenario(TINY), {"video.appeal": [0.6, 0.9]}, runs=runs, seed=seed)
    ref = tmp_path / "reference"
    with ResultStore(ref, plan) as store:
        store.finish(execute(plan, LocalProcesses(2), sink=store))
    box = tmp_path / "box"  # the commands' working folder: nothing but --out may change in it
    box.mkdir()
    (box / "keep.txt").write_text("mine")
    watched = {"box": _snapshot(box), "scenarios": _snapshot(TINY.parent)}
    out = box / "out"
    args = ["sweep", str(TINY), "--param", "video.appeal=0.6,0.9", "--runs", str(runs), "--seed", str(seed)]
    base = [sys.executable, "-m", "viralsim", *args, "--out", str(out), "--json"]
    (tmp_path / "dask").mkdir()
    address, scheduler, worker = start_cluster(tmp_path / "dask")
    executors = {"processes": ["--processes", "2"], "inprocess": ["--processes", "1"], "dask": ["--scheduler", address]}
    names = list(executors)
    rng = np.random.default_rng(2024)
    kills = dict.fromkeys(names, 0)
    try:
        for attempt in range(3 * wanted):
            name = names[attempt % len(names)]
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # an orphan must not hold a pipe
            proc = subprocess.Popen([*base, *executors[name]], cwd=box, start_new_session=True, **quiet)
            try:
                near_the_end = _saved_runs(out) >= 0.75 * 2 * runs
                if not _kill_at_a_random_moment(proc, out, rng, attempt // len(names), near_the_end):
                    break
                kills[name] += 1
            finally:
                for pid in _group(proc.pid):  # never leave a process of this test behind
                    os.kill(pid, signal.SIGKILL)
                proc.wait(timeout=60)
            if sum(kills.values()) == wanted:
                break
        assert sum(kills.values()) == wanted and min(kills.values()) >= 5, kills

        chunks = _chunk_files(out)
        assert chunks, "every kill came after the sweep was complete"
        chunks[-1].write_bytes(chunks[-1].read_bytes()[:100])  # a damaged chunk
        # two identical commands race on the folder: one computes, the other is refused (or finds it done)
        racers = [[*base, "--processes", "2"], [*base, "--processes", "2"]]
        procs = [
            subprocess.Popen(cmd, cwd=box, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for cmd in racers
        ]
        ends = [(p.returncode, err.decode()) for p in procs for _, err in [p.communicate(timeout=300)]]
        for p in procs:
            _assert_no_process_left(p)
    finally:
        stop(worker)
        stop(scheduler)
    codes = sorted(code for code, _ in ends)
    assert codes in ([0, 0], [0, 1]), ends
    for code, err in ends:
        assert "Traceback" not in err, err
        if code == 1:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "is in use by another viralsim command" in lines[0], err
    assert sum(f"{chunks[-1]}: damaged" in err for code, err in ends if code == 0) == 1, ends

    for name in ("runs.parquet", "bands.parquet", "curves.parquet"):
        got, want = pd.read_parquet(out / name), pd.read_parquet(ref / name)
        keys = ["variant", "point", "source", "time_h"] if name == "bands.parquet" else ["variant", "point", "run"]
        assert not got.duplicated(keys).any(), name
        got, want = (f.sort_values(keys).reset_index(drop=True) for f in (got, want))
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        assert (
            json.loads(pq.read_schema(out / name).metadata[b"viralsim"])["fingerprint"]
            == json.loads((out / "manifest.json").read_text())["fingerprint"]
        )
    assert len(pd.read_parquet(out / "runs.parquet")) == 2 * runs  # no run lost, none twice
    assert not (out / "chunks").exists()
    after = _snapshot(box)
    assert {k: v for k, v in after.items() if not k.startswith("out")} == watched["box"]
    assert _snapshot(TINY.parent) == watched["scenarios"]
