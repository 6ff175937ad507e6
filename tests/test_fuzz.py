"""Bad input, hardened: fuzzed scenario files, absurd sizes, unwritable outputs and full disks.

Whatever a scenario file holds, the only outcomes are a valid scenario or one
``FILE:LINE: field: message`` line per problem with exit code 1: never a
traceback, never a hang, never a partial output file (docs/design.md §11). The
fuzzers here build on the small ones of ``test_scenario_file.py`` (random text,
random leaf values, character edits) with (a) generated documents of nested
tables, inline tables, arrays of tables, unicode keys and absurd values, sent
through the loader and the CLI, and (b) line-level mutations of the bundled
scenarios, whose valid results are also run when they are small.

Budget: Hypothesis is derandomized and keeps no database (the same examples on
every machine); every example runs under a hard time limit; the whole file
takes about 30 s on a shared 2-core machine (``max_examples`` below).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from paths import BEES, SCENARIOS, TINY
from pydantic import BaseModel

import viralsim.io.outputs as outputs
from viralsim import simulate
from viralsim.cli import main
from viralsim.engines.checks import check
from viralsim.engines.cohort.memory import BYTES_PER_EDGE, memory_estimate, memory_parts
from viralsim.io.graph_file import graph_file_problems
from viralsim.io.scenario_file import ScenarioError, load_scenario, loads_scenario
from viralsim.io.toml_lines import MAX_DEPTH, too_deep
from viralsim.scenario import MAX_MATERIALISED_USERS, Scenario, apply_variant

BUNDLED = {p.stem: p.read_bytes() for p in SCENARIOS}

#: Reproducible on every machine, no example database, generous per-example deadline
#: (a real hang is stopped by :func:`time_limit`, not by the deadline).
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# -- helpers ---------------------------------------------------------------------------------------


def count(what: str) -> None:
    """Count an outcome in Hypothesis' statistics (``--hypothesis-show-statistics``)."""
    if currently_in_test_context():
        event(what)


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging CI) if the block takes longer than ``seconds``."""
    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - not POSIX
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def lines_in(data: bytes | str) -> int:
    return (data.count(b"\n") if isinstance(data, bytes) else data.count("\n")) + 1


def assert_problem_lines(found: list[str], filename: str, data: bytes | str) -> None:
    """One well-formed line per problem: ``FILE:LINE: message``, LINE inside the file, no repeats."""
    assert found, "a ScenarioError without problems"
    assert len(set(found)) == len(found), found
    last = lines_in(data)
    for line in found:
        assert "\n" not in line and "Traceback" not in line, line
        m = re.match(re.escape(filename) + r":(\d+): \S", line)
        assert m, line
        assert 1 <= int(m[1]) <= last, (line, last)


def outcome(path: Path, data: bytes) -> Scenario | list[str]:
    """Load the file at ``path`` (holding ``data``): the scenario, or its problem lines (checked)."""
    with time_limit(20):
        try:
            sc = load_scenario(path)
        except ScenarioError as err:
            assert_problem_lines(err.problems, str(path), data)
            assert str(err) == "\n".join(err.problems)
            count("problems")
            return err.problems
    count("valid")
    return sc


def invoke(*args: str | Path) -> Result:
    with time_limit(60):
        return CliRunner().invoke(main, [str(a) for a in args])


def assert_clean_failure(res: Result, expected: list[str]) -> None:
    """Exit 1, nothing on stdout, exactly the problem lines on stderr, no traceback."""
    assert res.exit_code == 1, (res.exit_code, res.output, res.exception)
    assert res.stdout == ""
    assert res.stderr.splitlines() == expected
    assert "Traceback" not in res.stderr


def cheap(sc: Scenario) -> bool:
    """Small enough to simulate inside the fuzz budget (a fraction of a second)."""
    push, mod = sc.platform.push, sc.platform.moderation
    batches = sum(math.ceil(min(c, sc.population.users) / push.delivery_batch) for c in push.cohort_sizes())
    return (
        sc.population.users <= 50_000
        and memory_estimate(sc) <= 200 * 2**20
        and sum(memory_parts(sc).values()) <= 150 * 2**20
        and batches <= 200
        and mod.background_reviews_per_h * min(sc.horizon_h, 10_000.0) <= 50_000
        and (sc.social_graph.kind != "barabasi_albert" or sc.population.users <= 5_000)
        and sc.social_graph.kind != "edge_list"
        and (sc.engine != "agents" or agent_sessions(sc) <= 100_000)
    )


def agent_sessions(sc: Scenario) -> float:
    """Expected sessions of an agents-engine run (each a SimPy event and some Python: ~5-20 us)."""
    s = sc.population.sessions_per_day
    return sc.population.users * sc.horizon_h / 24.0 * s.median * math.exp(min(s.spread, 10.0) ** 2 / 2)


# -- (a) generated TOML documents --------------------------------------------------------------------


def model_fields(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for arg in [field.annotation, *getattr(field.annotation, "__args__", ())]:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= model_fields(arg)
    return names


FIELD_NAMES = sorted(model_fields(Scenario) | {"animals", "comedy", "social", "v", "big"})
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=6))
nasty_numbers = st.sampled_from(
    [
        0,
        -1,
        1,
        2,
        10**12,
        -(10**12),
        2**63 - 1,
        -(2**63),
        2_000_000_000,
        MAX_MATERIALISED_USERS + 1,
        0.0,
        -0.0,
        0.5,
        1.5,
        1e6,
        1e300,
        -1e300,
        5e-324,
        math.inf,
        -math.inf,
        math.nan,
    ]
)
scalars = st.one_of(
    nasty_numbers,
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 60_000),
    st.floats(),
    st.floats(0, 1),
    st.booleans(),
    st.text(max_size=10),
    st.sampled_from(["animals", "comedy", "social", "content", "all", "small_world", "edge_list", "fixed", ""]),
    st.dates(),
    st.times(),
    st.datetimes(),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
)
#: A small valid scenario that generated documents grow from, so that many reach the schema checks.
VALID_BASE: dict[str, Any] = {
    "name": "fuzz",
    "horizon_h": 48.0,
    "population": {"users": 5000, "topics": ["animals", "comedy"]},
    "social_graph": {"kind": "small_world", "mean_following": 10},
    "creator": {"followers": 50},
    "video": {"topic": "animals"},
    "platform": {"push": {"cohorts": [100, 500, 2000]}},
}


def bare(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def inline(v: Any) -> str:
    """A TOML value written inline (the renderer's only job is to produce *some* TOML)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(inline(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{bare(k)} = {inline(x)}" for k, x in v.items()) + " }"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A TOML document: the valid base with random tables, keys and values merged in, in random styles."""
    doc: dict[str, Any] = json.loads(json.dumps(VALID_BASE)) if draw(st.booleans()) else {}
    for _ in range(draw(st.integers(0, 5))):  # overwrite or add something somewhere
        table = doc
        for part in draw(st.lists(keys, min_size=1, max_size=draw(st.sampled_from([3, 3, 3, 40])))):
            if not isinstance(table.get(part), dict) or draw(st.integers(0, 3)) == 0:
                table[part] = {}
            last, table = table, table[part]
        last[part] = draw(values)
    if draw(st.booleans()):
        if not isinstance(doc.get("variants"), dict):
            doc["variants"] = {}
        doc["variants"]["v"] = draw(st.dictionaries(keys, values, max_size=3))
    lines: list[str] = []

    def table(path: list[str], t: dict[str, Any], array: bool = False) -> None:
        subs = []
        if path:
            lines.append(("[[" if array else "[") + ".".join(map(bare, path)) + ("]]" if array else "]"))
        for k, v in t.items():
            is_tables = isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
            if (isinstance(v, dict) or is_tables) and draw(st.booleans()):
                subs.append((k, v))
            else:
                lines.append(f"{bare(k)} = {inline(v)}")
        for k, v in subs:
            for sub in v if isinstance(v, list) else [v]:
                table([*path, k], sub, array=isinstance(v, list))

    table([], doc)
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=400)
@given(documents())
def test_generated_documents_give_a_scenario_or_problem_lines(text: str) -> None:
    with time_limit(20):
        try:
            sc = loads_scenario(text, filename="gen.toml")
        except ScenarioError as err:
            assert_problem_lines(err.problems, "gen.toml", text)
            count("problems")
            return
    count("valid")
    assert isinstance(sc, Scenario)
    assert check(sc) == []


@settings(FUZZ, max_examples=60)
@given(documents())
def test_generated_documents_through_the_cli(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "gen.toml", Path(tmp) / "out"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        data = path.read_bytes()
        loaded = outcome(path, data)
        res = invoke("validate", path)
        if isinstance(loaded, list):
            assert_clean_failure(res, loaded)
            assert_clean_failure(invoke("run", path, "--out", out, "--json"), loaded)
            assert not out.exists()
            return
        in_files = graph_file_problems(loaded, path)  # an edge list it names (which validate reads too)
        if in_files:
            assert_clean_failure(res, in_files)
            return
        assert res.exit_code == 0 and res.stdout.startswith(f"{path}: ok"), res.output
        if cheap(loaded):
            check_run(path, out)


def check_run(path: Path, out: Path) -> None:
    """``run --out --json`` of a valid file: a complete output folder, or a clean failure and no folder."""
    res = invoke("run", path, "--out", out, "--json")
    assert "Traceback" not in res.stderr
    count(f"run: exit {res.exit_code}")
    if res.exit_code == 0:
        summary = json.loads(res.stdout)
        assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["views"] == summary["views"]
        names = {p.name for p in out.iterdir()}
        assert names == {f"{t}.{e}" for t in ("views", "stages", "reach") for e in ("csv", "parquet")} | {
            "summary.json"
        }
    else:
        assert res.exit_code == 1, (res.output, res.exception)
        assert len(res.stderr.splitlines()) == 1, res.stderr
        assert "internal error" not in res.stderr, res.stderr  # a failed run must be bad input, not a bug
        assert not out.exists()


DEPTH_DOCS = st.builds(
    lambda head, mid, body: head + mid + body,
    st.sampled_from(["", "a = 1\n", "[t]\n", "[[t]]\n"]),
    st.sampled_from(["", "[" + ".".join(["d"] * 20) + "]\n", "[[" + ".".join(["d"] * 20) + "]]\n"]),
    st.builds(
        lambda k, n, v: f"{'.'.join([k] * n)} = {v}\n",
        st.sampled_from(["k", '"q.k"', "'l'"]),
        st.integers(1, 20),
        st.recursive(
            st.just("1"), lambda x: st.builds("[{}]".format, x) | st.builds("{{ x = {} }}".format, x), max_leaves=40
        ),
    ),
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@settings(FUZZ, max_examples=200)
@given(DEPTH_DOCS)
def test_depth_guard_agrees_with_the_parser(text: str) -> None:
    # too_deep runs before tomllib: it must see every path tomllib would build
    import tomllib

    data = tomllib.loads(text)
    # the scanner's paths are as deep as the data, or one less (an empty innermost array)
    if depth(data) > MAX_DEPTH + 1:
        assert too_deep(text) is not None
    elif depth(data) <= MAX_DEPTH:
        assert too_deep(text) is None


# -- (b) mutations of the bundled scenarios ----------------------------------------------------------

OTHER_TYPES = [
    '"text"',
    "1",
    "-1",
    "0",
    "1.5",
    "true",
    "[1, 2]",
    "{ a = 1 }",
    "1979-05-27",
    "inf",
    "nan",
    '""',
    "[]",
    "{}",
    '["animals"]',
    "2_000_000_000",
    "1e300",
]
NUMBER = re.compile(rb"(?<![\w.])[-+]?\d[\d_]*(\.\d+)?([eE][-+]?\d+)?(?![\w.])")
KEY_LINE = re.compile(rb"^\s*([A-Za-z0-9_.-]+)\s*=")
GARBAGE = st.sampled_from(
    [
        b"\xff",
        b"\xc3",
        b"\xed\xa0\x80",
        b"\x00",
        b"\r",
        b"\x1b[2J",
        b"\xef\xbb\xbf",
        b"\t=",
        "\u2028".encode(),
        "é".encode("latin-1"),
        b"\xe2\x82",
    ]
)


def scale(match: re.Match[bytes], factor: float) -> bytes:
    text = match[0].replace(b"_", b"").decode()
    is_int = re.fullmatch(r"[-+]?\d+", text) is not None
    if factor == 0:
        return b"0" if is_int else b"0.0"
    if is_int:
        return str(int(text) * int(factor)).encode()
    return repr(float(text) * factor).encode()


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, bytes]:
    """A bundled scenario after 1-3 line-level mutations (name of the original, bytes)."""
    name = draw(st.sampled_from(sorted(BUNDLED)))
    lines = BUNDLED[name].split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "duplicate", "retype", "scale", "swap", "truncate", "garbage"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "retype" and b"=" in lines[i]:
            key = lines[i].split(b"=", 1)[0]
            lines[i] = key + b"= " + draw(st.sampled_from(OTHER_TYPES)).encode()
        elif op == "scale" and NUMBER.search(lines[i]):
            factor = draw(st.sampled_from([1e6, -1, 0]))
            lines[i] = NUMBER.sub(lambda m, f=factor: scale(m, f), lines[i], count=draw(st.integers(0, 3)))
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            a, b = KEY_LINE.match(lines[i]), KEY_LINE.match(lines[j])
            if a and b:
                lines[i], lines[j] = b[1] + lines[i][a.end(1) :], a[1] + lines[j][b.end(1) :]
        elif op == "truncate":
            text = b"\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split(b"\n")
        elif op == "garbage":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(GARBAGE) + lines[i][at:]
    return name, b"\n".join(lines)


@settings(FUZZ, max_examples=500)
@given(mutations())
def test_mutated_bundled_scenarios_give_a_scenario_or_problem_lines(mutated: tuple[str, bytes]) -> None:
    name, data = mutated
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.toml"
        path.write_bytes(data)
        loaded = outcome(path, data)
        if isinstance(loaded, Scenario):
            for variant in loaded.variants:  # every variant of a valid file is valid too
                assert check(loaded.variant(variant)) == []


@settings(FUZZ, max_examples=60)
@given(mutations())
def test_mutated_bundled_scenarios_through_the_cli(mutated: tuple[str, bytes]) -> None:
    name, data = mutated
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / f"{name}.toml", Path(tmp) / "out"
        path.write_bytes(data)
        loaded = outcome(path, data)
        if isinstance(loaded, list):
            assert_clean_failure(invoke("validate", path), loaded)
            assert_clean_failure(invoke("run", path, "--out", out, "--json"), loaded)
            assert not out.exists()
        elif cheap(loaded):
            check_run(path, out)


def clamped(sc: Scenario) -> Scenario | None:
    """``sc`` shrunk to at most 20k users (cohorts scaled alike), or None if that is not valid or cheap."""
    users = sc.population.users
    if users <= 20_000:
        return sc if cheap(sc) else None
    f = 20_000 / users
    push = sc.platform.push
    override: dict[str, Any] = {"population": {"users": 20_000}}
    override["creator"] = {"followers": min(sc.creator.followers, 19_999)}
    if push.cohorts is not None:
        sizes = sorted({max(1, round(c * f)) for c in push.cohorts})
        override["platform"] = {"push": {"cohorts": sizes, "delivery_batch": max(1, round(push.delivery_batch * f))}}
    else:
        override["platform"] = {"push": {"first_cohort": max(1, round(push.first_cohort * f))}}
    try:
        small = apply_variant(sc, override)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return None
    return small if not check(small) and cheap(small) else None


@settings(FUZZ, max_examples=80)
@given(mutations(), st.integers(0, 2**32 - 1))
def test_valid_mutations_run_or_fail_cleanly(mutated: tuple[str, bytes], seed: int) -> None:
    name, data = mutated
    try:
        sc = load_scenario_bytes(data)
    except ScenarioError:
        return
    for variant in (None, *sc.variants):
        small = clamped(sc.variant(variant))
        if small is None:
            continue
        with time_limit(30):
            r = simulate(small, seed=seed)  # valid and small: nothing may go wrong
        count("simulated")
        assert r.summary["views"] == len(r.views["time_h"])
        assert r.summary["unique_viewers"] <= small.population.users


def load_scenario_bytes(data: bytes) -> Scenario:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(["not UTF-8"]) from None
    return loads_scenario(text)


# -- a few in a real process ----------------------------------------------------------------------

NASTY = {
    "deep_keys": b"[variants.v]\n" + b".".join([b"x"] * 50_000) + b" = 1\n",
    "deep_arrays": b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "not_utf8": BUNDLED["tiny"].replace(b"comedy", b"com\xe9dy"),
    "truncated": BUNDLED["bees_bike"][: len(BUNDLED["bees_bike"]) // 2 + 7],
    "trillion_users": BUNDLED["tiny"].replace(b"users = 20_000", b"users = 1_000_000_000_000"),
    "absurd_graph": BUNDLED["tiny"]
    .replace(b"users = 20_000", b"users = 300_000_000")
    .replace(b"mean_following = 20", b"mean_following = 1e6"),
    "nul_bytes": b"\x00" * 1000,
}


def python_m(*args: str | Path, limit_as: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_as is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "viralsim", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        preexec_fn=limit,
    )


@pytest.mark.parametrize("name", sorted(NASTY))
def test_nasty_files_in_a_real_process(name: str, tmp_path: Path) -> None:
    path, out = tmp_path / f"{name}.toml", tmp_path / "out"
    path.write_bytes(NASTY[name])
    expected = outcome(path, NASTY[name])
    assert isinstance(expected, list)
    for args in (("validate", path), ("run", path, "--out", out, "--json")):
        done = python_m(*args)
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        assert done.stderr.splitlines() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# -- absurd sizes: refused before anything is allocated -------------------------------------------


def scenario(**tables: dict[str, Any]) -> Scenario:
    data: dict[str, Any] = {"population": {"users": 5000, "topics": ["a"]}, "video": {"topic": "a"}}
    for k, v in tables.items():
        data[k] = {**data.get(k, {}), **v}
    return Scenario.model_validate(data)


def test_a_trillion_users_is_refused_by_the_schema() -> None:
    text = 'name = "x"\n[population]\nusers = 1_000_000_000_000\ntopics = ["a"]\n[video]\ntopic = "a"\n'
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text)
    assert info.value.problems == ["<string>:3: population.users: must be <= 2000000000, got 1000000000000"]


@pytest.mark.parametrize(
    ("tables", "where", "fragment"),
    [
        (
            {"population": {"users": 50_000_000, "representation": "materialised"}},
            ("population", "users"),
            "a materialised population of 50000000 users would need ~",
        ),
        (
            {"population": {"users": 10**8}, "social_graph": {"kind": "small_world", "mean_following": 100}},
            ("social_graph", "mean_following"),
            "a small_world graph of 100000000 users and ~1e+10 edges would need ~",
        ),
        (
            {"population": {"users": 10**8}, "platform": {"push": {"cohorts": [200, 10**8]}}},
            ("platform", "push", "cohorts"),
            "reaching up to 100000000 users would need ~",
        ),
        (
            {"population": {"users": 10**8}, "platform": {"push": {"first_cohort": 10**6, "growth": 10.0}}},
            ("platform", "push", "first_cohort"),
            "reaching up to 100000000 users would need ~",
        ),
    ],
)
def test_memory_problem_points_at_the_field_behind_it(
    tables: dict[str, Any], where: tuple[str, ...], fragment: str
) -> None:
    sc = scenario(**tables)
    limit = 2**30
    found = [(loc, msg) for loc, msg in check(sc, memory_limit=limit) if "memory" in msg]
    assert len(found) == 1, found
    loc, msg = found[0]
    assert loc == where
    assert msg.startswith(fragment), msg
    advice = ': use population.representation = "implicit" (users exist only once reached)'
    assert msg.endswith("of memory (a run may use 1 GiB here)" + (advice if "materialised" in msg else "")), msg
    assert check(sc, memory_limit=memory_estimate(sc)) == [p for p in check(sc) if "memory" not in p[1]]


def test_population_the_engine_cannot_materialise_is_refused_with_the_implicit_way_out() -> None:
    sc = scenario(population={"users": MAX_MATERIALISED_USERS + 1, "representation": "materialised"})
    assert (
        ("population", "representation"),
        f"a materialised population holds at most {MAX_MATERIALISED_USERS}"
        f' users, got {MAX_MATERIALISED_USERS + 1}: use representation = "implicit" (users exist only once reached)',
    ) in check(sc, memory_limit=2**60)
    # the same population held implicitly (what "auto" picks at this size) needs no memory for itself
    for how in ("implicit", "auto"):
        assert check(scenario(population={"users": 1_500_000_000, "representation": how}), memory_limit=2**31) == []


def test_first_cohort_larger_than_the_population_in_both_forms() -> None:
    listed = scenario(population={"users": 300}, platform={"push": {"cohorts": [500, 1000]}}, creator={"followers": 10})
    grown = scenario(population={"users": 300}, platform={"push": {"first_cohort": 500}}, creator={"followers": 10})
    msg = "first cohort (500) is larger than population.users (300)"
    assert check(listed) == [(("platform", "push", "cohorts"), msg)]
    assert check(grown) == [(("platform", "push", "first_cohort"), msg)]
    # later stages may ask for more users than there are: the push runs out (population_exhausted)
    assert check(scenario(population={"users": 3000}, platform={"push": {"first_cohort": 500}})) == []


def test_cohorts_are_at_most_fifty_stages() -> None:
    text = 'name = "x"\n[population]\nusers = 5000\ntopics = ["a"]\n[video]\ntopic = "a"\n[platform.push]\n'
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text + f"cohorts = {list(range(1, 52))}\n")
    assert info.value.problems == ["<string>:8: platform.push.cohorts: must have at most 50 entries, got 51"]


@pytest.mark.parametrize(
    "tables",
    [
        {
            "population": {"users": 1_000_000},
            "platform": {"push": {"cohorts": [100, 300_000], "thresholds": {}}},
            "social_graph": {"kind": "random_powerlaw"},
        },
        {
            "population": {"users": 200_000},
            "social_graph": {"kind": "small_world", "mean_following": 20},
            "platform": {"push": {"cohorts": [100]}},
        },
        {
            "population": {"users": 200_000},
            "social_graph": {"kind": "erdos_renyi", "mean_following": 20},
            "platform": {"push": {"cohorts": [100]}},
        },
    ],
    ids=["reached", "small_world", "erdos_renyi"],
)
@pytest.mark.parametrize("record", ["full", "summary"])
def test_memory_estimate_is_above_the_measured_peak_and_not_far(tables: dict[str, Any], record: str) -> None:
    # (peak measured by tracemalloc) <= estimate <= 3 x peak + the fixed part, with and without the views log
    sc = scenario(**tables, video={"topic": "a", "appeal": 1.0}, behaviour={"interest_floor": 1.0})
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        simulate(sc, seed=1, record=record)  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    estimate = memory_estimate(sc, record)
    assert peak <= estimate <= 3 * peak + 64 * 2**20, (peak, estimate)


def test_memory_estimate_counts_the_larger_pools_of_pool_spread_and_graded_stages() -> None:
    # pool_spread draws each video a pool factor (here up to ~e^1.5 x the listed sizes) and graded
    # stages grow the next cohort: the estimate assumes the factor's 99.9th percentile times graded_cap
    def world(**push: float) -> Scenario:
        return scenario(
            population={"users": 10_000_000},
            platform={"push": {"cohorts": [2_000, 60_000], "thresholds": {}, **push}},
            social_graph={"kind": "random_powerlaw"},
            video={"topic": "a", "appeal": 1.0},
            behaviour={"interest_floor": 1.0},
        )

    sc, listed = world(pool_spread=0.8, graded=1.0, graded_cap=3.0), world()
    parts, plain = memory_parts(sc), memory_parts(listed)
    assert parts["reached"] == pytest.approx(plain["reached"] * math.exp(0.8 * 3.09) * 3.0, rel=0.01)
    biggest, peak = 0, 0
    for seed in range(1, 9):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            r = simulate(sc, seed=seed)
            used = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        delivered = sum(row["delivered"] for row in r.stages)
        if delivered > biggest:
            biggest, peak = delivered, used
    assert biggest > 62_000, "some seed drew a pool larger than the listed cohorts"
    assert peak <= memory_estimate(sc) and memory_estimate(listed) < memory_estimate(sc)


def test_graph_figures_cover_every_generated_kind() -> None:
    assert set(BYTES_PER_EDGE) == {"erdos_renyi", "small_world", "barabasi_albert"}


def test_refusing_allocates_nothing() -> None:
    text = NASTY["absurd_graph"].decode()
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as info:
            loads_scenario(text, filename="absurd.toml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    assert len(info.value.problems) == 1
    assert re.fullmatch(
        r"absurd\.toml:\d+: social_graph\.mean_following: a small_world graph of 300000000 users and ~3e\+14 edges"
        r" would need ~[\d.]+ PiB of memory \(a run may use [\d.]+ [GMT]iB here\)",
        info.value.problems[0],
    ), info.value.problems[0]


def test_run_under_a_memory_limit_refuses_with_the_reason(tmp_path: Path) -> None:
    # 80M materialised users need ~3 GiB: under a 2 GiB address-space limit the run is refused up
    # front, with the machine's limit in the message and the implicit way out, instead of dying in numpy
    path = tmp_path / "big.toml"
    base = BUNDLED["tiny"].split(b"[variants")[0]  # the variants would repeat the same problem
    path.write_bytes(
        base.replace(b"users = 20_000", b'users = 80_000_000\nrepresentation = "materialised"').replace(
            b'kind = "small_world"', b'kind = "random_powerlaw"'
        )
    )
    done = python_m("run", path, "--json", limit_as=2 * 2**30)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "population.users: a materialised population of 80000000 users would need ~" in done.stderr
    assert '(a run may use 2 GiB here): use population.representation = "implicit"' in done.stderr


# -- unwritable --out and --plot, full disks ------------------------------------------------------


def enospc(path: Path) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def test_full_disk_part_way_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real_csv = outputs._csv

    def csv_until_full(df: Any, path: Path, provenance: str) -> None:
        calls.append(path)
        if len(calls) == 2:  # views.* are written; stages.csv runs out of space half-way
            with open(path, "w", encoding="utf-8") as fh:
                fh.write("# provenance: half")
            raise enospc(path)
        real_csv(df, path, provenance)

    monkeypatch.setattr(outputs, "_csv", csv_until_full)
    out = tmp_path / "results" / "run1"
    res = invoke("run", TINY, "--out", out, "--json")
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.splitlines() == [f"{out}: cannot write: No space left on device"]
    assert list(tmp_path.iterdir()) == []  # neither the files nor the folders made for them


def test_full_disk_keeps_what_was_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    monkeypatch.setattr(outputs, "_csv", lambda df, path, prov: (_ for _ in ()).throw(enospc(path)))
    res = invoke("run", TINY, "--out", out)
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"{out}: cannot write: No space left on device"]
    assert [p.name for p in out.iterdir()] == ["notes.txt"]  # no hidden temporary folder either


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs /dev/full")
def test_real_enospc_from_the_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an open handle, never the path: pyarrow's write_table(table, PATH) deletes PATH when the
    # write fails, and for root that would be /dev/full itself
    real_csv = outputs._csv

    def csv(df: Any, path: Path, provenance: str) -> None:
        if path.name != "stages.csv":
            return real_csv(df, path, provenance)
        with open("/dev/full", "w", encoding="utf-8") as fh:
            df.to_csv(fh, index=False)
        return None

    monkeypatch.setattr(outputs, "_csv", csv)
    out = tmp_path / "out"
    res = invoke("run", TINY, "--out", out)
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"{out}: cannot write: No space left on device"]
    assert not out.exists()


def test_failure_while_moving_in_removes_the_files_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moved: list[str] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if len(moved) == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        moved.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", replace)
    out = tmp_path / "out"
    res = invoke("run", TINY, "--out", out)
    monkeypatch.undo()
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"{out}: cannot write: Input/output error"]
    assert len(moved) == 3 and not out.exists()


def test_permission_denied_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(**kwargs: Any) -> str:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kwargs.get("dir"))

    monkeypatch.setattr(outputs.tempfile, "mkdtemp", denied)
    out = tmp_path / "a" / "b"
    res = invoke("run", TINY, "--out", out)
    monkeypatch.undo()
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"{out}: cannot write: Permission denied"]
    assert list(tmp_path.iterdir()) == []


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write into: read-only permissions, or /sys for root."""
    if os.geteuid() != 0:
        ro = tmp_path / "readonly"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    probe = Path("/sys/viralsim-probe")
    try:
        probe.mkdir()
    except OSError:
        return Path("/sys")
    probe.rmdir()
    pytest.skip("no unwritable folder for root here")


@pytest.mark.parametrize("kind", ["out", "plot"])
def test_unwritable_folder_exits_1_and_leaves_nothing(kind: str, tmp_path: Path) -> None:
    folder = unwritable_folder(tmp_path)
    target = folder / ("results" if kind == "out" else "reach.png")
    try:
        with time_limit(60):
            done = python_m("run", BEES, f"--{kind}", target, "--json")
    finally:
        if folder != Path("/sys"):
            folder.chmod(0o755)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{target}: cannot write: "), lines
    assert "Permission denied" in lines[0] or "Operation not permitted" in lines[0]
    assert not target.exists()


@pytest.mark.parametrize(
    ("make", "args", "reason"),
    [
        (lambda d: (d / "f").write_text("x"), ("--out", "f/results"), "Not a directory"),
        (lambda d: (d / "f").write_text("x"), ("--plot", "f/reach.png"), "Not a directory"),
        (lambda d: None, ("--plot", "missing/reach.png"), "No such file or directory"),
    ],
)
def test_unusable_output_paths_exit_1_before_the_run(
    make: Any, args: tuple[str, str], reason: str, tmp_path: Path
) -> None:
    make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    res = invoke("run", TINY, args[0], tmp_path / args[1], "--json")
    assert (res.exit_code, res.stdout) == (1, ""), res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{tmp_path / args[1]}: cannot write: {reason}"), lines
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    # click's own checks of --out (a folder) and --plot (a file): exit 2 with its "Error:" line
    (tmp_path / "f").write_text("keep\n", encoding="utf-8")
    (tmp_path / "d.png").mkdir()
    for option, path, what in (("--out", "f", "is a file"), ("--plot", "d.png", "is a directory")):
        res = invoke("run", TINY, option, tmp_path / path)
        assert res.exit_code == 2
        assert what in res.stderr and "Traceback" not in res.stderr
    assert (tmp_path / "f").read_text(encoding="utf-8") == "keep\n"
    with pytest.raises(outputs.OutputError, match="cannot write: Not a directory"):
        outputs.write_run(simulate(load_scenario(TINY)), tmp_path / "f")


def test_plot_full_disk_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    from matplotlib.figure import Figure

    def savefig(self: Any, fname: Any, **kwargs: Any) -> None:
        Path(fname).write_bytes(b"\x89PNG half")
        raise enospc(Path(fname))

    monkeypatch.setattr(Figure, "savefig", savefig)
    res = invoke("run", TINY, "--plot", tmp_path / "reach.png", "--json")
    assert (res.exit_code, res.stdout) == (1, "")
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and "reach.png" in lines[0] and "No space left on device" in lines[0], lines
    assert list(tmp_path.iterdir()) == []


# -- edge lists: refused before they are read --------------------------------------------------------

EDGE_SCENARIO = """\
name = "edges"
[population]
users = 500
topics = ["a"]
[social_graph]
kind = "edge_list"
path = "{path}"
[creator]
user = 0
[video]
topic = "a"
"""


@pytest.mark.parametrize("target", ["/dev/zero", "folder"])
def test_edge_list_that_is_not_a_file_is_refused_unread(target: str, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "s.toml").write_text(EDGE_SCENARIO.format(path=target), encoding="utf-8")
    res = invoke("run", tmp_path / "s.toml", "--json")
    assert (res.exit_code, res.stdout) == (1, "")
    assert res.stderr.splitlines() == [f"{tmp_path / target}: cannot read: not a regular file"]


def test_edge_list_too_large_for_memory_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import viralsim.io.graph_file as graph_file

    (tmp_path / "edges.txt").write_text("".join(f"0 {v}\n" for v in range(1, 500)), encoding="utf-8")
    (tmp_path / "s.toml").write_text(EDGE_SCENARIO.format(path="edges.txt"), encoding="utf-8")
    monkeypatch.setattr(graph_file, "machine_memory", lambda: 10_000)
    res = invoke("run", tmp_path / "s.toml", "--json")
    assert (res.exit_code, res.stdout) == (1, "")
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"{tmp_path / 'edges.txt'}: an edge list of 2.82 KiB would need ~90.2 KiB"
    ), lines
    assert lines[0].endswith("to load (a run may use 9.77 KiB here)")
