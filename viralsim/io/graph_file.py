"""Edge-list files for ``social_graph.kind = "edge_list"``: reading them, and checking them for ``validate``.

One edge per line, ``source target``: two node ids ``0 .. population.users - 1``
separated by whitespace or a comma; content flows source -> target, i.e. *target
follows source* (the creator's out-edges are its followers). ``#`` starts a comment;
blank lines are skipped; a first line whose two fields are not numbers
(``source,target``) is a header and skipped. A third column (a weight) is refused,
not ignored, and so is a file with no edge. The path is relative to the scenario
file. Errors name the file and line. A file whose parsing would not fit in memory
(about :data:`BYTES_PER_FILE_BYTE` bytes per byte of file), and anything that is not a
regular file (``/dev/zero``, a pipe), are refused before they are read.
:func:`graph_file_problems` reads every edge list a scenario and its variants name,
and reports each problem at the scenario's ``social_graph.path`` line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viralsim.machine import format_bytes, machine_memory
from viralsim.model.graph import CSRGraph
from viralsim.scenario import Scenario

__all__ = ["BYTES_PER_FILE_BYTE", "GraphFileError", "graph_file_problems", "is_int", "load_graph", "read_edge_list"]

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
            f" to load (a run may use {format_bytes(limit)} here)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise GraphFileError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise GraphFileError(f"{path}: not a UTF-8 text file") from None
    src: list[int] = []
    dst: list[int] = []
    first = True
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].replace(",", " ").split()
        if not line:
            continue
        if len(line) != 2:
            extra = " (a weight column is not supported: keep the first two)" if len(line) > 2 else ""
            raise GraphFileError(
                f"{path}:{lineno}: expected 2 columns 'source target', got {len(line)}: {raw.strip()[:60]!r}{extra}"
            )
        header, first = first and not any(map(is_int, line)), False
        if header:  # e.g. "source,target": the column names
            continue
        try:
            a, b = int(line[0]), int(line[1])
        except ValueError:
            raise GraphFileError(f"{path}:{lineno}: node ids must be integers, got {raw.strip()[:60]!r}") from None
        for node in (a, b):
            if not 0 <= node < n:
                raise GraphFileError(f"{path}:{lineno}: node {node} is outside 0..{n - 1} (population.users = {n})")
        src.append(a)
        dst.append(b)
    if not src:
        what = "is empty" if not text.strip() else "has no edge (only comments, blank lines or a header)"
        raise GraphFileError(f"{path}: {what}: an edge list needs at least one 'source target' line")
    return CSRGraph.from_edges(np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), n)


def is_int(token: str) -> bool:
    """Whether ``token`` reads as an integer (as ``int()`` reads it)."""
    try:
        int(token)
    except ValueError:
        return False
    return True


def load_graph(scenario: Scenario, scenario_path: str | Path) -> CSRGraph | None:
    """The scenario's edge-list graph (``None`` for generated graphs)."""
    cfg = scenario.social_graph
    if cfg.kind != "edge_list" or cfg.path is None:
        return None
    return read_edge_list(Path(scenario_path).parent / cfg.path, scenario.population.users)


def graph_file_problems(scenario: Scenario, scenario_path: str | Path) -> list[str]:
    """Read every edge list the scenario and its variants name; one line per problem.

    Each line is ``FILE:LINE: social_graph.path: reason`` (``variants.NAME.social_graph.path``
    when a variant names the file), LINE being the scenario file's line of that path. A file
    read for the base is not read again for a variant with the same path and population.
    """
    from viralsim.io.toml_lines import build_index, line_of

    name = str(scenario_path)
    try:
        index = build_index(Path(scenario_path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):  # loaded a moment ago: lines are a nicety
        index = {}
    out: list[tuple[int, str]] = []
    seen: set[tuple[str, int]] = set()
    reported: set[str] = set()
    for label in (None, *scenario.variants):
        sc = scenario.variant(label)
        cfg = sc.social_graph
        if cfg.kind != "edge_list" or cfg.path is None:
            continue
        key = (cfg.path, sc.population.users)
        if key in seen:
            continue
        seen.add(key)
        override = scenario.variants.get(label or "", {}) if label else {}
        own = label is not None and "path" in (override.get("social_graph") or {})
        loc: tuple[str, ...] = ("variants", str(label), "social_graph", "path") if own else ("social_graph", "path")
        try:
            load_graph(sc, scenario_path)
        except GraphFileError as err:
            if str(err) in reported:  # the same file, bad for the base already
                continue
            reported.add(str(err))
            where = ".".join(loc) if own else "social_graph.path"
            which = "" if own or label is None else f" (variant {label})"
            out.append((line_of(index, loc), f"{name}:{line_of(index, loc)}: {where}: {err}{which}"))
    return [line for _, line in sorted(out, key=lambda row: row[0])]
