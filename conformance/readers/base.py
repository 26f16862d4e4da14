"""What readers produce and the interface they implement.

A reader turns one input *source* (a file, a decompressed file, stdin) into a stream of
:class:`Record` objects, each with its exact location. A record that cannot be parsed
is still yielded (``resource`` is None, ``error`` says why) so that nothing is lost:
records read = records validated + records unparseable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias

from conformance.findings import Location, Severity

if TYPE_CHECKING:
    from conformance.limits import Limits


@dataclass(frozen=True, slots=True)
class RecordError:
    code: str
    """Stable kebab-case code, e.g. ``invalid-json``, ``not-utf8``, ``unknown-resource-type``."""
    message: str


@dataclass(slots=True)
class Record:
    resource: dict[str, Any] | None
    location: Location
    error: RecordError | None = None
    table: str | None = None
    """For rows of a tabular extract: the table name (``resource`` then holds the row)."""
    full_url: str | None = None
    """For a Bundle entry: its ``fullUrl`` (so ``urn:uuid:`` references can resolve)."""

    @property
    def resource_type(self) -> str | None:
        if self.table is not None:
            return None
        rt = self.resource.get("resourceType") if self.resource is not None else None
        return rt if isinstance(rt, str) else None

    @property
    def resource_id(self) -> str | None:
        rid = self.resource.get("id") if self.resource is not None else None
        return rid if isinstance(rid, str) else None


@dataclass(frozen=True, slots=True)
class SourceIssue:
    """A problem with a source as a whole (empty file, truncated gzip, ...)."""

    code: str
    message: str
    location: Location
    severity: Severity = Severity.ERROR


@dataclass(slots=True)
class Source:
    """One input to read: its display name, how to open it, and its first bytes."""

    name: str
    """What findings call it: a path relative to the input root, or ``<stdin>``."""
    path: Path | None
    opener: Callable[[], Any]
    """Returns a binary file object (already decompressed)."""
    head: bytes = b""
    """The first few KiB (decompressed), for readers to recognise their format."""
    compression: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    """What a feed manifest says of this file, e.g. ``{"table": "sitrep-discharge"}``."""
    digest: Any = field(default_factory=lambda: hashlib.sha256())
    """sha256 of the file's bytes as stored (compressed if it is), filled while reading."""

    @property
    def suffix(self) -> str:
        name = self.name[:-3] if self.name.endswith(".gz") else self.name
        dot = name.rfind(".")
        return name[dot:].lower() if dot > name.rfind("/") else ""


IssueSink: TypeAlias = Callable[[SourceIssue], None]


class Reader(Protocol):
    """A reader of one input format. Register reader classes with ``conformance_readers``."""

    name: ClassVar[str]
    """Short name, e.g. ``ndjson``."""

    def __init__(self, limits: Limits) -> None:
        """Readers are made once per run, with the run's limits."""

    def claims(self, source: Source) -> int:
        """How sure this reader is that it can read ``source``: 0 (no) to 100 (certain)."""
        ...

    def read(self, source: Source, issues: IssueSink) -> Iterator[Record]:
        """Yield every record of ``source``; report source-level problems to ``issues``."""
        ...
