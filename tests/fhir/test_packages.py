"""FHIR NPM packages read in memory (budgets, the package/ folder only) and their
dependencies found beside them; ImplementationGuide.global kept from any loaded guide."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from conformance.fhir.definitions import DefinitionSet
from conformance.fhir.errors import DefinitionError
from conformance.fhir.packages import (
    PackageBudget,
    find_dependency,
    read_tgz,
    with_dependencies,
)

URL = "https://example.org/fhir/StructureDefinition/"


def _sd(name: str) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": URL + name,
        "name": name,
        "kind": "resource",
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient", "path": "Patient"}]},
    }


def _tgz(path: Path, files: dict[str, Any]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in files.items():
            raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def test_only_the_package_folder_is_read(tmp_path: Path) -> None:
    pkg = _tgz(
        tmp_path / "p.tgz",
        {
            "package/package.json": {"name": "p", "version": "1.0.0"},
            "package/.index.json": {"index-version": 1},
            "package/StructureDefinition-a.json": _sd("a"),
            "package/example/StructureDefinition-b.json": _sd("b"),
            "package/other/spec.internals": b"not read",
            "other/StructureDefinition-c.json": _sd("c"),
        },
    )
    files = read_tgz(pkg)
    assert files.manifest == {"name": "p", "version": "1.0.0"}
    assert [name.rsplit("!", 1)[1] for name, _ in files.files] == [
        "package/StructureDefinition-a.json"
    ]
    assert set(DefinitionSet.load([pkg]).structure_definitions) == {URL + "a"}


def test_budgets_stop_a_package_that_holds_too_much(tmp_path: Path) -> None:
    files = {f"package/s{i}.json": _sd(f"s{i}") for i in range(5)}
    pkg = _tgz(tmp_path / "many.tgz", files)
    with pytest.raises(DefinitionError, match=r"many\.tgz: more than 3 members"):
        read_tgz(pkg, PackageBudget(max_members=3))
    with pytest.raises(DefinitionError, match=r"many\.tgz: expands beyond 600 bytes"):
        read_tgz(pkg, PackageBudget(max_bytes=600))
    with pytest.raises(DefinitionError, match="larger than allowed"):
        read_tgz(pkg, PackageBudget(max_member_bytes=100))


def test_a_tar_header_claiming_gigabytes_is_refused(tmp_path: Path) -> None:
    header = tarfile.TarInfo("././@LongLink")
    header.type = tarfile.GNUTYPE_LONGNAME
    header.size = 3 * 1024**3
    path = tmp_path / "bomb.tgz"
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(header)  # the header only: the claimed name is never written
    with pytest.raises(DefinitionError, match=r"bomb\.tgz"):
        read_tgz(path)


def test_dependencies_are_found_beside_the_package(tmp_path: Path) -> None:
    deps = {"hl7.fhir.r4.core": "4.0.1", "a.b": "1.2.x", "c.d": "2.0.0", "e.f": "1.0.0"}
    main = _tgz(
        tmp_path / "main.tgz", {"package/package.json": {"name": "main", "dependencies": deps}}
    )
    _tgz(tmp_path / "a.b#1.2.3.tgz", {"package/package.json": {"name": "a.b"}})
    _tgz(tmp_path / "a.b#1.3.0.tgz", {"package/package.json": {"name": "a.b"}})
    (tmp_path / "c.d-2.0.0").mkdir()
    assert find_dependency(tmp_path, "a.b", "1.2.x") == tmp_path / "a.b#1.2.3.tgz"
    assert find_dependency(tmp_path, "c.d", "2.0.0") == tmp_path / "c.d-2.0.0"
    order, warnings = with_dependencies([main])
    assert order == [main, tmp_path / "a.b#1.2.3.tgz", tmp_path / "c.d-2.0.0"]
    assert len(warnings) == 1 and "e.f#1.0.0" in warnings[0]  # the core package is built in


def test_dependency_cycles_load_each_package_once(tmp_path: Path) -> None:
    _tgz(tmp_path / "x#1.0.0.tgz", {"package/package.json": {"dependencies": {"y": "1.0.0"}}})
    _tgz(tmp_path / "y#1.0.0.tgz", {"package/package.json": {"dependencies": {"x": "1.0.0"}}})
    order, warnings = with_dependencies([tmp_path / "x#1.0.0.tgz"])
    assert [p.name for p in order] == ["x#1.0.0.tgz", "y#1.0.0.tgz"] and warnings == []


def test_implementation_guide_global_profiles_are_kept_by_type() -> None:
    guide = {
        "resourceType": "ImplementationGuide",
        "url": "https://example.org/ig",
        "global": [
            {"type": "Patient", "profile": URL + "a"},
            {"type": "Patient", "profile": URL + "b"},
            {"type": "Observation", "profile": URL + "c"},
            {"type": "Patient"},  # no profile: nothing to apply
            "junk",
        ],
    }
    defs = DefinitionSet([guide]).merged(DefinitionSet([guide]))
    assert defs.global_profiles() == {
        "Patient": (URL + "a", URL + "b"),
        "Observation": (URL + "c",),
    }
