"""What ``conformance standards list|show|lint`` print."""

from __future__ import annotations

from pathlib import Path

from conformance.errors import StandardError
from conformance.standards.registry import StandardRegistry


def list_standards(registry: StandardRegistry | None = None) -> str:
    registry = registry or StandardRegistry.default()
    lines = [f"{'ID':<12} {'VERSION':<10} {'STATUS':<11} TITLE"]
    for entry in registry.entries():
        try:
            std = registry.load_folder(entry.folder)
            lines.append(f"{std.id:<12} {std.version:<10} {std.status:<11} {std.title}")
        except StandardError as exc:
            lines.append(f"{entry.id:<12} {entry.version:<10} {'invalid':<11} {exc}")
    return "\n".join(lines) + "\n"


def show_standard(ref: str, registry: StandardRegistry | None = None) -> str:
    registry = registry or StandardRegistry.default()
    std = registry.resolve(ref)
    lines = [
        f"{std.title} ({std.id}@{std.version}, {std.status})",
        f"Publisher: {std.publisher}; FHIR {std.fhir_version}; effective from "
        f"{std.effective_from or '-'}" + (f" to {std.effective_to}" if std.effective_to else ""),
    ]
    if std.extends:
        lines.append(f"Extends: {std.extends}")
    lines.append(f"Folder: {std.path}")
    lines.append("")
    current = None
    for req in std.requirements:
        if req.domain != current:
            current = req.domain
            lines.append(std.domain_title(current))
        threshold = f" (threshold {100 * req.threshold:.0f} %)" if req.threshold is not None else ""
        lines.append(f"  {req.id:<13} {req.level.value:<6} {req.title}{threshold}")
    return "\n".join(lines) + "\n"


def lint_standard(path: str) -> tuple[str, bool]:
    """Load and compile a standard; report every problem found. Returns (text, ok)."""
    from conformance.engine.run import compile_standard
    from conformance.plugin.manager import build_plugins

    problems: list[str] = []
    registry = StandardRegistry.default()
    try:
        std = registry.load_folder(Path(path))
        compile_standard(std, build_plugins())
    except StandardError as exc:
        problems.append(str(exc))
        return "\n".join(problems) + "\n", False
    for req in std.requirements:
        if req.threshold is not None and req.level.value == "MUST" and req.threshold < 0.5:
            problems.append(f"{req.id}: a MUST with a threshold under 50 % is hardly a MUST")
        if req.replaced_by and req.replaced_by not in {r.id for r in std.requirements}:
            problems.append(f"{req.id}: replaced_by names unknown requirement {req.replaced_by}")
        if req.domain not in {d.id for d in std.domains} and std.domains:
            problems.append(f"{req.id}: domain '{req.domain}' is not declared under domains")
    if problems:
        return "\n".join(f"{std.path / 'standard.yaml'}: {p}" for p in problems) + "\n", False
    return f"{std.ref}: OK ({len(std.requirements)} requirements)\n", True
