"""The README's shell commands work, as documented, from a fresh folder against the installed package.

Every ```` ```bash ```` block of ``README.md`` is read (so a newly documented command is
picked up), continuation lines joined, comments dropped, ``&&`` chains split. Then:

- install commands (``python3 -m venv``, ``pip install``) are not run (the virtualenv
  exists), but every extra they or the prose name (``pip install -e ".[lab]"``) must be one
  of ``pyproject.toml``'s, and the notebook command's modules must import;
- the test suite itself (``python -m pytest``), cluster set-up (``dask``, ``export``, ``ssh``),
  commands that need a running cluster (``--scheduler``) and placeholders (``...``) are skipped;
- every other command runs in bash, in README order, in one temporary folder that holds only
  a copy of ``scenarios/`` (as a fresh clone's root does), with the installed ``viralsim``
  first on ``PATH``; it must exit 0 without a traceback. Heavy ones are made small
  (``--runs 2``, two values per swept field: the command's form is what is tested, not its
  numbers); those that still take seconds (many runs, a written views log, ``platform_scale``,
  a local Dask cluster, or a folder such a command wrote) are marked slow, so the quick
  ones run in a few seconds each. A command documented twice runs once.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import paths
import pytest

README = (paths.ROOT / "README.md").read_text(encoding="utf-8")
EXTRAS = tomllib.loads((paths.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
SKIP_PREFIXES = ("dask ", "export ", "ssh ", "#")
#: Commands that take their work from --runs (default 20-100 runs): run with 2.
RUNS_COMMANDS = ("compare", "sweep", "report", "facts")


@dataclass(frozen=True)
class Command:
    """One documented command: as written, as run, and whether it is slow."""

    written: str
    run: str
    slow: bool


def _blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^ *```bash\n(.*?)^ *```", text, re.S | re.M)]


def _lines(block: str) -> list[str]:
    """The block's commands: continuations joined, comments dropped, ``&&`` chains split."""
    joined = re.sub(r"\\\n\s*", " ", block)
    out: list[str] = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s+)#\s.*$", "", line).strip()  # README comments follow a space
        out += [part.strip() for part in line.split(" && ") if part.strip()]
    return out


def _shrink(cmd: str) -> str:
    """The same command with little work: --runs 2, at most two values per --param, a small fit or Sobol."""
    words = cmd.split()
    if len(words) > 1 and (words[1] in RUNS_COMMANDS or "--runs" in words):
        cmd = re.sub(r"--runs \d+", "--runs 2", cmd) if "--runs" in cmd else f"{cmd} --runs 2"
    if len(words) > 1 and words[1] == "fit":  # ABC: 2 populations of 20 particles (~60 simulations)
        cmd = f"{cmd} --populations 2 --particles 20"
    if len(words) > 1 and words[1] == "sensitivity" and "--n" not in words:  # Sobol: 8 base samples
        cmd = f"{cmd} --n 8"
    cmd = re.sub(r"(--param \S+?=[\d.]+:[\d.]+):\d+", r"\1:2", cmd)
    return re.sub(r"(--param \S+?=[^\s,:]+,[^\s,:]+)(,[^\s:]+)", r"\1", cmd)


def _heavy(cmd: str, slow_dirs: set[str]) -> bool:
    """Seconds or more even made small: many runs, a views log written, the platform, a Dask cluster,
    or reading a folder that such a command wrote."""
    words = cmd.split()
    if len(words) > 1 and (words[1] in RUNS_COMMANDS or "--runs" in words or "--out" in words):
        return True
    return (
        "platform_scale" in cmd or "--workers" in words or any(d in (w.rstrip("/") for w in words) for d in slow_dirs)
    )


def documented() -> tuple[list[Command], list[str]]:
    """The commands to run, and the install commands (not run)."""
    runnable: list[Command] = []
    installs: list[str] = []
    slow_dirs: set[str] = set()
    for block in _blocks(README):
        for cmd in _lines(block):
            if "pip install" in cmd or cmd.startswith("python3 -m venv"):
                installs.append(cmd)
                continue
            cmd = cmd.removeprefix(".venv/bin/")
            if cmd.startswith(SKIP_PREFIXES) or "..." in cmd or "--scheduler" in cmd or "-m pytest" in cmd:
                continue
            slow = _heavy(cmd, slow_dirs)
            if slow and "--out" in cmd.split():
                slow_dirs.add(cmd.split()[cmd.split().index("--out") + 1].rstrip("/"))
            if all(c.written != cmd for c in runnable):  # documented twice: run once
                runnable.append(Command(cmd, _shrink(cmd), slow))
    return runnable, installs


COMMANDS, INSTALLS = documented()


def test_the_readme_documents_commands() -> None:
    written = [c.written for c in COMMANDS]
    assert "viralsim run scenarios/bees_bike.toml" in written  # the first of the two commands
    assert len(written) >= 15 and all(c.split()[0] in ("viralsim", "python") for c in written), written
    assert _shrink("viralsim compare x.toml --variants social") == "viralsim compare x.toml --variants social --runs 2"
    assert _shrink("viralsim sweep x --param a=0.1:0.3:5 --param b=0.7,0.8,0.9 --runs 20") == (
        "viralsim sweep x --param a=0.1:0.3:2 --param b=0.7,0.8 --runs 2"
    )


def test_install_commands_name_extras_that_exist() -> None:
    assert any(c.endswith('pip install -e ".[test]"') for c in INSTALLS), INSTALLS
    named = re.findall(r"pip install (?:-e )?\"?(?:\.|viralsim)\[([\w,-]+)\]", README)
    assert {"test", "lab", "dask", "notebooks"} <= {e for group in named for e in group.split(",")}, named
    for group in named:
        for extra in group.split(","):
            assert extra in EXTRAS, f"README installs the extra {extra!r}, which pyproject.toml does not define"


def test_the_notebook_command_has_what_it_imports() -> None:
    """``jupytext --to notebook --execute`` (notebooks/README.md) needs jupytext, nbconvert and a kernel."""
    text = (paths.NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    assert "jupytext --to notebook --execute notebooks/*.py" in text and 'pip install -e ".[notebooks]"' in text
    wanted = {"jupytext": "jupytext", "nbconvert": "nbconvert", "ipykernel": "ipykernel"}
    listed = {re.split(r"[<>=\[ ]", req)[0].lower() for req in EXTRAS["notebooks"]}
    for module, dist in wanted.items():
        assert dist in listed, f"the notebooks extra lacks {dist}"
        importlib.import_module(module)
    from jupytext.cli import jupytext as _cli  # noqa: F401 - the command's entry point
    from nbconvert.preprocessors import ExecutePreprocessor  # noqa: F401 - what --execute runs


@pytest.fixture(scope="module")
def clone_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh folder with what a clone's root holds for these commands: the scenarios."""
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(paths.SCENARIOS_DIR.resolve(), root / "scenarios")
    return root


def _params() -> list[object]:
    return [pytest.param(c, id=c.written[:70], marks=[pytest.mark.slow] if c.slow else []) for c in COMMANDS]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("command", _params())
def test_documented_command_runs(command: Command, clone_root: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MPLBACKEND": "Agg",
    }
    env.pop("VIRALSIM_SCENARIOS", None)
    run = command.run.replace("python -m viralsim", f"{sys.executable} -m viralsim", 1)
    done = subprocess.run(
        ["bash", "-c", run], cwd=clone_root, env=env, capture_output=True, text=True, timeout=850, check=False
    )
    assert done.returncode == 0, f"{command.run}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr
    if "--json" in run.split():
        import json

        json.loads(done.stdout)
