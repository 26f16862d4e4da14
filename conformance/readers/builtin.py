"""The built-in readers, registered through the same hook as third-party readers."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.plugin import hookimpl
from conformance.readers.base import Reader
from conformance.readers.csv_table import CsvReader
from conformance.readers.fhir_json import JsonReader, NdjsonReader
from conformance.readers.fhir_xml import XmlReader


@hookimpl
def conformance_readers() -> Sequence[type[Reader]]:
    return [NdjsonReader, JsonReader, CsvReader, XmlReader]
