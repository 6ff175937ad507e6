"""What every command shares: the ``main`` group, one-line failures, loading a scenario, the bundled folder.

Exit codes: 0 ok; 1 bad input or a failed run (one clear line per problem on
stderr, never a traceback unless ``VIRALSIM_DEBUG=1``); 2 usage errors (click's
own). :func:`one_line` is the one place that maps what a command's work raises
to those lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from viralsim._version import __version__

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from viralsim.scenario import Scenario

__all__ = [
    "SEED",
    "VARIANTS",
    "check_plot_path",
    "fail",
    "internal_error",
    "load",
    "main",
    "one_line",
    "peak_memory_mib",
    "save_figure_or_fail",
    "scenarios_dir",
    "variant_or_fail",
]

#: A root seed: 0 .. 2**63 - 1 (stored in 64-bit integer columns; viralsim.scenario.root.MAX_SEED).
SEED = click.IntRange(min=0, max=2**63 - 1)
#: ``--variants A,B`` of compare and report.
VARIANTS = click.option(
    "--variants",
    default=None,
    metavar="A,B",
    help="Variants to compare with the base, comma-separated (default: all of them).",
)
#: The figure types ``--plot`` and ``plot -o`` write.
FIGURE_TYPES = {".png", ".svg", ".pdf"}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="viralsim")
def main() -> None:
    """viralsim: how far a short video travels — the content graph vs the social graph."""


def fail(lines: str | list[str]) -> NoReturn:
    """Print each line on stderr and exit 1."""
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    sys.exit(1)


def internal_error(file: str, err: Exception) -> NoReturn:
    """A bug, not bad input: one line, or the traceback with VIRALSIM_DEBUG=1."""
    if os.environ.get("VIRALSIM_DEBUG"):
        raise err
    fail(f"{file}: internal error: {type(err).__name__}: {err} (set VIRALSIM_DEBUG=1 for the traceback)")


@contextmanager
def one_line(file: str, *clean: type[Exception]) -> Iterator[None]:
    """Turn whatever the work inside raises into one line on stderr and exit 1.

    ``clean`` errors already say everything in their message (file and field):
    printed as they are. ``ValueError``/``MemoryError`` (bad input found while
    running) are prefixed by ``file``; anything else is a bug
    (:func:`internal_error`). ``KeyboardInterrupt`` passes through: each command
    says what an interruption leaves behind.
    """
    try:
        yield
    except clean as err:
        fail(str(err))
    except (ValueError, MemoryError) as err:
        fail(f"{file}: {err}")
    except Exception as err:  # a bug, not bad input: still one line, unless debugging
        internal_error(file, err)


def load(path: str) -> Scenario:
    """The checked scenario in ``path``, or its problems (FILE:LINE: field: message) and exit 1."""
    from viralsim.io.scenario_file import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as err:
        fail(err.problems)


def variant_or_fail(file: str, sc: Scenario, name: str | None, option: str = "--variant") -> Scenario:
    """``sc`` with variant ``name`` applied, or one line naming the known variants."""
    try:
        return sc.variant(name)
    except KeyError as err:
        fail(f"{file}: {option}: {err.args[0]}")


def scenarios_dir() -> Path | None:
    """The folder of bundled scenarios ($VIRALSIM_SCENARIOS, the checkout's, or ./scenarios)."""
    candidates = [os.environ.get("VIRALSIM_SCENARIOS"), Path(__file__).resolve().parents[2] / "scenarios"]
    candidates.append(Path.cwd() / "scenarios")
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


def check_plot_path(plot_path: str | None, option: str = "--plot") -> None:
    """A figure path with a known type, in a writable place: checked before any run starts."""
    from viralsim.io.outputs import OutputError, check_writable

    if plot_path is None:
        return
    if Path(plot_path).suffix.lower() not in FIGURE_TYPES:
        fail(f"{plot_path}: {option}: unknown figure type {Path(plot_path).suffix!r} (use .png, .svg or .pdf)")
    try:
        check_writable(plot_path, folder=False)
    except OutputError as err:
        fail(str(err))


def save_figure_or_fail(fig: Figure, path: str) -> None:
    """Write a matplotlib figure, or one line saying why it could not be written."""
    from viralsim.plots import save_figure

    try:
        save_figure(fig, path)
    except OSError as err:
        fail(f"{path}: cannot write: {err.strerror or err}")


def peak_memory_mib() -> float | None:
    """Peak resident memory of this process so far, in MiB (None where it cannot be known)."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB
