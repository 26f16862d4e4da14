"""FHIR XML feed files: one resource (or a Bundle) per file, converted to FHIR JSON.

XML is parsed without DTDs or entities (see :mod:`conformance.fhir.fhir_xml`), and read
incrementally: a Bundle's entries become records as each one ends, so memory holds one
entry (bounded by ``max-elements``), not the file. A file that is not well-formed, or not
FHIR, is an unparseable record at the point where it breaks, never a crash; the entries
before that point are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, ClassVar

from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.base import IssueSink, Record, RecordError, Source, SourceIssue
from conformance.readers.fhir_json import (
    READ_ERRORS,
    _depth_exceeds,
    check_resource,
    entry_record,
    read_failure,
)

CHUNK = 64 * 1024


class _TooLarge(Exception):
    pass


class XmlReader:
    name: ClassVar[str] = "xml"
    whole_bundles: bool = False
    """A Bundle is one record (its entries gathered back into it), not one per entry."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def claims(self, source: Source) -> int:
        if source.suffix == ".xml":
            return 80
        return 30 if source.head.lstrip().startswith(b"<") else 0

    def _chunks(self, stream: IO[bytes], seen: list[int]) -> Iterator[bytes]:
        limit = self.limits.max_file_bytes
        while chunk := stream.read(CHUNK):
            seen[0] += len(chunk)
            if seen[0] > limit:
                raise _TooLarge
            if chunk.strip():
                seen[1] = 1
            yield chunk

    def read(self, source: Source, issues: IssueSink) -> Iterator[Record]:
        from conformance.fhir.fhir_xml import FhirXmlError, iter_fhir_xml

        name = source.name
        depth = self.limits.max_depth
        seen = [0, 0]  # bytes read, whether any was not blank
        last_line = 1
        gathered: list[object] | None = [] if self.whole_bundles else None
        try:
            with source.opener() as stream:
                parsed = iter_fhir_xml(self._chunks(stream, seen), self.limits.max_elements)
                for index, line, value in parsed:
                    if index is None:
                        is_bundle = (
                            isinstance(value, dict) and value.get("resourceType") == "Bundle"
                        )
                        if is_bundle and gathered is not None and isinstance(value, dict):
                            if gathered:
                                value["entry"] = gathered
                        elif not isinstance(value, dict) or is_bundle:
                            return  # the Bundle is the container: its entries were the records
                        record = check_resource(value, Location(name, 1))
                    elif isinstance(value, FhirXmlError):
                        where = Location(name, line, entry=index)
                        record = Record(None, where, RecordError("invalid-xml", str(value)))
                    elif gathered is not None:
                        gathered.append(value)
                        continue
                    else:
                        found = entry_record(value, Location(name, line, entry=index))
                        if found is None:
                            continue
                        record = found
                    last_line = line
                    if record.resource is not None and _depth_exceeds(record.resource, depth):
                        record = Record(
                            None,
                            record.location,
                            RecordError("too-deep", f"XML nested deeper than {depth} levels"),
                        )
                    yield record
        except _TooLarge:
            yield Record(
                None,
                Location(name, last_line),
                RecordError(
                    "file-too-large",
                    f"larger than the limit of {self.limits.max_file_bytes} bytes "
                    "for one XML document",
                ),
            )
        except FhirXmlError as exc:
            if not seen[1]:
                issues(
                    SourceIssue(
                        "empty-file", "the file holds no records", Location(name), Severity.WARNING
                    )
                )
                return
            yield Record(None, Location(name, last_line), RecordError("invalid-xml", str(exc)))
        except READ_ERRORS as exc:
            issues(read_failure(source, exc, None))
