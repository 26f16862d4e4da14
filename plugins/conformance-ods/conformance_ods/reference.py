"""Read ODS CSV extracts (etr, ets, epraccur and the like) into a code -> entry index."""

from __future__ import annotations

import csv
import datetime
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "CONFORMANCE_ODS_DATA"
"""A folder of ODS extracts (or one file, or several separated by the path separator)."""

KINDS = {"etr": "trust", "ets": "site", "epraccur": "gp-practice"}
_CODE, _NAME, _OPEN, _CLOSE, _STATUS = 0, 1, 10, 11, 12
_INACTIVE_STATUS = {"C": "closed", "D": "dormant", "P": "proposed"}


class ReferenceError_(ValueError):
    """The reference data cannot be found or read."""


@dataclass(frozen=True, slots=True)
class OdsEntry:
    code: str
    kind: str
    opened: datetime.date | None
    closed: datetime.date | None
    status: str | None = None
    """For GP practices: A, C, D or P (column 13 of epraccur.csv)."""


def _date(text: str, where: str) -> datetime.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise ReferenceError_(f"{where}: '{text}' is not a YYYYMMDD date") from None


def parse_extract(text: str, kind: str, name: str) -> list[OdsEntry]:
    entries: list[OdsEntry] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip():
            continue
        where = f"{name}:{number}"
        if len(row) < 12:
            raise ReferenceError_(f"{where}: {len(row)} columns, an ODS extract has at least 12")
        status = (
            row[_STATUS].strip() or None if len(row) > _STATUS and kind == "gp-practice" else None
        )
        entries.append(
            OdsEntry(
                code=row[_CODE].strip().upper(),
                kind=kind,
                opened=_date(row[_OPEN], where),
                closed=_date(row[_CLOSE], where),
                status=status,
            )
        )
    return entries


class OdsReference:
    """Every organisation of the extracts loaded, by code."""

    def __init__(self, entries: Iterable[OdsEntry], sources: Iterable[str] = ()) -> None:
        self.entries: dict[str, OdsEntry] = {}
        for entry in entries:
            self.entries[entry.code] = entry
        self.sources = tuple(sources)

    def __len__(self) -> int:
        return len(self.entries)

    def problem(self, code: str, on: datetime.date | None) -> str | None:
        """None when ``code`` is known and open on ``on``; else a kebab-case reason."""
        entry = self.entries.get(code)
        if entry is None:
            return "unknown"
        if entry.status in _INACTIVE_STATUS and entry.status != "C":
            return "inactive"
        if on is None:
            return "closed" if entry.closed is not None or entry.status == "C" else None
        if entry.opened is not None and on < entry.opened:
            return "not-yet-open"
        if entry.closed is not None and on > entry.closed:
            return "closed"
        if entry.closed is None and entry.status == "C":
            return "closed"
        return None


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if path.is_file():
        return [path]
    raise ReferenceError_(f"ODS reference data {path}: no such file or folder")


def load_reference(paths: Iterable[Path]) -> OdsReference:
    entries: list[OdsEntry] = []
    sources: list[str] = []
    for path in paths:
        for file in _files(path):
            kind = KINDS.get(file.stem.lower(), "organisation")
            try:
                text = file.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise ReferenceError_(f"{file}: cannot be read: {exc}") from None
            entries.extend(parse_extract(text, kind, file.name))
            sources.append(file.name)
    if not entries:
        raise ReferenceError_("the ODS reference data holds no organisation")
    return OdsReference(entries, sources)


def paths_from_env() -> list[Path]:
    raw = os.environ.get(ENV_VAR, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]
