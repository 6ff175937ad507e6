"""``--param FIELD=VALUES`` strings of ``viralsim sweep``, parsed and checked against the scenario.

VALUES is a list ``0.3,0.5,0.7`` (numbers, ``true``/``false`` or words), a range
``START:STOP:COUNT`` (COUNT evenly spaced values, both ends included; whole numbers
stay whole when both ends are written as integers), or one value. Every value is
applied to the scenario and validated before anything runs; a problem is one line:
``--param video.appeal=0.3,1.5: must be <= 1, got 1.5``. A field whose values would
all give the same runs (``seed``, labels, the growth rule under explicit cohorts) is
refused with the reason.

``--param FIELD=LO:HI`` of ``viralsim fit`` and ``viralsim sensitivity`` is a range for a
continuous draw (:func:`parse_priors`): the same field checks, both ends applied and
validated; a whole-number field draws whole numbers.
"""

from __future__ import annotations

import difflib
import math
import typing
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from viralsim.engines.checks import check, first_problem
from viralsim.experiments.plan import dotted_override
from viralsim.inference.abc import Prior
from viralsim.io.graph_file import is_int
from viralsim.scenario import Scenario, merge_tables

__all__ = ["ParamError", "parse_param", "parse_params", "parse_priors"]

_EXAMPLE = "e.g. video.appeal=0.3,0.5,0.7 or platform.push.thresholds.completion=0.2:0.6:9"


class ParamError(ValueError):
    """A ``--param`` string that cannot be used (the message is one line naming it)."""


def parse_params(texts: typing.Sequence[str], scenario: Scenario) -> dict[str, list[Any]]:
    """Every ``--param`` parsed and validated: dotted field -> values, in the order given."""
    out: dict[str, list[Any]] = {}
    for text in texts:
        path, values = parse_param(text, scenario)
        if path in out:
            raise ParamError(f"--param {path}: given twice (put all its values in one --param)")
        out[path] = values
    return out


def parse_param(text: str, scenario: Scenario) -> tuple[str, list[Any]]:
    """One ``FIELD=VALUES`` string -> ``(dotted field, values)``, each value valid for ``scenario``."""
    if "=" not in text:
        raise ParamError(f"--param {text!r}: expected FIELD=VALUES, {_EXAMPLE}")
    path, spec = (part.strip() for part in text.split("=", 1))
    if not path:
        raise ParamError(f"--param {text!r}: no field name before '=', {_EXAMPLE}")
    _check_field(path)
    _check_effect(path, scenario)
    if not spec:
        raise ParamError(f"--param {path}: no values after '=', {_EXAMPLE}")
    values = _range(path, spec) if spec.count(":") == 2 and "," not in spec else _list(path, spec)
    if len(set(map(repr, values))) != len(values):
        raise ParamError(f"--param {path}={spec}: a value is repeated")
    for v in values:
        _check_value(path, spec, v, scenario)
    return path, values


def parse_priors(texts: typing.Sequence[str], scenario: Scenario) -> list[Prior]:
    """Every ``--param FIELD=LO:HI`` of ``fit``/``sensitivity``: a uniform range, both ends valid for ``scenario``."""
    out: list[Prior] = []
    for text in texts:
        if "=" not in text:
            raise ParamError(f"--param {text!r}: expected FIELD=LO:HI, e.g. video.appeal=0.3:0.99")
        path, spec = (part.strip() for part in text.split("=", 1))
        if not path:
            raise ParamError(f"--param {text!r}: no field name before '=', e.g. video.appeal=0.3:0.99")
        if any(p.path == path for p in out):
            raise ParamError(f"--param {path}: given twice")
        _check_field(path)
        _check_effect(path, scenario)
        ends = [e.strip() for e in spec.split(":")]
        try:
            if len(ends) != 2:
                raise ValueError
            lo, hi = float(ends[0]), float(ends[1])
        except ValueError:
            raise ParamError(f"--param {path}={spec}: expected a range LO:HI of two numbers, e.g. 0.3:0.99") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ParamError(f"--param {path}={spec}: LO must be below HI, both finite")
        now = _current(scenario, path)
        integer = (isinstance(now, int) and not isinstance(now, bool)) or (
            now is None and is_int(ends[0]) and is_int(ends[1])
        )
        for end in (lo, hi):
            _check_value(path, spec, round(end) if integer else end, scenario)
        out.append(Prior(path, lo, hi, integer))
    return out


def _current(scenario: Scenario, path: str) -> Any:
    """The scenario's value of a dotted field (None when unset)."""
    node: Any = scenario
    for part in path.split("."):
        node = getattr(node, part, None)
    return node


def _check_field(path: str) -> None:
    """The dotted path names a leaf field of the scenario model (else: the closest names)."""
    model: type[BaseModel] | None = Scenario
    parts = path.split(".")
    for i, part in enumerate(parts):
        if model is None:
            raise ParamError(f"--param {path}: {'.'.join(parts[:i])} is not a table")
        if part not in model.model_fields or part == "variants":
            names = [n for n in model.model_fields if n != "variants"]
            close = difflib.get_close_matches(part, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (fields: {', '.join(names)})"
            where = ".".join(parts[: i + 1])
            raise ParamError(f"--param {path}: unknown field {where!r}{hint}")
        model = _model_in(model.model_fields[part].annotation)
    if model is not None:
        raise ParamError(f"--param {path}: is a table; sweep one of its fields ({', '.join(model.model_fields)})")


#: Fields whose sweep would change no run, and why.
_NO_EFFECT = {
    "seed": "the seed is not swept: every grid point already runs --runs independent replicates "
    "(run i uses SeedSequence(seed, spawn_key=(i,)), the same at every point); use --runs N for more "
    "replicates and --seed for another root seed",
    "name": "the scenario's name is a label: sweeping it changes no run",
    "description": "the scenario's description is a label: sweeping it changes no run",
}
#: Push fields unused when ``platform.push.cohorts`` lists the cohorts.
_GROWTH_RULE = ("platform.push.first_cohort", "platform.push.growth", "platform.push.max_stages")


def _check_effect(path: str, scenario: Scenario) -> None:
    """Refuse a field whose values would all give the same runs (the grid points would be copies)."""
    if path in _NO_EFFECT:
        raise ParamError(f"--param {path}: {_NO_EFFECT[path]}")
    if path in _GROWTH_RULE and scenario.platform.push.cohorts is not None:
        raise ParamError(
            f"--param {path}: has no effect: the scenario sets platform.push.cohorts, which gives every "
            "stage's size (remove it to use first_cohort, growth and max_stages)"
        )


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type):
        return annotation if issubclass(annotation, BaseModel) else None
    if typing.get_origin(annotation) in (list, dict):
        return None
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _range(path: str, spec: str) -> list[Any]:
    start, stop, count = (s.strip() for s in spec.split(":"))
    try:
        a, b = float(start), float(stop)
        n = int(count)
    except ValueError:
        raise ParamError(
            f"--param {path}={spec}: bad range: expected START:STOP:COUNT with numbers and a whole COUNT"
        ) from None
    if n < 1 or not (math.isfinite(a) and math.isfinite(b)):
        raise ParamError(f"--param {path}={spec}: bad range: COUNT must be >= 1 and the ends finite numbers")
    if n > 10_000:
        raise ParamError(f"--param {path}={spec}: bad range: {n} values is too many (at most 10000)")
    grid = np.linspace(a, b, n) if n > 1 else np.array([a])
    if is_int(start) and is_int(stop) and np.all(grid == np.round(grid)):
        return [int(x) for x in np.round(grid)]
    return [float(x) for x in grid]


def _list(path: str, spec: str) -> list[Any]:
    tokens = [t.strip() for t in spec.split(",")]
    if any(not t for t in tokens):
        raise ParamError(f"--param {path}={spec}: an empty value in the list")
    return [_literal(t) for t in tokens]


def _literal(token: str) -> Any:
    low = token.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            value = cast(token.replace("_", "")) if token[:1] not in "_" else None
        except ValueError:
            continue
        if value is not None and not (isinstance(value, float) and not math.isfinite(value)):
            return value
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


def _check_value(path: str, spec: str, value: Any, scenario: Scenario) -> None:
    override = dotted_override(path, value)
    try:
        resolved = scenario.derive(override)  # kept: the sweep's plan reuses the checked scenario
    except ValidationError as err:
        from viralsim.io.scenario_file import _schema_problems

        base = scenario.model_dump(exclude={"variants"}, exclude_none=True)
        found = _schema_problems(err, merge_tables(base, override), ())
        loc, msg = next(((loc, m) for loc, m in found if ".".join(map(str, loc)) == path), found[0])
        where = ".".join(map(str, loc))
        extra = "" if where == path else f" ({where}: "
        raise ParamError(f"--param {path}={spec}: {extra}{msg}{')' if extra else ''}") from None
    if resolved.is_checked():
        return
    bad = check(resolved)
    if bad:
        raise ParamError(f"--param {path}={value!r}: {first_problem(bad)}")
    resolved.mark_checked()
