"""Paths the tests share: the repository, its bundled scenarios and notebooks, the test data.

Import them (``from paths import TINY``); the ``tiny`` scenario fixture is in ``conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

#: The repository's root folder.
ROOT = Path(__file__).resolve().parent.parent
#: The bundled scenarios' folder, and every bundled scenario file (sorted).
SCENARIOS_DIR = ROOT / "scenarios"
SCENARIOS = sorted(SCENARIOS_DIR.glob("*.toml"))
#: The small scenario most tests run, and the worked example.
TINY = SCENARIOS_DIR / "tiny.toml"
BEES = SCENARIOS_DIR / "bees_bike.toml"
#: The notebooks (jupytext percent scripts).
NOTEBOOKS = ROOT / "notebooks"
#: Test data: the bad scenario files and their expected messages.
DATA = ROOT / "tests" / "data"
