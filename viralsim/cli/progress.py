"""What a command says on stderr while and after it works: progress of many runs, and the files it wrote.

- :func:`progress` — ``update(done, total)`` for an experiment: a rich bar when stderr is a
  terminal (and no ``--json``), else a plain line every few seconds
  (``compare bees_bike: 120/400 runs, 34 s, ~80 s left``), so a piped or logged command
  shows it is alive; nothing with ``--quiet``. A command done before the first line says
  nothing. ``VIRALSIM_PROGRESS_S`` sets the seconds between lines (default 5).
- :func:`wrote` — ``wrote DIR/: a, b, c`` or ``wrote FILE`` on stderr (stdout keeps the
  table or the one JSON object), unless ``--quiet``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import click

__all__ = ["DEFAULT_INTERVAL_S", "PlainProgress", "progress", "wrote"]

#: Seconds between two plain progress lines (``VIRALSIM_PROGRESS_S`` overrides it).
DEFAULT_INTERVAL_S = 5.0


def _interval() -> float:
    try:
        value = float(os.environ.get("VIRALSIM_PROGRESS_S", DEFAULT_INTERVAL_S))
    except ValueError:
        return DEFAULT_INTERVAL_S
    return value if value > 0 else DEFAULT_INTERVAL_S


def _seconds(s: float) -> str:
    """``34 s``, ``4 min 05 s``, ``1 h 02 min``."""
    s = round(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class PlainProgress:
    """Plain progress lines on stderr from a timer thread, every ``interval_s`` seconds.

    ``update(done, total)`` records the count (the first call's ``done`` are runs
    resumed from an earlier call: they do not count in the rate); the thread prints
    ``LABEL: DONE/TOTAL runs, ELAPSED, ~LEFT left`` with the latest count, and
    :meth:`close` a last ``LABEL: TOTAL/TOTAL runs in ELAPSED`` if it printed any.
    """

    def __init__(self, label: str, interval_s: float, echo: Callable[[str], None] | None = None) -> None:
        self.label, self.interval_s = label, interval_s
        self._echo = echo or (lambda line: click.echo(line, err=True))
        self._start = time.monotonic()
        self._done: int | None = None
        self._base = 0
        self._total: int | None = None
        self._printed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="viralsim-progress", daemon=True)
        self._thread.start()

    def update(self, done: int, total: int) -> None:
        if self._done is None:
            self._base = done
        self._done, self._total = done, total

    def line(self) -> str:
        """The line for the count so far."""
        elapsed = time.monotonic() - self._start
        if self._done is None or self._total is None:
            return f"{self.label}: starting, {_seconds(elapsed)}"
        text = f"{self.label}: {self._done}/{self._total} runs, {_seconds(elapsed)}"
        new = self._done - self._base
        if 0 < new and self._done < self._total:
            text += f", ~{_seconds(elapsed / new * (self._total - self._done))} left"
        return text

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self._done is not None and self._done == self._total:
                continue  # all in: the closing line says it
            self._echo(self.line())
            self._printed += 1

    def close(self) -> None:
        """Stop the thread; a closing line if any line was printed (and the work finished)."""
        self._stop.set()
        self._thread.join()
        if self._printed and self._done is not None and self._done == self._total:
            self._echo(f"{self.label}: {self._done}/{self._total} runs in {_seconds(time.monotonic() - self._start)}")


@contextmanager
def progress(label: str, description: str, *, as_json: bool, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """``update(done, total)`` for an experiment's runs: a bar on a terminal, plain lines otherwise.

    Parameters
    ----------
    label
        The plain lines' prefix (``compare bees_bike``).
    description
        The terminal bar's title.
    as_json
        ``--json``: stdout holds one JSON object; a terminal gets plain lines, not a bar.
    quiet
        ``--quiet``: nothing.
    """
    import sys

    if quiet:
        yield lambda done, total: None
        return
    if sys.stderr.isatty() and not as_json:
        from viralsim.console import progress_bar

        with progress_bar(description, True) as update:
            yield update
        return
    plain = PlainProgress(label, _interval())
    try:
        yield plain.update
    finally:
        plain.close()


def wrote(where: str, names: Sequence[str] = (), *, quiet: bool = False) -> None:
    """``wrote WHERE`` (a file) or ``wrote WHERE/: a, b`` (a folder's files) on stderr, unless ``quiet``."""
    if quiet:
        return
    if names:
        click.echo(f"wrote {where.rstrip('/')}/: {', '.join(names)}", err=True)
    else:
        click.echo(f"wrote {where}", err=True)
