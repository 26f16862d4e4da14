"""Readers for FHIR JSON: one resource or a Bundle per file, and NDJSON (Bulk Data)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any, ClassVar

import orjson

from conformance.fhir.resource_types import RESOURCE_TYPES
from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.base import IssueSink, Record, RecordError, Source, SourceIssue
from conformance.readers.opening import LimitExceeded

READ_ERRORS = (OSError, EOFError, zlib.error, LimitExceeded)
"""What reading a (possibly compressed, possibly truncated) stream can raise."""


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


_BUNDLE_FIRST = re.compile(rb'\s*\{\s*"resourceType"\s*:\s*"Bundle"')


def too_many_elements(data: bytes, limit: int, allow_bundle: bool = False) -> RecordError | None:
    """Refuse, before parsing, a document of more than ``limit`` objects and arrays.

    Parsing builds one Python object per JSON container (64 bytes and more for two bytes
    of ``{}``): without this, 16 MB of empty objects takes gigabytes. The count is an upper
    bound (brackets inside strings count too), cheap enough for every record. A Bundle
    (``resourceType`` first) holds many resources and is bounded by ``max-file-bytes``.
    """
    if len(data) <= limit * 2:
        return None  # two bytes a container at least: cannot be over the limit
    containers = data.count(b"{") + data.count(b"[")
    if containers <= limit or (allow_bundle and _BUNDLE_FIRST.match(data)):
        return None
    return RecordError(
        "too-many-elements",
        f"more than {limit} JSON objects and arrays in one resource (max-elements)",
    )


def check_resource(obj: Any, location: Location) -> Record:
    """A parsed JSON value as a record: a FHIR resource, or unparseable and why."""
    if not isinstance(obj, dict):
        kind = type(obj).__name__.replace("NoneType", "null").replace("dict", "object")
        return Record(
            None, location, RecordError("not-an-object", f"expected a JSON object, found {kind}")
        )
    rtype = obj.get("resourceType")
    if not isinstance(rtype, str):
        return Record(
            None, location, RecordError("missing-resource-type", "the object has no resourceType")
        )
    if rtype not in RESOURCE_TYPES:
        shown = rtype if len(rtype) <= 40 and rtype.isidentifier() else "(not a type name)"
        return Record(
            None,
            location,
            RecordError("unknown-resource-type", f"'{shown}' is not a FHIR R4 resource type"),
        )
    return Record(obj, location)


def json_error(exc: orjson.JSONDecodeError, data: bytes) -> RecordError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as uexc:
        return RecordError("not-utf8", f"not valid UTF-8 (byte {uexc.start + 1})")
    message = str(exc).split(":", 1)[0]
    return RecordError("invalid-json", f"invalid JSON: {message}")


class NdjsonReader:
    """One resource per line (FHIR Bulk Data). Locations carry the 1-based line number."""

    name: ClassVar[str] = "ndjson"

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def claims(self, source: Source) -> int:
        if source.suffix in (".ndjson", ".jsonl"):
            return 90
        head = source.head.lstrip()
        if head.startswith(b"{"):
            first, sep, rest = head.partition(b"\n")
            if sep and rest.lstrip().startswith(b"{") and first.rstrip().endswith(b"}"):
                return 60
        return 0

    def read(self, source: Source, issues: IssueSink) -> Iterator[Record]:
        limit = self.limits.max_line_bytes
        depth = self.limits.max_depth
        max_elements = self.limits.max_elements
        name = source.name
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        line_no = int(source.hints.get("first_line", 1)) - 1
        any_line = False
        try:
            with source.opener() as stream:
                while True:
                    line = stream.readline(limit + 1)
                    if not line:
                        break
                    line_no += 1
                    if len(line) > limit and not line.endswith(b"\n"):
                        # Skip the rest of the over-long line, then report it as one record.
                        while True:
                            more = stream.readline(1 << 20)
                            if not more or more.endswith(b"\n"):
                                break
                        yield Record(
                            None,
                            Location(name, line_no),
                            RecordError(
                                "line-too-long", f"line longer than the limit of {limit} bytes"
                            ),
                        )
                        any_line = True
                        continue
                    if not line.strip():
                        continue
                    any_line = True
                    crowded = too_many_elements(line, max_elements)
                    if crowded is not None:
                        yield Record(None, Location(name, line_no), crowded)
                        continue
                    try:
                        obj = loads(line)
                    except decode_error as exc:
                        yield Record(None, Location(name, line_no), json_error(exc, line))
                        continue
                    location = Location(name, line_no)
                    if line.count(b"{") + line.count(b"[") > depth and _depth_exceeds(obj, depth):
                        yield Record(
                            None,
                            location,
                            RecordError("too-deep", f"JSON nested deeper than {depth} levels"),
                        )
                        continue
                    yield check_resource(obj, location)
        except READ_ERRORS as exc:
            issues(read_failure(source, exc, line_no + 1))
            return
        if not any_line and not source.hints.get("range"):
            issues(
                SourceIssue(
                    "empty-file", "the file holds no records", Location(name), Severity.WARNING
                )
            )


def read_failure(source: Source, exc: BaseException, line: int | None) -> SourceIssue:
    if isinstance(exc, LimitExceeded):
        return SourceIssue("limit-exceeded", str(exc), Location(source.name, line))
    what = "compressed data is corrupt or truncated" if source.compression else "read failed"
    return SourceIssue(
        "unreadable-input",
        f"{what} ({type(exc).__name__}); records after this point could not be read",
        Location(source.name, line),
    )


class JsonReader:
    """A file holding one JSON resource; a Bundle's entries become one record each (or,
    with ``whole_bundles``, the Bundle is one record, as a FHIR validator judges it)."""

    name: ClassVar[str] = "json"
    whole_bundles: bool = False

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def claims(self, source: Source) -> int:
        if source.suffix == ".json":
            return 80
        if source.head.lstrip().startswith((b"{", b"[")):
            return 40
        if source.suffix == "" and source.path is None:
            return 5  # stdin with no recognisable content: let JSON report it
        return 0

    def read(self, source: Source, issues: IssueSink) -> Iterator[Record]:
        name = source.name
        try:
            with source.opener() as stream:
                data = stream.read(self.limits.max_file_bytes + 1)
        except READ_ERRORS as exc:
            issues(read_failure(source, exc, None))
            return
        if len(data) > self.limits.max_file_bytes:
            yield Record(
                None,
                Location(name),
                RecordError(
                    "file-too-large",
                    f"larger than the limit of {self.limits.max_file_bytes} bytes for one JSON "
                    "document; split it or export NDJSON",
                ),
            )
            return
        if not data.strip():
            issues(
                SourceIssue(
                    "empty-file", "the file holds no records", Location(name), Severity.WARNING
                )
            )
            return
        crowded = too_many_elements(data, self.limits.max_elements, allow_bundle=True)
        if crowded is not None:
            yield Record(None, Location(name, 1), crowded)
            return
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            line = getattr(exc, "lineno", None)
            column = getattr(exc, "colno", None)
            yield Record(None, Location(name, line, column), json_error(exc, data))
            return
        if data.count(b"{") + data.count(b"[") > self.limits.max_depth and _depth_exceeds(
            obj, self.limits.max_depth
        ):
            yield Record(
                None,
                Location(name, 1),
                RecordError("too-deep", f"JSON nested deeper than {self.limits.max_depth} levels"),
            )
            return
        if isinstance(obj, dict) and obj.get("resourceType") == "Bundle" and not self.whole_bundles:
            yield from self._bundle(obj, name, issues)
            return
        yield check_resource(obj, Location(name, 1))

    def _bundle(self, bundle: dict[str, Any], name: str, issues: IssueSink) -> Iterator[Record]:
        return bundle_records(bundle, name, issues)


def bundle_records(bundle: dict[str, Any], name: str, issues: IssueSink) -> Iterator[Record]:
    """One record per Bundle entry (the Bundle itself is the container, not a record)."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        issues(
            SourceIssue(
                "invalid-bundle",
                "Bundle.entry is not an array",
                Location(name, expression="Bundle.entry"),
            )
        )
        return
    for index, entry in enumerate(entries):
        record = entry_record(entry, Location(name, entry=index))
        if record is not None:
            yield record


def entry_record(entry: Any, location: Location) -> Record | None:
    """The record of one Bundle entry (None for a deletion, which carries no resource)."""
    index = location.entry
    if not isinstance(entry, dict):
        return Record(
            None,
            location.at(f"Bundle.entry[{index}]"),
            RecordError("invalid-bundle-entry", "the Bundle entry is not an object"),
        )
    resource = entry.get("resource")
    if resource is None:
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") == "DELETE":
            return None  # a deletion carries no resource: nothing to validate
        return Record(
            None,
            location.at(f"Bundle.entry[{index}]"),
            RecordError("bundle-entry-without-resource", "the Bundle entry has no resource"),
        )
    record = check_resource(resource, location)
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str):
        record.full_url = full_url
    return record
