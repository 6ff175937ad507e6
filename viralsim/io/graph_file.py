"""Edge-list files for ``social_graph.kind = "edge_list"``.

One edge per line, ``source target`` (whitespace or comma separated, node ids
``0 .. population.users - 1``, content flows source -> target); ``#`` starts a
comment. The path is relative to the scenario file. Errors name the file and
line. A file whose parsing would not fit in memory (about :data:`BYTES_PER_FILE_BYTE`
bytes per byte of file), and anything that is not a regular file (``/dev/zero``,
a pipe), are refused before they are read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viralsim.machine import format_bytes, machine_memory
from viralsim.model.graph import CSRGraph
from viralsim.scenario import Scenario

__all__ = ["BYTES_PER_FILE_BYTE", "GraphFileError", "load_graph", "read_edge_list"]

#: Peak memory of parsing, per byte of edge-list file: the text, one string per line, two
#: lists of ints, int64 arrays and the CSR build (measured 11 with lines of 14 bytes; short
#: lines such as ``"0 1"`` cost about three times as much per byte).
BYTES_PER_FILE_BYTE = 32


class GraphFileError(Exception):
    """An edge list could not be read (the message is ``FILE:LINE: reason``)."""


def read_edge_list(path: str | Path, n: int) -> CSRGraph:
    """Read an edge list over ``n`` users into a CSR graph."""
    path = Path(path)
    try:
        if not path.is_file():
            what = "no such file" if not path.exists() else "not a regular file"
            raise GraphFileError(f"{path}: cannot read: {what}")
        size = path.stat().st_size
    except OSError as err:
        raise GraphFileError(f"{path}: cannot read: {err.strerror or err}") from None
    limit = machine_memory()
    if size * BYTES_PER_FILE_BYTE > limit:
        raise GraphFileError(
            f"{path}: an edge list of {format_bytes(size)} would need ~{format_bytes(size * BYTES_PER_FILE_BYTE)}"
            f" to load (this machine has {format_bytes(limit)})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise GraphFileError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise GraphFileError(f"{path}: not a UTF-8 text file") from None
    src: list[int] = []
    dst: list[int] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].replace(",", " ").split()
        if not line:
            continue
        if len(line) < 2:
            raise GraphFileError(f"{path}:{lineno}: expected 'source target', got {raw.strip()!r}")
        try:
            a, b = int(line[0]), int(line[1])
        except ValueError:
            raise GraphFileError(f"{path}:{lineno}: node ids must be integers, got {raw.strip()!r}") from None
        for node in (a, b):
            if not 0 <= node < n:
                raise GraphFileError(f"{path}:{lineno}: node {node} is outside 0..{n - 1} (population.users = {n})")
        src.append(a)
        dst.append(b)
    return CSRGraph.from_edges(np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), n)


def load_graph(scenario: Scenario, scenario_path: str | Path) -> CSRGraph | None:
    """The scenario's edge-list graph (``None`` for generated graphs)."""
    cfg = scenario.social_graph
    if cfg.kind != "edge_list" or cfg.path is None:
        return None
    return read_edge_list(Path(scenario_path).parent / cfg.path, scenario.population.users)
