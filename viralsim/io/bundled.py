"""The bundled scenarios: where they are, their names, and the one rule that turns a scenario argument into a file.

A scenario argument (the CLI's, the lab's) is a file or the name of a bundled
scenario, decided by :func:`find_scenario`: a path that exists wins, then a
bundled name (``bees_bike`` or ``bees_bike.toml``, with no folder). The bundled
scenarios are installed with the package (``viralsim/scenarios/*.toml``), or
read from ``$VIRALSIM_SCENARIOS`` when it names a folder.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["bundled", "find_scenario", "scenarios_dir"]


def scenarios_dir() -> Path | None:
    """The folder of bundled scenarios: $VIRALSIM_SCENARIOS when set, else the one installed with the package."""
    candidates = [os.environ.get("VIRALSIM_SCENARIOS"), Path(__file__).resolve().parents[1] / "scenarios"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


def bundled(folder: Path | None) -> dict[str, Path]:
    """Bundled scenario name -> its file (the ``.toml`` files of ``folder``), sorted by name; empty without one."""
    if folder is None or not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def find_scenario(arg: str, folder: Path | None) -> str:
    """The file a scenario argument names: ``arg`` itself if it exists, else the bundled scenario it names.

    A bundled name is a bare name (``bees_bike``) or a bare file name
    (``bees_bike.toml``), with no folder, looked up in ``folder``. Anything else
    is returned unchanged (loading it then says why it cannot be read).
    """
    path = Path(arg)
    if path.exists() or path.parent != Path("."):
        return arg
    found = bundled(folder).get(path.stem if path.suffix == ".toml" else path.name)
    return arg if found is None else str(found)
