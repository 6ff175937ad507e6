"""A results folder for ensembles, comparisons and sweeps, written so that it survives.

Layout of ``DIR``::

    manifest.json     what was asked (kind, seed, runs, variants, swept params, grid points,
                      the resolved scenario, digests of the files it reads, version) and a
                      fingerprint of it; "complete"
    .lock             held by the one viralsim command working on the folder (its pid)
    chunks/*.parquet  one file per finished chunk while the work runs (atomic renames)
    runs.parquet      one row per run: variant, point, swept params, run, seed, summary
    runs.csv          the same, with a "# provenance:" first line
    bands.parquet     reach-curve quantile bands: variant, point, source, time_h, after_upload_h, q05..q95, mean
    curves.parquet    every run's row with its reach curves (what the other tables are built from)

Each chunk is written to a hidden temporary file and renamed into ``chunks/``, so a
chunk file holds all of its runs or does not exist. Rerunning the same command on the
same folder skips every run already in a sound chunk (nothing lost, nothing twice); a
different command, or the same one over an edited input file (another fingerprint), is
refused; a second command while one runs is refused. On resume every chunk is read and
checked: a damaged or foreign one is named in :attr:`ResultStore.notes`, set aside and
its runs run again. When all runs are in, the tables are consolidated (again by atomic
renames), the manifest is marked complete and the chunk files are removed. A complete
folder is checked too: damaged tables are rebuilt from ``curves.parquet``, or the runs
are run again if that is damaged. No symbolic link inside the folder is followed.
Provenance (the manifest) is in every Parquet file's schema metadata under ``viralsim``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from viralsim.experiments.plan import Plan
from viralsim.experiments.stats import EnsembleResult
from viralsim.io.outputs import OutputError, _jsonable, _reason
from viralsim.io.results_checks import LOCK_NAME, FolderLock, check_table, input_digests, read_chunk, verified_chunks

__all__ = ["ResultStore", "input_digests", "write_ensemble"]

_MANIFEST = "manifest.json"
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_MODE = 0o666 & ~_UMASK  # what open() would give: mkstemp's files are private (0600)
_CHUNKS = "chunks"


def _atomic_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, _MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _table(rows: list[dict[str, Any]] | Any, meta: str) -> Any:
    import pyarrow as pa

    if isinstance(rows, list):
        cols: dict[str, list[Any]] = {}
        for r in rows:
            for k in r:
                cols.setdefault(k, [])
        for r in rows:
            for k, values in cols.items():
                v = r.get(k)
                values.append(v.tolist() if isinstance(v, np.ndarray) else v)
        table = pa.table(cols)
    else:
        table = pa.Table.from_pandas(rows, preserve_index=False)
    return table.replace_schema_metadata({**(table.schema.metadata or {}), b"viralsim": meta.encode()})


def _write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.fchmod(fd, _MODE)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultStore:
    """The sink of :func:`viralsim.ensemble.execute` backed by a results folder (resumable).

    Parameters
    ----------
    out_dir
        The results folder (created if missing).
    plan
        What is run.
    inputs
        Digests of the files the scenario reads (:func:`input_digests`): part of the
        folder's fingerprint, so results of an edited edge list are never mixed in.

    The folder is locked while the store is open (:meth:`close` releases it; so does the
    end of the process). ``notes`` holds one line per damaged file found and repaired.
    """

    def __init__(self, out_dir: str | os.PathLike[str], plan: Plan, inputs: Mapping[str, str] | None = None) -> None:
        self.dir = Path(out_dir)
        self.plan = plan
        self.manifest = _jsonable(plan.manifest())
        if inputs:
            self.manifest["inputs"] = dict(sorted(inputs.items()))
            both = {"plan": self.manifest["fingerprint"], "inputs": self.manifest["inputs"]}
            self.manifest["fingerprint"] = hashlib.sha256(json.dumps(both, sort_keys=True).encode()).hexdigest()[:16]
        self._meta = json.dumps(self.manifest, sort_keys=True)
        self.resumed = 0
        self.notes: list[str] = []
        self._repair = False
        self._lock: FolderLock | None = None
        try:
            self._open()
        except OSError as err:
            self.close()
            raise OutputError(f"{self.dir}: cannot write: {_reason(err)}") from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the folder's lock (idempotent)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        found = self.dir / _MANIFEST
        if not found.exists() and self.dir.exists():  # refused before anything is written in it
            self._check_foreign()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = FolderLock.acquire(self.dir)
        if found.exists():
            try:
                old = json.loads(found.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise OutputError(f"{found}: unreadable manifest ({err}); use another --out folder") from None
            if old.get("fingerprint") != self.manifest["fingerprint"]:
                raise OutputError(self._mismatch(old))
            self.complete = bool(old.get("complete"))
        else:
            self._check_foreign()
            self.complete = False
            self._write_manifest(complete=False)
        chunks = self.dir / _CHUNKS
        if chunks.is_symlink() or (chunks.exists() and not chunks.is_dir()):
            what = "a symbolic link" if chunks.is_symlink() else "not a folder"
            raise OutputError(f"{chunks}: is {what}; a results folder keeps its own chunks: use another --out folder")
        self._done: set[tuple[str, int, int]] = set()
        self._rows: list[dict[str, Any]] | None = None
        self._chunk_files: list[str] = []
        if self.complete:
            self._rows = self._load_final()
        if self.complete:
            self._done = {(r["variant"], r["point"], r["run"]) for r in self._rows or []}
            if chunks.exists():  # a kill between "complete" and the clean-up left them
                shutil.rmtree(chunks)
        else:
            chunks.mkdir(exist_ok=True)
            for name, keys in verified_chunks(chunks, self.manifest["fingerprint"], set(self.plan.keys()), self.notes):
                self._chunk_files.append(name)
                self._done.update(keys)
        self.resumed = len(self._done)

    def _check_foreign(self) -> None:
        if not self.dir.is_dir():
            raise OutputError(f"{self.dir}: is not a folder; use another --out folder")
        if any(p.name != LOCK_NAME for p in self.dir.iterdir()):
            raise OutputError(f"{self.dir}: is not empty and holds no manifest.json; use another --out folder")

    def _mismatch(self, old: dict[str, Any]) -> str:
        same = {k: v for k, v in old.items() if k not in ("fingerprint", "inputs", "complete")}
        ours = {k: v for k, v in self.manifest.items() if k not in ("fingerprint", "inputs")}
        if old.get("results_format", 1) != ours.get("results_format"):  # the same command, another meaning
            return (
                f"{self.dir}: holds results of an older viralsim (results format {old.get('results_format', 1)}, "
                f"whose stop_h and peak_rate_h count hours since t = 0; this one's, {ours.get('results_format')}, "
                "count hours after the upload); use another --out folder or delete this one"
            )
        then, now = old.get("inputs") or {}, self.manifest.get("inputs") or {}
        if same == ours and then != now:
            changed = sorted(k for k in set(then) | set(now) if then.get(k) != now.get(k))
            return (
                f"{self.dir}: holds results computed from another version of {', '.join(changed)} "
                "(the file changed since); use another --out folder or delete this one"
            )
        return (
            f"{self.dir}: holds results of a different command or scenario "
            f"({old.get('kind')} of {old.get('scenario')!r}, seed {old.get('seed')}, runs {old.get('runs')}); "
            "use another --out folder or delete this one"
        )

    def _write_manifest(self, complete: bool) -> None:
        data = dict(self.manifest, complete=complete)
        _atomic_bytes(self.dir / _MANIFEST, (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    # --- the Sink protocol ---

    def done(self) -> set[tuple[str, int, int]]:
        return set(self._done)

    def add(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self._rows = None  # read again (with this chunk) when asked
        name = f"{len(self._done):08d}-{uuid.uuid4().hex[:12]}.parquet"
        chunks = self.dir / _CHUNKS
        if chunks.is_symlink():
            raise OutputError(f"{chunks}: became a symbolic link while this command ran; nothing written through it")
        try:
            _write_parquet(_table(rows, self._meta), chunks / name)
        except OSError as err:
            raise OutputError(f"{chunks}: cannot write: {_reason(err)}") from None
        self._chunk_files.append(name)
        self._done.update((r["variant"], r["point"], r["run"]) for r in rows)

    def rows(self) -> list[dict[str, Any]]:
        """Every finished row, in table order (the chunk files are read once, then kept)."""
        if self._rows is not None:
            return list(self._rows)
        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, int, int]] = set()
        for name in sorted(self._chunk_files):
            for r in read_chunk(self.dir / _CHUNKS, name).to_pylist():
                key = (r["variant"], r["point"], r["run"])
                if key not in seen:  # cannot happen (verified chunks do not overlap): belt and braces
                    seen.add(key)
                    rows.append(r)
        self._rows = self.plan.in_order(rows)
        return list(self._rows)

    # --- consolidation ---

    def _load_final(self) -> list[dict[str, Any]] | None:
        """The rows of a complete folder, after checking its tables; None (and not complete) if runs are lost."""
        fp, n = self.manifest["fingerprint"], len(self.plan.keys())
        curves = self.dir / "curves.parquet"
        table, why = check_table(curves, fp, n, set(self.plan.keys()))
        if table is None:
            self.notes.append(f"{curves}: damaged ({why}); its runs will be run again")
            self.complete = False
            self._write_manifest(complete=False)
            return None
        for name in ("runs.parquet", "bands.parquet", "runs.csv"):
            _, why = check_table(self.dir / name, fp, n if name != "bands.parquet" else None)
            if why:
                self.notes.append(f"{self.dir / name}: damaged ({why}); rebuilt from curves.parquet")
                self._repair = True
        return table.to_pylist()

    def finish(self, result: EnsembleResult) -> list[Path]:
        """Write the consolidated tables, mark the manifest complete, drop the chunk files."""
        if self.complete and not self._repair:
            return self.paths()
        try:
            if not self.complete:
                _write_parquet(_table(self.rows(), self._meta), self.dir / "curves.parquet")
            write_ensemble(result, self.dir, self._meta)
            self._write_manifest(complete=True)
            if (self.dir / _CHUNKS).exists():
                shutil.rmtree(self.dir / _CHUNKS)  # never follows a link (a linked chunks/ is refused on open)
        except OSError as err:
            raise OutputError(f"{self.dir}: cannot write: {_reason(err)}") from None
        self.complete, self._repair = True, False
        return self.paths()

    def paths(self) -> list[Path]:
        names = [_MANIFEST, "runs.parquet", "runs.csv", "bands.parquet", "curves.parquet"]
        return [self.dir / n for n in names if (self.dir / n).exists()]


def write_ensemble(result: EnsembleResult, out_dir: str | os.PathLike[str], meta: str | None = None) -> list[Path]:
    """Write ``runs.parquet``, ``runs.csv`` and ``bands.parquet`` (and a manifest if missing) into ``out_dir``."""
    out = Path(out_dir)
    manifest = _jsonable(result.manifest())
    meta = json.dumps(manifest, sort_keys=True) if meta is None else meta
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_parquet(_table(result.runs, meta), out / "runs.parquet")
        text = f"# provenance: {meta}\n" + result.runs.to_csv(index=False)
        _atomic_bytes(out / "runs.csv", text.encode("utf-8"))
        _write_parquet(_table(result.bands, meta), out / "bands.parquet")
        if not (out / _MANIFEST).exists():
            _atomic_bytes(out / _MANIFEST, (json.dumps(dict(manifest, complete=True), indent=2) + "\n").encode())
    except OSError as err:
        raise OutputError(f"{out}: cannot write: {_reason(err)}") from None
    return [out / n for n in ("runs.parquet", "runs.csv", "bands.parquet", _MANIFEST)]
