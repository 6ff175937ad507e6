"""The lab's parameters: which scenario fields get a control, their ranges, and the override they make.

Each :class:`Param` is one scenario field (a dotted path) with the kind of
control the page shows for it (a slider, a number field or a choice), its
bounds and step, and its help text: the field's own ``description`` read from
the scenario model (:func:`viralsim.explain.field_doc`), never written here.
:func:`values_of` reads a scenario's values for the controls; :func:`override`
turns the controls' values back into a nested override (only the fields that
differ from the scenario), which :meth:`~viralsim.scenario.Scenario.derive`
applies. Nothing here imports dash or runs a simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from viralsim.explain import field_doc
from viralsim.scenario import Scenario

__all__ = ["PARAMS", "Param", "choices", "first_sentence", "help_text", "label_of", "override", "values_of"]


@dataclass(frozen=True)
class Param:
    """One control: a scenario field, its control kind and bounds.

    ``kind`` is ``"slider"`` (a number in [lo, hi] by ``step``), ``"number"`` (a
    number field, for counts and rates spanning decades) or ``"choice"`` (the
    field's allowed values, read from its JSON Schema).
    """

    path: str
    label: str
    kind: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    integer: bool = False


#: The controls, in the order the page shows them (grouped by table: video, creator, population,
#: social graph, platform: push, recognition, moderation, following feed, sharing; behaviour).
PARAMS: tuple[Param, ...] = (
    Param("video.appeal", "appeal", "slider", 0.0, 1.0, 0.01),
    Param("video.duration_s", "duration (s)", "slider", 5, 180, 1),
    Param("creator.followers", "followers", "number", 0, 1e9, 1, integer=True),
    Param("population.users", "users", "number", 1_000, 2e9, 1, integer=True),
    Param("population.interest_concentration", "interest concentration", "slider", 0.05, 3.0, 0.05),
    Param("social_graph.mean_following", "mean following (contacts per user)", "number", 1, 10_000, 1),
    Param("platform.push.mode", "push mode", "choice"),
    Param("platform.push.thresholds.completion", "completion threshold", "slider", 0.0, 0.6, 0.01),
    Param("platform.push.watch_probability", "For You watch probability", "slider", 0.0, 1.0, 0.01),
    Param("platform.push.evaluate_after_fraction", "evaluate a stage after (share watched)", "slider", 0.05, 1.0, 0.05),
    Param("platform.recognition.accuracy", "topic recognition accuracy", "slider", 0.0, 1.0, 0.01),
    Param("platform.moderation.moderators", "moderators", "number", 1, 10_000, 1, integer=True),
    Param("platform.following.watch_probability", "follower watch probability", "slider", 0.0, 1.0, 0.01),
    Param("platform.sharing.open_probability", "shared video opened", "slider", 0.0, 1.0, 0.01),
    Param("behaviour.p_share", "share probability (per view)", "number", 0.0, 1.0, 1e-6),
    Param("behaviour.p_like", "like probability (per view)", "number", 0.0, 1.0, 1e-4),
    Param("behaviour.interest_floor", "interest floor", "slider", 0.0, 1.0, 0.01),
    Param("behaviour.watch_concentration", "watch concentration", "slider", 0.5, 8.0, 0.1),
)
BY_PATH = {p.path: p for p in PARAMS}


@cache
def help_text(path: str) -> str:
    """The field's description from the scenario model (the tooltip and help line of its control)."""
    return field_doc(path).info.description or ""


def first_sentence(text: str) -> str:
    """The text up to its first full stop that ends a sentence (not inside parentheses, not "e.g.")."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        end = i + 1 == len(text) or text[i + 1] == " "
        if ch == "." and depth == 0 and end and text[max(0, i - 3) : i] not in ("e.g", "i.e"):
            return text[: i + 1]
    return text


@cache
def choices(path: str) -> tuple[str, ...]:
    """The allowed values of a choice field (its JSON Schema ``enum``)."""
    return tuple(field_doc(path).schema.get("enum", ()))


def label_of(path: str) -> str:
    """The short label of a control."""
    return BY_PATH[path].label


def _get(sc: Scenario, path: str) -> Any:
    value: Any = sc
    for part in path.split("."):
        value = getattr(value, part, None)  # None: a table the scenario does not have
    return value


def values_of(sc: Scenario) -> dict[str, Any]:
    """Every control's value in ``sc`` (``None`` where the field is unset)."""
    return {p.path: _get(sc, p.path) for p in PARAMS}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    return bool(a == b)


def _coerce(param: Param, value: Any) -> Any:
    if value is None or param.kind == "choice":
        return value
    x = float(value)
    return int(round(x)) if param.integer else x


def override(sc: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The nested override that gives the controls' ``values`` from ``sc`` (only the fields that differ).

    A control left empty (``None``) keeps the scenario's value. An override of
    nothing (``{}``) is the scenario itself.
    """
    out: dict[str, Any] = {}
    for path, raw in values.items():
        param = BY_PATH.get(path)
        if param is None or raw is None or raw == "":
            continue
        value = _coerce(param, raw)
        if _same(value, _get(sc, path)):
            continue
        table = out
        *head, last = path.split(".")
        for part in head:
            table = table.setdefault(part, {})
        table[last] = value
    return out
