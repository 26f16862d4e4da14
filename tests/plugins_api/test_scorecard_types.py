"""The scorecard's TypedDicts (what reporters receive) agree with scorecard.schema.json."""

from __future__ import annotations

import types
from typing import (
    Any,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

import pytest

from conformance.engine.run import validate
from conformance.scorecard import model
from conformance.scorecard.model import ScorecardData, scorecard_schema
from tests.conftest import FIXTURES

_JSON_TYPES: dict[type, set[str]] = {
    str: {"string"},
    int: {"integer"},
    float: {"number", "integer"},
    bool: {"boolean"},
    type(None): {"null"},
    list: {"array"},
    dict: {"object"},
}


def _strip(hint: Any) -> Any:
    while get_origin(hint) in (NotRequired, Required):
        hint = get_args(hint)[0]
    return hint


def _options(hint: Any) -> list[Any]:
    hint = _strip(hint)
    if get_origin(hint) in (Union, types.UnionType):
        return list(get_args(hint))
    return [hint]


def _schema_types(schema: dict[str, Any]) -> set[str]:
    if "const" in schema:
        return {type(schema["const"]).__name__.replace("str", "string")}
    if "enum" in schema:
        return {"string"} if all(isinstance(v, str) for v in schema["enum"]) else set()
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind or ())


def _compare(hint: Any, schema: dict[str, Any], where: str, problems: list[str]) -> None:
    """Record where ``hint`` (a type) and ``schema`` (its JSON Schema) disagree."""
    options = _options(hint)
    wanted = _schema_types(schema)
    python: set[str] = set()
    for option in options:
        base = dict if is_typeddict(option) else get_origin(option) or option
        python |= _JSON_TYPES.get(base, {"?"})
    if wanted and (not wanted <= python or ("null" in python) != ("null" in wanted)):
        problems.append(f"{where}: type {hint} vs schema {sorted(wanted)}")
    for option in options:
        if is_typeddict(option):
            _compare_typeddict(option, schema, where, problems)
        elif get_origin(option) is list:
            _compare(get_args(option)[0], schema.get("items", {}), f"{where}[]", problems)
        elif get_origin(option) is dict:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                _compare(get_args(option)[1], extra, f"{where}.*", problems)


def _compare_typeddict(td: Any, schema: dict[str, Any], where: str, problems: list[str]) -> None:
    hints = get_type_hints(td, include_extras=True)
    # Keys the schema names: its properties, and required keys it types only through
    # additionalProperties (the severity counts).
    extra = schema.get("additionalProperties")
    properties = {
        **dict.fromkeys(schema.get("required", ()), extra if isinstance(extra, dict) else {}),
        **schema.get("properties", {}),
    }
    if set(hints) != set(properties):
        problems.append(
            f"{where} ({td.__name__}): keys only in the TypedDict "
            f"{sorted(set(hints) - set(properties))}, only in the schema "
            f"{sorted(set(properties) - set(hints))}"
        )
    required = set(schema.get("required", ()))
    if set(td.__required_keys__) != required:
        problems.append(
            f"{where} ({td.__name__}): required {sorted(td.__required_keys__)} "
            f"vs schema {sorted(required)}"
        )
    for key in set(hints) & set(properties):
        _compare(hints[key], properties[key], f"{where}.{key}", problems)


def test_the_typeddicts_match_the_schema() -> None:
    problems: list[str] = []
    _compare_typeddict(ScorecardData, scorecard_schema(), "scorecard", problems)
    assert problems == []


def test_the_comparison_catches_a_difference() -> None:
    schema = scorecard_schema()
    changed = {
        **schema,
        "properties": {**schema["properties"], "extra": {"type": "string"}},
        "required": [*schema["required"], "summary"],
    }
    problems: list[str] = []
    _compare_typeddict(ScorecardData, changed, "scorecard", problems)
    assert any("only in the schema ['extra']" in p for p in problems)
    assert any("required" in p for p in problems)
    nested = {**schema["properties"]["counts"], "required": ["records_read"]}
    problems = []
    _compare_typeddict(model.CountsData, nested, "counts", problems)
    assert problems and "required" in problems[0]


@pytest.mark.parametrize("typed", [model.FindingData, model.RequirementData, model.InputData])
def test_real_scorecards_fit_the_types(typed: Any) -> None:
    card = validate([FIXTURES / "feeds" / "conformant"], FIXTURES / "standards" / "identity")
    data = card.data
    assert set(data) <= set(get_type_hints(ScorecardData))
    assert set(ScorecardData.__required_keys__) <= set(data)
    items = {
        model.FindingData: data["findings"],
        model.RequirementData: data["requirements"],
        model.InputData: data["inputs"],
    }[typed]
    for item in items:
        assert set(typed.__required_keys__) <= set(item) <= set(get_type_hints(typed))
