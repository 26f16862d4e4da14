"""Positive/negative example files, auto-parametrised.

``examples/valid/*.json`` must produce no error; ``examples/invalid/<code>--<what>.json``
must produce at least one error with issue code ``<code>``.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fhir_helpers import EXAMPLES

from conformance.fhir import FhirValidator

VALID = sorted((EXAMPLES / "valid").glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_examples_have_no_error(path: Path, base: FhirValidator) -> None:
    issues = base.validate(orjson.loads(path.read_bytes()))
    assert [i for i in issues if i.severity == "error"] == []


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_examples_report_expected_code(path: Path, base: FhirValidator) -> None:
    expected = path.stem.split("--", 1)[0]
    issues = base.validate(orjson.loads(path.read_bytes()))
    found = {i.code for i in issues if i.severity == "error"}
    assert expected in found, f"expected {expected}, got {found}"


def test_there_are_enough_examples() -> None:
    assert len(VALID) >= 4
    assert len(INVALID) >= 30
