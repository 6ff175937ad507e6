"""The import layering of viralsim, checked on the source (docs/design.md §4 quotes :data:`LAYERS`).

Every module under ``viralsim/`` belongs to exactly one layer of :data:`LAYERS`
and imports only modules of its own layer or of lower ones. The two engine
packages (``viralsim.engines.cohort`` and ``viralsim.engines.agents``) never
import each other, and the modules' top-level imports form no cycle.

The check reads the source (``ast``), so it sees every import, including the
ones inside functions and ``if TYPE_CHECKING:`` blocks (a type-only import is
still a dependency and is held to the same layers; there are none today). The
cycle check uses only the imports that run when a module is imported: those at
module level (and in class bodies), not those inside functions or under
``if TYPE_CHECKING:``. Importing ``a.b.c`` also runs the packages ``a`` and
``a.b``; those implicit parent imports are not counted (every module would
otherwise depend on the ``viralsim`` facade). ``from pkg import name`` counts
as an import of ``pkg.name`` when that is a module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from paths import ROOT

PACKAGE = ROOT / "viralsim"

#: The layers, lowest first: (name, patterns). A pattern ``a.b.*`` covers the module ``a.b``
#: and everything below it; a pattern without ``.*`` covers exactly that module. The most
#: specific pattern wins (``viralsim.engines.cohort.memory`` before ``viralsim.engines.cohort.*``).
#: A module may import modules of its own layer and of the layers above it in this table.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("random streams", ("viralsim.rng", "viralsim._version")),
    ("machine", ("viralsim.machine", "viralsim.machine.*")),
    ("scenario", ("viralsim.scenario", "viralsim.scenario.*")),
    ("model", ("viralsim.model.*",)),
    ("views and records", ("viralsim.views", "viralsim.records", "viralsim.records.*")),
    ("result", ("viralsim.result",)),
    (
        "engine memory models",
        ("viralsim.engines.memory", "viralsim.engines.cohort.memory", "viralsim.engines.agents.memory"),
    ),
    (
        "engine-shared",
        (
            "viralsim.engines.contracts",
            "viralsim.engines.moderation",
            "viralsim.engines.push",
            "viralsim.engines.registry",
            "viralsim.engines.checks",
        ),
    ),
    ("engines", ("viralsim.engines.cohort.*", "viralsim.engines.agents.*")),
    ("dispatch", ("viralsim.engines",)),
    ("experiments and analysis", ("viralsim.experiments.*", "viralsim.analysis.*", "viralsim.inference.*")),
    ("io", ("viralsim.io.*",)),
    ("plots", ("viralsim.plots.*",)),
    ("report", ("viralsim.report.*",)),
    ("console", ("viralsim.console", "viralsim.explain")),
    ("lab", ("viralsim.lab.*",)),
    ("cli", ("viralsim.cli", "viralsim.cli.*")),
    ("public facade", ("viralsim", "viralsim.__main__", "viralsim.ensemble", "viralsim.executors")),
)

#: Packages that must not import each other (whichever layer they are in).
APART = ("viralsim.engines.cohort", "viralsim.engines.agents")


@dataclass(frozen=True)
class Import:
    """One import statement's target inside viralsim."""

    module: str  # the importing module
    target: str  # the imported module
    line: int
    at_import: bool  # runs when the module is imported (module level, not under TYPE_CHECKING)


@dataclass(frozen=True)
class Layer:
    rank: int
    name: str


def layer_of(module: str) -> Layer | None:
    """The layer of ``module`` (the most specific pattern that covers it), or None."""
    best: tuple[int, int, str] | None = None  # (specificity, rank, name)
    for rank, (name, patterns) in enumerate(LAYERS):
        for p in patterns:
            if p.endswith(".*"):
                base = p[:-2]
                hit = module == base or module.startswith(base + ".")
                spec = 2 * base.count(".")
            else:
                hit = module == p
                spec = 2 * p.count(".") + 1  # an exact name beats a package pattern of the same depth
            if hit and (best is None or spec > best[0]):
                best = (spec, rank, name)
    return None if best is None else Layer(best[1], best[2])


def module_name(path: Path) -> str:
    """``viralsim/engines/__init__.py`` -> ``viralsim.engines``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(module: str, source: str, modules: frozenset[str], is_package: bool = False) -> Iterator[Import]:
    """Every import of a viralsim module in ``source`` (the code of ``module``)."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST, at_import: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name == "viralsim" or alias.name.startswith("viralsim."):
                        yield Import(module, alias.name, child.lineno, at_import)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    source_mod = ".".join([*base, child.module] if child.module else base)
                else:
                    source_mod = child.module or ""
                if not (source_mod == "viralsim" or source_mod.startswith("viralsim.")):
                    continue
                for alias in child.names:
                    sub = f"{source_mod}.{alias.name}"
                    yield Import(module, sub if sub in modules else source_mod, child.lineno, at_import)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), at_import)
            else:
                yield from visit(child, at_import)

    yield from visit(tree, True)


def problems(sources: Mapping[str, tuple[str, str, bool]]) -> list[str]:
    """Layering problems of a set of modules: ``{module: (file, source, is_package)}`` -> messages.

    A message names the file and line of the import at fault.
    """
    modules = frozenset(sources)
    out: list[str] = []
    edges: dict[str, list[Import]] = {m: [] for m in modules}
    for module, (file, source, is_package) in sorted(sources.items()):
        mine = layer_of(module)
        if mine is None:
            out.append(f"{file}:1: module {module} belongs to no layer (add it to LAYERS in tests/test_layers.py)")
            continue
        for imp in imports(module, source, modules, is_package):
            theirs = layer_of(imp.target)
            where = f"{file}:{imp.line}"
            if theirs is None:
                out.append(f"{where}: {module} imports {imp.target}, which belongs to no layer")
            elif theirs.rank > mine.rank:
                out.append(f"{where}: {module} ({mine.name}) imports {imp.target} from a higher layer ({theirs.name})")
            for a, b in (APART, APART[::-1]):
                if _within(module, a) and _within(imp.target, b):
                    out.append(f"{where}: {module} imports {imp.target}: {a} and {b} never import each other")
            if imp.at_import and imp.target in edges and imp.target != module:
                edges[module].append(imp)
    for cycle in _cycles(edges):
        steps = ", ".join(f"{sources[i.module][0]}:{i.line} {i.module} -> {i.target}" for i in cycle)
        out.append(f"import cycle: {steps}")
    return out


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _cycles(edges: dict[str, list[Import]]) -> list[list[Import]]:
    """One cycle of each strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for imp in edges[v]:
            w = imp.target
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)

    for v in sorted(edges):
        if v not in index:
            connect(v)
    out = []
    for comp in comps:
        members = set(comp)
        start = min(comp)
        path, seen, v = [], {start}, start
        while True:  # follow edges inside the component until a module repeats
            imp = next(i for i in edges[v] if i.target in members)
            path.append(imp)
            v = imp.target
            if v in seen:
                break
            seen.add(v)
        out.append(path[next(k for k, i in enumerate(path) if i.module == v) :])
    return out


def package_sources() -> dict[str, tuple[str, str, bool]]:
    """Every module under ``viralsim/``: ``{module: (file, source, is_package)}``."""
    return {
        module_name(p): (str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"), p.name == "__init__.py")
        for p in sorted(PACKAGE.rglob("*.py"))
    }


# -- the package as it is -------------------------------------------------------------------------


def test_every_module_imports_only_its_own_layer_or_lower_ones() -> None:
    found = problems(package_sources())
    assert not found, "\n".join(found)


def design_table(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The layer table of docs/design.md §4: ``(name, patterns)`` rows between its markers."""
    body = text.split("<!-- layers: begin", 1)[1].split("<!-- layers: end -->", 1)[0]
    rows = []
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            rows.append((cells[1], tuple(x.strip().strip("`") for x in cells[2].split(","))))
    return rows


def test_the_design_quotes_the_layer_table() -> None:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    assert design_table(text) == [(name, patterns) for name, patterns in LAYERS]


def test_the_registered_engines_are_in_the_engines_layer() -> None:
    from viralsim.engines import ENGINES

    for name, module in ENGINES.items():
        layer = layer_of(module)
        assert layer is not None and layer.name == "engines", (name, module, layer)


def test_import_does_not_pull_in_plotting_pandas_or_networkx() -> None:
    code = (
        "import sys, viralsim\n"
        "viralsim.simulate, viralsim.Scenario, viralsim.structural_virality\n"
        "bad = [m for m in ('matplotlib', 'pandas', 'networkx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# -- the check itself can fail --------------------------------------------------------------------


def _fake(**modules: str) -> dict[str, tuple[str, str, bool]]:
    return {m.replace("__", "."): (m.replace("__", "/") + ".py", src, False) for m, src in modules.items()}


def test_an_upward_import_is_named_with_its_file_and_line() -> None:
    found = problems(
        _fake(
            viralsim__model__graph="import numpy\n\n\ndef f():\n    from viralsim.plots import tree\n",
            viralsim__plots__tree="",
        )
    )
    assert found == [
        "viralsim/model/graph.py:5: viralsim.model.graph (model) imports viralsim.plots.tree from a higher layer (plots)"
    ]


def test_a_lower_import_passes_and_layers_are_most_specific_first() -> None:
    assert not problems(_fake(viralsim__plots__tree="from viralsim.views import time_order\n", viralsim__views=""))
    assert layer_of("viralsim.engines").name == "dispatch"  # type: ignore[union-attr]
    assert layer_of("viralsim.engines.cohort.memory").name == "engine memory models"  # type: ignore[union-attr]
    assert layer_of("viralsim.engines.cohort.state").name == "engines"  # type: ignore[union-attr]
    assert layer_of("viralsim.enginesx") is None


def test_the_engines_never_import_each_other() -> None:
    found = problems(
        _fake(
            viralsim__engines__cohort__state="from viralsim.engines.agents.world import World\n",
            viralsim__engines__agents__world="",
        )
    )
    assert len(found) == 1 and "viralsim/engines/cohort/state.py:1:" in found[0] and "never import" in found[0]


def test_a_module_outside_every_layer_fails() -> None:
    found = problems(_fake(viralsim__engines__extra="", viralsim__model__graph="import viralsim.engines.extra\n"))
    assert "viralsim/engines/extra.py:1: module viralsim.engines.extra belongs to no layer" in found[0]
    assert "viralsim/model/graph.py:1:" in found[1]


def test_a_cycle_of_module_level_imports_fails_but_a_function_level_one_does_not() -> None:
    cyclic = _fake(
        viralsim__model__graph="from viralsim.model import kpi\n",
        viralsim__model__kpi="\nfrom viralsim.model.graph import CSRGraph\n",
    )
    found = problems(cyclic)
    assert len(found) == 1 and found[0].startswith("import cycle:")
    assert "viralsim/model/graph.py:1" in found[0] and "viralsim/model/kpi.py:2" in found[0]
    deferred = _fake(
        viralsim__model__graph="from viralsim.model import kpi\n",
        viralsim__model__kpi="def f():\n    from viralsim.model.graph import CSRGraph\n",
    )
    assert not problems(deferred)
