"""A Dask sweep whose cluster fails says so in one line, with the way out (issue 12, defect 8).

A real scheduler and worker are started (``dask_procs``) and killed mid-sweep: a lost
scheduler and a cluster left without workers each end the command with exit 1 and one
line (no Dask traceback, no hang), and the finished chunks let the same command resume.
Each test failed on the executor before the fix (an ``internal error: CancelledError``
with Dask's tracebacks, a silent hang, a ValueError traceback).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from dask_procs import start_cluster, start_worker, stop
from paths import TINY

pytest.importorskip("distributed")

#: 2 x 250 runs of tiny: ~10 s of work after the first chunk, so that the cluster fails mid-sweep
#: even on a loaded machine (with 2 x 60 runs the sweep sometimes finished first)
RUNS = 250
SWEEP = ["sweep", str(TINY), "--param", "video.appeal=0.6,0.9", "--runs", str(RUNS), "--seed", "4"]


def _cmd(*more: str) -> list[str]:
    # --quiet: no progress lines on stderr (piped, they come every few seconds), so the error is its only line
    return [sys.executable, "-m", "viralsim", *SWEEP, *more, "--json", "--quiet"]


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def _wait_for_a_chunk(proc: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + 120
    while not ((out / "chunks").is_dir() and list((out / "chunks").glob("*.parquet"))):
        assert proc.poll() is None, "the sweep ended before its first chunk"
        assert time.monotonic() < deadline, "no chunk within 120 s"
        time.sleep(0.05)


def _end(proc: subprocess.Popen | None) -> None:
    """A command that hangs (the bug) is not left behind."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=60)


def test_a_scheduler_option_that_is_no_address_is_one_line():
    done = subprocess.run(_cmd("--scheduler", "garbage"), capture_output=True, text=True, timeout=120)
    line = _one_line(done)
    assert line.startswith("--scheduler garbage: ") and "tcp://HOST:PORT" in line


@pytest.mark.slow
def test_a_killed_scheduler_ends_the_sweep_in_one_line_and_a_rerun_resumes(tmp_path):
    address, scheduler, worker = start_cluster(tmp_path)
    out = tmp_path / "out"
    proc = None
    try:
        proc = subprocess.Popen(
            _cmd("--scheduler", address, "--out", str(out)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_a_chunk(proc, out)
        stop(scheduler)
        stdout, stderr = proc.communicate(timeout=120)
        line = _one_line(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
        assert f"lost the scheduler at {address}" in line and "rerun the same command to resume" in line
    finally:
        _end(proc)
        stop(worker)
        stop(scheduler)
    address, scheduler, worker = start_cluster(tmp_path)  # the way out: the same command, a running scheduler
    try:
        done = subprocess.run(_cmd("--scheduler", address, "--out", str(out)), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    finally:
        stop(worker)
        stop(scheduler)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * RUNS and not runs.duplicated(["variant", "point", "run"]).any()


@pytest.mark.slow
def test_a_cluster_without_workers_ends_the_sweep_after_the_wait_in_one_line(tmp_path):
    address, scheduler, worker = start_cluster(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "VIRALSIM_DASK_NO_WORKERS_S": "3"}
    proc = None
    try:
        proc = subprocess.Popen(
            _cmd("--scheduler", address, "--out", str(out)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        _wait_for_a_chunk(proc, out)
        stop(worker)  # every worker process, with its nanny
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=120)  # before the fix: a silent hang
        line = _one_line(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
        assert f"no workers left at {address} for 3 s" in line and "rerun the same command to resume" in line
        assert time.monotonic() - started < 60
        worker = start_worker(address, tmp_path)  # workers back: the same command finishes the sweep
        done = subprocess.run(_cmd("--scheduler", address, "--out", str(out)), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    finally:
        _end(proc)
        stop(worker)
        stop(scheduler)
    assert len(pd.read_parquet(out / "runs.parquet")) == 2 * RUNS
