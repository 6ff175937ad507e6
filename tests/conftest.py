"""Fixtures shared by the test modules (paths are in ``paths.py``)."""

from __future__ import annotations

import pytest
from paths import TINY

from viralsim import Scenario, load_scenario


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    """The bundled ``scenarios/tiny.toml`` (a frozen scenario)."""
    return load_scenario(TINY)
