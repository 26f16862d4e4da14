"""Profiles: derivation, cardinality, fixed/pattern, types, bindings, slicing, extensions."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from fhir_helpers import FIXTURES, codes, errors

from conformance.fhir import DefinitionError, DefinitionSet, FhirValidator, parse_fhir_xml

P = "http://example.org/fhir/StructureDefinition/"


def sd(
    name: str,
    type_: str,
    elements: list[dict[str, Any]],
    base: str | None = None,
    kind: str = "resource",
) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": P + name,
        "name": name,
        "status": "active",
        "kind": kind,
        "abstract": False,
        "type": type_,
        "baseDefinition": base or f"http://hl7.org/fhir/StructureDefinition/{type_}",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


NHS_EXT = sd(
    "nhs-status",
    "Extension",
    [
        {"id": "Extension", "path": "Extension", "max": "1"},
        {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": P + "nhs-status"},
        {
            "id": "Extension.value[x]",
            "path": "Extension.value[x]",
            "min": 1,
            "type": [{"code": "code"}],
            "binding": {"strength": "required", "valueSet": "http://example.org/vs/status"},
        },
    ],
    kind="complex-type",
)

PATIENT = sd(
    "my-patient",
    "Patient",
    [
        {
            "id": "Patient",
            "path": "Patient",
            "constraint": [
                {
                    "key": "my-1",
                    "severity": "error",
                    "human": "A patient needs a birth date",
                    "expression": "birthDate.exists()",
                }
            ],
        },
        {
            "id": "Patient.extension",
            "path": "Patient.extension",
            "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"},
        },
        {
            "id": "Patient.extension:status",
            "path": "Patient.extension",
            "sliceName": "status",
            "min": 0,
            "max": "1",
            "type": [{"code": "Extension", "profile": [P + "nhs-status"]}],
        },
        {
            "id": "Patient.identifier",
            "path": "Patient.identifier",
            "min": 1,
            "mustSupport": True,
            "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"},
        },
        {
            "id": "Patient.identifier:nhs",
            "path": "Patient.identifier",
            "sliceName": "nhs",
            "min": 1,
            "max": "1",
            "mustSupport": True,
        },
        {
            "id": "Patient.identifier:nhs.system",
            "path": "Patient.identifier.system",
            "min": 1,
            "fixedUri": "https://fhir.nhs.uk/Id/nhs-number",
        },
        {"id": "Patient.identifier:nhs.value", "path": "Patient.identifier.value", "min": 1},
        {"id": "Patient.name", "path": "Patient.name", "max": "1"},
        {"id": "Patient.gender", "path": "Patient.gender", "min": 1, "mustSupport": True},
        {
            "id": "Patient.maritalStatus",
            "path": "Patient.maritalStatus",
            "patternCodeableConcept": {"coding": [{"system": "http://x.org/ms"}]},
        },
        {"id": "Patient.deceased[x]", "path": "Patient.deceased[x]", "type": [{"code": "boolean"}]},
        {
            "id": "Patient.managingOrganization",
            "path": "Patient.managingOrganization",
            "type": [
                {
                    "code": "Reference",
                    "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Organization"],
                }
            ],
        },
    ],
)

VS = {
    "resourceType": "ValueSet",
    "url": "http://example.org/vs/status",
    "status": "active",
    "compose": {"include": [{"system": "http://example.org/cs/status"}]},
}
CS = {
    "resourceType": "CodeSystem",
    "url": "http://example.org/cs/status",
    "status": "active",
    "content": "complete",
    "concept": [{"code": "01"}, {"code": "02"}],
}


@pytest.fixture(scope="module")
def validator() -> FhirValidator:
    defs = DefinitionSet([NHS_EXT, PATIENT, VS, CS])
    return FhirValidator.base().with_definitions(defs)


@pytest.fixture
def good() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "meta": {"profile": [P + "my-patient"]},
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
        "extension": [{"url": P + "nhs-status", "valueCode": "01"}],
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"},
            {"system": "http://local", "value": "1"},
        ],
        "name": [{"family": "X"}],
        "gender": "male",
        "birthDate": "2000-01-01",
        "managingOrganization": {"reference": "Organization/1"},
    }


def test_conforming_instance(validator: FhirValidator, good: dict[str, Any]) -> None:
    assert errors(validator.validate(good)) == []


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda r: r.pop("gender"), "cardinality-min"),
        (lambda r: r["name"].append({"family": "Y"}), "cardinality-max"),
        (lambda r: r.pop("birthDate"), "invariant"),
        (lambda r: r["identifier"].pop(0), "slice-cardinality"),
        (lambda r: r["identifier"].append(copy.deepcopy(r["identifier"][0])), "slice-cardinality"),
        (lambda r: r["identifier"][0].pop("value"), "cardinality-min"),
        (lambda r: r["extension"][0].update(valueCode="99"), "binding-required"),
        (
            lambda r: r["extension"].append({"url": P + "nhs-status", "valueCode": "02"}),
            "slice-cardinality",
        ),
        (lambda r: r["extension"][0].update(valueCode=None, valueString="01"), "invalid-type"),
        (
            lambda r: r.update(maritalStatus={"coding": [{"system": "http://y", "code": "M"}]}),
            "profile-pattern",
        ),
        (lambda r: r.update(deceasedDateTime="2020-01-01"), "invalid-type"),
        (lambda r: r.update(managingOrganization={"reference": "Patient/2"}), "reference-target"),
    ],
)
def test_profile_violations(
    validator: FhirValidator, good: dict[str, Any], mutate: Any, code: str
) -> None:
    mutate(good)
    if good["extension"][0].get("valueCode", "x") is None:
        del good["extension"][0]["valueCode"]
    found = [i for i in validator.validate(good) if i.severity == "error"]
    assert code in {i.code for i in found}
    assert all(i.source in (P + "my-patient", P + "nhs-status", "base") for i in found)


def test_fixed_value_and_explicit_profile(validator: FhirValidator, good: dict[str, Any]) -> None:
    del good["meta"]
    assert errors(validator.validate(good)) == []  # no profile claimed, none given
    good["identifier"][0]["system"] = "https://fhir.nhs.uk/Id/nhs-numbr"
    found = codes(validator.validate(good, [P + "my-patient"]))
    assert "slice-cardinality" in found  # the misspelt system no longer matches the slice


def test_unknown_profiles(base: FhirValidator, good: dict[str, Any]) -> None:
    claimed = [i for i in base.validate(good) if i.code == "unknown-profile"]
    assert [(i.severity, i.source) for i in claimed] == [("warning", P + "my-patient")]
    del good["meta"]
    explicit = [i for i in base.validate(good, [P + "nope"]) if i.code == "unknown-profile"]
    assert [i.severity for i in explicit] == ["error"]


def test_derivation_chain_and_circularity(good: dict[str, Any]) -> None:
    child = sd(
        "child",
        "Patient",
        [{"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}],
        base=P + "my-patient",
    )
    v = FhirValidator.base().with_definitions(DefinitionSet([NHS_EXT, PATIENT, VS, CS, child]))
    good["meta"]["profile"] = [P + "child"]
    assert errors(v.validate(good)) == []
    good.pop("gender")  # required by the parent profile
    assert "cardinality-min" in codes(v.validate(good))
    a = sd("a", "Patient", [], base=P + "b")
    b = sd("b", "Patient", [], base=P + "a")
    v2 = FhirValidator.base().with_definitions(DefinitionSet([a, b]))
    found = [i for i in v2.validate(good, [P + "a"]) if i.code == "profile-error"]
    assert found and "circular" in found[0].message


def test_must_support_paths(validator: FhirValidator) -> None:
    assert validator.must_support_paths(P + "my-patient") == [
        "Patient.identifier",
        "Patient.identifier:nhs",
        "Patient.gender",
    ]


def test_core_vital_signs_profile_applies(base: FhirValidator, observation: dict[str, Any]) -> None:
    assert errors(base.validate(observation)) == []
    observation["valueQuantity"]["code"] = "mg"  # ucum-bodyweight: kg, g, [lb_av]
    found = errors(base.validate(observation))
    assert [(i.code, i.source) for i in found] == [
        ("binding-required", "http://hl7.org/fhir/StructureDefinition/bodyweight")
    ]


def test_core_extension_definitions_are_checked(base: FhirValidator, good: dict[str, Any]) -> None:
    good.pop("meta")
    good["extension"] = [
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueString": "10:00"}
    ]
    assert "invalid-type" in codes(base.validate(good))
    good["extension"] = [{"url": "http://example.org/undefined", "valueString": "x"}]
    assert "unknown-extension" in codes(base.validate(good))
    assert errors(base.allowing_example_urls().validate(good)) == []


def test_slicing_discriminator_kinds() -> None:
    prof = sd(
        "obs",
        "Observation",
        [
            {
                "id": "Observation.category",
                "path": "Observation.category",
                "slicing": {
                    "discriminator": [{"type": "pattern", "path": "$this"}],
                    "rules": "closed",
                },
            },
            {
                "id": "Observation.category:vs",
                "path": "Observation.category",
                "sliceName": "vs",
                "min": 1,
                "max": "1",
                "patternCodeableConcept": {"coding": [{"system": "http://x.org/c", "code": "a"}]},
            },
            {
                "id": "Observation.component",
                "path": "Observation.component",
                "slicing": {
                    "discriminator": [{"type": "exists", "path": "valueQuantity"}],
                    "rules": "open",
                },
            },
            {
                "id": "Observation.component:q",
                "path": "Observation.component",
                "sliceName": "q",
                "min": 1,
                "max": "1",
            },
            {
                "id": "Observation.component:q.valueQuantity",
                "path": "Observation.component.valueQuantity",
                "min": 1,
            },
            {
                "id": "Observation.value[x]",
                "path": "Observation.value[x]",
                "slicing": {
                    "discriminator": [{"type": "type", "path": "$this"}],
                    "rules": "closed",
                },
            },
            {
                "id": "Observation.value[x]:valueString",
                "path": "Observation.value[x]",
                "sliceName": "valueString",
                "min": 0,
                "max": "1",
                "type": [{"code": "string"}],
            },
        ],
    )
    v = FhirValidator.base().with_definitions(DefinitionSet([prof]))
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "category": [{"coding": [{"system": "http://x.org/c", "code": "a"}]}],
        "component": [{"code": {"text": "c"}, "valueQuantity": {"value": 1}}],
        "valueString": "v",
    }
    assert errors(v.validate(obs, [P + "obs"])) == []
    bad = copy.deepcopy(obs)
    bad["category"].append({"text": "other"})
    assert "slice-unmatched" in codes(v.validate(bad, [P + "obs"]))
    bad = copy.deepcopy(obs)
    bad["component"][0] = {"code": {"text": "c"}, "valueString": "x"}
    assert "slice-cardinality" in codes(v.validate(bad, [P + "obs"]))


def test_definition_loading_folder_tgz_bundle_and_errors(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "p.json").write_text(json.dumps(PATIENT))
    (tmp_path / "defs" / "ignored.json").write_text(json.dumps({"resourceType": "Patient"}))
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": VS}, {"resource": CS}],
    }
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    tgz = tmp_path / "pkg.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for name, obj in (
            ("package/package.json", {"name": "x"}),
            ("package/StructureDefinition-e.json", NHS_EXT),
        ):
            raw = json.dumps(obj).encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    defs = DefinitionSet.load([tmp_path / "defs", tmp_path / "b.json", tgz])
    assert set(defs.structure_definitions) == {P + "my-patient", P + "nhs-status"}
    assert set(defs.valuesets) == {VS["url"]} and set(defs.codesystems) == {CS["url"]}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(DefinitionError, match=r"broken\.json"):
        DefinitionSet.load([broken])
    nourl = tmp_path / "nourl.json"
    nourl.write_text(json.dumps({"resourceType": "StructureDefinition", "type": "Patient"}))
    with pytest.raises(DefinitionError, match=r"nourl\.json"):
        DefinitionSet.load([nourl])


UK_DOMAIN = "https://fhir.hl7.org.uk/"


def test_uk_core_profile_from_xml() -> None:
    defs = DefinitionSet.load([FIXTURES / "ukcore"])
    # the fixtures hold only some UK Core extensions: the others' domain is allowed
    v = FhirValidator.base().with_definitions(defs).allowing_extensions(False, [UK_DOMAIN])
    url = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    example = parse_fhir_xml(
        (FIXTURES / "ukcore" / "UKCore-Patient-RichardSmith-Example.xml").read_bytes()
    )
    assert errors(v.validate(example, [url])) == []
    bad = copy.deepcopy(example)
    ext = bad["identifier"][0]["extension"][0]
    ext["valueCodeableConcept"]["coding"][0]["code"] = "99"
    found = errors(v.validate(bad, [url]))
    assert "binding-required" in {i.code for i in found}
    episode = parse_fhir_xml(
        (FIXTURES / "ukcore" / "Extension-UKCore-ConditionEpisode-Example.xml").read_bytes()
    )
    assert "choice-type" in codes(v.validate(episode))


def test_hl7_pattern_case() -> None:
    defs = DefinitionSet.load([FIXTURES / "hl7" / "patient-min-profile-pattern1.xml"])
    v = FhirValidator.base().with_definitions(defs)
    url = next(u for u in defs.structure_definitions if "|" not in u)
    bad = json.loads((FIXTURES / "hl7" / "patient-min-pattern1.json").read_text())
    assert errors(FhirValidator.base().validate(bad)) == []
    assert [i.code for i in errors(v.validate(bad, [url]))] == ["cardinality-min"]


def test_profile_binding_on_quantity_code() -> None:
    defs = DefinitionSet.load([FIXTURES / "hl7" / "bb-sd.json", FIXTURES / "hl7" / "bb-vs.json"])
    v = FhirValidator.base().with_definitions(defs)
    obs = json.loads((FIXTURES / "hl7" / "bb-obs-value-is-not-in-valueset.json").read_text())
    assert "binding-required" in codes(v.validate(obs, list(defs.structure_definitions)[:1]))
