"""Result files: Parquet and CSV tables and a JSON summary, written atomically.

Every file carries its provenance (resolved scenario, seed, run, variant,
version): in the Parquet schema metadata under ``viralsim``, as a first
``# provenance:`` comment line in CSV (read with ``pandas.read_csv(...,
comment="#")``), and under ``"provenance"`` in JSON. A set of files is first
written into a hidden temporary folder inside the target and then moved in
with ``os.replace``; if anything fails (a full disk, a read-only folder, an
interrupt), the temporary folder, the files already moved and the folders
created for them are removed, so nothing is left half-written.
:func:`check_writable` lets the CLI refuse an unusable path before it spends
time simulating.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.records import Summary, markdown_keys
from viralsim.result import RunResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RUN_KEYS",
    "OutputError",
    "check_writable",
    "json_keys_markdown",
    "summary_json",
    "write_run",
    "write_tables",
]

#: The keys of ``viralsim run --json`` besides the summary's fields, and what each holds.
RUN_KEYS = {
    "moderation": "the moderation record: path, delays, decision (`approved`, `removed`, `pending`, or with "
    "`publish_unreviewed_after_h` `published_unreviewed` / `removed_after_publishing`) and whether it was correct",
    "stages": "one object per evaluated push stage (`viralsim.records.StageRecord`: cohort, timing, every KPI, "
    "the thresholds, the decision)",
    "seed": "the root seed",
    "run": "the run index",
    "scenario": "the scenario's name",
    "variant": "the variant (null for the base)",
    "variant_label": "the display name of the base or the variant (`base_label`, a variant's `label`; default: "
    "`base` or the variant's name)",
    "version": "the viralsim version",
    "peak_memory_mib": "the process's peak memory (MiB; `viralsim run` only)",
}


class OutputError(Exception):
    """An output could not be written (the message names the path and the reason)."""


def _reason(err: OSError) -> str:
    """The system's words for ``err`` ("No space left on device"), whoever raised it.

    pyarrow's messages wrap the errno in its own text; the errno is what the user needs.
    """
    if err.errno:
        return os.strerror(err.errno)
    return str(err.strerror or err)


def _cannot_write(path: Path, err: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {_reason(err)}")


def check_writable(path: str | Path, *, folder: bool) -> None:
    """Raise :class:`OutputError` if ``path`` clearly cannot be written, before any work is done.

    Parameters
    ----------
    path : str or Path
        A folder to create or fill (``folder=True``, missing parents are created
        too) or a file to create or replace (``folder=False``, its folder must exist).
    folder : bool
        Which of the two ``path`` is.

    Notes
    -----
    A cheap early check (existence, type, ``os.access``), not a guarantee: the
    writers still handle every failure (a full disk is only found by writing).
    """
    path = Path(path)
    if folder:
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent  # the folder that will hold the new ones
        if existing == path and not path.is_dir():
            raise _cannot_write(path, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    else:
        if path.is_dir():
            raise _cannot_write(path, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
        existing = path.parent
        if not existing.exists():
            raise _cannot_write(path, OSError(errno.ENOENT, f"{os.strerror(errno.ENOENT)} ({existing})"))
    if not existing.is_dir():
        raise _cannot_write(path, OSError(errno.ENOTDIR, f"{os.strerror(errno.ENOTDIR)} ({existing})"))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _cannot_write(path, OSError(errno.EACCES, os.strerror(errno.EACCES)))


def _make_folder(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, deepest first."""
    missing: list[Path] = []
    p = out
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file of that name
        raise _cannot_write(out, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))) from None
    except OSError as err:
        _remove_folders(missing)
        raise _cannot_write(out, err) from None
    return missing


def _remove_folders(folders: list[Path]) -> None:
    """Remove the folders (deepest first) that are empty; stop at the first that is not."""
    for d in folders:
        try:
            d.rmdir()
        except OSError:
            return


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):  # dicts and the records (Summary, StageRecord)
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def json_keys_markdown() -> str:
    """The README's list of the ``viralsim run --json`` keys: the summary's fields, then :data:`RUN_KEYS`."""
    return "\n".join([markdown_keys(Summary), *(f"- `{k}`: {text}" for k, text in RUN_KEYS.items())])


def summary_json(result: RunResult) -> dict[str, Any]:
    """The run summary as a JSON-ready dict (the keys of ``viralsim run --json``).

    The :class:`~viralsim.records.Summary` 's fields, then :data:`RUN_KEYS`.
    """
    out = result.summary.to_dict()
    out["moderation"] = dict(result.moderation)
    out["stages"] = [row.to_dict() for row in result.stages]
    out["seed"] = result.seed
    out["run"] = result.run
    out["scenario"] = result.scenario.name
    out["variant"] = result.variant
    out["variant_label"] = result.label
    out["version"] = result.version
    return _jsonable(out)


def _parquet(df: pd.DataFrame, path: Path, provenance: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"viralsim"] = provenance.encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)


def _csv(df: pd.DataFrame, path: Path, provenance: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# provenance: {provenance}\n")
        df.to_csv(fh, index=False)


def write_run(result: RunResult, out_dir: str | Path) -> list[Path]:
    """Write views and stages (Parquet + CSV), the reach curve and summary.json into ``out_dir``.

    Returns the written paths. Raises :class:`OutputError` with a one-line
    reason (``DIR: cannot write: No space left on device``) when the folder
    cannot be created or written; then no file of this run is left in ``out_dir``
    (files of an earlier run that were already replaced are not restored) and
    the folders created for it are removed.
    """
    tables = {"views": result.views_frame(), "stages": result.stages_frame(), "reach": result.reach_frame()}
    return write_tables(out_dir, tables, result.provenance(), summary_json(result))


def write_tables(
    out_dir: str | Path, tables: Mapping[str, pd.DataFrame], provenance: Mapping[str, Any], summary: Mapping[str, Any]
) -> list[Path]:
    """Write each table as NAME.parquet and NAME.csv and ``summary`` as summary.json, with provenance; atomically.

    As :func:`write_run`: all files are written to a temporary folder inside ``out_dir`` and
    moved in; on any failure none of them is left (:class:`OutputError` names the reason).
    """
    out = Path(out_dir)
    created = _make_folder(out)
    text = json.dumps(_jsonable(provenance), sort_keys=True)
    tmp: Path | None = None
    written: list[Path] = []
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".viralsim-", dir=out))
        for name, df in tables.items():
            _parquet(df, tmp / f"{name}.parquet", text)
            _csv(df, tmp / f"{name}.csv", text)
        data = {**_jsonable(summary), "provenance": json.loads(text)}
        (tmp / "summary.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
            written.append(out / f.name)
        return written
    except BaseException as err:  # also an interrupt: leave nothing of this run behind
        if tmp is not None:  # before the folders made for it, which must be empty to go
            shutil.rmtree(tmp, ignore_errors=True)
        for f in written:
            f.unlink(missing_ok=True)
        _remove_folders(created)
        if isinstance(err, OSError):
            raise _cannot_write(out, err) from None
        raise
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
