"""Tabular extracts (CSV), e.g. a daily discharge SITREP: one record per row.

Rows are yielded as dicts of column -> text (empty cells left out); the table's check
types the columns from the standard's table schema. The table name comes from the feed
manifest (``"table": "sitrep-discharge"``), else from the file name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import ClassVar

from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.base import IssueSink, Record, RecordError, Source, SourceIssue
from conformance.readers.fhir_json import READ_ERRORS, read_failure


def table_name(source: Source) -> str:
    hinted = source.hints.get("table")
    if isinstance(hinted, str) and hinted:
        return hinted
    name = source.name.rsplit("/", 1)[-1]
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix)
    return name


class CsvReader:
    name: ClassVar[str] = "csv"

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def claims(self, source: Source) -> int:
        if source.hints.get("table"):
            return 95
        return 85 if source.suffix == ".csv" else 0

    def read(self, source: Source, issues: IssueSink) -> Iterator[Record]:
        table = table_name(source)
        csv.field_size_limit(self.limits.max_line_bytes)
        row_no = 0
        try:
            with source.opener() as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                reader = csv.reader(text)
                try:
                    header = next(reader)
                except StopIteration:
                    issues(
                        SourceIssue(
                            "empty-file",
                            "the file holds no rows",
                            Location(source.name),
                            Severity.WARNING,
                        )
                    )
                    return
                columns = [c.strip() for c in header]
                if len(set(columns)) != len(columns) or not all(columns):
                    issues(
                        SourceIssue(
                            "csv-bad-header",
                            "the header row has empty or repeated column names",
                            Location(source.name, 1),
                        )
                    )
                    return
                width = len(columns)
                while True:
                    try:
                        cells = next(reader)
                    except StopIteration:
                        break
                    except csv.Error as exc:
                        row_no += 1
                        yield Record(
                            None,
                            Location(source.name, reader.line_num, row=row_no),
                            RecordError("csv-invalid", f"invalid CSV ({exc})"),
                            table=table,
                        )
                        continue
                    if not cells:
                        continue
                    row_no += 1
                    location = Location(source.name, reader.line_num, row=row_no)
                    if len(cells) != width:
                        yield Record(
                            None,
                            location,
                            RecordError(
                                "csv-field-count",
                                f"{len(cells)} fields where the header has {width}",
                            ),
                            table=table,
                        )
                        continue
                    row = {c: v for c, v in zip(columns, cells, strict=True) if v != ""}
                    yield Record(row, location, table=table)
        except UnicodeDecodeError as exc:
            issues(
                SourceIssue(
                    "not-utf8",
                    f"not valid UTF-8 (byte {exc.start + 1} of a block); "
                    "rows after this point could not be read",
                    Location(source.name, None, row=row_no + 1),
                )
            )
        except READ_ERRORS as exc:
            issues(read_failure(source, exc, None))
