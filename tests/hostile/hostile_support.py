"""Shared by the hostile-input tests: seed resources, one compiled standard, file runs."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import orjson

from conformance.checks.registry import CompiledStandard
from conformance.engine.accumulate import Share
from conformance.engine.session import Session
from conformance.engine.spec import RunSpec
from conformance.feed import FeedInfo
from conformance.limits import Limits
from conformance.readers.discovery import InputItem
from conformance.samples import iter_resources

HERE = Path(__file__).parent
TESTS = HERE.parent

INPUT_PROBLEM_CODES = frozenset(
    {
        "unreadable-input",
        "limit-exceeded",
        "empty-file",
        "not-utf8",
        "csv-bad-header",
        "invalid-bundle",
        "unrecognised-format",
        "unreadable-folder",
        "name-not-utf8",
        "duplicate-archive-member",
    }
)
"""Source-level problems a reader may report: every one is a finding, never a crash."""

RECORD_ERROR_CODES = frozenset(
    {
        "invalid-json",
        "not-utf8",
        "not-an-object",
        "missing-resource-type",
        "unknown-resource-type",
        "line-too-long",
        "too-deep",
        "file-too-large",
        "invalid-bundle-entry",
        "bundle-entry-without-resource",
        "csv-invalid",
        "csv-field-count",
        "invalid-xml",
        "too-many-elements",
    }
)


@functools.cache
def seed_resources() -> tuple[bytes, ...]:
    """Valid FHIR resources to mutate: the sample generator's and the test fixtures'."""
    found: list[dict[str, Any]] = list(iter_resources(patients=2, seed=11))
    conformant = TESTS / "fixtures" / "feeds" / "conformant" / "Patient.ndjson"
    found.extend(orjson.loads(line) for line in conformant.read_bytes().splitlines() if line)
    for example in sorted((TESTS / "fhir" / "examples" / "valid").glob("*.json")):
        found.append(orjson.loads(example.read_bytes()))
    # Kept as bytes so that every test gets its own fresh copy.
    return tuple(orjson.dumps(r) for r in found)


def seed(index: int) -> dict[str, Any]:
    seeds = seed_resources()
    value: dict[str, Any] = orjson.loads(seeds[index % len(seeds)])
    return copy.deepcopy(value)


@functools.cache
def session() -> Session:
    return Session.open(RunSpec(standard="mdss@1.0.0", jobs=1))


def compiled() -> CompiledStandard:
    return session().compiled


def run_file(path: Path, name: str | None = None, limits: Limits | None = None) -> Share:
    """Read and check one file as the engine does; the accounting invariant must hold."""
    limits = limits or Limits()
    acc = session().accumulator()
    acc.read_item(InputItem(path, name or path.name), FeedInfo(), session().readers, limits)
    acc.check_counts()
    return acc.share


def nonblank_lines(data: bytes) -> int:
    """How many NDJSON records ``data`` holds: the lines that are not blank."""
    return sum(1 for line in data.split(b"\n") if line.strip())
