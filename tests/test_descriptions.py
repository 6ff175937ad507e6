"""Every scenario field is explained: a description in the models that reaches the JSON Schema.

The descriptions are what ``viralsim explain``, ``viralsim new`` and editors
show, so each must be there, say something, and be its own (no copy of
another field's).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel

from viralsim.scenario import Scenario


def _schema_fields() -> list[tuple[str, dict[str, Any]]]:
    """(Model.field, property schema) of every field of every model in the JSON Schema."""
    schema = Scenario.model_json_schema()
    models = {"Scenario": schema, **schema["$defs"]}
    return [(f"{m}.{name}", prop) for m, s in models.items() for name, prop in s.get("properties", {}).items()]


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    """Collect ``model`` and every model its fields hold."""
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                _models(tp, seen)
            stack.extend(getattr(tp, "__args__", ()))


def test_every_schema_field_has_a_description() -> None:
    fields = _schema_fields()
    assert len(fields) >= 130
    missing = [name for name, prop in fields if not str(prop.get("description", "")).strip()]
    assert not missing, f"fields without a description: {missing}"


def test_descriptions_are_sentences_of_their_own() -> None:
    fields = _schema_fields()
    texts = Counter(prop["description"] for _, prop in fields)
    copies = {text: n for text, n in texts.items() if n > 1}
    assert not copies, f"descriptions used by several fields: {copies}"
    for name, prop in fields:
        text = prop["description"]
        assert len(text) >= 30, f"{name}: too short to explain anything: {text!r}"
        assert text[0].isupper() or text[0] in "\"'", f"{name}: starts mid-sentence: {text!r}"
        assert text.rstrip().endswith((".", ")")), f"{name}: not a finished sentence: {text!r}"


def test_every_model_field_has_a_description() -> None:
    """The models themselves, not only the schema (what ``explain`` reads)."""
    seen: set[type[BaseModel]] = set()
    _models(Scenario, seen)
    assert len(seen) >= 20
    missing = [f"{m.__name__}.{n}" for m in seen for n, f in m.model_fields.items() if not f.description]
    assert not missing, f"fields without a description: {missing}"
    undocumented = [m.__name__ for m in seen if not (m.__doc__ or "").strip()]
    assert not undocumented, f"models without a docstring: {undocumented}"
