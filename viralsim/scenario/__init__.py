"""Scenario: the frozen, validated description of one simulated world.

A scenario is *described* here and *run* by :mod:`viralsim.engines` (the Ciw
split). Every model is frozen and forbids unknown keys; units are in field
names (``*_h`` hours, ``*_s`` seconds, ``*_min`` minutes); probabilities are
in [0, 1]. The tables live in :mod:`~viralsim.scenario.tables` (population,
graph, creator), :mod:`~viralsim.scenario.video` (video, behaviour), :mod:`~viralsim.scenario.platform`
(with :mod:`~viralsim.scenario.moderation` and :mod:`~viralsim.scenario.push`) and
:mod:`~viralsim.scenario.agents`; the root and variants in
:mod:`~viralsim.scenario.root`; checks that span several fields in
:mod:`~viralsim.scenario.checks`, as ``(location, message)`` pairs. What an
engine can run (memory, limits) is checked by the engine
(:mod:`viralsim.engines.checks`), not here. This package does no IO.
"""

from viralsim.scenario.agents import Agents, AppealDistribution, AttentionBudget, FollowerCounts, Marketplace
from viralsim.scenario.checks import Problem, scenario_problems
from viralsim.scenario.platform import (
    KPI_NAMES,
    Following,
    Moderation,
    Platform,
    Push,
    Recognition,
    ReviewTime,
    ScoreWeights,
    Sharing,
    Thresholds,
)
from viralsim.scenario.root import CrossPost, Scenario, apply_variant, merge_tables
from viralsim.scenario.tables import (
    AUTO_MATERIALISED_USERS,
    DEFAULT_DIURNAL,
    MAX_MATERIALISED_USERS,
    MAX_STAGES,
    MAX_USERS,
    Creator,
    Population,
    Sessions,
    SocialGraph,
    representation,
)
from viralsim.scenario.video import Behaviour, Video

__all__ = [
    "AUTO_MATERIALISED_USERS",
    "DEFAULT_DIURNAL",
    "KPI_NAMES",
    "MAX_MATERIALISED_USERS",
    "MAX_STAGES",
    "MAX_USERS",
    "Agents",
    "AppealDistribution",
    "AttentionBudget",
    "Behaviour",
    "Creator",
    "CrossPost",
    "FollowerCounts",
    "Following",
    "Marketplace",
    "Moderation",
    "Platform",
    "Population",
    "Problem",
    "Push",
    "Recognition",
    "ReviewTime",
    "Scenario",
    "ScoreWeights",
    "Sessions",
    "Sharing",
    "SocialGraph",
    "Thresholds",
    "Video",
    "apply_variant",
    "merge_tables",
    "representation",
    "scenario_problems",
]
