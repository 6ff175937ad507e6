"""What every scenario field means, as text for the terminal: ``viralsim explain`` and ``viralsim new``.

Reads the scenario models' field descriptions (:mod:`viralsim.scenario`), their
JSON Schema (types, bounds, defaults) and the bundled scenario files (raw TOML:
what each file itself sets), and returns lines of text or a starter scenario's
TOML. It writes no file and prints nothing: the CLI does both. Unknown names
raise :class:`UnknownField` with the nearest known ones.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from viralsim.scenario import Scenario

__all__ = ["FieldDoc", "UnknownField", "explain_field", "explain_table", "field_doc", "list_tables", "starter_toml"]

#: Units read off a field's name (the scenario's convention: units are in names).
_UNITS = (
    ("_per_h", "per hour"),
    ("_per_day", "per day"),
    ("_h", "hours"),
    ("_s", "seconds"),
    ("_min", "minutes"),
)
#: The tables a starter scenario writes, in order (the agent engine's only for engine = "agents").
_STARTER_TABLES = (
    "population",
    "social_graph",
    "creator",
    "video",
    "platform.moderation",
    "platform.recognition",
    "platform.push",
    "platform.following",
    "platform.sharing",
    "behaviour",
)


class UnknownField(KeyError):
    """A dotted name that is no scenario field or table; ``str()`` is one line with suggestions."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        super().__init__(name)
        self.name, self.suggestions = name, suggestions

    def __str__(self) -> str:
        hint = f" (did you mean {' or '.join(self.suggestions)}?)" if self.suggestions else ""
        return f"unknown scenario field {self.name!r}{hint}; `viralsim explain` lists the tables"


@dataclass(frozen=True)
class FieldDoc:
    """One scenario field: where it is, its pydantic field, its JSON Schema, and its table if it is one."""

    path: str
    info: FieldInfo
    schema: dict[str, Any]
    table: type[BaseModel] | None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside a field's type (``X``, ``X | None``, ``list[X]``), if any."""
    stack = [annotation]
    while stack:
        tp = stack.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return tp
        stack.extend(getattr(tp, "__args__", ()))
    return None


def _walk(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, type[BaseModel], str]]:
    """(dotted path, model holding it, field name) of every field below ``model``, depth first."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, model, name
        sub = _model_in(info.annotation)
        if sub is not None:
            yield from _walk(sub, path + ".")


def _all_paths() -> dict[str, tuple[type[BaseModel], str]]:
    return {path: (model, name) for path, model, name in _walk(Scenario)}


def _resolve(dotted: str, schema_cache: dict[type[BaseModel], dict[str, Any]]) -> FieldDoc:
    paths = _all_paths()
    if dotted not in paths:
        close = difflib.get_close_matches(dotted, list(paths), n=3, cutoff=0.6)
        last = dotted.rsplit(".", 1)[-1]
        close += [p for p in paths if p.rsplit(".", 1)[-1] == last and p not in close][:3]
        raise UnknownField(dotted, close[:3])
    model, name = paths[dotted]
    if model not in schema_cache:
        schema_cache[model] = model.model_json_schema()
    info = model.model_fields[name]
    return FieldDoc(dotted, info, schema_cache[model]["properties"][name], _model_in(info.annotation))


def field_doc(dotted: str) -> FieldDoc:
    """The field (or table) at ``dotted`` (e.g. ``platform.push.thresholds.completion``).

    Raises
    ------
    UnknownField
        When no field has that path; it names the nearest ones.
    """
    return _resolve(dotted.strip().strip("."), {})


def _number(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10_000 else json.dumps(x)


def _type_text(schema: Mapping[str, Any]) -> str:
    """A field's type and bounds from its JSON Schema, in words (``number in [0, 1]``)."""
    if not isinstance(schema, Mapping) or not schema:
        return "any value"
    if "anyOf" in schema:
        parts = [_type_text(s) for s in schema["anyOf"] if s.get("type") != "null"]
        unset = any(s.get("type") == "null" for s in schema["anyOf"])
        return " or ".join(parts) + (", or unset" if unset else "")
    if "$ref" in schema:
        return f"table {schema['$ref'].rsplit('/', 1)[-1]}"
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = {"number": "number", "integer": "integer", "string": "text", "boolean": "true or false"}.get(
        schema.get("type", ""), schema.get("type", "value")
    )
    if kind == "array":
        item = _type_text(schema.get("items", {}))
        n = (schema.get("minItems"), schema.get("maxItems"))
        size = f" of {n[0]}" if n[0] is not None and n[0] == n[1] else (f", at least {n[0]}" if n[0] else "")
        return f"list{size} of {item}"
    if kind == "object":
        return f"table of names to {_type_text(schema.get('additionalProperties', {}))}"
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    if lo is not None and hi is not None:
        left = "[" if "minimum" in schema else "("
        right = "]" if "maximum" in schema else ")"
        return f"{kind} in {left}{_number(lo)}, {_number(hi)}{right}"
    if lo is not None:
        return f"{kind} {'>=' if 'minimum' in schema else '>'} {_number(lo)}"
    if hi is not None:
        return f"{kind} {'<=' if 'maximum' in schema else '<'} {_number(hi)}"
    if "minLength" in schema or "maxLength" in schema:
        return f"{kind} of {schema.get('minLength', 0)}-{schema.get('maxLength', 'any')} characters"
    return kind


def _unit(name: str) -> str | None:
    return next((unit for suffix, unit in _UNITS if name.endswith(suffix)), None)


_NO_VALUE = object()


def _effective_default(dotted: str) -> Any:
    """A field's value in a default scenario (``Push.thresholds`` sets ``completion``), if it has one there."""
    value: Any = Scenario()
    for part in dotted.split("."):
        if not isinstance(value, BaseModel):
            return _NO_VALUE
        value = getattr(value, part)
    return value


def _default_text(info: FieldInfo, value: Any = _NO_VALUE) -> str:
    if value is _NO_VALUE:
        value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "its table's defaults"
    return _toml(value)


def _get(data: Any, path: list[str]) -> Iterator[Any]:
    """Values at ``path`` in raw TOML data (through arrays of tables, each entry)."""
    if not path:
        yield data
        return
    if isinstance(data, list):
        for item in data:
            yield from _get(item, path)
    elif isinstance(data, dict) and path[0] in data:
        yield from _get(data[path[0]], path[1:])


def _short(value: Any) -> str:
    """A value as set in a file: a table of tables by its names, anything else as TOML (cut at 90 characters)."""
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        return "{" + ", ".join(value) + "}"
    text = _toml(value)
    return text if len(text) <= 90 else text[:87] + "..."


def bundled_settings(dotted: str, folder: Path | None) -> list[str]:
    """``name: value`` for every bundled scenario (and variant) that sets ``dotted`` in its file."""
    out: list[str] = []
    if folder is None:
        return out
    keys = dotted.split(".")
    for path in sorted(folder.glob("*.toml")):
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            continue
        found = [_short(v) for v in _get(data, keys)]
        if found:
            out.append(f"{path.stem}: {', '.join(found)}")
        for variant, table in sorted((data.get("variants") or {}).items()):
            found = [_short(v) for v in _get(table, keys)]
            if found:
                out.append(f"{path.stem} [variant {variant}]: {', '.join(found)}")
    return out


def explain_field(dotted: str, folder: Path | None = None) -> list[str]:
    """Lines explaining one field (or a table: then its fields are listed too)."""
    doc = field_doc(dotted)
    if doc.table is not None:
        return explain_table(doc.path, folder)
    name = doc.path.rsplit(".", 1)[-1]
    lines = [doc.path, *textwrap.wrap(doc.info.description or "", 96, initial_indent="  ", subsequent_indent="  ")]
    lines.append(f"  type:    {_type_text(doc.schema)}")
    if (unit := _unit(name)) is not None:
        lines.append(f"  unit:    {unit}")
    lines.append(f"  default: {_default_text(doc.info, _effective_default(doc.path))}")
    settings = bundled_settings(doc.path, folder)
    lines.append("  bundled scenarios: " + ("none sets it (they use the default)" if not settings else "set in"))
    lines.extend(f"    {s}" for s in settings)
    return lines


def _first_sentence(text: str) -> str:
    """The text up to its first full stop outside parentheses."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if (
            ch == "."
            and depth == 0
            and (i + 1 == len(text) or text[i + 1] == " ")
            and text[i - 3 : i] not in ("e.g", "i.e")
        ):
            return text[: i + 1]
    return text


def list_tables() -> list[str]:
    """One line per table of a scenario file (its dotted name and what it holds)."""
    lines = [f"{'(top level)':<30}  name, description, horizon_h, seed, engine, base_label, variants"]
    for path, model, name in _walk(Scenario):
        info = model.model_fields[name]
        if _model_in(info.annotation) is None or path == "variants" or path.startswith("cross_post.platform."):
            continue
        lines.append(f"{path:<30}  {_first_sentence(info.description or '')}")
    lines.append("(cross_post.platform holds the same tables as platform; viralsim explain TABLE lists its fields)")
    return lines


def explain_table(dotted: str, folder: Path | None = None) -> list[str]:
    """A table's description and one line per field (name, default, first sentence of its description)."""
    doc = field_doc(dotted)
    if doc.table is None:
        return explain_field(dotted, folder)
    lines = [
        f"[{doc.path}]",
        *textwrap.wrap(doc.info.description or "", 96, initial_indent="  ", subsequent_indent="  "),
    ]
    for name, info in doc.table.model_fields.items():
        default = _default_text(info, _effective_default(f"{doc.path}.{name}"))
        lines.append(f"  {name:<26} {default:<12} {_first_sentence(info.description or '')}")
    lines.append(f"  (viralsim explain {doc.path}.FIELD for one field)")
    return lines


# --- a starter scenario ------------------------------------------------------------------------------

#: What a starter from the defaults sets: a topic, and the two levers every bundled scenario sets
#: (at the defaults, completion >= 0.3 and watch_concentration 4, a video stops at the first stage).
_STARTER = {
    "video": {"topic": "animals"},
    "platform": {"push": {"thresholds": {"completion": 0.15, "like": 0.03}}},
    "behaviour": {"watch_concentration": 2.0},
}
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _toml(value: Any) -> str:
    """A TOML literal (inline) for a JSON-like value; None is not written."""
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [f"{_key(k)} = {_toml(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, 100, initial_indent="# ", subsequent_indent="# ")


def _flat(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in table.items():
        if isinstance(v, dict) and v:
            yield from _flat(v, f"{prefix}{_key(k)}.")
        else:
            yield f"{prefix}{_key(k)}", v


#: Table -> {field: the fields it replaces when set}: a starter writes those as comments.
_SUPERSEDED = {"platform.push": {"cohorts": ("first_cohort", "growth", "max_stages")}}


def starter_toml(name: str, like: Scenario | None = None, like_name: str | None = None) -> str:
    """A commented starter scenario: every table with its fields, each after its description.

    Parameters
    ----------
    name : str
        The scenario's ``name``.
    like : Scenario, optional
        A scenario whose values (and variants) to start from; default: the defaults,
        with the first topic as the video's topic.
    like_name : str, optional
        Where ``like`` comes from, for the header comment.
    """
    base = like if like is not None else Scenario.model_validate(_STARTER)
    origin = (
        f"the bundled scenario {like_name!r}"
        if like_name
        else "the defaults, with the bundled scenarios' push thresholds and watch_concentration"
    )
    out = [
        f"# {name}: a viralsim scenario, started from {origin}.",
        "# Every field is explained by `viralsim explain FIELD` (e.g. viralsim explain platform.push.thresholds);",
        "# a field left out takes its default. Check with `viralsim validate`, run with `viralsim run`.",
        "",
        f"name = {_toml(name)}",
        f"description = {_toml(base.description or 'A new scenario (say here what it shows).')}",
    ]
    for field in ("horizon_h", "seed", "engine", "base_label"):
        setting = getattr(base, field)
        out += [
            "",
            *_comment(Scenario.model_fields[field].description or ""),
            f"{field} = {_toml(setting)}" if setting is not None else f"# {field} =   (unset)",
        ]
    tables = list(_STARTER_TABLES)
    if base.engine == "agents":
        tables += ["agents", *(["marketplace"] if base.marketplace is not None else [])]
    if base.cross_post is not None:
        tables.append("cross_post")
    for table in tables:
        doc = field_doc(table)
        value: Any = base
        for part in table.split("."):
            value = getattr(value, part)
        out += ["", *_comment(doc.info.description or ""), f"[{table}]"]
        # fields another field replaces when it is set (writing both is refused)
        ignored = {f for by, fs in _SUPERSEDED.get(table, {}).items() if getattr(value, by) is not None for f in fs}
        for fname, info in type(value).model_fields.items():
            v = getattr(value, fname)
            if fname == "platform" and table == "cross_post":  # the second platform: what differs from the defaults
                v = v.model_dump(exclude_defaults=True)
            out += _comment(info.description or "")
            if fname in ignored:
                out.append(f"# {fname} = {_toml(v)}   (not used while cohorts is set)")
            else:
                out.append(f"{fname} = {_toml(v)}" if v is not None else f"# {fname} =   (unset)")
    for vname, override in base.variants.items():
        out += ["", f"[variants.{_key(vname)}]", *(f"{k} = {_toml(v)}" for k, v in _flat(override))]
    return "\n".join(out) + "\n"
