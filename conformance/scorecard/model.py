"""The scorecard: the canonical JSON result of a run, and what the CLI decides from it."""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

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


@dataclass
class Scorecard:
    """A scorecard. :attr:`data` is the canonical JSON form (values masked)."""

    data: dict[str, Any]
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
    def from_json(cls, data: bytes | str) -> Scorecard:
        return cls(orjson.loads(data))
