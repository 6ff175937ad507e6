"""What keeps a results folder sound: its lock, verified chunks and tables, digests of input files.

* :class:`FolderLock` — one viralsim command per results folder at a time (a POSIX record
  lock on ``DIR/.lock``, which holds the owner's pid). The lock dies with its process
  (also on SIGKILL) and, unlike ``flock``, is not inherited by forked pool workers, so an
  orphaned worker can never keep a folder locked.
* :func:`verified_chunks` — every chunk file of an unfinished folder is read in full and
  checked (a regular file, readable Parquet, the folder's fingerprint in its metadata, runs
  of the plan that no other chunk holds); a bad one is reported, set aside as
  ``NAME.damaged`` and its runs are run again. Stray temporary files of a killed writer are
  removed. Everything inside ``chunks/`` is handled through a directory descriptor opened
  with ``O_NOFOLLOW``, and no symbolic link is ever followed.
* :func:`check_table` — a consolidated table is readable, carries the fingerprint and has
  the plan's runs.
* :func:`input_digests` — SHA-256 of every file a plan's scenarios read (edge lists).

This module reads, locks and renames inside a results folder; it never prints.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from viralsim.experiments.plan import Plan
from viralsim.io.outputs import OutputError, _reason

__all__ = ["LOCK_NAME", "FolderLock", "check_table", "input_digests", "read_chunk", "verified_chunks"]

#: The lock file inside a results folder.
LOCK_NAME = ".lock"
_HELD: dict[tuple[int, int], list[int]] = {}  # (dev, inode) of a lock file -> [fd, users] in this process
_KEY_COLUMNS = ("variant", "point", "run")


class FolderLock:
    """An exclusive, non-blocking lock on a results folder for this process."""

    def __init__(self, key: tuple[int, int]) -> None:
        self._key: tuple[int, int] | None = key

    @classmethod
    def acquire(cls, folder: Path) -> FolderLock:
        """Lock ``folder`` or raise :class:`OutputError` naming the pid that holds it."""
        path = folder / LOCK_NAME
        try:
            st = os.stat(path, follow_symlinks=False)
            key = (st.st_dev, st.st_ino)
            if key in _HELD:  # this process holds it already (a POSIX lock is per process)
                _HELD[key][1] += 1
                return cls(key)
        except FileNotFoundError:
            pass
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise OutputError(f"{path}: cannot lock the results folder: {_reason(err)}") from None
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EACCES, errno.EAGAIN):
                os.close(fd)
                raise OutputError(f"{path}: cannot lock the results folder: {_reason(err)}") from None
            pid = _owner(fd)
            os.close(fd)  # holds no lock: closing releases nothing
            raise OutputError(f"{folder} is in use by another viralsim command (pid {pid})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        _HELD[key] = [fd, 1]
        return cls(key)

    def release(self) -> None:
        """Give the lock back (the last user of this process closes the file, which unlocks it)."""
        key, self._key = self._key, None
        if key is None or key not in _HELD:
            return
        _HELD[key][1] -= 1
        if _HELD[key][1] <= 0:
            fd = _HELD.pop(key)[0]
            os.close(fd)


def _owner(fd: int) -> str:
    """The pid written in a lock file (its owner writes it just after locking: wait a moment for it)."""
    deadline = time.monotonic() + 1.0
    while True:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit() or time.monotonic() > deadline:
            return text or "unknown"
        time.sleep(0.02)


# --- chunks ------------------------------------------------------------------------------------


def _open_dir(folder: Path, *, follow: bool = False) -> int:
    """A descriptor of ``folder``; unless ``follow``, a symbolic link is refused (ELOOP)."""
    return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))


def read_chunk(folder: Path, name: str, dir_fd: int | None = None) -> Any:
    """The table of chunk ``name`` in ``folder`` (never through a symbolic link).

    Raises :class:`OutputError` naming the file when it cannot be read.
    """
    table, why = _read(folder, name, dir_fd)
    if table is None:
        raise OutputError(f"{folder / name}: damaged ({why}) while this command ran; rerun the same command")
    return table


def _read(folder: Path, name: str, dir_fd: int | None = None, *, follow: bool = False) -> tuple[Any, str]:
    """Read ``folder/name`` (never a link; ``folder`` itself may be one when ``follow``): table or why not."""
    import pyarrow.parquet as pq

    own = dir_fd is None
    try:
        if own:
            dir_fd = _open_dir(folder, follow=follow)
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as err:
        if own and dir_fd is not None:
            os.close(dir_fd)
        return None, "a symbolic link" if err.errno == errno.ELOOP else f"cannot read: {_reason(err)}"
    try:
        with os.fdopen(fd, "rb") as fh:
            if not _is_regular(fh.fileno()):
                return None, "not a regular file"
            if os.fstat(fh.fileno()).st_size == 0:
                return None, "0 bytes"
            return pq.read_table(fh), ""
    except OSError as err:
        return None, f"cannot read: {_reason(err)}"
    except Exception as err:  # pyarrow's ArrowInvalid & co. for a truncated or foreign file
        return None, f"not a readable Parquet file: {str(err).splitlines()[0]}"
    finally:
        if own and dir_fd is not None:
            os.close(dir_fd)


def _is_regular(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


def _fingerprint(table: Any) -> str | None:
    raw = (table.schema.metadata or {}).get(b"viralsim")
    try:
        return json.loads(raw).get("fingerprint") if raw else None
    except (ValueError, AttributeError):
        return None


def _keys(table: Any) -> list[tuple[str, int, int]] | None:
    if not set(_KEY_COLUMNS) <= set(table.column_names):
        return None
    cols = [table[c].to_pylist() for c in _KEY_COLUMNS]
    return list(zip(*cols, strict=True))


def verified_chunks(
    folder: Path, fingerprint: str, planned: set[tuple[str, int, int]], notes: list[str]
) -> Iterator[tuple[str, list[tuple[str, int, int]]]]:
    """``(name, keys)`` of every sound chunk in ``folder``; one line in ``notes`` per bad one (set aside)."""
    dir_fd = _open_dir(folder)
    try:
        seen: set[tuple[str, int, int]] = set()
        for entry in sorted(os.scandir(dir_fd), key=lambda e: e.name):
            name = entry.name
            if name.startswith("."):  # a temporary file of a killed writer (unlinking never follows a link)
                os.unlink(name, dir_fd=dir_fd)
                continue
            if not name.endswith(".parquet"):
                continue
            why = ""
            table, why = _read(folder, name, dir_fd)
            keys = None if table is None else _keys(table)
            if table is not None:
                found = _fingerprint(table)
                if found != fingerprint:
                    why = f"written by another command: fingerprint {found}, this folder's is {fingerprint}"
                elif keys is None or not keys:
                    why = "no runs in it"
                elif not set(keys) <= planned or len(set(keys)) != len(keys):
                    why = "runs that are not in this plan"
                elif seen & set(keys):
                    why = "runs that another chunk holds"
            if why:
                notes.append(f"{folder / name}: damaged ({why}); its runs will be run again")
                os.replace(name, name + ".damaged", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                continue
            assert keys is not None
            seen.update(keys)
            yield name, keys
    finally:
        os.close(dir_fd)


# --- consolidated tables -------------------------------------------------------------------------


def check_table(
    path: Path, fingerprint: str, rows: int | None, keys: set[tuple[str, int, int]] | None = None
) -> tuple[Any, str]:
    """``(table, "")`` if the consolidated file ``path`` is sound, else ``(None, why)``.

    Sound: a regular file (not a link), readable, with ``fingerprint`` in its provenance,
    ``rows`` rows (when given) and exactly the runs ``keys`` (when given). ``runs.csv``
    is checked from its ``# provenance:`` line and its number of records.
    """
    if path.is_symlink():
        return None, "a symbolic link"
    if not path.is_file():
        return None, "missing" if not path.exists() else "not a regular file"
    if path.suffix == ".csv":
        return _check_csv(path, fingerprint, rows)
    table, why = _read(path.parent, path.name, follow=True)
    if table is None:
        return None, why
    found = _fingerprint(table)
    if found != fingerprint:
        return None, f"fingerprint {found}, this folder's is {fingerprint}"
    if rows is not None and table.num_rows != rows:
        return None, f"{table.num_rows} rows, the plan has {rows} runs"
    if keys is not None and set(_keys(table) or ()) != keys:
        return None, "not the runs of this plan"
    return table, ""


def _check_csv(path: Path, fingerprint: str, rows: int | None) -> tuple[Any, str]:
    import pandas as pd

    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
            frame = pd.read_csv(fh)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"cannot read: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
    prefix = "# provenance: "
    try:
        found = json.loads(first[len(prefix) :]).get("fingerprint") if first.startswith(prefix) else None
    except ValueError:
        found = None
    if found != fingerprint:
        return None, f"fingerprint {found}, this folder's is {fingerprint}"
    if rows is not None and len(frame) != rows:
        return None, f"{len(frame)} rows, the plan has {rows} runs"
    return frame, ""


# --- input files -----------------------------------------------------------------------------------


def input_digests(plan: Plan, scenario_path: str | os.PathLike[str]) -> dict[str, str]:
    """SHA-256 of every file the plan's scenarios read, by path as written in the scenario.

    Edge lists (``social_graph.path``) are resolved relative to the scenario file, as
    :func:`viralsim.io.graph_file.load_graph` does. A file that cannot be read raises
    :class:`OutputError` naming it.
    """
    out: dict[str, str] = {}
    for label in plan.variants:
        for point in range(len(plan.points)):
            cfg = plan.resolved(label, point).social_graph
            if cfg.kind != "edge_list" or cfg.path is None or str(cfg.path) in out:
                continue
            path = Path(scenario_path).parent / cfg.path
            digest = hashlib.sha256()
            try:
                with open(path, "rb") as fh:
                    while block := fh.read(1 << 20):
                        digest.update(block)
            except OSError as err:
                raise OutputError(f"{path}: cannot read: {_reason(err)}") from None
            out[str(cfg.path)] = digest.hexdigest()
    return out
