"""Conformance resources (profiles, extensions, value sets, code systems) loaded from disk.

Accepts folders (searched recursively), ``.tgz`` FHIR packages, JSON files (a resource or a
Bundle of them) and FHIR XML files. Anything that is not a StructureDefinition, ValueSet or
CodeSystem is ignored; a file that cannot be read as FHIR raises DefinitionError naming it.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from conformance.fhir.errors import DefinitionError
from conformance.fhir.fhir_xml import FhirXmlError, parse_fhir_xml

_KEPT = frozenset({"StructureDefinition", "ValueSet", "CodeSystem"})


class DefinitionSet:
    """StructureDefinitions, ValueSets and CodeSystems by canonical URL."""

    def __init__(self, resources: Iterable[dict[str, Any]]) -> None:
        self.structure_definitions: dict[str, dict[str, Any]] = {}
        self.valuesets: dict[str, dict[str, Any]] = {}
        self.codesystems: dict[str, dict[str, Any]] = {}
        for r in resources:
            self.add(r)

    def add(self, resource: dict[str, Any]) -> None:
        rtype = resource.get("resourceType")
        url = resource.get("url")
        if rtype not in _KEPT or not isinstance(url, str):
            return
        target = {
            "StructureDefinition": self.structure_definitions,
            "ValueSet": self.valuesets,
            "CodeSystem": self.codesystems,
        }[rtype]
        target[url] = resource
        version = resource.get("version")
        if isinstance(version, str):
            target[f"{url}|{version}"] = resource

    def __len__(self) -> int:
        return len(self.structure_definitions) + len(self.valuesets) + len(self.codesystems)

    def merged(self, other: DefinitionSet) -> DefinitionSet:
        out = DefinitionSet([])
        for part in (self, other):
            out.structure_definitions.update(part.structure_definitions)
            out.valuesets.update(part.valuesets)
            out.codesystems.update(part.codesystems)
        return out

    @classmethod
    def load(cls, paths: Sequence[Path]) -> DefinitionSet:
        """Load every conformance resource found under ``paths``."""
        out = cls([])
        for path in paths:
            path = Path(path)
            if path.is_dir():
                for f in sorted(path.rglob("*")):
                    if f.is_file() and f.suffix.lower() in (".json", ".xml"):
                        if f.name in ("package.json", ".index.json") or f.name.startswith("."):
                            continue
                        for r in _read_file(f.name, f.read_bytes()):
                            out.add(r)
                    elif f.is_file() and f.name.endswith((".tgz", ".tar.gz")):
                        for r in _read_package(f):
                            out.add(r)
            elif path.name.endswith((".tgz", ".tar.gz")):
                for r in _read_package(path):
                    out.add(r)
            elif path.is_file():
                for r in _read_file(str(path), path.read_bytes()):
                    out.add(r)
            else:
                raise DefinitionError(f"{path}: no such file or folder")
        return out


def _read_package(path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar.getmembers():
                name = member.name
                base = name.rsplit("/", 1)[-1]
                if not member.isfile() or base in ("package.json", ".index.json"):
                    continue
                if not name.endswith((".json", ".xml")) or "/other/" in name:
                    continue
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                out.extend(_read_file(f"{path}!{name}", fh.read()))
    except (tarfile.TarError, OSError) as exc:
        raise DefinitionError(f"{path}: not a readable FHIR package ({exc})") from None
    return out


def _read_file(name: str, data: bytes) -> list[dict[str, Any]]:
    stripped = data.lstrip()
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:].lstrip()
    try:
        if stripped.startswith(b"<"):
            resource = parse_fhir_xml(stripped)
        else:
            resource = orjson.loads(stripped)
    except (orjson.JSONDecodeError, FhirXmlError) as exc:
        raise DefinitionError(f"{name}: cannot be read as FHIR ({exc})") from None
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise DefinitionError(f"{name}: not a FHIR resource (no resourceType)")
    if resource["resourceType"] == "Bundle":
        found: list[dict[str, Any]] = []
        for entry in resource.get("entry", ()) or ():
            r = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(r, dict):
                found.append(r)
        return found
    if resource["resourceType"] in _KEPT:
        _check(name, resource)
    return [resource]


def _check(name: str, r: dict[str, Any]) -> None:
    if not isinstance(r.get("url"), str):
        raise DefinitionError(f"{name}: {r['resourceType']} has no canonical url")
    if r["resourceType"] == "StructureDefinition":
        if not isinstance(r.get("type"), str):
            raise DefinitionError(f"{name}: StructureDefinition has no type")
        for part in ("snapshot", "differential"):
            p = r.get(part)
            if p is not None and not (isinstance(p, dict) and isinstance(p.get("element"), list)):
                raise DefinitionError(f"{name}: StructureDefinition.{part} has no element list")
        if "snapshot" not in r and "differential" not in r:
            raise DefinitionError(
                f"{name}: StructureDefinition has neither snapshot nor differential"
            )
