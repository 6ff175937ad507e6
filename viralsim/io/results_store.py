"""A results folder for ensembles, comparisons and sweeps, written so that it survives.

Layout of ``DIR``::

    manifest.json     what was asked (kind, seed, runs, variants, swept params, grid points,
                      the resolved scenario, version) and a fingerprint of it; "complete"
    chunks/*.parquet  one file per finished chunk while the work runs (atomic renames)
    runs.parquet      one row per run: variant, point, swept params, run, seed, summary
    runs.csv          the same, with a "# provenance:" first line
    bands.parquet     reach-curve quantile bands: variant, point, source, time_h, q05..q95, mean

Each chunk is written to a hidden temporary file and renamed into ``chunks/``, so a
chunk file holds all of its runs or does not exist. Rerunning the same command on the
same folder skips every run already in a chunk (nothing lost, nothing twice); a
different command (another fingerprint) is refused. When all runs are in, the tables
are consolidated (again by atomic renames), the manifest is marked complete and the
chunk files are removed. Provenance (the manifest) is in every Parquet file's schema
metadata under ``viralsim``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from viralsim.experiments.plan import Plan
from viralsim.experiments.stats import EnsembleResult
from viralsim.io.outputs import OutputError, _jsonable, _reason

__all__ = ["ResultStore", "write_ensemble"]

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
    """The sink of :func:`viralsim.ensemble.execute` backed by a results folder (resumable)."""

    def __init__(self, out_dir: str | os.PathLike[str], plan: Plan) -> None:
        self.dir = Path(out_dir)
        self.plan = plan
        self.manifest = _jsonable(plan.manifest())
        self._meta = json.dumps(self.manifest, sort_keys=True)
        self.resumed = 0
        try:
            self._open()
        except OSError as err:
            raise OutputError(f"{self.dir}: cannot write: {_reason(err)}") from None

    def _open(self) -> None:
        found = self.dir / _MANIFEST
        if found.exists():
            try:
                old = json.loads(found.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise OutputError(f"{found}: unreadable manifest ({err}); use another --out folder") from None
            if old.get("fingerprint") != self.manifest["fingerprint"]:
                raise OutputError(
                    f"{self.dir}: holds results of a different command or scenario "
                    f"({old.get('kind')} of {old.get('scenario')!r}, seed {old.get('seed')}, runs {old.get('runs')}); "
                    "use another --out folder or delete this one"
                )
            self.complete = bool(old.get("complete"))
        else:
            if self.dir.exists() and (not self.dir.is_dir() or any(self.dir.iterdir())):
                what = "is not a folder" if not self.dir.is_dir() else "is not empty and holds no manifest.json"
                raise OutputError(f"{self.dir}: {what}; use another --out folder")
            self.dir.mkdir(parents=True, exist_ok=True)
            self.complete = False
            self._write_manifest(complete=False)
        (self.dir / _CHUNKS).mkdir(exist_ok=True)
        for stray in (self.dir / _CHUNKS).glob(".*"):  # a temporary file of a killed writer
            stray.unlink(missing_ok=True)
        self._done: set[tuple[str, int, int]] = set()
        self._rows: list[dict[str, Any]] | None = None
        if self.complete:
            self._rows = self._load_final()
            self._done = {(r["variant"], r["point"], r["run"]) for r in self._rows}
        else:
            for f in sorted((self.dir / _CHUNKS).glob("*.parquet")):
                self._done.update(self._keys(f))
        self.resumed = len(self._done)

    def _write_manifest(self, complete: bool) -> None:
        data = dict(self.manifest, complete=complete)
        _atomic_bytes(self.dir / _MANIFEST, (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    @staticmethod
    def _keys(path: Path) -> list[tuple[str, int, int]]:
        import pyarrow.parquet as pq

        t = pq.read_table(path, columns=["variant", "point", "run"])
        return list(zip(t["variant"].to_pylist(), t["point"].to_pylist(), t["run"].to_pylist(), strict=True))

    # --- the Sink protocol ---

    def done(self) -> set[tuple[str, int, int]]:
        return set(self._done)

    def add(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self._rows = None  # read again (with this chunk) when asked
        name = f"{len(self._done):08d}-{uuid.uuid4().hex[:12]}.parquet"
        try:
            _write_parquet(_table(rows, self._meta), self.dir / _CHUNKS / name)
        except OSError as err:
            raise OutputError(f"{self.dir / _CHUNKS}: cannot write: {_reason(err)}") from None
        self._done.update((r["variant"], r["point"], r["run"]) for r in rows)

    def rows(self) -> list[dict[str, Any]]:
        """Every finished row, in table order (the chunk files are read once, then kept)."""
        if self._rows is not None:
            return list(self._rows)
        import pyarrow.parquet as pq

        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, int, int]] = set()
        for f in sorted((self.dir / _CHUNKS).glob("*.parquet")):
            for r in pq.read_table(f).to_pylist():
                key = (r["variant"], r["point"], r["run"])
                if key not in seen:  # cannot happen (only undone runs are scheduled): belt and braces
                    seen.add(key)
                    rows.append(r)
        self._rows = self.plan.in_order(rows)
        return list(self._rows)

    # --- consolidation ---

    def _load_final(self) -> list[dict[str, Any]]:
        import pyarrow.parquet as pq

        path = self.dir / "curves.parquet"
        try:
            return pq.read_table(path).to_pylist()
        except (OSError, ValueError) as err:
            raise OutputError(f"{path}: unreadable ({err}); delete {self.dir} and run again") from None

    def finish(self, result: EnsembleResult) -> list[Path]:
        """Write the consolidated tables, mark the manifest complete, drop the chunk files."""
        if self.complete:
            return self.paths()
        try:
            _write_parquet(_table(self.rows(), self._meta), self.dir / "curves.parquet")
            write_ensemble(result, self.dir, self._meta)
            self._write_manifest(complete=True)
            shutil.rmtree(self.dir / _CHUNKS, ignore_errors=True)
        except OSError as err:
            raise OutputError(f"{self.dir}: cannot write: {_reason(err)}") from None
        self.complete = True
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
