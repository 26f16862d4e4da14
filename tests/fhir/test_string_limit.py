"""R4 §2.24.0.1 (datatypes.html#string): "strings SHALL NOT exceed 1MB in size"; the
limit is 1048576 characters. base64Binary has no such limit in R4."""

from __future__ import annotations

from fhir_helpers import errors

from conformance.fhir import FhirValidator
from conformance.fhir.primitives import STRING_MAX


def _found(base: FhirValidator, resource: dict[str, object]) -> list[tuple[str, str]]:
    return [(i.code, i.expression) for i in errors(base.validate(resource))]


def test_string_at_the_limit_is_fine(base: FhirValidator) -> None:
    patient = {"resourceType": "Patient", "name": [{"text": "a" * STRING_MAX}]}
    assert _found(base, patient) == []


def test_string_over_the_limit_is_an_error(base: FhirValidator) -> None:
    patient = {"resourceType": "Patient", "name": [{"text": "a" * (STRING_MAX + 1)}]}
    assert _found(base, patient) == [("string-too-long", "Patient.name[0].text")]


def test_repeated_string_and_markdown_over_the_limit(base: FhirValidator) -> None:
    big = "a" * (STRING_MAX + 1)
    patient = {"resourceType": "Patient", "name": [{"given": ["Ann", big]}]}
    assert _found(base, patient) == [("string-too-long", "Patient.name[0].given[1]")]
    allergy = {
        "resourceType": "AllergyIntolerance",
        "patient": {"reference": "Patient/1"},
        "note": [{"text": big}],
    }
    assert ("string-too-long", "AllergyIntolerance.note[0].text") in _found(base, allergy)


def test_base64_has_no_string_limit(base: FhirValidator) -> None:
    binary = {"resourceType": "Binary", "contentType": "text/plain", "data": "QUJD" * 300000}
    assert len(binary["data"]) > STRING_MAX
    assert _found(base, binary) == []


def test_message_does_not_echo_the_value(base: FhirValidator) -> None:
    secret = "9990000018" + "x" * STRING_MAX
    patient = {"resourceType": "Patient", "name": [{"text": secret}]}
    (issue,) = errors(base.validate(patient))
    assert "9990000018" not in issue.message and "1 MB" in issue.message
