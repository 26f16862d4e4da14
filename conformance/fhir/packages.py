"""FHIR packages: NPM ``.tgz`` packages read in memory, and the dependencies they name.

A ``.tgz`` package is never extracted to disk: its members are read one at a time through
the archive reader's guarded stream (:mod:`conformance.readers.archive`: no tar header
read above 1 MiB, the decompression ratio measured against the compressed bytes
consumed), within a budget of members and bytes (:class:`PackageBudget`). Only the files
directly in the package's own folder (``package/``) are read: its examples and other
folders are not definitions.

Dependencies (``package.json`` ``dependencies``) are looked for beside the package that
names them: ``name#version.tgz``, ``name-version.tgz`` or an unpacked folder
``name#version``. The R4 core package is built in and never needed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from conformance.fhir.errors import DefinitionError

BUILT_IN = frozenset({"hl7.fhir.r4.core"})
"""Packages the validator carries itself (their definitions are built in)."""
PACKAGE_SUFFIXES = (".tgz", ".tar.gz")


@dataclass(frozen=True, slots=True)
class PackageBudget:
    """What one package may hold (its members, the bytes they expand to)."""

    max_members: int = 50_000
    max_bytes: int = 512 * 1024 * 1024
    max_member_bytes: int = 64 * 1024 * 1024
    max_ratio: int = 1000


@dataclass(slots=True)
class PackageFiles:
    """The definition files of one package, and its ``package.json``."""

    path: Path
    manifest: dict[str, Any] | None = None
    files: list[tuple[str, bytes]] = field(default_factory=list)


def is_package_archive(path: Path) -> bool:
    return path.name.lower().endswith(PACKAGE_SUFFIXES)


def read_tgz(
    path: Path, budget: PackageBudget | None = None, manifest_only: bool = False
) -> PackageFiles:
    """The JSON and XML files directly in ``package/`` of a ``.tgz``, and its package.json
    (``manifest_only``: the package.json alone, read up to it).

    Raises :class:`DefinitionError` naming the file when it is not a readable package.
    """
    from conformance.readers.archive import (
        ARCHIVE_ERRORS,
        RATIO_FLOOR,
        ArchiveLimit,
        metered_tar,
    )

    budget = budget or PackageBudget()
    out = PackageFiles(path)
    members = total = 0
    try:
        with path.open("rb") as stored, metered_tar(stored) as (tar, meter):
            for member in tar:
                members += 1
                if members > budget.max_members:
                    raise DefinitionError(f"{path}: more than {budget.max_members} members")
                name = member.name.replace("\\", "/").removeprefix("./")
                folder, _, base = name.rpartition("/")
                if not member.isfile() or folder != "package" or base.startswith("."):
                    continue
                if not base.lower().endswith((".json", ".xml")):
                    continue
                if member.size > budget.max_member_bytes:
                    raise DefinitionError(f"{path}: member {name} is larger than allowed")
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                data = handle.read(budget.max_member_bytes + 1)
                total += len(data)
                if total > budget.max_bytes:
                    raise DefinitionError(f"{path}: expands beyond {budget.max_bytes} bytes")
                if total > RATIO_FLOOR and total / max(1, meter()) > budget.max_ratio:
                    raise DefinitionError(f"{path}: expands more than {budget.max_ratio}:1")
                if base == "package.json":
                    out.manifest = _manifest(f"{path}!{name}", data)
                    if manifest_only:
                        return out
                else:
                    out.files.append((f"{path}!{name}", data))
    except DefinitionError:
        raise
    except ArchiveLimit as exc:
        raise DefinitionError(f"{path}: {exc}") from None
    except ARCHIVE_ERRORS as exc:
        raise DefinitionError(
            f"{path}: not a readable FHIR package ({type(exc).__name__})"
        ) from None
    if out.manifest is None and not out.files:
        raise DefinitionError(f"{path}: not a FHIR package (no package/ folder)")
    return out


def folder_manifest(folder: Path) -> dict[str, Any] | None:
    """The ``package.json`` of an unpacked package folder (at its root or in package/)."""
    for candidate in (folder / "package.json", folder / "package" / "package.json"):
        if candidate.is_file():
            return _manifest(str(candidate), candidate.read_bytes())
    return None


def _manifest(name: str, data: bytes) -> dict[str, Any]:
    try:
        manifest = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DefinitionError(f"{name}: cannot be read as JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise DefinitionError(f"{name}: not a package manifest (not a JSON object)")
    return manifest


def dependencies(manifest: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The ``(name, version)`` dependencies a package.json names (built-in ones left out)."""
    deps = manifest.get("dependencies") if manifest else None
    if not isinstance(deps, dict):
        return []
    return [
        (name, version)
        for name, version in deps.items()
        if isinstance(name, str) and isinstance(version, str) and name not in BUILT_IN
    ]


def find_dependency(beside: Path, name: str, version: str) -> Path | None:
    """Where package ``name#version`` sits in the folder ``beside``, if it does there.

    A version pattern (``1.0.x``, ``*``) takes the highest-named match.
    """
    if not beside.is_dir():
        return None
    pattern = version.replace(".x", ".*") if version not in ("current", "latest") else "*"
    found: list[Path] = []
    for entry in beside.iterdir():
        stem = entry.name
        for suffix in PACKAGE_SUFFIXES:
            if stem.lower().endswith(suffix) and entry.is_file():
                stem = stem[: -len(suffix)]
                break
        else:
            if not entry.is_dir():
                continue
        for sep in ("#", "-"):
            head, mark, tail = stem.partition(name + sep)
            if not head and mark and fnmatch.fnmatchcase(tail, pattern):
                found.append(entry)
    return max(found, key=lambda p: p.name) if found else None


def with_dependencies(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """``paths`` followed by the dependencies they name (recursively, each once), and a
    warning for each dependency not found beside the package naming it."""
    order: list[Path] = []
    warnings: list[str] = []
    seen: set[Path] = set()
    queue = [Path(p) for p in paths]
    while queue:
        path = queue.pop(0)
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        order.append(path)
        for name, version in dependencies(_package_manifest(path)):
            found = find_dependency(path.parent, name, version)
            if found is None:
                warnings.append(
                    f"{path}: dependency {name}#{version} not found beside it "
                    f"(as {name}#{version}.tgz or a folder): its definitions are not loaded"
                )
            else:
                queue.append(found)
    return order, warnings


def _package_manifest(path: Path) -> dict[str, Any] | None:
    if path.is_dir():
        return folder_manifest(path)
    if path.is_file() and is_package_archive(path):
        return read_tgz(path, manifest_only=True).manifest
    return None
