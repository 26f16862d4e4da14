"""Extensions, as FHIR R4 (§2.22 Extensibility, §2.22.2.3 extension context) and the HL7
validator's command line treat them: unknown URLs, allowed domains, modifier extensions,
element / FHIRPath / extension contexts, contextInvariant, ext-1 and isModifier."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir_helpers import errors

from conformance.fhir import DefinitionSet, FhirValidator

X = "https://fhir.ics-test.nhs.uk/StructureDefinition/"


def ext_sd(
    name: str,
    contexts: list[tuple[str, str]],
    value: str = "string",
    modifier: bool | None = None,
    invariants: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A simple extension definition: one ``value`` of the type given, used where
    ``contexts`` ((type, expression) pairs) allow."""
    root: dict[str, Any] = {"id": "Extension", "path": "Extension"}
    if modifier is not None:
        root["isModifier"] = modifier
        if modifier:
            root["isModifierReason"] = "test"
    sd: dict[str, Any] = {
        "resourceType": "StructureDefinition",
        "url": X + name,
        "name": name,
        "status": "active",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": t, "expression": e} for t, e in contexts],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {
            "element": [
                root,
                {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": X + name},
                {
                    "id": "Extension.value[x]",
                    "path": "Extension.value[x]",
                    "min": 1,
                    "type": [{"code": value}],
                },
            ]
        },
    }
    if invariants:
        sd["contextInvariant"] = list(invariants)
    return sd


DEFINITIONS = [
    ext_sd("on-patient", [("element", "Patient")]),
    ext_sd("on-humanname", [("element", "HumanName")]),
    ext_sd("on-address-line", [("element", "Address.line")]),
    ext_sd("on-element", [("element", "Element")]),
    ext_sd("on-resource", [("element", "Resource")]),
    ext_sd("on-domainresource", [("element", "DomainResource")]),
    ext_sd("on-obs-value", [("element", "Observation.value[x]")]),
    ext_sd("on-obs-quantity", [("element", "Observation.valueQuantity")]),
    ext_sd("on-contact", [("element", "Patient.contact")]),
    ext_sd("on-meta", [("element", "Resource.meta")]),
    ext_sd("on-two", [("element", "Observation"), ("element", "Patient.name")]),
    ext_sd("on-official-name", [("fhirpath", "Patient.name.where(use = 'official')")]),
    ext_sd("on-broken-path", [("fhirpath", "Patient.name.nosuchfunction()")]),
    ext_sd("on-extension", [("extension", X + "on-patient-complex")]),
    ext_sd("needs-birthdate", [("element", "Patient")], invariants=("birthDate.exists()",)),
    ext_sd("a-modifier", [("element", "Element")], value="boolean", modifier=True),
    ext_sd("not-a-modifier", [("element", "Element")], value="boolean", modifier=False),
]
# a complex extension that may carry on-extension inside it
COMPLEX = ext_sd("on-patient-complex", [("element", "Patient")])
COMPLEX["differential"]["element"] = [
    {"id": "Extension", "path": "Extension"},
    {"id": "Extension.url", "path": "Extension.url", "fixedUri": X + "on-patient-complex"},
    {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
]
DEFINITIONS.append(COMPLEX)


@pytest.fixture(scope="module")
def v() -> FhirValidator:
    return FhirValidator.base().with_definitions(DefinitionSet(DEFINITIONS))


def ext(name: str, value: Any = "x", kind: str = "valueString") -> dict[str, Any]:
    return {"url": X + name if ":" not in name else name, kind: value}


def patient(**more: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Patient", "name": [{"family": "Test"}]}
    res.update(more)
    return res


def ext_issues(issues: list[Any]) -> list[tuple[str, str, str]]:
    """(severity, code, path) of the extension issues."""
    return [
        (i.severity, i.code, i.expression)
        for i in issues
        if i.code.startswith(("unknown-extension", "extension-"))
    ]


# -- unknown extensions


def test_unknown_extension_is_an_error_by_default(v: FhirValidator) -> None:
    res = patient(extension=[ext("nowhere")])
    got = [i for i in v.validate(res) if i.code == "unknown-extension"]
    assert [(i.severity, i.expression, i.source) for i in got] == [
        ("error", "Patient.extension[0]", X + "nowhere")
    ]
    assert X not in got[0].message  # the URL is the issue's source, not in the message


def test_allowed_domain_makes_unknown_extensions_information(v: FhirValidator) -> None:
    res = patient(
        extension=[ext("nowhere"), ext("https://other.example.net/StructureDefinition/e")]
    )
    lenient = v.allowing_extensions(False, ["https://fhir.ics-test.nhs.uk/"])
    assert ext_issues(lenient.validate(res)) == [
        ("information", "unknown-extension", "Patient.extension[0]"),
        ("error", "unknown-extension", "Patient.extension[1]"),
    ]
    two = v.allowing_extensions(False, ["https://fhir.ics-test.nhs.uk/", "https://other."])
    assert errors(two.validate(res)) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/fhir/StructureDefinition/e",
        "https://example.com/StructureDefinition/e",
        "http://acme.com/fhir/e",
    ],
)
def test_example_domains_need_the_example_flag(v: FhirValidator, url: str) -> None:
    res = patient(extension=[ext(url)])
    assert ext_issues(v.validate(res)) == [("error", "unknown-extension", "Patient.extension[0]")]
    lenient = v.allowing_extensions(True)
    assert ext_issues(lenient.validate(res)) == [
        ("information", "unknown-extension", "Patient.extension[0]")
    ]


def test_unknown_modifier_extension_is_always_an_error(v: FhirValidator) -> None:
    res = patient(
        modifierExtension=[ext("nowhere"), ext("http://example.org/fhir/m")],
        contact=[{"gender": "male", "modifierExtension": [ext("nowhere")]}],
    )
    lenient = v.allowing_extensions(True, ["https://fhir.ics-test.nhs.uk/"])
    assert ext_issues(lenient.validate(res)) == [
        ("error", "unknown-extension", "Patient.modifierExtension[0]"),
        ("error", "unknown-extension", "Patient.modifierExtension[1]"),
        ("error", "unknown-extension", "Patient.contact[0].modifierExtension[0]"),
    ]


def test_unknown_extension_inside_contained_and_primitives(v: FhirValidator) -> None:
    res = patient(
        _birthDate={"extension": [ext("nowhere")]},
        contained=[{"resourceType": "Basic", "code": {"text": "x"}, "extension": [ext("nowhere")]}],
    )
    paths = {p for s, _, p in ext_issues(v.validate(res)) if s == "error"}
    assert paths == {"Patient.birthDate.extension[0]", "Patient.contained[0].extension[0]"}


def test_relative_urls_are_parts_of_their_extension(v: FhirValidator) -> None:
    part = {"url": "part", "valueString": "x"}
    res = patient(extension=[{"url": X + "nowhere", "extension": [part]}])
    assert ext_issues(v.validate(res)) == [("error", "unknown-extension", "Patient.extension[0]")]
    res = patient(extension=[part])
    assert ext_issues(v.validate(res)) == []


# -- contexts


@pytest.mark.parametrize(
    ("name", "resource", "path"),
    [
        ("on-patient", patient(extension=[ext("on-patient")]), None),
        ("on-patient", patient(name=[{"family": "T", "extension": [ext("on-patient")]}]), "name"),
        ("on-humanname", patient(name=[{"family": "T", "extension": [ext("on-humanname")]}]), None),
        (
            "on-humanname",
            patient(contact=[{"name": {"family": "T", "extension": [ext("on-humanname")]}}]),
            None,
        ),
        ("on-humanname", patient(extension=[ext("on-humanname")]), "root"),
        (
            "on-address-line",
            patient(
                address=[{"line": ["1 Road"], "_line": [{"extension": [ext("on-address-line")]}]}]
            ),
            None,
        ),
        (
            "on-address-line",
            patient(address=[{"city": "Leeds", "_city": {"extension": [ext("on-address-line")]}}]),
            "city",
        ),
        ("on-element", patient(_gender={"extension": [ext("on-element")]}, gender="male"), None),
        ("on-element", patient(extension=[ext("on-element")]), None),
        ("on-resource", patient(extension=[ext("on-resource")]), None),
        ("on-resource", patient(name=[{"family": "T", "extension": [ext("on-resource")]}]), "name"),
        ("on-domainresource", patient(extension=[ext("on-domainresource")]), None),
        (
            "on-contact",
            patient(contact=[{"gender": "male", "extension": [ext("on-contact")]}]),
            None,
        ),
        ("on-contact", patient(extension=[ext("on-contact")]), "root"),
        ("on-meta", patient(meta={"extension": [ext("on-meta")]}), None),
        ("on-two", patient(name=[{"family": "T", "extension": [ext("on-two")]}]), None),
        ("on-two", patient(extension=[ext("on-two")]), "root"),
    ],
)
def test_element_contexts(v: FhirValidator, name: str, resource: dict[str, Any], path: Any) -> None:
    found = [i for i in v.validate(resource) if i.code == "extension-context"]
    if path is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].severity == "error"
        assert found[0].source == X + name
        assert "allowed: e:" in found[0].message


def test_datatype_and_choice_contexts_inside_a_resource(v: FhirValidator) -> None:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "valueQuantity": {"value": 1, "extension": [ext("on-obs-value")]},
        "component": [
            {
                "code": {"text": "y"},
                "valueQuantity": {"value": 1, "extension": [ext("on-obs-value")]},
            }
        ],
        "extension": [ext("on-two")],
        "_status": {"extension": [ext("on-obs-quantity")]},
    }
    obs["valueQuantity"]["extension"].append(ext("on-obs-quantity"))
    found = sorted(
        (i.severity, i.expression) for i in v.validate(obs) if i.code == "extension-context"
    )
    assert found == [
        ("error", "Observation.component[0].valueQuantity.extension[0]"),
        ("error", "Observation.status.extension[0]"),
    ]


def test_contexts_of_contained_resources_start_from_that_resource(v: FhirValidator) -> None:
    inner = {"resourceType": "Patient", "extension": [ext("on-patient")]}
    outer = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": "#p"},
        "contained": [{**inner, "id": "p"}],
        "extension": [ext("on-patient")],
    }
    found = [(i.severity, i.expression) for i in v.validate(outer) if i.code == "extension-context"]
    assert found == [("error", "Observation.extension[0]")]


def test_fhirpath_context(v: FhirValidator) -> None:
    res = patient(
        name=[
            {"use": "official", "family": "A", "extension": [ext("on-official-name")]},
            {"use": "nickname", "family": "B", "extension": [ext("on-official-name")]},
        ]
    )
    found = [(i.severity, i.expression) for i in v.validate(res) if i.code == "extension-context"]
    assert found == [("error", "Patient.name[1].extension[0]")]


def test_fhirpath_context_that_cannot_be_evaluated_is_a_warning(v: FhirValidator) -> None:
    res = patient(name=[{"family": "A", "extension": [ext("on-broken-path")]}])
    found = [i for i in v.validate(res) if i.code == "extension-context"]
    assert [(i.severity, i.expression) for i in found] == [
        ("warning", "Patient.name[0].extension[0]")
    ]
    assert "cannot be evaluated" in found[0].message


def test_extension_context(v: FhirValidator) -> None:
    inside = patient(
        extension=[{"url": X + "on-patient-complex", "extension": [ext("on-extension")]}]
    )
    assert [i for i in v.validate(inside) if i.code == "extension-context"] == []
    outside = patient(extension=[ext("on-extension")])
    found = [(i.severity, i.expression) for i in v.validate(outside) if i.code.startswith("ext")]
    assert found == [("error", "Patient.extension[0]")]


def test_context_invariant(v: FhirValidator) -> None:
    ok = patient(birthDate="2000-01-01", extension=[ext("needs-birthdate")])
    assert [i for i in v.validate(ok) if i.code == "extension-context"] == []
    bad = patient(extension=[ext("needs-birthdate")])
    found = [i for i in v.validate(bad) if i.code == "extension-context"]
    assert [(i.severity, i.expression) for i in found] == [("error", "Patient.extension[0]")]
    assert "invariant" in found[0].message


def test_core_extension_context(v: FhirValidator) -> None:
    """patient-birthPlace (R4 core) may be used on a Patient only."""
    url = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
    good = patient(extension=[ext(url, {"city": "Leeds"}, "valueAddress")])
    assert ext_issues(v.validate(good)) == []
    bad = patient(
        name=[{"family": "T", "extension": [ext(url, {"city": "Leeds"}, "valueAddress")]}]
    )
    assert ext_issues(v.validate(bad)) == [
        ("error", "extension-context", "Patient.name[0].extension[0]")
    ]


# -- ext-1 and isModifier


def test_value_and_nested_extensions_together_break_ext_1(v: FhirValidator) -> None:
    res = patient(extension=[{**ext("on-patient"), "extension": [{"url": "a", "valueCode": "b"}]}])
    assert any(i.key == "ext-1" and i.severity == "error" for i in v.validate(res))


def test_modifier_definitions_must_match_where_they_are_used(v: FhirValidator) -> None:
    res = patient(
        extension=[ext("a-modifier", True, "valueBoolean")],
        modifierExtension=[ext("not-a-modifier", True, "valueBoolean")],
    )
    found = [(i.severity, i.expression) for i in v.validate(res) if i.code == "extension-modifier"]
    assert found == [("error", "Patient.extension[0]"), ("error", "Patient.modifierExtension[0]")]
    right = patient(
        modifierExtension=[ext("a-modifier", True, "valueBoolean")],
        extension=[ext("not-a-modifier", True, "valueBoolean")],
    )
    assert [i for i in v.validate(right) if i.code == "extension-modifier"] == []
    unsaid = patient(modifierExtension=[ext("on-element")])  # not a modifier by default
    found = [(i.severity, i.expression) for i in v.validate(unsaid) if i.code.startswith("ext")]
    assert found == [("error", "Patient.modifierExtension[0]")]


# -- the command line


def _loose_patient(tmp_path: Path, **more: Any) -> Path:
    res = {
        "resourceType": "Patient",
        "id": "p1",
        "meta": {"profile": ["https://w3id.org/mdss/StructureDefinition/MDSS-Patient"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
        "gender": "male",
        "birthDate": "1970-01-01",
    }
    res.update(more)
    path = tmp_path / "Patient.ndjson"
    path.write_bytes(orjson.dumps(res) + b"\n")
    return path


def _extension_findings(card: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (f["severity"], f["location"]["expression"])
        for f in card["findings"]
        if f["code"] == "unknown-extension"
    )


def test_cli_allow_extension_domain(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = _loose_patient(tmp_path, extension=[ext("nowhere")])
    card = cli("validate", path, "--format", "json").json()
    assert _extension_findings(card) == [("error", "Patient.extension[0]")]
    allowed = cli(
        "validate", path, "--format", "json", "--allow-extension-domain", "https://fhir.ics-test"
    ).json()
    assert _extension_findings(allowed) == [("information", "Patient.extension[0]")]


def test_cli_allow_example_extensions_keeps_modifiers_errors(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    url = "http://example.org/fhir/StructureDefinition/e"
    path = _loose_patient(tmp_path, extension=[ext(url)], modifierExtension=[ext(url)])
    card = cli("validate", path, "--format", "json", "--allow-example-extensions").json()
    assert _extension_findings(card) == [
        ("error", "Patient.modifierExtension[0]"),
        ("information", "Patient.extension[0]"),
    ]


def test_cli_fhir_r4_standard_takes_the_extension_options(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """The built-in fhir-r4 standard has no definitions of its own: the options apply."""
    res = patient(extension=[ext("nowhere")], id="p1")
    path = tmp_path / "patient.json"
    path.write_bytes(orjson.dumps(res))
    plain = cli("validate", "--standard", "fhir-r4", "--format", "json", path)
    assert plain.code == 1 and _extension_findings(plain.json()) == [
        ("error", "Patient.extension[0]")
    ]
    allowed = cli(
        "validate", "--standard", "fhir-r4", "--format", "json", path,
        "--allow-extension-domain", "https://fhir.ics-test.nhs.uk/",
    )  # fmt: skip
    assert allowed.code == 0, allowed.out
    assert _extension_findings(allowed.json()) == [("information", "Patient.extension[0]")]
