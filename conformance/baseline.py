"""Compare a scorecard with a saved one, so that only regressions fail a build.

A team adopting the standard on a feed that does not conform yet saves today's scorecard
as the *baseline* and runs ``conformance validate --baseline baseline.json`` in CI: the run
fails only when the feed gets worse. Worse means any of:

- a requirement that was met (``pass`` or ``not-applicable``, or absent from the
  baseline) is now not met, or one that was ``partial`` is now ``fail``;
- more findings of one ``(requirement, code)`` than the baseline had (counts are exact
  in every scorecard, even when examples are capped);
- a finding whose fingerprint ``(requirement, code, file, line/entry/row, expression)``
  is not in the baseline. Fingerprints are compared only for requirements whose every
  finding the baseline kept: when examples were capped a missing fingerprint proves
  nothing, and the counts decide.

The ``file`` of a fingerprint is relative to the feed root, so a baseline saved from
``feeds/qop`` matches a run on ``./feeds/qop``, on its absolute path or from another
folder. Scorecards name files relative to ``feed.root`` already; for older ones (no
``feed.root``) the folder of the manifest, else the folder common to the inputs, is cut.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from conformance.errors import UsageError

NOT_MET_RANK = {"pass": 0, "not-applicable": 0, "partial": 1, "fail": 2}

Fingerprint = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Regression:
    kind: str
    """``requirement`` (status got worse), ``count`` or ``finding``."""
    requirement: str
    detail: str

    def __str__(self) -> str:
        return f"{self.requirement}: {self.detail}"


@dataclass(slots=True)
class BaselineComparison:
    regressions: list[Regression] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.regressions

    def render(self) -> str:
        """A short plain-text summary (for stderr or a CI log)."""
        lines = [*(f"note: {n}" for n in self.notes)]
        if self.regressions:
            lines.append(f"{len(self.regressions)} regression(s) against the baseline:")
            lines.extend(f"  {r}" for r in self.regressions[:50])
            if len(self.regressions) > 50:
                lines.append(f"  ... and {len(self.regressions) - 50} more")
        else:
            lines.append("no regression against the baseline")
        if self.improvements:
            lines.append(
                f"{len(self.improvements)} improvement(s): "
                + "; ".join(self.improvements[:10])
                + (" ..." if len(self.improvements) > 10 else "")
            )
        return "\n".join(lines) + "\n"


def _is_scorecard(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("requirements"), list)


def load_baseline(path: Path) -> list[dict[str, Any]]:
    """Read a saved JSON scorecard, or a list of them (a multi-feed ``--format json``
    output); a missing or malformed file is a usage error."""
    from conformance.files import read_regular

    raw = read_regular(path, what="baseline scorecard")  # never blocks on a pipe
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path}: the baseline is not JSON ({exc})") from None
    cards = data if isinstance(data, list) and data else [data]
    if not all(_is_scorecard(card) for card in cards):
        raise UsageError(f"{path}: not a conformance JSON scorecard (save one with --format json)")
    return cards


def feed_key(card: Mapping[str, Any]) -> tuple[str, ...]:
    """Which feed a scorecard is about, for matching baselines: the manifest's feed id, ICS
    and sender, else the last part of the feed root."""
    feed = card.get("feed") or {}
    ident = tuple(str(feed.get(k) or "") for k in ("id", "ics", "sender"))
    if any(ident):
        return ident
    root = str(feed.get("root") or legacy_root(card) or "")
    return ("", "", "", posixpath.basename(root.replace("\\", "/").rstrip("/")))


def baseline_for(
    baselines: list[dict[str, Any]], card: Mapping[str, Any], runs: int
) -> dict[str, Any] | None:
    """The baseline to compare ``card`` with: the only one when one feed meets one
    baseline, else the one about the same feed (None: this feed has no baseline)."""
    if runs == 1 and len(baselines) == 1:
        return baselines[0]
    key = feed_key(card)
    return next((b for b in baselines if feed_key(b) == key), None)


def legacy_root(card: Mapping[str, Any]) -> str | None:
    """The display prefix of a scorecard made before files were named relative to the
    feed root (no ``feed.root``): None when names are relative already."""
    feed = card.get("feed") or {}
    if "root" in feed:
        return None
    manifest = feed.get("manifest")
    if isinstance(manifest, str) and "/" in manifest:
        return posixpath.dirname(manifest)
    folders = [
        posixpath.dirname(str(i.get("file", "")))
        for i in card.get("inputs", ())
        if isinstance(i, dict) and i.get("file") != "<stdin>"
    ]
    if not folders or len({posixpath.isabs(f) for f in folders}) > 1:
        return None
    return posixpath.commonpath(folders) or None


def fingerprint(finding: Mapping[str, Any], root: str | None = None) -> Fingerprint:
    """What identifies a finding across runs; ``root``: a legacy display prefix to cut."""
    loc = finding.get("location") or {}
    place = next(
        (f"{key}:{loc[key]}" for key in ("line", "entry", "row") if loc.get(key) is not None), ""
    )
    file = str(loc.get("file", ""))
    if root is not None and file.startswith(root.rstrip("/") + "/"):
        file = file[len(root.rstrip("/")) + 1 :]
    return (
        str(finding.get("requirement", "")),
        str(finding.get("code", "")),
        file,
        place,
        str(loc.get("expression", "")),
    )


def _requirements(card: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {r["id"]: r for r in card.get("requirements", ()) if isinstance(r, dict) and "id" in r}


def _total_findings(req: Mapping[str, Any]) -> int:
    by_severity = req.get("findings") or {}
    return sum(int(v) for v in by_severity.values()) if isinstance(by_severity, dict) else 0


def compare(baseline: Mapping[str, Any], current: Mapping[str, Any]) -> BaselineComparison:
    """The regressions (and improvements) of ``current`` against ``baseline``."""
    result = BaselineComparison()
    old_std, new_std = baseline.get("standard") or {}, current.get("standard") or {}
    old_ref = f"{old_std.get('id')}@{old_std.get('version')}"
    new_ref = f"{new_std.get('id')}@{new_std.get('version')}"
    if old_ref != new_ref:
        result.notes.append(f"baseline judged by {old_ref}, this run by {new_ref}")
    old_reqs, new_reqs = _requirements(baseline), _requirements(current)

    for rid, req in new_reqs.items():
        now = str(req.get("status"))
        before_req = old_reqs.get(rid)
        before = str(before_req.get("status")) if before_req is not None else "not-applicable"
        rank_now, rank_before = NOT_MET_RANK.get(now, 0), NOT_MET_RANK.get(before, 0)
        if rank_now > rank_before:
            result.regressions.append(
                Regression("requirement", rid, f"{before} -> {now} ({req.get('level', '?')})")
            )
        elif rank_now < rank_before:
            result.improvements.append(f"{rid} {before} -> {now}")
        old_codes = (before_req or {}).get("codes") or {}
        for code, count in sorted((req.get("codes") or {}).items()):
            was = int(old_codes.get(code, 0))
            if int(count) > was:
                result.regressions.append(
                    Regression("count", rid, f"{code}: {was} -> {count} finding(s)")
                )
        for code, was in sorted(old_codes.items()):
            count = int((req.get("codes") or {}).get(code, 0))
            if count < int(was):
                result.improvements.append(f"{rid} {code}: {was} -> {count}")

    old_findings = [f for f in baseline.get("findings", ()) if isinstance(f, dict)]
    kept = Counter(str(f.get("requirement")) for f in old_findings)
    complete = {rid for rid, req in old_reqs.items() if kept.get(rid, 0) >= _total_findings(req)}
    complete |= {rid for rid in new_reqs if rid not in old_reqs}
    old_root, new_root = legacy_root(baseline), legacy_root(current)
    known = Counter(fingerprint(f, old_root) for f in old_findings)
    for finding in current.get("findings", ()):
        if not isinstance(finding, dict):
            continue
        rid = str(finding.get("requirement"))
        if rid not in complete:
            continue
        fp = fingerprint(finding, new_root)
        if known[fp] > 0:
            known[fp] -= 1
            continue
        where = ":".join(part for part in fp[2:4] if part)
        expression = f" {fp[4]}" if fp[4] else ""
        result.regressions.append(
            Regression("finding", rid, f"new {fp[1]} at {where or '<feed>'}{expression}")
        )
    return result
