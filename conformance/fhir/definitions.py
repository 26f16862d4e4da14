"""Conformance resources (profiles, extensions, value sets, code systems) loaded from disk.

Accepts folders (searched recursively), ``.tgz`` FHIR packages (:mod:`packages`), JSON
files (a resource or a Bundle of them) and FHIR XML files. Anything that is not a
StructureDefinition, ValueSet, CodeSystem or ImplementationGuide is ignored; a file that
cannot be read as FHIR raises DefinitionError naming it. Of an ImplementationGuide only
its ``global`` profiles are kept: they apply to every resource of their type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from conformance.fhir.errors import DefinitionError
from conformance.fhir.fhir_xml import FhirXmlError, parse_fhir_xml
from conformance.fhir.packages import is_package_archive, read_tgz, with_dependencies

_KEPT = frozenset({"StructureDefinition", "ValueSet", "CodeSystem"})


class DefinitionSet:
    """StructureDefinitions, ValueSets and CodeSystems by canonical URL."""

    def __init__(self, resources: Iterable[dict[str, Any]]) -> None:
        self.structure_definitions: dict[str, dict[str, Any]] = {}
        self.valuesets: dict[str, dict[str, Any]] = {}
        self.codesystems: dict[str, dict[str, Any]] = {}
        self.globals: list[tuple[str, str]] = []
        """``(resource type, profile)`` of the loaded ImplementationGuides' ``global``."""
        for r in resources:
            self.add(r)

    def add(self, resource: dict[str, Any]) -> None:
        rtype = resource.get("resourceType")
        url = resource.get("url")
        if rtype == "ImplementationGuide":
            self._add_globals(resource)
            return
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

    def _add_globals(self, guide: dict[str, Any]) -> None:
        entries = guide.get("global")
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict):
                continue
            rtype, profile = entry.get("type"), entry.get("profile")
            pair = (rtype, profile)
            if isinstance(rtype, str) and isinstance(profile, str) and pair not in self.globals:
                self.globals.append((rtype, profile))

    def global_profiles(self) -> dict[str, tuple[str, ...]]:
        """The ImplementationGuides' global profiles by resource type."""
        out: dict[str, tuple[str, ...]] = {}
        for rtype, profile in self.globals:
            out[rtype] = (*out.get(rtype, ()), profile)
        return out

    def __len__(self) -> int:
        return len(self.structure_definitions) + len(self.valuesets) + len(self.codesystems)

    def merged(self, other: DefinitionSet) -> DefinitionSet:
        out = DefinitionSet([])
        for part in (self, other):
            out.structure_definitions.update(part.structure_definitions)
            out.valuesets.update(part.valuesets)
            out.codesystems.update(part.codesystems)
            out.globals.extend(g for g in part.globals if g not in out.globals)
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
                    elif f.is_file() and is_package_archive(f):
                        out._add_package(f)
            elif is_package_archive(path) and path.is_file():
                out._add_package(path)
            elif path.is_file():
                for r in _read_file(str(path), path.read_bytes()):
                    out.add(r)
            else:
                raise DefinitionError(f"{path}: no such file or folder")
        return out

    @classmethod
    def load_packages(cls, paths: Sequence[Path]) -> tuple[DefinitionSet, list[str]]:
        """Load ``paths`` (folders, package archives, files) and the packages they depend
        on found beside them; the warnings name the dependencies not found."""
        order, warnings = with_dependencies(paths)
        return cls.load(order), warnings

    def _add_package(self, path: Path) -> None:
        for name, data in read_tgz(path).files:
            for r in _read_file(name, data):
                self.add(r)


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
