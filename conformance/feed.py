"""A feed: its inputs and what its manifest says about it.

A feed is a folder with ``manifest.json`` at its root and NDJSON files per resource type
(a FHIR Bulk Data style export), or any set of loose files or a Bundle (no manifest: the
provenance requirements then fail, everything else still runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from conformance.privacy import scrub

MANIFEST_FILE = "manifest.json"


@dataclass(slots=True)
class ManifestFile:
    path: str
    type: str | None = None
    table: str | None = None
    count: int | None = None
    sha256: str | None = None


@dataclass(slots=True)
class FeedInfo:
    """Metadata of the feed under validation (all optional: loose files have none)."""

    id: str | None = None
    ics: str | None = None
    sender: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    extracted: str | None = None
    environment: str | None = None
    conforms_to: str | None = None
    manifest: str | None = None
    """Display path of the manifest, when the feed has one."""
    manifest_data: Any = None
    """The manifest as parsed (None when missing or not JSON)."""
    manifest_problems: list[str] = field(default_factory=list)
    conforms_to_problem: str | None = None
    """Why the manifest's conformsTo was refused (a path, too long, malformed), if it was."""
    files: list[ManifestFile] = field(default_factory=list)
    root: Path | None = None
    source: str | None = None
    """Where the feed was found, as given (its folder or archive; for loose files the
    folder common to them). File names in findings are relative to it."""
    _lines: dict[tuple[str | int, ...], int] | None = None

    def manifest_line(self, *path: str | int) -> int | None:
        """The manifest line of ``path`` (or of its nearest ancestor), for findings."""
        if self.manifest is None or self.root is None:
            return None
        if self._lines is None:
            from conformance.readers.locate import json_key_lines

            try:
                self._lines = json_key_lines((self.root / MANIFEST_FILE).read_bytes())
            except OSError:
                self._lines = {}
        from conformance.readers.locate import line_of

        return line_of(self._lines, path)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("id", "ics", "sender", "extracted", "environment", "conforms_to", "manifest"):
            val = getattr(self, key)
            if val is not None:
                out[key] = scrub(val)
        if self.period_start or self.period_end:
            out["period"] = {"start": self.period_start, "end": self.period_end}
        if self.source is not None:
            out["root"] = scrub(self.source)
        return out


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


MAX_REFERENCE = 64
"""Longest ``conformsTo`` accepted: an id and a version, never a path or a document."""


def _conforms_to(value: Any, info: FeedInfo) -> str | None:
    """The standard the manifest declares, only as a reference to the registry.

    A feed never chooses the rules it is judged by from its own files: a path, a URL, or
    anything but ``id`` / ``id@version`` is refused (a manifest problem, hence a finding)
    and the run uses the standard given on the command line, else the default.
    """
    from conformance.standards.registry import is_reference

    if value is None:
        return None
    if isinstance(value, str) and len(value) <= MAX_REFERENCE and is_reference(value):
        return value
    shown = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
    info.conforms_to_problem = (
        f"conformsTo ({shown}) is not a standard reference such as mdss@1.0.0; it was "
        "ignored: a feed is judged by the standard the command line names, else the default"
    )
    return None


def read_manifest(path: Path, display: str) -> FeedInfo:
    """Read a feed manifest; problems are recorded (for MDSS-PROV-01), never raised."""
    info = FeedInfo(manifest=display, root=path.parent)
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        info.manifest_problems.append(f"manifest is not valid JSON ({type(exc).__name__})")
        return info
    info.manifest_data = data
    if not isinstance(data, dict):
        info.manifest_problems.append("manifest is not a JSON object")
        return info
    feed = data.get("feed")
    if not isinstance(feed, dict):
        info.manifest_problems.append("manifest has no 'feed' object")
        feed = {}
    info.id = _text(feed.get("id"))
    info.ics = _text(feed.get("ics"))
    info.sender = _text(feed.get("sender"))
    period = feed.get("period")
    if isinstance(period, dict):
        info.period_start = _text(period.get("start"))
        info.period_end = _text(period.get("end"))
    info.extracted = _text(feed.get("extracted"))
    info.environment = _text(feed.get("environment"))
    info.conforms_to = _conforms_to(feed.get("conformsTo"), info)
    files = data.get("files")
    if not isinstance(files, list):
        info.manifest_problems.append("manifest has no 'files' array")
        files = []
    for index, entry in enumerate(files):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            info.manifest_problems.append(f"files[{index}] has no 'path'")
            continue
        count = entry.get("count")
        info.files.append(
            ManifestFile(
                path=entry["path"],
                type=_text(entry.get("type")),
                table=_text(entry.get("table")),
                count=count if isinstance(count, int) and not isinstance(count, bool) else None,
                sha256=_text(entry.get("sha256")),
            )
        )
    return info
