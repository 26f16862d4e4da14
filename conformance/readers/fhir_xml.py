"""FHIR XML feed files: one resource (or a Bundle) per file, converted to FHIR JSON.

XML is parsed without DTDs or entities (see :mod:`conformance.fhir.fhir_xml`); a file
that is not well-formed, or not FHIR, is one unparseable record, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.base import IssueSink, Record, RecordError, Source, SourceIssue
from conformance.readers.fhir_json import (
    READ_ERRORS,
    _depth_exceeds,
    bundle_records,
    check_resource,
    read_failure,
)


class XmlReader:
    name: ClassVar[str] = "xml"

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def claims(self, source: Source) -> int:
        if source.suffix == ".xml":
            return 80
        return 30 if source.head.lstrip().startswith(b"<") else 0

    def read(self, source: Source, issues: IssueSink) -> Iterator[Record]:
        from conformance.fhir.fhir_xml import FhirXmlError, parse_fhir_xml

        try:
            with source.opener() as stream:
                data = stream.read(self.limits.max_file_bytes + 1)
        except READ_ERRORS as exc:
            issues(read_failure(source, exc, None))
            return
        location = Location(source.name, 1)
        if len(data) > self.limits.max_file_bytes:
            yield Record(
                None,
                location,
                RecordError(
                    "file-too-large",
                    f"larger than the limit of {self.limits.max_file_bytes} bytes "
                    "for one XML document",
                ),
            )
            return
        if not data.strip():
            issues(
                SourceIssue(
                    "empty-file",
                    "the file holds no records",
                    Location(source.name),
                    Severity.WARNING,
                )
            )
            return
        try:
            resource = parse_fhir_xml(data)
        except FhirXmlError as exc:
            yield Record(None, location, RecordError("invalid-xml", str(exc)))
            return
        except LookupError:  # expat: an XML declaration naming an unknown encoding
            yield Record(
                None, location, RecordError("invalid-xml", "the XML declares an unknown encoding")
            )
            return
        except RecursionError:
            yield Record(None, location, RecordError("too-deep", "XML nested too deeply"))
            return
        depth = self.limits.max_depth
        if data.count(b"<") > depth and _depth_exceeds(resource, depth):
            yield Record(
                None, location, RecordError("too-deep", f"XML nested deeper than {depth} levels")
            )
            return
        if resource.get("resourceType") == "Bundle":
            yield from bundle_records(resource, source.name, issues)
            return
        yield check_resource(resource, location)
