"""Runs the lab watches as they go: a job per press of Run, in a background thread, stoppable.

A :class:`Job` runs in threads of this process (the page's server keeps
answering: it polls the job a few times a second) and holds the latest of what
the page shows, under a lock:

- one run of each side (:func:`start_pair`): ``simulate`` with a
  :class:`~viralsim.engines.contracts.Watch`, so each side's
  :class:`~viralsim.engines.contracts.Progress` (views and shares so far, the
  reach curve so far, the stages evaluated so far) every 1/:data:`STEPS` of the
  horizon (1/:data:`FAST_STEPS` at the pace "fastest"), then its :class:`~viralsim.result.RunResult`: the same numbers as
  ``simulate`` without a watch. The two sides run side by side (a thread each).
  ``pace_s`` stretches a run to at least that many seconds (the hours after
  the upload spread evenly), so a fast run can be watched; ``0`` is as fast as it goes.
- N paired runs (:func:`start_many`): the runs of
  :func:`~viralsim.lab.runs.many_plan` one pair at a time (run ``i`` of the
  scenario as set, then of the social-only twin), each pair's rows added to the
  :class:`~viralsim.experiments.stats.EnsembleResult` shown (bands grow run by
  run); once all are done it is ``viralsim compare``'s.

:meth:`Job.stop` ends a job at its next step (the Stop button): what it shows
stays, marked stopped. Nothing here imports dash.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from viralsim.engines import simulate
from viralsim.engines.contracts import Progress, Watch
from viralsim.experiments.plan import Plan
from viralsim.experiments.run import chunks, run_chunk
from viralsim.experiments.stats import EnsembleResult
from viralsim.result import RunResult
from viralsim.scenario import Scenario

__all__ = ["FAST_STEPS", "PACES", "STEPS", "Job", "Jobs", "Side", "Stopped", "start_many", "start_pair"]

#: The progress reports of one watched run over its horizon: paced (watched) and as fast as it goes
#: (each report costs a pass over the run's batches: fewer when nobody waits for them).
STEPS = 120
FAST_STEPS = 30
#: The pace choices of the page: label -> the least seconds a run takes (0: as fast as it goes).
PACES = {"fastest": 0.0, "5 s": 5.0, "20 s": 20.0}
#: The jobs one lab keeps (the oldest finished ones are forgotten).
KEEP = 16


class Stopped(Exception):
    """The job was asked to stop."""


@dataclass
class Side:
    """What one side shows: the latest progress of its run, then its result."""

    progress: Progress | None = None
    result: RunResult | None = None


@dataclass
class Job:
    """One press of Run: its sides (one run each) or its ensemble (N runs), and whether it is over."""

    id: str
    runs: int
    sides: dict[str, Side] = field(default_factory=lambda: {"as_set": Side(), "social": Side()})
    ensemble: EnsembleResult | None = None
    done_runs: int = 0
    error: str | None = None
    stopped: bool = False
    finished: bool = False
    version: int = 0
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None
    context: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _running: int = field(default=0, repr=False)

    def stop(self) -> None:
        """Ask the job to stop at its next step."""
        self._stop.set()

    def view(self) -> Job:
        """A consistent copy of what the page shows (the sides' latest reports, the ensemble so far)."""
        with self._lock:
            sides = {k: Side(s.progress, s.result) for k, s in self.sides.items()}
            return Job(
                self.id,
                self.runs,
                sides,
                self.ensemble,
                self.done_runs,
                self.error,
                self.stopped,
                self.finished,
                self.version,
                self.started,
                self.seconds,
                self.context,
            )

    def news(self, seen: int, timeout: float) -> None:
        """Wait up to ``timeout`` seconds until the job changed since version ``seen`` (or is over)."""
        with self._lock:
            self._lock.wait_for(lambda: self.version > seen or self.finished, timeout)

    def _update(self, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self, key, value)
            self.version += 1
            self._lock.notify_all()

    def _side(self, keys: tuple[str, ...], progress: Progress | None = None, result: RunResult | None = None) -> None:
        with self._lock:
            for key in keys:
                side = self.sides[key]
                side.progress = progress if progress is not None else side.progress
                side.result = result if result is not None else side.result
            self.version += 1
            self._lock.notify_all()

    def _checkpoint(self, delay: float = 0.0) -> None:
        """Raise :class:`Stopped` when asked to stop (waiting up to ``delay`` seconds first)."""
        if self._stop.wait(delay) if delay > 0 else self._stop.is_set():
            raise Stopped

    def _guard(self, work: Any, *args: Any) -> None:
        """Run ``work(*args)`` in a thread; a stop, bad input or a bug ends the job with a line saying so."""
        try:
            work(*args)
        except Stopped:
            self._update(stopped=True)
        except (ValueError, MemoryError) as err:
            self._update(error=f"cannot run: {err}")
            self.stop()
        except Exception as err:  # a bug: say it in one line, keep the traceback for the terminal
            traceback.print_exc()
            self._update(error=f"internal error: {type(err).__name__}: {err}")
            self.stop()
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self.finished = True
                    self.seconds = time.perf_counter() - self.started
                    self.version += 1
                    self._lock.notify_all()

    def _start(self, targets: list[tuple[Any, tuple[Any, ...]]]) -> Job:
        self._threads = [
            threading.Thread(target=self._guard, args=(work, *args), daemon=True, name=f"lab-{self.id}")
            for work, args in targets
        ]
        self._running = len(self._threads)
        for t in self._threads:
            t.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job's threads; whether it is over."""
        for t in self._threads:
            t.join(timeout)
        return self.finished


class Jobs:
    """The jobs of one lab by id (new ids count up; the oldest finished jobs are forgotten)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, runs: int, context: dict[str, Any] | None = None) -> Job:
        """A new job of ``runs`` runs (``context``: what the page needs to show it)."""
        with self._lock:
            job = Job(str(next(self._ids)), runs, context=dict(context or {}))
            self._jobs[job.id] = job
            for old in [j for j in self._jobs.values() if j.finished][: max(0, len(self._jobs) - KEEP)]:
                del self._jobs[old.id]
            return job

    def get(self, job_id: str | None) -> Job | None:
        """The job ``job_id`` (``None`` when unknown or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id or "")


def _watched(job: Job, keys: tuple[str, ...], sc: Scenario, seed: int, pace_s: float) -> None:
    """One run of ``sc`` reported to ``keys`` as it goes, then its result."""
    up, horizon = sc.video.upload_h, sc.horizon_h
    t0 = time.perf_counter()

    def see(progress: Progress) -> None:
        job._side(keys, progress=progress)
        due = pace_s * max(0.0, progress.time_h - up) / max(horizon - up, 1e-9)
        job._checkpoint(due - (time.perf_counter() - t0))

    job._checkpoint()
    steps = STEPS if pace_s > 0 else FAST_STEPS
    result = simulate(sc, seed=seed, record="summary", watch=Watch(horizon / steps, see))
    job._side(keys, result=result)


def start_pair(
    jobs: Jobs,
    as_set: Scenario,
    social: Scenario | None,
    seed: int,
    pace_s: float = 0.0,
    context: dict[str, Any] | None = None,
) -> Job:
    """Start one run of ``as_set`` and one of ``social`` (``None``: ``as_set`` is social-only; one run shows twice)."""
    job = jobs.new(1, context)
    if social is None:
        return job._start([(_watched, (job, ("as_set", "social"), as_set, seed, pace_s))])
    return job._start(
        [(_watched, (job, ("as_set",), as_set, seed, pace_s)), (_watched, (job, ("social",), social, seed, pace_s))]
    )


def _many(job: Job, plan: Plan) -> None:
    """The plan's runs, a pair (scenario as set, social-only) at a time; the ensemble so far after each."""
    keys = [(v, 0, r) for r in range(plan.runs) for v in plan.variants]  # run i of every variant, then i + 1
    rows: list[dict[str, Any]] = []
    for chunk in chunks(plan, keys, len(plan.variants)):
        job._checkpoint()
        rows += run_chunk(chunk)
        job._update(ensemble=EnsembleResult.from_rows(plan, rows), done_runs=len(rows) // len(plan.variants))


def start_many(jobs: Jobs, plan: Plan, context: dict[str, Any] | None = None) -> Job:
    """Start the runs of ``plan`` (:func:`~viralsim.lab.runs.many_plan`) in the background."""
    job = jobs.new(plan.runs, context)
    return job._start([(_many, (job, plan))])
