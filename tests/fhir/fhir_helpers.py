"""Helpers shared by the FHIR engine tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).parent
EXAMPLES = HERE / "examples"
FIXTURES = HERE / "fixtures"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((EXAMPLES / "valid" / name).read_bytes())
    return data


def errors(issues: list[Any]) -> list[Any]:
    return [i for i in issues if i.severity == "error"]


def codes(issues: list[Any]) -> set[str]:
    return {i.code for i in issues if i.severity == "error"}
