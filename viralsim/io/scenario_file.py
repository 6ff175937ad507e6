"""Scenario files: TOML on disk -> a validated :class:`~viralsim.scenario.Scenario`.

This module owns reading, decoding and parsing a scenario file, and turning
everything wrong with it into one line per problem, ``FILE:LINE: field: message``
(the form editors and CI logs jump to): unreadable files, bytes that are not
UTF-8, files too large or keys nested too deeply to be a scenario (refused
before they are parsed), text that is not TOML, pydantic's schema errors (rewritten as short
messages that show the offending value), then the cross-field checks of
:func:`viralsim.engines.checks.check` (the tables' and the engine's), for the
base scenario and for every variant. A scenario that loads is marked checked,
and so are its variants, so that ``simulate`` and plans do not check them again.
Lines come from :mod:`viralsim.io.toml_lines`.

What a valid scenario is is decided by :mod:`viralsim.scenario`, not here.
Paths inside the scenario (such as an edge list) are not resolved here.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from viralsim.engines.checks import check
from viralsim.io.toml_lines import MAX_DEPTH, Key, LineIndex, build_index, line_of, too_deep
from viralsim.scenario import Scenario, merge_tables
from viralsim.scenario.checks import written_problems

__all__ = ["MAX_FILE_BYTES", "ScenarioError", "load_scenario", "loads_scenario"]

#: Largest scenario file read (the bundled ones are a few kB): /dev/zero is not a scenario.
MAX_FILE_BYTES = 4 * 2**20

Problem = tuple[Key, str]

#: pydantic error type -> what the value should have been.
_EXPECTED_TYPE = {
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}
#: pydantic error type -> (its ``ctx`` key, the comparison).
_BOUND = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPE = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_TOML_AT = re.compile(r"^(?P<reason>.*?)\s*\(at (?:line (?P<line>\d+), column \d+|end of document)\)$", re.S)


class ScenarioError(Exception):
    """A scenario file that cannot be used.

    Attributes
    ----------
    problems : list of str
        One line per problem, ``FILE:LINE: dotted.field: message``, sorted by line;
        ``str(error)`` is these lines joined by newlines.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, parse and validate the scenario file at ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        A TOML scenario file (UTF-8). It is named in messages as given.

    Returns
    -------
    Scenario
        The validated scenario, marked checked (``simulate`` does not check it
        again); its variants are checked too.

    Raises
    ------
    ScenarioError
        If the file cannot be read, is not UTF-8 or TOML, or describes an invalid scenario.
    """
    name = os.fspath(path)
    try:
        with Path(path).open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ScenarioError([f"{name}: cannot read: {err.strerror or err}"]) from err
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB: not a scenario file"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ScenarioError([f"{name}:{line}: not valid UTF-8: byte 0x{raw[err.start]:02x}"]) from err
    return loads_scenario(text, filename=name)


def loads_scenario(text: str, filename: str = "<string>") -> Scenario:
    """Parse and validate scenario TOML ``text``; like :func:`load_scenario` without the file.

    Parameters
    ----------
    text : str
        A TOML document.
    filename : str
        The name that starts every problem line.

    Returns
    -------
    Scenario
        The validated scenario; its variants are checked too.

    Raises
    ------
    ScenarioError
        If ``text`` is not TOML or describes an invalid scenario.
    """
    deep = too_deep(text)
    if deep is not None:  # before tomllib, which is quadratic in the depth of a dotted key
        raise ScenarioError([f"{filename}:{deep}: nested too deeply (more than {MAX_DEPTH} levels of keys)"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError([_toml_problem(filename, str(err), text)]) from err
    except RecursionError as err:  # tomllib recurses once per nested array or inline table
        raise ScenarioError([f"{filename}:1: not valid TOML: nested too deeply"]) from err
    index = build_index(text)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_lines(filename, index, _schema_problems(err, data, ()))) from err
    found = written_problems(data) + check(sc)
    variants, more = _variant_problems(sc, set(found))
    found += more
    for name, override in sc.variants.items():
        found += [(("variants", name, *loc), msg) for loc, msg in written_problems(override, data)]
    if found:
        raise ScenarioError(_lines(filename, index, found))
    for checked in (sc, *variants):
        checked.mark_checked("summary")
    return sc


def _toml_problem(filename: str, message: str, text: str) -> str:
    """``FILE:LINE: not valid TOML: reason`` from a tomllib message ``Reason (at line N, column M)``."""
    m = _TOML_AT.match(message)
    if m is None:
        return f"{filename}:1: not valid TOML: {_lower(message)}"
    line = int(m["line"]) if m["line"] else text.rstrip().count("\n") + 1
    return f"{filename}:{line}: not valid TOML: {_lower(m['reason'])}"


def _lines(filename: str, index: LineIndex, found: list[Problem]) -> list[str]:
    """Problem lines sorted by line (stable), without duplicates."""
    rows = sorted((line_of(index, loc), i, loc, msg) for i, (loc, msg) in enumerate(found))
    out = (f"{filename}:{n}: {'.'.join(map(_key, loc)) + ': ' if loc else ''}{msg}" for n, _, loc, msg in rows)
    return list(dict.fromkeys(out))


def _key(part: str | int) -> str:
    """One part of a dotted field name, quoted as in TOML unless it is a bare key.

    A key may hold any character: quoting keeps ``" "`` visible and a line break
    inside a key from splitting the problem line.
    """
    if isinstance(part, int) or _BARE_KEY.fullmatch(part):
        return str(part)
    escaped = (c if c.isprintable() and c not in '"\\' else _ESCAPE.get(c, f"\\u{ord(c):04x}") for c in part)
    return '"' + "".join(escaped) + '"'


def _variant_problems(sc: Scenario, inherited: set[Problem]) -> tuple[list[Scenario], list[Problem]]:
    """The variants that validate, and the schema and cross-field problems of every variant.

    Problems are located under ``("variants", NAME)``. Keeps pydantic's whole error
    (type, input, context) so that messages read like the base scenario's, and leaves
    out the ``inherited`` problems, already reported for the base. The variants are
    made by ``sc.variant`` (kept on ``sc``), so that they are checked here only.
    """
    out: list[Problem] = []
    made: list[Scenario] = []
    base = sc.model_dump(exclude={"variants"}, exclude_none=True)
    for name in sc.variants:
        where: Key = ("variants", name)
        try:
            variant = sc.variant(name)
        except ValidationError as err:
            out += _schema_problems(err, merge_tables(base, sc.override(name)), where)
            continue
        made.append(variant)
        out += [(where + loc, msg) for loc, msg in check(variant) if (loc, msg) not in inherited]
    return made, out


def _schema_problems(err: ValidationError, data: Any, prefix: Key) -> list[Problem]:
    """One problem per location: the errors of a union's members are merged into one."""
    grouped: dict[Key, list[ErrorDetails]] = {}
    for e in err.errors():
        grouped.setdefault(_data_loc(e, data), []).append(e)
    return [(prefix + loc, _message(loc, errors)) for loc, errors in grouped.items()]


def _data_loc(error: ErrorDetails, data: Any) -> Key:
    """The error's location with the parts that are not in the data (union member tags) left out."""
    loc = error["loc"]
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(data, dict) and i == len(loc) - 1:  # a missing field
            data = None
        else:  # e.g. "constrained-int" in ("platform", "sharing", "recipients_per_share", "constrained-int")
            continue
        out.append(part)
    return tuple(out)


def _message(loc: Key, errors: list[ErrorDetails]) -> str:
    """A short message for the errors at one location, ending with the offending value."""
    e = errors[0]
    kind, ctx, value = e["type"], e.get("ctx") or {}, e["input"]
    if kind == "extra_forbidden":
        return "unknown field" + _did_you_mean(loc)
    if kind == "missing":
        return "required field missing"
    if kind == "finite_number":
        return f"must be a finite number, got {_show(value)}"
    if kind == "value_error":  # raised by a field validator: its message is the whole story
        return e["msg"].removeprefix("Value error, ")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        least = kind.endswith("short")
        limit = ctx["min_length"] if least else ctx["max_length"]
        noun = ("character", "characters") if kind.startswith("string") else ("entry", "entries")
        size = len(value) if isinstance(value, list | str | dict) else ctx.get("actual_length")
        return f"must have at {'least' if least else 'most'} {limit} {noun[limit != 1]}, got {size}"
    wants = [w for w in map(_requirement, errors) if w is not None]
    if len(wants) == len(errors):
        phrase = " or ".join(text for _, text in wants)
        if any(is_type for is_type, _ in wants):
            return f"expected {phrase}, got {_typed(value)}"
        return f"must be {phrase}, got {_show(value)}{_percent_hint(e, value)}"
    return f"{_lower(e['msg'])}, got {_typed(value)}"


def _percent_hint(error: ErrorDetails, value: Any) -> str:
    """`` (did you mean 0.15?)`` for a fraction in [0, 1] written as a percentage (15)."""
    ctx = error.get("ctx") or {}
    if error["type"] != "less_than_equal" or ctx.get("le") != 1 or isinstance(value, bool):
        return ""
    if isinstance(value, int | float) and 1 < value <= 100:
        return f" (did you mean {value / 100:g}? a fraction in [0, 1], not a percentage)"
    return ""


def _requirement(error: ErrorDetails) -> tuple[bool, str] | None:
    """``(is_a_type, what the value should be)``, or None for errors not phrased that way."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _EXPECTED_TYPE:
        return True, _EXPECTED_TYPE[kind]
    if kind in _BOUND:
        key, op = _BOUND[kind]
        return False, f"{op} {_number(ctx[key])}"
    if kind == "literal_error":
        return False, str(ctx["expected"])
    return None


def _did_you_mean(loc: Key) -> str:
    """A hint for an unknown field: a close field name of its table, or where that name belongs.

    `` (did you mean 'x'?)`` for a misspelt name; `` (did you mean [video]? ...)`` for a
    field of another table (a missing table header), and `` (did you mean [platform.push]?)``
    for a table written at the wrong level.
    """
    model: type[BaseModel] | None = Scenario
    for part in loc[:-1]:
        if isinstance(part, str) and model is not None:
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field is not None else None
    if model is None or not loc:
        return ""
    name, here = str(loc[-1]), ".".join(map(str, loc[:-1]))
    elsewhere = [(path, table) for path, table in _owners(name) if path != here]
    if elsewhere:
        path, table = elsewhere[0]
        if table:  # a table written at the wrong level
            return f" (did you mean [{path}.{name}]?)" if path else f" (did you mean [{name}]?)"
        if not path:  # a top-level key written after a table header
            return f" ({name} is a top-level field: write it before the first [table] header)"
        return f" (did you mean [{path}]? {name} is a field of [{path}]: is its table header missing?)"
    close = difflib.get_close_matches(name, list(model.model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _owners(name: str) -> list[tuple[str, bool]]:
    """``(dotted path of a table, whether name is a table)`` for every table with a field ``name``, nearest first."""
    found: list[tuple[str, bool]] = []
    todo: list[tuple[str, type[BaseModel]]] = [("", Scenario)]
    while todo:  # breadth first: the shortest paths come first
        path, model = todo.pop(0)
        for field, info in model.model_fields.items():
            if field == "variants":
                continue
            inner = _model_in(info.annotation)
            if field == name:
                found.append((path, inner is not None))
            if inner is not None:
                todo.append((f"{path}.{field}" if path else field, inner))
    return found


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as ``list[Thresholds] | None``."""
    if typing.get_origin(annotation) is None and isinstance(annotation, type):
        return annotation if issubclass(annotation, BaseModel) else None
    inner = (_model_in(arg) for arg in typing.get_args(annotation))
    return next((model for model in inner if model is not None), None)


def _show(value: Any) -> str:
    """A value as the message shows it: TOML booleans, short strings, sizes of arrays and tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 40 else text[:36] + "...'"
    return repr(value) if isinstance(value, float) else str(value)


def _typed(value: Any) -> str:
    """A value with its type, for type errors: ``str 'abc'``, ``float 1.5``, ``a table``."""
    return _show(value) if isinstance(value, dict | list) else f"{type(value).__name__} {_show(value)}"


def _number(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return str(x)


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]
