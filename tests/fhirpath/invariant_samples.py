"""Samples for FHIR's natively answered invariants: a resource that passes and one that
fails for each, with the invariant's FHIRPath and the native function (where it still
exists). Shared by ``bench_invariants.py`` (timings) and ``test_invariant_checkers.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.fhir.data import core_data, core_profiles

Check = Callable[[Any, Any, Any], Any]

_UCUM = "http://unitsofmeasure.org"
_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _entry(i: int, rtype: str = "Patient", **extra: Any) -> dict[str, Any]:
    res = {"resourceType": rtype, "id": f"r{i}", "meta": {"versionId": "1"}}
    return {"fullUrl": f"urn:uuid:0000-{i}", "resource": res, **extra}


def _bundle(kind: str, n: int = 5, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [_entry(i) for i in range(n)], **extra}


_PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p",
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
    "contained": [{"resourceType": "Organization", "id": "gp", "name": "Test Surgery"}],
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
    "name": [{"family": "Testperson", "given": ["Alex"]}],
    "birthDate": "1970-01-01",
    "generalPractitioner": [{"reference": "#gp"}],
}
_UNREFERENCED = {**_PATIENT, "generalPractitioner": [{"reference": "Organization/x"}]}
_NESTED = {
    **_PATIENT,
    "contained": [{**_PATIENT["contained"][0], "contained": [{"resourceType": "Basic"}]}],
}
_VERSIONED = {
    **_PATIENT,
    "contained": [{**_PATIENT["contained"][0], "meta": {"versionId": "2"}}],
}
_SECURITY = {
    **_PATIENT,
    "contained": [{**_PATIENT["contained"][0], "meta": {"security": [{"code": "R"}]}}],
}
_OBS: dict[str, Any] = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
    "effectiveDateTime": "2024-05-01T09:30:00Z",
    "valueQuantity": {"value": 72.5, "unit": "kg", "system": _UCUM, "code": "kg"},
    "component": [
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueInteger": 1},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueInteger": 2},
    ],
}
_OBS_SELF = {
    **_OBS,
    "component": [{"code": _OBS["code"], "valueInteger": 1}],
}
_CONDITION: dict[str, Any] = {
    "resourceType": "Condition",
    "clinicalStatus": {"coding": [{"system": _CLIN, "code": "resolved"}]},
    "verificationStatus": {"coding": [{"system": _VER, "code": "confirmed"}]},
    "abatementDateTime": "2020-01-01",
    "subject": {"reference": "Patient/p"},
}
_ERROR_CONDITION = {
    **_CONDITION,
    "verificationStatus": {"coding": [{"system": _VER, "code": "entered-in-error"}]},
}

# key -> (focus type, [(label, focus, resource, expected)]); resource None: the focus.
SAMPLES: dict[str, tuple[str, list[tuple[str, Any, Any, bool]]]] = {
    "bdl-1": ("Bundle", [
        ("pass", _bundle("searchset", total=5), None, True),
        ("fail", _bundle("collection", total=5), None, False),
    ]),
    "bdl-2": ("Bundle", [
        ("pass", _bundle("collection"), None, True),
        ("fail", {**_bundle("collection"), "entry": [_entry(0, search={"mode": "match"})]},
         None, False),
    ]),
    "bdl-3": ("Bundle", [
        ("pass", _bundle("collection"), None, True),
        ("fail", _bundle("batch"), None, False),
    ]),
    "bdl-4": ("Bundle", [
        ("pass", _bundle("collection"), None, True),
        ("fail", _bundle("batch-response"), None, False),
    ]),
    "bdl-5": ("Bundle.entry", [
        ("pass", _entry(1), None, True),
        ("fail", {"fullUrl": "urn:uuid:1"}, None, False),
    ]),
    "bdl-7": ("Bundle", [
        ("pass", _bundle("collection"), None, True),
        ("fail", {**_bundle("collection"), "entry": [_entry(1), _entry(1)]}, None, False),
    ]),
    "bdl-8": ("Bundle.entry", [
        ("pass", _entry(1), None, True),
        ("fail", {**_entry(1), "fullUrl": "http://x.org/fhir/Patient/1/_history/2"}, None, False),
    ]),
    "bdl-9": ("Bundle", [
        ("pass", _bundle("document", identifier={"system": "urn:x", "value": "1"}), None, True),
        ("fail", _bundle("document"), None, False),
    ]),
    "bdl-10": ("Bundle", [
        ("pass", _bundle("document", timestamp="2024-01-01T00:00:00Z"), None, True),
        ("fail", _bundle("document"), None, False),
    ]),
    "bdl-11": ("Bundle", [
        ("pass", {**_bundle("document"), "entry": [_entry(0, "Composition"), _entry(1)]},
         None, True),
        ("fail", _bundle("document"), None, False),
    ]),
    "bdl-12": ("Bundle", [
        ("pass", {**_bundle("message"), "entry": [_entry(0, "MessageHeader"), _entry(1)]},
         None, True),
        ("fail", _bundle("message"), None, False),
    ]),
    "dom-2": ("Patient", [("pass", _PATIENT, None, True), ("fail", _NESTED, None, False)]),
    "dom-3": ("Patient", [("pass", _PATIENT, None, True), ("fail", _UNREFERENCED, None, False)]),
    "dom-4": ("Patient", [("pass", _PATIENT, None, True), ("fail", _VERSIONED, None, False)]),
    "dom-5": ("Patient", [("pass", _PATIENT, None, True), ("fail", _SECURITY, None, False)]),
    "dom-6": ("Patient", [
        ("pass", _PATIENT, None, True),
        ("fail", {k: v for k, v in _PATIENT.items() if k != "text"}, None, False),
    ]),
    "pat-1": ("Patient.contact", [
        ("pass", {"name": {"family": "Kin"}}, _PATIENT, True),
        ("fail", {"gender": "male"}, _PATIENT, False),
    ]),
    "cpt-2": ("ContactPoint", [
        ("pass", {"system": "phone", "value": "0113 496 0000"}, _PATIENT, True),
        ("fail", {"value": "0113 496 0000"}, _PATIENT, False),
    ]),
    "qty-3": ("Quantity", [
        ("pass", {"value": 1, "code": "kg", "system": _UCUM}, _OBS, True),
        ("fail", {"value": 1, "code": "kg"}, _OBS, False),
    ]),
    "sqty-1": ("SimpleQuantity", [
        ("pass", {"value": 1, "code": "kg", "system": _UCUM}, _OBS, True),
        ("fail", {"value": 1, "comparator": "<"}, _OBS, False),
    ]),
    "att-1": ("Attachment", [
        ("pass", {"contentType": "text/plain", "data": "aGk="}, _OBS, True),
        ("fail", {"data": "aGk="}, _OBS, False),
    ]),
    "obs-3": ("Observation.referenceRange", [
        ("pass", {"low": {"value": 1}}, _OBS, True),
        ("fail", {"appliesTo": [{"text": "adults"}]}, _OBS, False),
    ]),
    "obs-6": ("Observation", [
        ("pass", _OBS, None, True),
        ("fail", {**_OBS, "dataAbsentReason": {"text": "x"}}, None, False),
    ]),
    "obs-7": ("Observation", [("pass", _OBS, None, True), ("fail", _OBS_SELF, None, False)]),
    "ref-1": ("Reference", [
        ("pass", {"reference": "#gp"}, _PATIENT, True),
        ("fail", {"reference": "#nowhere"}, _PATIENT, False),
        ("out", {"reference": "Organization/gp"}, _PATIENT, True),  # the usual case
    ]),
    "per-1": ("Period", [
        ("pass", {"start": "2024-01-01T10:00:00Z", "end": "2024-01-02T10:00:00Z"}, _OBS, True),
        ("fail", {"start": "2024-01-03", "end": "2024-01-02"}, _OBS, False),
    ]),
    "rng-2": ("Range", [
        ("pass", {"low": {"value": 1, "code": "kg"}, "high": {"value": 2, "code": "kg"}},
         _OBS, True),
        ("fail", {"low": {"value": 3, "code": "kg"}, "high": {"value": 2, "code": "kg"}},
         _OBS, False),
    ]),
    "que-7": ("Questionnaire.item.enableWhen", [
        ("pass", {"question": "q", "operator": "exists", "answerBoolean": True}, {}, True),
        ("fail", {"question": "q", "operator": "exists", "answerString": "y"}, {}, False),
    ]),
    "con-3": ("Condition", [
        ("pass", _CONDITION, None, True),
        ("fail", {"resourceType": "Condition", "category": [{"text": "x"}]}, None, False),
    ]),
    "con-4": ("Condition", [
        ("pass", _CONDITION, None, True),
        ("fail", {**_CONDITION, "clinicalStatus": {"coding": [{"system": _CLIN,
                                                               "code": "active"}]}},
         None, False),
    ]),
    "con-5": ("Condition", [
        ("pass", _CONDITION, None, True),
        ("fail", _ERROR_CONDITION, None, False),
    ]),
    "ext-1": ("Extension", [
        ("pass", {"url": "http://x/e", "valueString": "v"}, _PATIENT, True),
        ("fail", {"url": "http://x/e", "valueString": "v", "extension": [{"url": "a"}]},
         _PATIENT, False),
    ]),
    # the focus of a choice element is typed by its JSON key (effectiveDateTime): the
    # element path Observation.effective[x] would make `$this as dateTime` always empty
    "vs-1": ("dateTime", [
        ("pass", "2024-05-01T09:30:00Z", _OBS, True),
        ("fail", "2024", _OBS, False),
    ]),
    "vs-2": ("Observation", [
        ("pass", {k: v for k, v in _OBS.items() if k != "component"}, None, True),
        ("fail", {"resourceType": "Observation", "status": "final"}, None, False),
    ]),
    "vs-3": ("Observation.component", [
        ("pass", _OBS["component"][0], _OBS, True),
        ("fail", {"code": _OBS["component"][0]["code"]}, _OBS, False),
    ]),
}  # fmt: skip


def expressions() -> dict[str, str]:
    found = {row[0]: row[3] for row in core_data()["invariants"]}
    for profile in core_profiles().values():
        for e in (profile.get("snapshot") or {}).get("element", ()):
            for c in e.get("constraint", ()) or ():
                key, expr = c.get("key"), c.get("expression")
                if key in SAMPLES and key not in found and isinstance(expr, str):
                    found[key] = expr
    return found


def natives() -> dict[str, Check]:
    """The invariants the FHIR engine evaluates in Python (conformance.fhir.core_constraints)."""
    from conformance.fhir.core_constraints import CORE_IMPLEMENTATIONS

    return {key: impl.check for key, impl in CORE_IMPLEMENTATIONS.items()}
