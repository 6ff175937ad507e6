"""The typed records (Summary, StageRecord): mapping access, immutability, JSON, and what their metadata generates."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from viralsim import load_scenario, simulate
from viralsim.console import _fmt, metric_label
from viralsim.experiments.run import _NAN_WHEN_NONE, SUMMARY_COLUMNS
from viralsim.io.outputs import RUN_KEYS, json_keys_markdown, summary_json
from viralsim.records import (
    StageRecord,
    Summary,
    markdown_keys,
    metas,
    metric,
    nan_when_none,
    numeric_columns,
    summary_columns,
)
from viralsim.result import RunResult
from viralsim.scenario import KPI_NAMES

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.toml"


@pytest.fixture(scope="module")
def result() -> RunResult:
    return simulate(load_scenario(TINY), seed=3)


def test_summary_and_stages_are_typed_records(result: RunResult) -> None:
    assert isinstance(result.summary, Summary) and isinstance(result.summary, Mapping)
    assert result.stages and all(isinstance(row, StageRecord) for row in result.stages)


def test_mapping_access(result: RunResult) -> None:
    s = result.summary
    assert s["views"] == s.views and s.get("views") == s.views
    assert s.get("no such key") is None and s.get("no such key", 7) == 7
    assert "views" in s and "no such key" not in s
    with pytest.raises(KeyError):
        s["no such key"]
    assert list(s.keys()) == list(s) == [k for k, _ in s.items()]
    assert dict(s) == {k: getattr(s, k) for k in s}
    assert len(s) == len(dict(s))
    row = result.stages[0]
    assert row["stage"] == row.stage == 1 and set(KPI_NAMES) <= set(row)


def test_omitted_fields_are_absent_while_none(result: RunResult) -> None:
    """The core has no agent-engine keys and its stage rows no ``video``; they are there when set."""
    s = result.summary
    for k in ("engine", "videos", "sessions", "views_per_session", "gini_views"):
        assert k not in s and getattr(s, k) is None and s.get(k) is None
        with pytest.raises(KeyError):
            s[k]
    assert "recognised_topic" in s  # None is kept (JSON null) unless the field says omit
    agent = dataclasses.replace(s, engine="agents", videos=3)
    assert agent["engine"] == "agents" and agent["videos"] == 3 and "sessions" not in agent
    row = result.stages[0]
    assert "video" not in row and list(row)[0] == "stage"
    marketplace_row = dataclasses.replace(row, video=4)
    assert list(marketplace_row)[:2] == ["video", "stage"] and marketplace_row["video"] == 4


def test_records_are_immutable(result: RunResult) -> None:
    s, row = result.summary, result.stages[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.views = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.passed = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        s["views"] = 0  # type: ignore[index]
    assert not hasattr(s, "update") and not hasattr(s, "__setitem__")


def test_with_platforms_makes_a_new_summary(result: RunResult) -> None:
    s = result.summary
    both = s.with_platforms(5)
    assert both is not s and (s.cross_posted, s.views_second) == (False, 0)
    assert (both.cross_posted, both.views_first, both.views_second, both.views_total) == (True, s.views, 5, s.views + 5)
    assert s.with_platforms(None) == s


def test_to_dict_json_round_trip(result: RunResult) -> None:
    s = result.summary
    d = s.to_dict()
    assert type(d) is dict and list(d) == list(s) and d == dict(s)
    assert d["views_by_source"] is not s.views_by_source  # nested dicts are copies
    back = json.loads(json.dumps(d))
    assert back == d
    assert Summary(**{k: back.get(k) for k in metas(Summary)}) == s
    rows = [row.to_dict() for row in result.stages]
    assert [StageRecord(**r) for r in json.loads(json.dumps(rows))] == result.stages
    out = summary_json(result)
    assert list(out)[: len(s)] == list(s) and out["stages"] == json.loads(json.dumps(rows))


def test_records_pickle_and_compare(result: RunResult) -> None:
    s = result.summary
    again = pickle.loads(pickle.dumps(s))
    assert again == s and again == dict(s) and dict(s) == again  # a Mapping compares with dicts
    assert pickle.loads(pickle.dumps(result.stages)) == result.stages


def test_every_field_has_metadata() -> None:
    for cls in (Summary, StageRecord):
        for name, meta in metas(cls).items():
            assert meta.label.strip() and meta.description.strip(), (cls.__name__, name)
            assert meta.missing in ("keep", "nan", "omit"), name
        assert list(metas(cls)) == [f.name for f in dataclasses.fields(cls)]


def test_stage_record_has_every_kpi_and_threshold() -> None:
    names = list(metas(StageRecord))
    assert [k for k in names if k in KPI_NAMES] == list(KPI_NAMES)
    assert [k for k in names if k.startswith("threshold_")] == [f"threshold_{k}" for k in (*KPI_NAMES, "score")]


def test_ensemble_columns_come_from_the_metadata() -> None:
    assert SUMMARY_COLUMNS == summary_columns() and _NAN_WHEN_NONE == nan_when_none()
    assert set(SUMMARY_COLUMNS) == {n for n, m in metas(Summary).items() if m.column}
    assert _NAN_WHEN_NONE <= set(SUMMARY_COLUMNS)
    # stop_h and recognised_topic follow stop_reason in the table (the order the results files have)
    i = SUMMARY_COLUMNS.index("stop_reason")
    assert SUMMARY_COLUMNS[i : i + 3] == ("stop_reason", "stop_h", "recognised_topic")
    flags_and_words = {"stop_reason", "recognised_topic", "cross_posted"}
    assert numeric_columns() == tuple(c for c in SUMMARY_COLUMNS if c not in flags_and_words)


def test_console_labels_and_formats_come_from_the_metadata() -> None:
    for name, meta in metas(Summary).items():
        assert metric_label(name) == meta.label
    assert _fmt("share_to_view", 0.000042) == "0.0042 %"
    assert _fmt("views", 1234.0) == "1,234" and _fmt("stages_reached", 6.5) == "6.5"
    assert _fmt("time_to_100k_views_h", math.nan) == "–" and _fmt("cost_per_engaged_view", None) == "–"  # type: ignore[arg-type]
    assert metric_label("views_for_you") == "views from For You" and _fmt("views_for_you", 10.0) == "10"


def _readme_keys() -> tuple[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- json-keys:[^\n]*-->\n(.*?)\n<!-- /json-keys -->", text, re.S)
    assert m, "README.md has no <!-- json-keys --> block"
    block = m.group(1)
    return block, re.findall(r"^- `([a-z0-9_]+)`", block, re.M)


def test_readme_documents_every_json_key(result: RunResult) -> None:
    """The README's ``--json`` list is the Summary's fields and the run keys, and is what the code generates."""
    block, keys = _readme_keys()
    assert keys == [*metas(Summary), *RUN_KEYS], "README --json keys differ from viralsim.records.Summary"
    assert block == json_keys_markdown(), (
        "README.md's --json list is stale: paste the output of "
        "python -c 'from viralsim.io.outputs import json_keys_markdown as j; print(j())'"
    )
    documented = set(keys)
    assert set(summary_json(result)) | {"peak_memory_mib"} <= documented


def test_readme_check_catches_an_undocumented_field() -> None:
    """A field added to the Summary but not to the README fails the check above."""

    @dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
    class Wider(Summary):
        brand_new: int = metric(label="brand new", description="a field the README does not list", default=0)

    _, keys = _readme_keys()
    assert [*metas(Wider), *RUN_KEYS] != keys
    assert "brand_new" not in json_keys_markdown() and "- `brand_new`: a field" in markdown_keys(Wider)
