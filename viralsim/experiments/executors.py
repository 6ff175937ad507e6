"""Executors: where the chunks of an ensemble run, behind one small interface.

- :class:`InProcess` runs chunks one after the other in this process (small work, debugging);
- :class:`LocalProcesses` uses a pool of local worker processes (the default for large
  work: nothing to install or start);
- :class:`DaskExecutor` sends chunks to a Dask distributed cluster: an existing one
  (``scheduler="tcp://host:8786"``) or a local one it starts (``workers=N``).

``map(fn, items)`` yields results in the order chunks *finish*; callers key rows by
run, so the order never matters. Every chunk carries its own seed and run indices,
so Dask's de-duplication of identical calls cannot merge two runs (``pure=False``).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "InProcess",
    "LocalProcesses",
    "make_executor",
]

T = TypeVar("T")
R = TypeVar("R")

#: Below this much work (runs x population) ``auto`` stays in-process.
SMALL_WORK = 4_000_000
#: A Dask sweep whose cluster has had no worker for this long stops (``$VIRALSIM_DASK_NO_WORKERS_S``).
NO_WORKERS_S = 60.0


class ExecutorError(Exception):
    """The executor could not run the work (the message says why, in one line)."""


class Executor(Protocol):
    """Runs ``fn`` over items somewhere; yields results as they finish."""

    workers: int
    min_chunk: int
    max_chunk: int

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class InProcess:
    """Every chunk in this process, in order."""

    workers = 1
    min_chunk = 1
    max_chunk = 8

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def __repr__(self) -> str:
        return "InProcess()"


def _init_worker(parent: int) -> None:
    """Prepare a pool worker: Ctrl-C is the parent's to handle, and the worker dies with its parent.

    A SIGKILLed parent cannot stop its pool, whose workers would otherwise wait forever on
    their pipes (holding the terminal's stdout): a daemon thread checks every half second
    that the parent is still there, and ends the worker at once when it is not. (Polling,
    not ``prctl(PR_SET_PDEATHSIG)``: that fires when the parent *thread* that started the
    pool ends, which a program using threads may well do while the pool is still in use.)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watched = os.getppid()  # the pool's process (fork), or the forkserver (which ends with it)
    if watched != parent and watched == 1:  # the parent died before this worker got here
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(watched,), name="viralsim-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)  # orphaned (re-parented to init or a subreaper): nobody will read our results


class _Bounded:
    """Submit at most ``window`` items ahead of the results (memory stays flat for huge sweeps).

    With ``_poll_s`` set, :meth:`_idle` is called whenever nothing finished for that long
    (an executor may raise there, e.g. when it has no workers left).
    """

    _poll_s: float | None = None

    def _idle(self) -> None:
        """Nothing finished for ``_poll_s`` seconds (a hook: may raise :class:`ExecutorError`)."""

    def _run(self, submit: Callable[[T], Future[R]], items: Iterable[T], window: int) -> Iterator[R]:
        pending: set[Future[R]] = set()
        source = iter(items)
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < window:
                    try:
                        pending.add(submit(next(source)))
                    except StopIteration:
                        exhausted = True
                if not pending:
                    return
                finished, pending = wait(pending, timeout=self._poll_s, return_when=FIRST_COMPLETED)
                if not finished:
                    self._idle()
                for fut in finished:
                    yield self._result(fut)
        finally:
            for fut in pending:
                fut.cancel()

    def _result(self, fut: Future[R]) -> R:
        return fut.result()


class LocalProcesses(_Bounded):
    """A pool of ``workers`` local processes (default: one per core)."""

    min_chunk = 1
    max_chunk = 32

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, initializer=_init_worker, initargs=(os.getpid(),)
            )
        pool = self._pool
        try:  # a dead worker breaks the pool: seen by submit() or by a result
            yield from self._run(lambda item: pool.submit(fn, item), items, 4 * self.workers)
        except BrokenProcessPool:
            self.abort()  # the survivors may wait forever on a queue the dead one held
            raise ExecutorError(
                "a worker process died (killed, or out of memory); finished chunks are kept: "
                "rerun the same command to resume"
            ) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop now: cancel what waits, terminate the workers (their running chunks are lost)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=10)

    def __repr__(self) -> str:
        return f"LocalProcesses(workers={self.workers})"


class DaskExecutor(_Bounded):
    """Chunks on a Dask distributed cluster: ``scheduler`` address, or a local cluster of ``workers``.

    The scheduler and every worker need viralsim installed (the same version) and its
    dependencies; on connecting, the versions are checked and a mismatch is refused. A
    scheduler that is lost, or a cluster with no worker for ``no_workers_s`` seconds, ends
    ``map`` with a one-line :class:`ExecutorError` (finished chunks are the caller's to keep).
    """

    min_chunk = 16
    max_chunk = 64
    _poll_s = 1.0

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        *,
        timeout_s: float = 10.0,
        no_workers_s: float = NO_WORKERS_S,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError("the Dask executor needs dask.distributed: pip install 'viralsim[dask]'") from None
        self._cluster = None
        self.no_workers_s = no_workers_s
        self._no_workers_since: float | None = None
        self.address = scheduler or ""
        try:
            if scheduler is None:
                n = max(1, workers or os.cpu_count() or 1)
                # SimPy is pure Python: one thread per worker process. The scheduler's HTTP
                # endpoint gets a free port (":0"; None still binds 8787), on loopback only.
                self._cluster = LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", host="127.0.0.1"
                )
                self._client = Client(self._cluster)
            else:
                self._client = Client(scheduler, timeout=f"{timeout_s}s")
        except ValueError as err:  # "garbage", "http://x:1": not an address Dask knows
            raise ExecutorError(
                f"--scheduler {scheduler}: not a Dask scheduler address ({err}); expected tcp://HOST:PORT "
                "(or tls://HOST:PORT), e.g. tcp://127.0.0.1:8786"
            ) from None
        except OSError as err:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {scheduler}: {err} (is it running? expected tcp://HOST:PORT)"
            ) from None
        self.address = scheduler or self._cluster.scheduler_address  # type: ignore[union-attr]
        self._check_workers()
        self.workers = max(1, sum(self._client.nthreads().values()))
        self._executor = self._client.get_executor(pure=False)  # concurrent.futures-style futures

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (for samplers that drive Dask themselves, e.g. pyabc's in ``fit``)."""
        return self._client

    def _check_workers(self) -> None:
        from viralsim._version import __version__

        try:
            self._client.wait_for_workers(1, timeout=30)
        except Exception:
            self.close()
            raise ExecutorError(f"the Dask cluster at {self.address} has no workers (waited 30 s)") from None
        try:
            found = self._client.run(_viralsim_version)
        except Exception as err:
            self.close()
            raise ExecutorError(f"the Dask workers at {self.address} failed a check: {err}") from None
        bad = {w: v for w, v in found.items() if v != __version__}
        if bad:
            self.close()
            worker, version = next(iter(bad.items()))
            got = "not installed" if version is None else f"version {version}"
            raise ExecutorError(
                f"Dask worker {worker}: viralsim {got}, this client runs {__version__}; "
                "install the same viralsim on the scheduler and every worker"
            )

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return self._run(lambda item: self._executor.submit(fn, item), items, 4 * self.workers)

    def _result(self, fut: Future[R]) -> R:
        try:
            return fut.result()
        except CancelledError:  # the client gave up reconnecting: every pending future is cancelled
            raise self._lost() from None
        except Exception as err:
            if type(err).__name__ in {"CommClosedError", "FutureCancelledError"}:
                raise self._lost() from None
            if type(err).__name__ == "KilledWorker":
                raise ExecutorError(
                    f"Dask: a chunk killed its workers ({err}); finished chunks are kept: "
                    "rerun the same command to resume"
                ) from None
            raise

    def _lost(self) -> ExecutorError:
        return ExecutorError(
            f"Dask: lost the scheduler at {self.address}; finished chunks are kept: "
            "rerun the same command to resume (with the scheduler running again)"
        )

    def _idle(self) -> None:
        """Nothing finished for a while: fail if the scheduler is gone or has had no worker for ``no_workers_s``."""
        try:
            alive = len(self._client.nthreads())
        except Exception:  # the scheduler is unreachable (the client may still be reconnecting)
            raise self._lost() from None
        now = time.monotonic()
        if alive:
            self._no_workers_since = None
            return
        if self._no_workers_since is None:
            self._no_workers_since = now
        elif now - self._no_workers_since >= self.no_workers_s:
            raise ExecutorError(
                f"Dask: no workers left at {self.address} for {self.no_workers_s:g} s; finished chunks are kept: "
                "start workers and rerun the same command to resume"
            )

    def abort(self) -> None:
        """Stop now: the client and a local cluster are closed (running chunks are lost)."""
        self.close()

    def close(self) -> None:
        client, cluster = getattr(self, "_client", None), self._cluster
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        self._client, self._cluster = None, None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DaskExecutor(address={self.address!r}, workers={self.workers})"


def _viralsim_version() -> str | None:
    """Prepare a Dask worker and return its viralsim version (None if it cannot import it).

    Run once per worker on connecting. It imports the engine, so that a worker's first
    chunk does not pay for importing numpy, SimPy, pydantic and the model (~0.5 s), and
    it undoes the effect of the Dask nanny's ``MALLOC_TRIM_THRESHOLD_=65536``: that
    setting switches off glibc's adaptive mmap threshold, so every array over 128 KiB is
    mapped and page-faulted afresh, which made a bees_bike run ~50 % slower in a worker
    (0.13 s vs 0.085 s measured). Arrays up to 64 MiB are then reused from the heap, and
    up to 128 MiB of free heap is kept instead of being returned at once.
    """
    try:
        import viralsim.experiments.run  # noqa: F401 - warms the worker
        from viralsim._version import __version__
    except ImportError:
        return None
    if os.environ.get("MALLOC_TRIM_THRESHOLD_") is not None:
        _tune_malloc()
    return __version__


def _tune_malloc() -> None:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to undo
        pass


def make_executor(
    kind: str = "auto",
    *,
    processes: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    work: float = math.inf,
) -> Executor:
    """Pick an executor.

    ``kind``: ``"auto"`` (Dask when ``scheduler`` or ``workers`` is given; in-process
    when ``processes == 1`` or the work — runs x population — is small; local processes
    otherwise), ``"inprocess"``, ``"processes"`` or ``"dask"``.
    """
    if kind == "auto":
        if scheduler is not None or workers is not None:
            kind = "dask"
        elif processes == 1 or (processes is None and work <= SMALL_WORK):
            kind = "inprocess"
        else:
            kind = "processes"
    if kind == "inprocess":
        return InProcess()
    if kind == "processes":
        return LocalProcesses(processes)
    if kind == "dask":
        wait_s = os.environ.get("VIRALSIM_DASK_NO_WORKERS_S", "")
        try:
            no_workers_s = float(wait_s) if wait_s else NO_WORKERS_S
        except ValueError:
            raise ExecutorError(f"VIRALSIM_DASK_NO_WORKERS_S={wait_s}: expected a number of seconds") from None
        return DaskExecutor(scheduler, workers, no_workers_s=no_workers_s)
    raise ValueError(f"unknown executor {kind!r} (use auto, inprocess, processes or dask)")
