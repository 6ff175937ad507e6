"""The root of a scenario (:class:`Scenario`), its cross-post, and variants merged into it.

A variant or a ``--param`` grid point is a table merged into the base scenario
(:func:`merge_tables`) and validated again (:func:`apply_variant`). A scenario
object also keeps which record modes it passed the checks of
:mod:`viralsim.engines.checks` for, and the variants made from it, so that one
command checks each scenario once; that bookkeeping is not part of its value.
This module does not check anything itself and does no IO.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, field_validator

from viralsim.scenario.agents import Agents, Marketplace
from viralsim.scenario.platform import Platform
from viralsim.scenario.tables import Creator, Population, PositiveFloat, SocialGraph, _Strict
from viralsim.scenario.video import Behaviour, Video

__all__ = ["BASE_NAME", "LABEL_KEY", "MAX_LABEL", "MAX_SEED", "CrossPost", "Scenario", "apply_variant", "merge_tables"]

#: Largest root seed: seeds are stored in 64-bit integer columns (runs.parquet, views tables).
MAX_SEED = 2**63 - 1
#: The key of a ``[variants.NAME]`` table that gives the variant a display name (not a field it overrides).
LABEL_KEY = "label"
#: How the base scenario is named among its variants when ``base_label`` is not set.
BASE_NAME = "base"
#: Longest display name of the base or a variant (characters): it heads a table column and a chart's legend.
MAX_LABEL = 40


class _Checks:
    """What one scenario object has been checked for, and the scenarios made from it.

    Bookkeeping, not part of the scenario's value: any two compare equal, so that
    a checked scenario equals an unchecked one with the same fields.
    """

    def __init__(self) -> None:
        self.records: set[str] = set()
        self.derived: dict[str, Scenario] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Checks)

    __hash__ = None  # type: ignore[assignment]


class CrossPost(_Strict):
    """Post the video again on a second platform, if it did well on the first.

    The second platform has its own users (a population drawn like the first's,
    from its own random streams), its own social graph from the same generator,
    the creator's ``followers`` there, and its own ``platform`` table. The same
    video (appeal, topic, behaviour) goes up there ``after_h`` hours after the
    first upload, if by then it had at least ``if_views_at_least`` views.
    """

    after_h: PositiveFloat = Field(
        48.0,
        description="Hours after the first upload at which its views are counted and the video goes up on the second"
        " platform (> 0; upload_h + after_h must come before horizon_h).",
    )
    if_views_at_least: Annotated[int, Field(ge=0)] = Field(
        0,
        description="Views on the first platform (by after_h) the video needs to be cross-posted (0 = always).",
    )
    followers: Annotated[int, Field(ge=0)] = Field(
        200,
        description="The creator's followers on the second platform (count): its Following-feed audience there.",
    )
    platform: Platform = Field(
        Platform(),
        description='The second platform\'s moderation, recognition, push (mode = "social": none) and feeds.',
    )


class Scenario(_Strict):
    """One simulated world: population, graph, creator, video, platform, behaviour."""

    name: Annotated[str, Field(min_length=1)] = Field(
        "scenario", description="Short name of the scenario, shown in tables, plots and reports."
    )
    description: str = Field("", description="One line saying what the scenario shows (listed by viralsim scenarios).")
    horizon_h: PositiveFloat = Field(
        168.0,
        description="Simulated hours from t = 0 (Monday 00:00 UTC; 168 = one week). Views, shares and stages after it"
        " never happen, so a short horizon cuts the slow tail of a push and of a cascade.",
    )
    seed: Annotated[int, Field(ge=0)] = Field(
        1,
        description="Root seed of the run's named random streams (>= 0; --seed overrides it). The same scenario and"
        " seed give identical numbers; variants of one seed share common random numbers.",
    )
    population: Population = Field(
        Population(), description="Who is on the platform: size, topics, interests, activity and propensities."
    )
    social_graph: SocialGraph = Field(
        SocialGraph(), description="Who follows whom: the graph that shares and the Following feed travel on."
    )
    creator: Creator = Field(
        Creator(), description="The uploading account: its followers and an optional campaign fee."
    )
    video: Video = Field(
        Video(), description="The uploaded video: topic, duration, appeal, originality, trend and upload time."
    )
    platform: Platform = Field(
        Platform(), description="The platform's steps: moderation, recognition, the staged push and the feeds."
    )
    behaviour: Behaviour = Field(
        Behaviour(), description="How viewers react: watch fractions, completion and action probabilities."
    )
    cross_post: CrossPost | None = Field(
        None, description="A second platform the video is posted to if it did well on the first (unset: one platform)."
    )
    engine: Literal["core", "agents"] = Field(
        "core",
        description='"core": one video followed in vectorised batches (fast, up to 2e9 users); "agents": every user'
        " a SimPy process with sessions and a feed (needed for attention, boredom and a marketplace).",
    )
    agents: Agents = Field(
        Agents(), description='The agent engine\'s users: attention, boredom, feed mixing, drift (engine = "agents").'
    )
    marketplace: Marketplace | None = Field(
        None,
        description='Many creators and videos competing for the same users (engine = "agents"); unset: the'
        " scenario's one video.",
    )
    base_label: Annotated[str, Field(min_length=1, max_length=MAX_LABEL)] | None = Field(
        None,
        description='Display name of the base scenario among its variants (e.g. "micro-influencer"; 1-40'
        ' characters), shown in tables, charts, the report and --json beside the key "base". Unset: "base".'
        " Changes no result.",
    )
    variants: dict[str, dict[str, Any]] = Field(
        {},
        description="Named variants: tables that override any fields of the base scenario (compared with the same"
        ' random numbers by viralsim compare). A variant\'s own key label = "..." gives it a display name (1-40'
        " characters, shown in tables, charts and the report; default: its NAME); it overrides nothing.",
    )

    _checks: _Checks = PrivateAttr(default_factory=lambda: _Checks())

    @field_validator("seed")
    @classmethod
    def _seed_fits(cls, v: int) -> int:
        if v > MAX_SEED:
            raise ValueError(f"must be <= 2**63 - 1 (seeds are stored as 64-bit integers), got {v}")
        return v

    def variant(self, name: str | None) -> Scenario:
        """The scenario with variant ``name`` applied (``None``: the base itself)."""
        if name is None:
            return self
        override = self.override(name)
        if LABEL_KEY in self.variants[name] or self.base_label is not None:
            # the variant's scenario carries its own display name (its base_label), so a run of it names itself
            override = {**override, "base_label": self.variant_label(name)}
        return self.derive(override)

    def override(self, name: str) -> dict[str, Any]:
        """The fields variant ``name`` overrides: its table without its display name (:data:`LABEL_KEY`)."""
        if name not in self.variants:
            known = ", ".join(sorted(self.variants)) or "none"
            raise KeyError(f"unknown variant {name!r} (known: {known})")
        return {k: v for k, v in self.variants[name].items() if k != LABEL_KEY}

    def variant_label(self, name: str | None) -> str:
        """The display name of variant ``name`` (``None`` or ``"base"``: the base scenario).

        A variant's ``label`` key, else its name; the base's ``base_label``, else ``"base"``.
        A display name changes no result: runs, tables and files keep the variant's key.
        The scenario :meth:`variant` makes carries the variant's display name as its
        ``base_label`` (when the base or the variant has one).
        """
        if name is None or (name == BASE_NAME and name not in self.variants):
            return self.base_label or BASE_NAME
        label = self.variants.get(name, {}).get(LABEL_KEY)
        return label if isinstance(label, str) and label else name

    def derive(self, override: dict[str, Any]) -> Scenario:
        """:func:`apply_variant` of ``override``, made once per scenario object and kept.

        The scenario is frozen, so the same override always gives the same scenario:
        keeping it lets a variant or a grid point be checked once, when it is first made.
        """
        try:
            key = json.dumps(override, sort_keys=True)
        except (TypeError, ValueError):  # values JSON cannot write: made again each time
            return apply_variant(self, override)
        made = self._checks.derived.get(key)
        if made is None:
            made = self._checks.derived[key] = apply_variant(self, override)
        return made

    def is_checked(self, record: str = "summary") -> bool:
        """Whether this object passed ``viralsim.engines.checks`` for ``record`` on this machine's memory."""
        return record in self._checks.records

    def mark_checked(self, record: str = "summary") -> None:
        """Record that this object passed the checks for ``record`` (``"full"`` covers ``"summary"``).

        Called by :mod:`viralsim.engines.checks` only; the mark is bookkeeping, not part of
        the scenario's value (equality, dumps and the JSON schema ignore it).
        """
        self._checks.records.update(("full", "summary") if record == "full" else (record,))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Scenario:
        """A copy (see pydantic) that is not marked checked: ``update`` is not validated."""
        out = super().model_copy(update=update, deep=deep)
        out._checks = _Checks()
        return out

    def second_platform(self) -> Scenario | None:
        """The world of the cross-post: this scenario on ``cross_post.platform`` (None without one).

        The creator has ``cross_post.followers`` there (no node of an edge list), the
        video goes up ``cross_post.after_h`` after the first upload, and the campaign fee
        stays with the first platform.
        """
        cp = self.cross_post
        if cp is None:
            return None
        data = self.model_dump(exclude={"variants", "cross_post"}, exclude_none=True)
        data["platform"] = cp.platform.model_dump(exclude_none=True)
        data["creator"] = {"followers": cp.followers}
        data["video"]["upload_h"] = self.video.upload_h + cp.after_h
        return Scenario.model_validate(data)


def merge_tables(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged into a copy of ``base``, table by table (how variants apply)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_tables(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_variant(scenario: Scenario, override: dict[str, Any]) -> Scenario:
    """Return a new scenario with ``override`` (a nested table) merged into it.

    Raises ``pydantic.ValidationError`` when the merged scenario is invalid.
    """
    data = scenario.model_dump(exclude={"variants"}, exclude_none=True)
    merged = merge_tables(data, override)
    merged["variants"] = {}
    return Scenario.model_validate(merged)
