"""What every command shares: the ``main`` group, one-line failures, loading a scenario, the bundled folder.

A command's scenario argument is a file or the name of a bundled scenario
(:func:`find_scenario`): a path that exists wins, then a bundled name
(``bees_bike`` or ``bees_bike.toml``); a missing file's line suggests a close
bundled name. The bundled scenarios are installed with the package
(``viralsim/scenarios/*.toml``; the repository's ``scenarios/`` links there).

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
    from viralsim.plots import Figure
    from viralsim.scenario import Scenario

__all__ = [
    "SEED",
    "VARIANTS",
    "bundled_scenarios",
    "check_plot_path",
    "fail",
    "find_scenario",
    "internal_error",
    "load",
    "main",
    "missing_hint",
    "one_line",
    "peak_memory_mib",
    "save_figure_or_fail",
    "scenarios_dir",
    "variant_or_fail",
    "with_hint",
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
    """The checked scenario in ``path`` (a file, or a bundled scenario's name), or its problems and exit 1.

    Problems are one line each (FILE:LINE: field: message); a missing file's
    line names a close bundled scenario (:func:`missing_hint`).
    """
    from viralsim.io.scenario_file import ScenarioError, load_scenario

    try:
        return load_scenario(find_scenario(path))
    except ScenarioError as err:
        fail(with_hint(path, err.problems))


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario name -> its file, sorted by name (the ``.toml`` files of :func:`scenarios_dir`)."""
    from viralsim.io.bundled import bundled

    return bundled(scenarios_dir())


def find_scenario(arg: str) -> str:
    """The file a scenario argument names (:func:`viralsim.io.bundled.find_scenario` over :func:`scenarios_dir`)."""
    from viralsim.io.bundled import find_scenario as find

    return find(arg, scenarios_dir())


def missing_hint(arg: str) -> str:
    """`` (did you mean NAME? ...)`` when ``arg`` is no file and is close to a bundled name; else ``""``."""
    import difflib

    if Path(arg).exists():
        return ""
    stem = Path(arg).stem if Path(arg).suffix == ".toml" else Path(arg).name
    close = difflib.get_close_matches(stem, list(bundled_scenarios()), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}? viralsim scenarios lists the bundled ones)" if close else ""


def with_hint(arg: str, problems: list[str]) -> list[str]:
    """``problems`` with :func:`missing_hint` added to the first line when ``arg`` is a missing file."""
    hint = missing_hint(arg) if problems else ""
    return [problems[0] + hint, *problems[1:]] if hint else problems


def variant_or_fail(file: str, sc: Scenario, name: str | None, option: str = "--variant") -> Scenario:
    """``sc`` with variant ``name`` applied, or one line naming the known variants."""
    try:
        return sc.variant(name)
    except KeyError as err:
        fail(f"{file}: {option}: {err.args[0]}")


def scenarios_dir() -> Path | None:
    """The folder of bundled scenarios (:func:`viralsim.io.bundled.scenarios_dir`)."""
    from viralsim.io.bundled import scenarios_dir as folder

    return folder()


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
