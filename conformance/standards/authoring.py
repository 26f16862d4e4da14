"""Tools for standards authors: a deeper lint, the diff between versions, and scaffolding.

The versioning rules that :func:`diff_standards` applies are documented in
``docs/standards-authoring.md``. In short, a change that can turn a conformant feed into a
non-conformant one, or that breaks a reference to a requirement id, needs a major
version; a change that can only add warnings (or loosen) needs a minor version; wording
needs a patch.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import StandardError, UsageError
from conformance.standards.model import Level, Requirement, Standard
from conformance.standards.registry import StandardRegistry

_LEVEL_RANK = {Level.MAY: 0, Level.SHOULD: 1, Level.MUST: 2}
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$")
_VALUE_SET_KEYS = frozenset({"value_set", "valueset", "value_sets", "valuesets"})
_PROFILE_KEYS = frozenset({"profile", "profiles"})


class Bump(enum.IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    def __str__(self) -> str:
        return self.name.lower()


# ----------------------------------------------------------------------------- diff


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    """``added``, ``removed``, ``level-raised``, ``level-lowered``, ``threshold-raised``,
    ``threshold-lowered``, ``check-changed``, ``scope-widened``, ``scope-narrowed``,
    ``deprecated``, ``reactivated``, ``domain-changed``, ``text-changed``,
    ``profiles-changed``, ``data-items-changed``, ``metadata-changed``."""
    subject: str
    """The requirement id, or a standard-level key."""
    detail: str
    needs: Bump

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "detail": self.detail,
            "needs": str(self.needs),
        }


@dataclass(slots=True)
class StandardDiff:
    old: str
    new: str
    old_version: str
    new_version: str
    changes: list[Change] = field(default_factory=list)

    @property
    def required(self) -> Bump:
        return max((c.needs for c in self.changes), default=Bump.NONE)

    @property
    def actual(self) -> Bump | None:
        """The bump from the old version to the new; None when the new is not newer."""
        return version_bump(self.old_version, self.new_version)

    @property
    def ok(self) -> bool:
        actual = self.actual
        if actual is None:
            return False
        if actual is Bump.NONE:
            return not self.changes
        return actual >= self.required

    def verdict(self) -> str:
        actual, required = self.actual, self.required
        step = f"{self.old_version} -> {self.new_version}"
        if actual is None:
            return f"WRONG: {step} does not go forward"
        if actual is Bump.NONE:
            if self.changes:
                return (
                    f"WRONG: {step} keeps the version but the content changed "
                    f"(needs at least a {required} version)"
                )
            return f"OK: {step}, no change"
        if actual < required:
            return f"WRONG: {step} is a {actual} version but the changes need a {required} version"
        extra = (
            ""
            if actual == required or not self.changes
            else f" (a {required} version would have been enough)"
        )
        return f"OK: {step} is a {actual} version; the changes need {required or 'none'}{extra}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "changes": [c.to_dict() for c in self.changes],
            "required_bump": str(self.required),
            "actual_bump": str(self.actual) if self.actual is not None else "backwards",
            "ok": self.ok,
            "verdict": self.verdict(),
        }


def _semver(version: str) -> tuple[int, int, int] | None:
    match = _SEMVER.match(version)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def version_bump(old: str, new: str) -> Bump | None:
    """Which part changed from ``old`` to ``new`` (None when ``new`` is not newer).

    Before 1.0.0 everything may change: a breaking change needs only a minor bump, so a
    0.x minor bump counts as major here.
    """
    a, b = _semver(old), _semver(new)
    if a is None or b is None or b < a:
        return None
    if b == a:
        return Bump.NONE
    if b[0] != a[0]:
        return Bump.MAJOR
    if b[1] != a[1]:
        return Bump.MAJOR if a[0] == 0 else Bump.MINOR
    return Bump.PATCH


def _pct(value: float) -> str:
    return f"{100 * value:g} %"


def _requirement_changes(old: Requirement, new: Requirement) -> Iterator[Change]:
    rid = new.id
    must = new.level is Level.MUST and new.status == "active"
    if new.level is not old.level:
        raised = _LEVEL_RANK[new.level] > _LEVEL_RANK[old.level]
        yield Change(
            "level-raised" if raised else "level-lowered",
            rid,
            f"{old.level.value} -> {new.level.value}",
            Bump.MAJOR if raised and new.level is Level.MUST else Bump.MINOR,
        )
    if new.effective_threshold != old.effective_threshold:
        raised = new.effective_threshold > old.effective_threshold
        yield Change(
            "threshold-raised" if raised else "threshold-lowered",
            rid,
            f"{_pct(old.effective_threshold)} -> {_pct(new.effective_threshold)}",
            Bump.MAJOR if raised and must else Bump.MINOR,
        )
    if new.check.type != old.check.type or new.check.params != old.check.params:
        detail = (
            f"{old.check.type} -> {new.check.type}"
            if new.check.type != old.check.type
            else f"{new.check.type} parameters changed"
        )
        yield Change("check-changed", rid, detail, Bump.MAJOR if must else Bump.MINOR)
    if set(new.applies_to) != set(old.applies_to):
        old_scope, new_scope = set(old.applies_to), set(new.applies_to)
        widened = (not new_scope and bool(old_scope)) or bool(new_scope - old_scope and old_scope)
        scope = ", ".join(new.applies_to) or "every record"
        yield Change(
            "scope-widened" if widened else "scope-narrowed",
            rid,
            f"applies to {', '.join(old.applies_to) or 'every record'} -> {scope}",
            Bump.MAJOR if widened and must else Bump.MINOR,
        )
    if new.status != old.status:
        if new.status == "deprecated":
            successor = f", replaced by {new.replaced_by}" if new.replaced_by else ""
            yield Change("deprecated", rid, f"deprecated{successor}", Bump.MINOR)
        else:
            yield Change(
                "reactivated",
                rid,
                f"{old.status} -> {new.status}",
                Bump.MAJOR if must else Bump.MINOR,
            )
    if new.domain != old.domain:
        yield Change("domain-changed", rid, f"{old.domain} -> {new.domain}", Bump.MINOR)
    texts = [
        k for k in ("title", "rationale", "source", "measure") if getattr(old, k) != getattr(new, k)
    ]
    if texts:
        yield Change("text-changed", rid, ", ".join(texts), Bump.PATCH)


def diff_standards(old: Standard, new: Standard) -> StandardDiff:
    """Every change from ``old`` to ``new``, each with the version bump it needs."""
    diff = StandardDiff(old.ref, new.ref, old.version, new.version)
    changes = diff.changes
    old_reqs = {r.id: r for r in old.requirements}
    new_reqs = {r.id: r for r in new.requirements}
    for rid, req in new_reqs.items():
        before = old_reqs.get(rid)
        if before is None:
            needs = Bump.MAJOR if req.level is Level.MUST and req.status == "active" else Bump.MINOR
            changes.append(Change("added", rid, f"{req.level.value}: {req.title}", needs))
        else:
            changes.extend(_requirement_changes(before, req))
    for rid, req in old_reqs.items():
        if rid not in new_reqs:
            changes.append(
                Change(
                    "removed",
                    rid,
                    f"{req.level.value}: {req.title} (ids are stable: deprecate first, remove in a "
                    "major version)",
                    Bump.MAJOR,
                )
            )
    profile_must = any(
        r.check.type == "fhir-profiles" and r.level is Level.MUST and r.status == "active"
        for r in new.requirements
    )
    for rtype in sorted(set(old.profiles) | set(new.profiles)):
        before_p, after_p = set(old.profiles.get(rtype, ())), set(new.profiles.get(rtype, ()))
        if before_p != after_p:
            tighter = bool(after_p - before_p)
            changes.append(
                Change(
                    "profiles-changed",
                    rtype,
                    f"profiles {sorted(before_p) or '-'} -> {sorted(after_p) or '-'}",
                    Bump.MAJOR if tighter and profile_must else Bump.MINOR,
                )
            )
    old_items = {d.id: d for d in old.data_items}
    new_items = {d.id: d for d in new.data_items}
    if old_items != new_items:
        added = sorted(set(new_items) - set(old_items))
        removed = sorted(set(old_items) - set(new_items))
        changed = sorted(k for k in set(old_items) & set(new_items) if old_items[k] != new_items[k])
        parts = [
            f"{name}: {', '.join(ids)}"
            for name, ids in (("added", added), ("removed", removed), ("changed", changed))
            if ids
        ]
        changes.append(Change("data-items-changed", "data_items", "; ".join(parts), Bump.MINOR))
    meta = [
        k
        for k in (
            "title",
            "description",
            "publisher",
            "effective_from",
            "effective_to",
            "status",
            "fhir_version",
            "extends",
        )
        if getattr(old, k) != getattr(new, k)
    ]
    if meta:
        changes.append(Change("metadata-changed", "standard", ", ".join(meta), Bump.PATCH))
    return diff


_HEADINGS = {
    "added": "Added",
    "removed": "Removed",
    "level-raised": "Level raised",
    "level-lowered": "Level lowered",
    "threshold-raised": "Threshold raised (tightened)",
    "threshold-lowered": "Threshold lowered (loosened)",
    "check-changed": "Check changed",
    "scope-widened": "Scope widened",
    "scope-narrowed": "Scope narrowed",
    "deprecated": "Deprecated",
    "reactivated": "Reactivated",
    "domain-changed": "Domain changed",
    "text-changed": "Wording changed",
    "profiles-changed": "Profiles changed",
    "data-items-changed": "Data items changed",
    "metadata-changed": "Metadata changed",
}


def render_diff(diff: StandardDiff) -> str:
    lines = [f"{diff.old} -> {diff.new}: {len(diff.changes)} change(s)"]
    for kind, heading in _HEADINGS.items():
        group = [c for c in diff.changes if c.kind == kind]
        if not group:
            continue
        lines.append(f"{heading} ({len(group)}):")
        lines.extend(f"  {c.subject:<14} {c.detail}  [{c.needs}]" for c in group)
    lines.append(f"Version: {diff.verdict()}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- lint


@dataclass(frozen=True, slots=True)
class LintIssue:
    severity: str
    """``error`` (lint fails) or ``warning``."""
    message: str


def _param_refs(value: Any, keys: frozenset[str]) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in keys:
                if isinstance(item, str):
                    yield item
                elif isinstance(item, list):
                    yield from (v for v in item if isinstance(v, str))
            else:
                yield from _param_refs(item, keys)
    elif isinstance(value, list):
        for item in value:
            yield from _param_refs(item, keys)


def lint_resources(std: Standard) -> list[LintIssue]:
    """Profiles and value sets the standard names exist, and its resource files parse."""
    from conformance.fhir.data import core_expansion, core_profiles
    from conformance.fhir.definitions import DefinitionSet
    from conformance.fhir.errors import DefinitionError

    issues: list[LintIssue] = []
    local = DefinitionSet([])
    for kind in ("profiles", "terminology"):
        for folder in std.resource_folders(kind):
            for file in sorted(folder.rglob("*")):
                if not file.is_file() or file.name.startswith(".") or file.name == "README.md":
                    continue
                try:
                    local = local.merged(DefinitionSet.load([file]))
                except DefinitionError as exc:
                    issues.append(LintIssue("error", f"{kind}/: {exc}"))
    validates = any(
        r.check.type == "fhir-profiles" and r.status == "active" for r in std.requirements
    )
    for rtype, urls in sorted(std.profiles.items()):
        for url in urls:
            sd = local.structure_definitions.get(url) or core_profiles().get(url.split("|")[0])
            if sd is None:
                issues.append(
                    LintIssue(
                        "error" if validates else "warning",
                        f"profiles.{rtype}: profile {url} is not in the standard's profiles/ "
                        "folder nor built in"
                        + ("" if validates else " (no fhir-profiles requirement uses it yet)"),
                    )
                )
            elif sd.get("type") not in (rtype, None):
                issues.append(
                    LintIssue(
                        "error", f"profiles.{rtype}: profile {url} constrains {sd.get('type')}"
                    )
                )
    for req in std.requirements:
        for url in _param_refs(req.check.params, _VALUE_SET_KEYS):
            if url not in local.valuesets and core_expansion(url.split("|")[0]) is None:
                issues.append(
                    LintIssue(
                        "error", f"{req.id}: value set {url} is not in terminology/ nor built in"
                    )
                )
        for url in _param_refs(req.check.params, _PROFILE_KEYS):
            if url not in local.structure_definitions and url not in core_profiles():
                issues.append(
                    LintIssue("error", f"{req.id}: profile {url} is not in profiles/ nor built in")
                )
    return issues


def lint_rules(std: Standard) -> list[LintIssue]:
    """Rules beyond the schema: thresholds, deprecation, the changelog."""
    issues: list[LintIssue] = []
    by_id = {r.id: r for r in std.requirements}
    for req in std.requirements:
        if req.threshold is not None and req.threshold == 0:
            issues.append(LintIssue("error", f"{req.id}: a threshold of 0 can never fail"))
        if req.level is Level.MAY and req.threshold is not None and req.threshold > 0.99:
            issues.append(
                LintIssue(
                    "warning", f"{req.id}: a MAY with a threshold near 100 % reads like a SHOULD"
                )
            )
        if req.replaced_by is not None:
            if req.status != "deprecated":
                issues.append(
                    LintIssue(
                        "error",
                        f"{req.id}: replaced_by is set but the requirement is not deprecated",
                    )
                )
            if req.replaced_by == req.id:
                issues.append(LintIssue("error", f"{req.id}: replaced_by names itself"))
            successor = by_id.get(req.replaced_by)
            if successor is not None and successor.status == "deprecated":
                issues.append(
                    LintIssue(
                        "error", f"{req.id}: its successor {req.replaced_by} is deprecated too"
                    )
                )
        elif req.status == "deprecated":
            issues.append(
                LintIssue(
                    "warning", f"{req.id}: deprecated without replaced_by (say what replaces it)"
                )
            )
    if std.changelog and not any(str(e.get("version")) == std.version for e in std.changelog):
        issues.append(LintIssue("warning", f"the changelog has no entry for {std.version}"))
    return issues


def lint_standard(path: str) -> tuple[str, bool]:
    """The full lint: load and compile (schema, unique ids, check types and parameters),
    the basic rules of ``commands.lint_standard``, then resources and authoring rules.

    Returns (text, ok); warnings are printed but do not fail the lint.
    """
    from conformance.checks.registry import compile_with_plugins
    from conformance.plugin.manager import build_plugins
    from conformance.standards import commands

    try:
        std = StandardRegistry.default().load_folder(Path(path))
        compile_with_plugins(std, build_plugins())
    except StandardError as exc:
        return f"{exc}\n", False  # it does not load or compile: nothing more to check
    text, ok = commands.lint_standard(path)
    lines = [] if ok else [line for line in text.splitlines() if line]
    where = commands.standard_file(path, std)
    issues = [*lint_resources(std), *lint_rules(std)]
    lines += [f"{where}: {i.severity}: {i.message}" for i in issues]
    if not ok or any(i.severity == "error" for i in issues):
        return "\n".join(lines) + "\n", False
    warnings = sum(1 for i in issues if i.severity == "warning")
    summary = f"{std.ref}: OK ({len(std.requirements)} requirements" + (
        f", {warnings} warning(s))" if warnings else ")"
    )
    return "\n".join([*lines, summary]) + "\n", True


# ------------------------------------------------------------------------- scaffold

_STD_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")


def scaffold_extension(
    base_ref: str,
    new_id: str,
    output: Path,
    *,
    title: str | None = None,
    registry: StandardRegistry | None = None,
) -> Path:
    """Write ``output/<new_id>/0.1.0/standard.yaml``: a local ICS extension of ``base_ref``.

    The extension keeps every national requirement; its own requirements are scored with
    the same weights as national ones of the same level (Hewitt recommendation 11: local
    priorities alongside the national minimum, not beneath it). Returns the folder.
    """
    if not _STD_ID.match(new_id):
        raise UsageError(f"'{new_id}' is not a standard id (lowercase letters, digits, '-')")
    registry = registry or StandardRegistry.default()
    base = registry.resolve(base_ref)
    folder = output / new_id / "0.1.0"
    if (folder / "standard.yaml").exists():
        raise UsageError(f"{folder / 'standard.yaml'} already exists")
    prefix = re.sub(r"[^A-Z0-9]", "", new_id.upper().split("-")[0])[:8] or "LOCAL"
    example = next((r for r in base.requirements if r.check.type == "gp-practice"), None)
    check = "{type: gp-practice}" if example is not None else "{type: parseable}"
    text = _SCAFFOLD.format(
        id=new_id,
        title=title or f"{new_id} local data-sharing standard",
        base=base_ref,
        base_ref=base.ref,
        prefix=prefix,
        check=check,
        applies="[Patient]" if example is not None else "[Patient, Encounter]",
        national=next((r.id for r in base.requirements if r.level is Level.SHOULD), "ID"),
    )
    try:
        for sub in ("profiles", "terminology", "tables"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / "standard.yaml").write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{folder}: cannot write: {exc.strerror or exc}") from None
    return folder


_SCAFFOLD = """\
# A local extension of {base_ref}. Every national requirement applies; the requirements
# below add this ICS's own priorities. A local requirement is scored with the same weight
# as a national one of the same level (MUST 3, SHOULD 2, MAY 1): local priorities sit
# alongside the national minimum, not beneath it (Hewitt review, recommendation 11).
#
# Check it:     conformance standards lint {id}/0.1.0
# Use it:       CONFORMANCE_STANDARDS_PATH=<this folder's parent's parent> \\
#               conformance validate FEED --standard {id}
id: {id}
version: 0.1.0
title: {title}
description: >
  Local requirements of this Integrated Care System on top of {base_ref}.
status: draft
fhir_version: 4.0.1
publisher: Replace with the ICS that owns this extension
extends: {base}
changelog:
  - version: 0.1.0
    date: 2026-01-01
    changes:
      - First draft of the local extension.

domains:
  - id: local
    title: Local priorities
    description: Requirements this ICS adds to the national minimum.

requirements:
  - id: {prefix}-LOCAL-01
    title: Patients name their registered GP practice by ODS code
    level: SHOULD
    domain: local
    applies_to: {applies}
    rationale: >
      Replace with why this ICS needs it, e.g. population health management attributes
      every patient to a practice.
    source: Replace with the local decision (board, date)
    threshold: 0.98
    check: {check}

  # To make a national requirement stricter locally, repeat its id with the new level or
  # threshold; the local definition replaces the national one for this extension, e.g.
  # - id: {national}
  #   ...
  #   level: MUST
"""
