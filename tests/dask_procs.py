"""A real local Dask cluster for the tests that kill parts of it: a scheduler and a worker, each its own session.

``start_cluster(folder)`` starts ``dask scheduler`` and ``dask worker`` (loopback only, no
dashboard) as separate process groups, so a test can kill the scheduler or the worker
(with its nanny and worker processes) alone; ``stop(proc)`` kills a group and waits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}


def start_scheduler(folder: Path) -> tuple[str, subprocess.Popen]:
    """A scheduler on a free loopback port; its address once it listens."""
    sched_file = folder / f"scheduler-{time.monotonic_ns()}.json"
    cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen([*cmd, "--no-dashboard", "--scheduler-file", str(sched_file)], cwd=folder, **QUIET)
    deadline = time.monotonic() + 60
    while not sched_file.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            stop(proc)
            raise RuntimeError("dask scheduler did not start")
        time.sleep(0.1)
    time.sleep(0.2)
    return json.loads(sched_file.read_text())["address"], proc


def start_worker(address: str, folder: Path, nworkers: int = 2, wait: bool = True) -> subprocess.Popen:
    """``nworkers`` single-threaded worker processes (with their nannies) for ``address``."""
    cmd = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", str(nworkers)]
    proc = subprocess.Popen([*cmd, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], cwd=folder, **QUIET)
    if wait:
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(nworkers, timeout=120)
    return proc


def start_cluster(folder: Path, nworkers: int = 2) -> tuple[str, subprocess.Popen, subprocess.Popen]:
    address, scheduler = start_scheduler(folder)
    try:
        return address, scheduler, start_worker(address, folder, nworkers)
    except BaseException:
        stop(scheduler)
        raise


def stop(proc: subprocess.Popen | None) -> None:
    """Kill the process group of ``proc`` (it leads its own session) and reap it."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)
