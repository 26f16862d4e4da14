"""Provenance and security (MDSS-PROV-*, MDSS-SEC-01): the manifest and what it promises."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from conformance.checks.base import (
    Check,
    CompileEnv,
    Emit,
    FinishContext,
    Measure,
    RecordCheck,
    RunContext,
)
from conformance.findings import Location, Problem
from conformance.nhs.nhs_number import nhs_number_check_digit_ok
from conformance.readers.base import Record
from conformance.standards.model import Requirement

_TEN_DIGITS = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_POSTCODE = re.compile(r"(?<![A-Z0-9])[A-Z]{1,2}[0-9][A-Z0-9]?[ _-]?[0-9][A-Z]{2}(?![A-Z0-9])")


@functools.cache
def manifest_schema() -> dict[str, Any]:
    text = resources.files("conformance").joinpath("manifest.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


class _FeedLevel(Check[None]):
    """A requirement about the feed as a whole: it visits no record."""

    applies_to: frozenset[str] | None = frozenset()

    def start(self, context: RunContext) -> None:
        return None

    def merge(self, state: None, other: None) -> None:
        return state

    def visit(self, state: None, record: Record, emit: Emit) -> None:  # pragma: no cover
        pass


class ManifestValid(_FeedLevel):
    """MDSS-PROV-01: the feed carries a manifest that validates against the manifest schema."""

    def finish(self, state: None, context: FinishContext, emit: Emit) -> Measure:
        feed = context.feed
        where = Location(feed.manifest) if feed.manifest else Location()
        if feed.manifest is None:
            emit(Problem("manifest-missing", "the feed has no manifest.json at its root"), where)
            return Measure(0, 1, status="fail", note="no manifest")
        problems = list(feed.manifest_problems)
        located: list[tuple[str, tuple[str | int, ...]]] = []
        if feed.manifest_data is not None:
            from jsonschema import Draft202012Validator

            validator = Draft202012Validator(
                manifest_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            for error in sorted(validator.iter_errors(feed.manifest_data), key=str):
                parts = tuple(error.absolute_path)
                path = "/".join(str(p) for p in parts) or "(top level)"
                # Only the schema's words: the manifest's own values may be identifiers.
                located.append((f"{path}: {error.validator} rule not met", parts))
        if feed.period_start and feed.period_end and feed.period_start > feed.period_end:
            located.append(("feed/period: start is after end", ("feed", "period")))
        for problem in problems:
            emit(Problem("manifest-invalid", f"manifest: {problem}"), where)
        if feed.conforms_to_problem is not None:
            emit(
                Problem("conforms-to-invalid", f"manifest: {feed.conforms_to_problem}"),
                Location(feed.manifest, feed.manifest_line("feed", "conformsTo")),
            )
        for problem, parts in located:
            emit(
                Problem("manifest-invalid", f"manifest: {problem}"),
                Location(feed.manifest, feed.manifest_line(*parts)),
            )
        refused = feed.conforms_to_problem is not None
        return Measure(0 if problems or located or refused else 1, 1)


@dataclass(slots=True)
class _Seen:
    files: list[Any] = field(default_factory=list)


class FilesMatchManifest(_FeedLevel):
    """MDSS-PROV-02: every file matches its manifest entry; no file is unlisted or missing.

    Measured over the files listed in the manifest and the files found: each file passes
    when it is listed, its sha256 matches and its record count matches.
    """

    def finish(self, state: None, context: FinishContext, emit: Emit) -> Measure:
        feed = context.feed
        if feed.manifest is None:
            emit(
                Problem("manifest-missing", "no manifest: the files cannot be checked against one"),
                Location(),
            )
            return Measure(0, 1, status="fail", note="no manifest")
        listed = {entry.path: entry for entry in feed.files}
        found = {i.relative: i for i in context.inputs if i.relative is not None}
        passed = total = 0
        for relative, summary in sorted(found.items()):
            total += 1
            entry = listed.get(relative)
            location = Location(summary.file)
            if entry is None:
                emit(
                    Problem("file-not-in-manifest", "the file is not listed in the manifest"),
                    location,
                )
                continue
            ok = True
            if entry.sha256 is None or summary.sha256 != entry.sha256.lower():
                ok = False
                emit(
                    Problem(
                        "sha256-mismatch",
                        "the file's sha256 differs from the manifest's (changed or corrupted "
                        "in transit?)",
                    ),
                    location,
                )
            if entry.count is None or entry.count != summary.records_read:
                ok = False
                emit(
                    Problem(
                        "count-mismatch",
                        f"the manifest says {entry.count} records; the file holds "
                        f"{summary.records_read}",
                    ),
                    location,
                )
            passed += ok
        for path in sorted(set(listed) - set(found)):
            total += 1
            emit(
                Problem(
                    "file-missing", f"the manifest lists {path!r} but the feed has no such file"
                ),
                Location(feed.manifest),
            )
        return Measure(passed, total)


class SourceNamed(RecordCheck):
    """MDSS-PROV-03: each resource names its source system (meta.source or a Provenance)."""

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        meta = resource.get("meta")
        if resource["resourceType"] == "Provenance":
            return
        if not isinstance(meta, dict) or not meta.get("source"):
            yield Problem(
                "source-not-named", "meta.source does not name the source system", "meta.source"
            )


class NoIdentifiersInNames(_FeedLevel):
    """MDSS-SEC-01: no NHS Number or postcode in file names or in the manifest's text.

    File names and manifests travel outside the protected payload (mailbox listings,
    logs, object-store keys). Any run of ten digits passing Modulus 11, and anything
    shaped like a postcode, is a finding; sha256 digests are not inspected.
    """

    def finish(self, state: None, context: FinishContext, emit: Emit) -> Measure:
        feed = context.feed
        texts: list[tuple[str, Location]] = []
        for summary in context.inputs:
            texts.append((summary.file.rsplit("/", 1)[-1], Location(summary.file)))
        if feed.manifest_data is not None:
            texts.extend(
                (text, Location(feed.manifest, feed.manifest_line(*path)))
                for path, text in _strings(feed.manifest_data)
            )
        checked = len(texts)
        bad = 0
        for text, location in texts:
            problem = _identifier_in(text)
            if problem is not None:
                bad += 1
                emit(problem, location)
        return Measure(checked - bad, checked)


def _identifier_in(text: str) -> Problem | None:
    for match in _TEN_DIGITS.finditer(text):
        digits = "".join(match.groups())
        if nhs_number_check_digit_ok(digits):
            return Problem(
                "identifier-in-name",
                "an NHS Number ({value}) appears in a name or in manifest text",
                None,
                digits,
                "nhs-number",
            )
    upper = text.upper()
    if _POSTCODE.search(upper) and not re.fullmatch(r"[0-9a-f]{64}", text):
        return Problem("identifier-in-name", "a postcode appears in a name or in manifest text")
    return None


def _strings(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """Every string in the manifest with its path (sha256 digests are not text)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k != "sha256":
                yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))
    elif isinstance(value, str):
        yield path, value


def _factory(cls: type[Check[Any]]) -> Any:
    def factory(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
        check = cls(requirement)
        if cls is SourceNamed and not requirement.applies_to:
            check.applies_to = None
        return check

    return factory


CHECK_TYPES: dict[str, Any] = {
    "manifest-valid": _factory(ManifestValid),
    "files-match-manifest": _factory(FilesMatchManifest),
    "source-named": _factory(SourceNamed),
    "no-identifiers-in-names": _factory(NoIdentifiersInNames),
}
