"""The scorecard: the canonical JSON result of a run, and what the CLI decides from it.

No ``from __future__ import annotations`` here: the TypedDicts' ``NotRequired`` keys must
be seen at run time (``__required_keys__``), which string annotations hide on Python 3.11.
"""

import enum
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NotRequired, TypedDict, cast

import orjson

from conformance.findings import Finding

SCORECARD_SCHEMA_VERSION = "1.1.0"


class Verdict(enum.StrEnum):
    CONFORMANT = "Conformant"
    CONFORMANT_WITH_WARNINGS = "Conformant with warnings"
    NOT_CONFORMANT = "Not conformant"
    INCOMPLETE = "Incomplete"
    """The run was interrupted: never read as conformant."""


class FailOn(enum.StrEnum):
    MUST = "must"
    SHOULD = "should"
    NEVER = "never"


@functools.cache
def scorecard_schema() -> dict[str, Any]:
    text = resources.files("conformance.scorecard").joinpath("scorecard.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


# ------------------------------------------------------------------ the canonical JSON
# TypedDicts of scorecard.schema.json, for code that reads a scorecard across a module
# boundary (reporters, baselines, the board). tests/plugins_api/test_scorecard_types.py
# keeps their keys in step with the schema.


class ToolData(TypedDict):
    name: str
    version: str
    hook_api: NotRequired[str]


class StandardData(TypedDict):
    id: str
    version: str
    title: NotRequired[str]
    status: NotRequired[str]
    extends: NotRequired[str]


class PeriodData(TypedDict, total=False):
    start: str | None
    end: str | None


class FeedData(TypedDict, total=False):
    id: str
    ics: str
    sender: str
    period: PeriodData
    extracted: str
    environment: str
    conforms_to: str
    manifest: str
    root: str


class LevelSummaryData(TypedDict):
    total: int
    met: int
    not_met: int


class CountsData(TypedDict):
    records_read: int
    records_validated: int
    records_unparseable: int
    files: NotRequired[int]
    findings: NotRequired[int]
    by_resource_type: NotRequired[dict[str, int]]


class InputData(TypedDict):
    file: str
    records_read: int
    records_validated: int
    records_unparseable: int
    format: NotRequired[str | None]
    sha256: NotRequired[str]


class DomainData(TypedDict):
    id: str
    title: str
    score: float | None
    requirements: int
    passed: NotRequired[int]
    not_met: NotRequired[int]
    not_applicable: NotRequired[int]


class SeverityCountsData(TypedDict):
    error: int
    warning: int
    information: int


class RequirementData(TypedDict):
    id: str
    title: str
    level: str
    domain: str
    status: str
    numerator: int
    denominator: int
    rate: float | None
    threshold: float
    findings: SeverityCountsData
    codes: NotRequired[dict[str, int]]
    note: NotRequired[str]
    check_errors: NotRequired[int]
    origin: NotRequired[str]


class LocationData(TypedDict, total=False):
    file: str
    line: int
    column: int
    entry: int
    row: int
    expression: str


class FindingData(TypedDict):
    requirement: str
    severity: str
    code: str
    message: str
    location: LocationData
    resource_type: NotRequired[str]
    resource_id: NotRequired[str]


class PluginFailureData(TypedDict):
    plugin: str
    hook: str
    error: str


class PluginsData(TypedDict, total=False):
    failures: list[PluginFailureData]


class RunData(TypedDict):
    started: str
    duration_seconds: float


class ScorecardData(TypedDict):
    """The canonical JSON scorecard (``scorecard.schema.json``), as reporters receive it."""

    scorecard_version: str
    tool: ToolData
    standard: StandardData
    feed: FeedData
    verdict: str
    score: float
    complete: bool
    summary: NotRequired[dict[str, LevelSummaryData]]
    counts: CountsData
    inputs: list[InputData]
    domains: list[DomainData]
    requirements: list[RequirementData]
    findings: list[FindingData]
    findings_kept_per_requirement: NotRequired[int]
    input_problems: NotRequired[dict[str, dict[str, int]]]
    plugins: NotRequired[PluginsData]
    run: RunData


@dataclass
class Scorecard:
    """A scorecard. :attr:`data` is the canonical JSON form (values masked)."""

    data: ScorecardData
    findings: list[Finding] = field(default_factory=list)
    """The kept findings as objects (for the local, opt-in display of values)."""

    @property
    def verdict(self) -> Verdict:
        return Verdict(self.data["verdict"])

    @property
    def score(self) -> float:
        return float(self.data["score"])

    def fails(self, policy: FailOn) -> bool:
        """True when the run should exit 1 under ``--fail-on policy``."""
        verdict = self.verdict
        if verdict is Verdict.INCOMPLETE:
            return True
        if policy is FailOn.NEVER:
            return False
        if policy is FailOn.MUST:
            return verdict is Verdict.NOT_CONFORMANT
        return verdict in (Verdict.NOT_CONFORMANT, Verdict.CONFORMANT_WITH_WARNINGS)

    def to_json(self) -> bytes:
        return orjson.dumps(self.data, option=orjson.OPT_INDENT_2) + b"\n"

    @classmethod
    def from_json(cls, data: bytes | str) -> "Scorecard":
        return cls(scorecard_data(orjson.loads(data)))


def scorecard_data(data: Mapping[str, Any]) -> ScorecardData:
    """``data`` as the typed scorecard it is: made by the engine, or a JSON scorecard read
    back (the JSON Schema, :func:`scorecard_schema`, is what validates one from outside)."""
    return cast(ScorecardData, data)
