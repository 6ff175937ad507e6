"""Result files: Parquet and CSV tables and a JSON summary, written atomically.

Every file carries its provenance (resolved scenario, seed, run, variant,
version): in the Parquet schema metadata under ``viralsim``, as a first
``# provenance:`` comment line in CSV (read with ``pandas.read_csv(...,
comment="#")``), and under ``"provenance"`` in JSON. A set of files is first
written into a hidden temporary folder beside the target and then moved in
with ``os.replace``; if anything fails, nothing is left half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from viralsim.result import RunResult

__all__ = ["OutputError", "summary_json", "write_run"]


class OutputError(Exception):
    """An output could not be written (the message names the path and the reason)."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def summary_json(result: RunResult) -> dict[str, Any]:
    """The run summary as a JSON-ready dict (the keys of ``viralsim run --json``)."""
    out = dict(result.summary)
    out["moderation"] = dict(result.moderation)
    out["stages"] = result.stages
    out["seed"] = result.seed
    out["run"] = result.run
    out["scenario"] = result.scenario.name
    out["variant"] = result.variant
    out["version"] = result.version
    return _jsonable(out)


def _parquet(df: Any, path: Path, provenance: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"viralsim"] = provenance.encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)


def _csv(df: Any, path: Path, provenance: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# provenance: {provenance}\n")
        df.to_csv(fh, index=False)


def write_run(result: RunResult, out_dir: str | Path) -> list[Path]:
    """Write views and stages (Parquet + CSV), the reach curve and summary.json into ``out_dir``.

    Returns the written paths. Raises :class:`OutputError` with a one-line
    reason when the folder cannot be created or written; no partial file is left.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".viralsim-", dir=out))
    except OSError as err:
        raise OutputError(f"{out}: cannot write: {err.strerror or err}") from None
    provenance = json.dumps(_jsonable(result.provenance()), sort_keys=True)
    try:
        tables = {"views": result.views_frame(), "stages": result.stages_frame(), "reach": result.reach_frame()}
        for name, df in tables.items():
            _parquet(df, tmp / f"{name}.parquet", provenance)
            _csv(df, tmp / f"{name}.csv", provenance)
        summary = summary_json(result)
        summary["provenance"] = json.loads(provenance)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
            written.append(out / f.name)
        return written
    except OSError as err:
        raise OutputError(f"{out}: cannot write: {err.strerror or err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
