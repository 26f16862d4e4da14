"""What ``conformance standards list|show|lint`` print."""

from __future__ import annotations

from pathlib import Path

from conformance.errors import StandardError
from conformance.standards.model import Standard
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


def standard_file(path: str, std: Standard) -> Path:
    """The YAML file a lint names: the file given, else the folder's ``standard.yaml``."""
    given = Path(path)
    return given if given.is_file() else std.path / "standard.yaml"


def lint_standard(path: str) -> tuple[str, bool]:
    """Load and compile a standard; report every problem found. Returns (text, ok)."""
    from conformance.checks.registry import compile_with_plugins
    from conformance.plugin.manager import build_plugins

    problems: list[str] = []
    registry = StandardRegistry.default()
    try:
        std = registry.load_folder(Path(path))
        compile_with_plugins(std, build_plugins())
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
        return "\n".join(f"{standard_file(path, std)}: {p}" for p in problems) + "\n", False
    return f"{std.ref}: OK ({len(std.requirements)} requirements)\n", True


def catalogue_markdown(ref: str, registry: StandardRegistry | None = None) -> str:
    """The publishable catalogue of a standard: every requirement, how it is measured."""
    registry = registry or StandardRegistry.default()
    std = registry.resolve(ref)
    out = [
        f"# {std.title}",
        "",
        f"**{std.id} {std.version}** · status *{std.status}* · "
        f"FHIR {std.fhir_version} · effective from {std.effective_from or '-'}"
        + (f" to {std.effective_to}" if std.effective_to else "")
        + f" · published by {std.publisher}",
        "",
    ]
    if std.extends:
        out += [
            f"Extends **{std.extends}**: every requirement of that standard applies, with "
            "the local additions and replacements below.",
            "",
        ]
    if std.description:
        out += [std.description, ""]
    levels = {
        lvl: sum(1 for r in std.requirements if r.level.value == lvl)
        for lvl in ("MUST", "SHOULD", "MAY")
    }
    out += [
        f"{len(std.requirements)} requirements: {levels['MUST']} MUST, "
        f"{levels['SHOULD']} SHOULD, {levels['MAY']} MAY. A feed is *Conformant* when every "
        "MUST is met; unmet SHOULDs make it *Conformant with warnings*.",
        "",
    ]
    out += ["| Id | Level | Requirement | Threshold |", "| --- | --- | --- | ---: |"]
    for req in std.requirements:
        threshold = f"{100 * req.effective_threshold:.0f} %"
        out.append(
            f"| [{req.id}](#{req.id.lower()}) | {req.level.value} | {req.title} | {threshold} |"
        )
    out.append("")
    seen: list[str] = []
    for req in std.requirements:
        if req.domain not in seen:
            seen.append(req.domain)
    for domain in seen:
        out += [f"## {std.domain_title(domain)}", ""]
        for dom in std.domains:
            if dom.id == domain and dom.description:
                out += [dom.description, ""]
        for req in (r for r in std.requirements if r.domain == domain):
            out += [f"### {req.id}", "", f"**{req.level.value}**: {req.title}.", ""]
            out += [f"- **Why**: {req.rationale}", f"- **Source**: {req.source}"]
            if req.measure:
                out.append(f"- **Measured as**: {req.measure}")
            out.append(f"- **Met when**: rate ≥ {100 * req.effective_threshold:.0f} %")
            if req.applies_to:
                out.append(f"- **Applies to**: {', '.join(req.applies_to)}")
            params = ", ".join(f"{k}={v}" for k, v in sorted(req.check.params.items()))
            out.append(f"- **Check**: `{req.check.type}`" + (f" ({params})" if params else ""))
            if req.status != "active":
                out.append(
                    f"- **Status**: {req.status}"
                    + (f", replaced by {req.replaced_by}" if req.replaced_by else "")
                )
            if req.origin and req.origin != std.ref:
                out.append(f"- **Defined in**: {req.origin}")
            out.append("")
    if std.changelog:
        out += ["## Changelog", ""]
        for entry in std.changelog:
            out.append(f"- **{entry['version']}** ({entry['date']}): " + " ".join(entry["changes"]))
        out.append("")
    return "\n".join(out)
