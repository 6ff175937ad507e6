"""Scenario files: loading, and one precise ``FILE:LINE: field: message`` line per problem.

The malformed files are data: each file in ``tests/data/bad/`` starts with one
``# expect: LINE: field: message`` comment per problem it must produce, in order.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import DATA
from pydantic import BaseModel

from viralsim.io.scenario_file import ScenarioError, load_scenario, loads_scenario
from viralsim.io.toml_lines import build_index, line_of
from viralsim.scenario import Scenario

BAD = DATA / "bad"
BAD_FILES = sorted(BAD.glob("*.toml"))

MINIMAL = """\
name = "tiny"
[population]
users = 5000
topics = ["animals", "comedy"]
[video]
topic = "animals"
"""

#: A valid document using most of TOML's syntax, for the mutation tests.
RICH = """\
name = "rich"  # a comment
description = '''
[not.a.table]
'''
horizon_h = 72.0
[population]
users = 20000
topics = ["animals", "comedy", "sport"]
sessions_per_day = { median = 3.0, spread = 0.8 }
timezone_offsets_h = [
  -5.0,  # New York
  1.0,
]
timezone_weights = [0.4, 0.6]
[video]
topic_mix = { animals = 0.7, "comedy" = 0.3 }
[platform]
moderation.auto_approve_below = 0.1
sharing = { recipients_per_share = "all" }
[platform.push]
cohorts = [100, 1000, 10000]
[[platform.push.stage_thresholds]]
completion = 0.3
[[platform.push.stage_thresholds]]
like = 0.05
[variants.social]
platform.push.mode = "social"
[variants.big]
population = { users = 50000 }
"""


def expectations(path: Path) -> list[str]:
    """The ``# expect:`` header lines of a corpus file, as ``LINE: field: message`` prefixes."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [m[1].strip() for m in re.finditer(r"^# expect:(.*)$", text, re.M)]


def problem_lines(text: str) -> list[str]:
    """The problems ``loads_scenario`` reports for ``text``; [] when it loads."""
    try:
        loads_scenario(text)
    except ScenarioError as err:
        return err.problems
    return []


def test_corpus_is_large_enough() -> None:
    assert len(BAD_FILES) >= 15
    assert all(expectations(path) for path in BAD_FILES)


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_file_reports_each_problem_on_its_line(path: Path) -> None:
    expected = expectations(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    got = info.value.problems
    assert len(got) == len(expected), got
    for line, want in zip(got, expected, strict=True):
        assert line.startswith(f"{path}:{want}"), (line, want)
        assert "\n" not in line
    assert str(info.value) == "\n".join(got)


def test_minimal_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    sc = load_scenario(path)
    assert isinstance(sc, Scenario)
    assert sc.name == "tiny"
    assert sc.population.users == 5000
    assert sc.population.topics == ["animals", "comedy"]
    assert sc.video.topic == "animals"
    assert sc.platform == Scenario().platform  # everything else is a default


def test_rich_document_loads_with_its_variants() -> None:
    sc = loads_scenario(RICH)
    assert sc.platform.push.cohorts == [100, 1000, 10000]
    assert sc.platform.sharing.recipients_per_share == "all"
    assert sc.variant("social").platform.push.mode == "social"
    assert sc.variant("big").population.users == 50000


def test_missing_file() -> None:
    path = str(BAD / "no_such_file.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [f"{path}: cannot read: No such file or directory"]


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_scenario(path).name == "tiny"


def test_string_input_is_named_string() -> None:
    assert problem_lines("speed = 3\n" + MINIMAL) == ["<string>:1: speed: unknown field (did you mean 'seed'?)"]
    with pytest.raises(ScenarioError) as info:
        loads_scenario("x = [", filename="mine.toml")
    assert info.value.problems[0].startswith("mine.toml:1: not valid TOML: ")


def test_schema_errors_come_without_cross_field_checks() -> None:
    # the cross-field checks need a schema-valid scenario, so the bad topic is not reported yet
    text = MINIMAL.replace('topic = "animals"', 'topic = "cooking"') + "[platform.push]\ngrowth = 1.0\n"
    assert problem_lines(text) == ["<string>:8: platform.push.growth: must be > 1, got 1.0"]


def test_cross_field_problems_of_base_and_variants_are_merged_by_line() -> None:
    # variant a inherits the bad topic: it is reported once, for the base
    text = MINIMAL.replace('topic = "animals"', 'topic = "cooking"') + (
        "[variants.a]\nseed = 3\n[variants.b]\nplatform.push.growth = 0.5\n"
    )
    assert problem_lines(text) == [
        "<string>:6: video.topic: 'cooking' is not one of population.topics",
        "<string>:10: variants.b.platform.push.growth: must be > 1, got 0.5",
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("name = 3", "name: expected a string, got int 3"),
        ("name = ''", "name: must not be empty"),
        ("seed = 1.5", "seed: expected an integer, got float 1.5"),
        ("seed = [1, 2]", "seed: expected an integer, got an array of 2"),
        ("horizon_h = inf", "horizon_h: must be a finite number, got inf"),
        ("horizon_h = nan", "horizon_h: must be a finite number, got nan"),
        ("platform = 1", "platform: expected a table, got int 1"),
        ("platform.sharing.recipients_per_share = 'some'", "expected an integer or 'all', got str 'some'"),
        ("platform.push.growth = 1e300", None),  # huge but valid: cohorts are capped, no overflow
        ("platform.push.growth = inf", "platform.push.growth: must be a finite number, got inf"),
        ("description = 1979-05-27", "description: expected a string, got date 1979-05-27"),
    ],
)
def test_message_style(line: str, message: str | None) -> None:
    got = problem_lines(line + "\n" + MINIMAL.removeprefix('name = "tiny"\n'))
    if message is None:
        assert got == []
    else:
        assert len(got) == 1 and got[0].startswith("<string>:1: ") and got[0].endswith(message), got


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("x = " + "[" * 5000 + "]" * 5000, 1),  # tomllib would recurse once per array
        (MINIMAL + "[variants.v]\n" + ".".join(["x"] * 20_000) + " = 1\n", 8),  # tomllib: quadratic
        ("a = 1\n[" + ".".join(["t"] * 40) + "]\n", 2),
        ("a = " + "{b = " * 40 + "1" + "}" * 40 + "\n", 1),
    ],
)
def test_deep_nesting_is_refused_before_parsing(text: str, line: int) -> None:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text)
    assert info.value.problems == [f"<string>:{line}: nested too deeply (more than 32 levels of keys)"]


def test_nesting_up_to_the_limit_is_parsed() -> None:
    # 32 levels: tomllib parses it, the schema refuses the unknown key
    assert problem_lines(MINIMAL + "[variants.v]\n" + ".".join(["x"] * 30) + " = 1\n") == [
        "<string>:8: variants.v.x: unknown field"
    ]


def test_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(MINIMAL.encode() + b"#" * (5 * 2**20))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [f"{path}: larger than 4 MiB: not a scenario file"]


# -- the line index ------------------------------------------------------------------------------


def test_index_tables_keys_and_arrays() -> None:
    index = build_index(RICH)
    assert line_of(index, ("name",)) == 1
    assert line_of(index, ("horizon_h",)) == 5  # the multi-line string does not count as a table
    assert line_of(index, ("population", "sessions_per_day", "spread")) == 9
    assert line_of(index, ("population", "timezone_offsets_h", 0)) == 11
    assert line_of(index, ("population", "timezone_offsets_h", 1)) == 12
    assert line_of(index, ("population", "timezone_weights", 1)) == 14
    assert line_of(index, ("video", "topic_mix", "comedy")) == 16
    assert line_of(index, ("platform", "moderation", "auto_approve_below")) == 18
    assert line_of(index, ("platform", "push", "cohorts", 2)) == 21
    assert line_of(index, ("platform", "push", "stage_thresholds", 0)) == 22
    assert line_of(index, ("platform", "push", "stage_thresholds", 1, "like")) == 25
    assert line_of(index, ("variants", "social", "platform", "push", "mode")) == 27
    assert line_of(index, ("variants", "big", "population", "users")) == 29


def test_index_falls_back_to_the_nearest_enclosing_line() -> None:
    index = build_index(RICH)
    assert line_of(index, ("video", "topic")) == 15  # missing: the [video] header
    assert line_of(index, ("platform", "push", "growth")) == 20
    assert line_of(index, ("variants", "social", "population", "users")) == 26
    assert line_of(index, ("behaviour", "p_like")) == 1  # nothing known: top of the file
    assert line_of(index, ()) == 1


def test_index_nested_arrays_of_tables_and_quoted_keys() -> None:
    text = "[[a]]\n[[a.b]]\n[[a.b]]\nx = 1\n[[a]]\n[[a.b]]\n\"q.k\" . 'r' = 2\n[a.c]\n"
    index = build_index(text)
    assert index[("a", 0, "b", 1, "x")] == 4
    assert index[("a", 1, "b", 0)] == 6
    assert index[("a", 1, "b", 0, "q.k", "r")] == 7
    assert index[("a", 1, "c")] == 8


# -- properties ----------------------------------------------------------------------------------


def leaf_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += leaf_paths(ann, prefix + (name,))
        else:
            out.append(prefix + (name,))
    return out


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


PATHS = leaf_paths(Scenario)
#: A valid base that random assignments override (written as dotted keys, like them).
BASE = {
    ("population", "users"): 5000,
    ("population", "topics"): ["animals", "comedy"],
    ("video", "topic"): "animals",
}
scalars = st.one_of(
    st.integers(-(10**12), 10**12),
    st.integers(0, 5),
    st.floats(),
    st.floats(0, 2),
    st.booleans(),
    st.text(max_size=6),
    st.sampled_from(["animals", "comedy", "all", "social", "edge_list", "fixed"]),
)
edges = st.sampled_from([0, -1, 10**30, 1e300, math.inf, -math.inf, math.nan])  # of every range
values = st.one_of(edges, scalars, st.lists(st.one_of(st.integers(-5, 10**6), st.floats()), max_size=30))
assignments = st.dictionaries(st.sampled_from(PATHS), values, max_size=3)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_outcome(text: str) -> None:
    """``loads_scenario`` returns a Scenario or raises ScenarioError with well-formed lines."""
    try:
        result = loads_scenario(text)
    except ScenarioError as err:
        assert err.problems
        assert len(set(err.problems)) == len(err.problems)
        last = text.count("\n") + 1
        lines = []
        for problem in err.problems:
            m = re.match(r"<string>:(\d+): \S", problem)
            assert m, problem
            assert "\n" not in problem
            lines.append(int(m[1]))
        assert all(1 <= n <= last for n in lines)
        return
    assert isinstance(result, Scenario)


@PROPERTY
@given(st.text())
def test_arbitrary_text_gives_scenario_or_scenario_error(text: str) -> None:
    check_outcome(text)
    build_index(text)  # never raises, whatever the text


@PROPERTY
@given(assignments, assignments)
def test_random_field_values_give_scenario_or_scenario_error(
    base: dict[tuple[str, ...], Any], variant: dict[tuple[str, ...], Any]
) -> None:
    lines = [f"{'.'.join(k)} = {toml_value(v)}" for k, v in (BASE | base).items()]
    if variant:
        lines += ["[variants.v]"] + [f"{'.'.join(k)} = {toml_value(v)}" for k, v in variant.items()]
    check_outcome("\n".join(lines) + "\n")


TOKENS = st.sampled_from(['"', "'", "[", "]", "[[", "{", "}", "=", ".", ",", "#", "\n", '"""', "-1", "1.5", "inf"])


@PROPERTY
@given(st.sampled_from([MINIMAL, RICH]), st.data())
def test_mutated_documents_give_scenario_or_scenario_error(doc: str, data: st.DataObject) -> None:
    text = doc
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        insert = data.draw(st.one_of(TOKENS, st.text(max_size=4), st.just("")))
        text = text[:i] + insert + text[j:]
    check_outcome(text)
