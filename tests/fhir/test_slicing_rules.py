"""Slicing, as R4 §5.1.0.14 (Profiling: slicing, discriminators) describes it.

Each case is a small profile written here from the specification: which slice an item
belongs to under each discriminator type (value, pattern, exists, type, profile), paths
with ``ofType()`` and ``resolve()``, what a slice that leaves a discriminator path
unconstrained matches, slices that cannot be evaluated (a warning naming the slice, no
error), closed / open / openAtEnd and ordered slicing, slice cardinality, re-slicing
(``a/b``) and slicing inside a slice.
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir_helpers import profile

from conformance.fhir import DefinitionSet, FhirIssue, FhirValidator
from conformance.fhir.discriminators import resolve
from conformance.fhir.profile_model import ProfileError

NHS = "https://fhir.nhs.uk/Id/nhs-number"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"


def check(profiles: list[dict[str, Any]], resource: dict[str, Any]) -> list[FhirIssue]:
    """The issues of ``resource`` against the first profile (base issues left out)."""
    v = FhirValidator.base().with_definitions(DefinitionSet(profiles))
    return [i for i in v.validate(resource, [profiles[0]["url"]]) if i.source != "base"]


def found(issues: list[FhirIssue]) -> set[tuple[str, str, str]]:
    return {(i.severity, i.code, i.expression) for i in issues}


def slicing(*disc: tuple[str, str], rules: str = "open", ordered: bool = False) -> dict[str, Any]:
    return {
        "discriminator": [{"type": t, "path": p} for t, p in disc],
        "rules": rules,
        "ordered": ordered,
    }


def patient(*identifiers: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": list(identifiers), **more}


# --- value and pattern discriminators -------------------------------------------------


def identifier_profile(rules: str = "closed", ordered: bool = False) -> dict[str, Any]:
    """identifier sliced by system and use; slice nhs fixes the system only."""
    return profile(
        "ids",
        "Patient",
        [
            {
                "id": "Patient.identifier",
                "slicing": slicing(
                    ("value", "system"), ("value", "use"), rules=rules, ordered=ordered
                ),
            },
            {"id": "Patient.identifier:nhs", "sliceName": "nhs", "min": 0, "max": "1"},
            {"id": "Patient.identifier:nhs.system", "fixedUri": NHS},
            {"id": "Patient.identifier:nhs.value", "min": 1},
            {"id": "Patient.identifier:local", "sliceName": "local", "min": 0, "max": "*"},
            {"id": "Patient.identifier:local.system", "fixedUri": "urn:local"},
            {"id": "Patient.identifier:local.use", "fixedCode": "usual"},
        ],
    )


def test_a_discriminator_path_the_slice_leaves_open_matches_anything() -> None:
    prof = identifier_profile()
    # slice nhs says nothing of 'use': any use (or none) matches it
    for use in ("official", "old", None):
        ident = {"system": NHS, "value": "9990000018"} | ({"use": use} if use else {})
        assert check([prof], patient(ident)) == []
    # the item is in slice nhs: the slice's own rules apply to it
    assert found(check([prof], patient({"system": NHS, "use": "official"}))) == {
        ("error", "cardinality-min", "Patient.identifier[0].value")
    }
    # slice local constrains both: the wrong use matches no slice, and the slicing is closed
    assert found(check([prof], patient({"system": "urn:local", "use": "old", "value": "1"}))) == {
        ("error", "slice-unmatched", "Patient.identifier[0]")
    }


def test_slice_cardinality_and_open_slicing() -> None:
    two = [{"system": NHS, "value": "9990000018"}, {"system": NHS, "value": "9990000026"}]
    issues = check([identifier_profile()], patient(*two))
    assert found(issues) == {("error", "slice-cardinality", "Patient.identifier")}
    assert "'nhs'" in issues[0].message
    other = {"system": "urn:other", "value": "1"}
    assert check([identifier_profile("open")], patient(other)) == []


def coded_profile(
    pattern: dict[str, Any], element: str = "patternCodeableConcept"
) -> dict[str, Any]:
    return profile(
        "coded",
        "Observation",
        [
            {
                "id": "Observation.category",
                "slicing": slicing(("pattern", "$this"), rules="closed"),
            },
            {
                "id": "Observation.category:x",
                "sliceName": "x",
                "min": 1,
                "max": "1",
                element: pattern,
            },
        ],
    )


def observation(**more: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "t"}, **more}


def test_pattern_codeable_concept_is_contained_in_the_value() -> None:
    prof = coded_profile({"coding": [{"system": LOINC, "code": "1-8"}]})
    # more codings, a display, a text: still the slice (the value holds the pattern)
    cc = {
        "coding": [{"system": SCT, "code": "1"}, {"system": LOINC, "code": "1-8", "display": "d"}],
        "text": "x",
    }
    assert check([prof], observation(category=[cc])) == []
    # the code alone, or in another system, is not the pattern
    for coding in ({"code": "1-8"}, {"system": SCT, "code": "1-8"}):
        issues = check([prof], observation(category=[{"coding": [coding]}]))
        assert ("error", "slice-unmatched", "Observation.category[0]") in found(issues)
        assert ("error", "slice-cardinality", "Observation.category") in found(issues)


def test_pattern_arrays_each_pattern_item_matched_by_some_item() -> None:
    both = {"coding": [{"system": LOINC, "code": "1-8"}, {"system": SCT, "code": "2"}]}
    prof = coded_profile(both)
    swapped = {"coding": [{"system": SCT, "code": "2"}, {"system": LOINC, "code": "1-8"}]}
    assert check([prof], observation(category=[swapped])) == []
    one = {"coding": [{"system": LOINC, "code": "1-8"}]}
    assert ("error", "slice-unmatched", "Observation.category[0]") in found(
        check([prof], observation(category=[one]))
    )


def test_pattern_identifier_and_coding() -> None:
    prof = profile(
        "idpat",
        "Patient",
        [
            {"id": "Patient.identifier", "slicing": slicing(("pattern", "$this"), rules="closed")},
            {
                "id": "Patient.identifier:nhs",
                "sliceName": "nhs",
                "patternIdentifier": {"system": NHS, "type": {"coding": [{"code": "NH"}]}},
            },
        ],
    )
    good = {"system": NHS, "value": "1", "type": {"coding": [{"system": "urn:t", "code": "NH"}]}}
    assert check([prof], patient(good)) == []
    bad = {"system": NHS, "value": "1"}  # no type: not the pattern
    assert found(check([prof], patient(bad))) == {
        ("error", "slice-unmatched", "Patient.identifier[0]")
    }
    coding = profile(
        "codingpat",
        "Observation",
        [
            {
                "id": "Observation.code.coding",
                "slicing": slicing(("value", "$this"), rules="closed"),
            },
            {
                "id": "Observation.code.coding:loinc",
                "sliceName": "loinc",
                "patternCoding": {"system": LOINC},
            },
        ],
    )
    ok = observation(code={"coding": [{"system": LOINC, "code": "1-8"}]})
    assert check([coding], ok) == []
    other = observation(code={"coding": [{"system": SCT, "code": "1"}]})
    assert found(check([coding], other)) == {
        ("error", "slice-unmatched", "Observation.code.coding[0]")
    }


def test_value_discriminator_through_a_slice_on_the_path() -> None:
    # as the core BP profile: the slice fixes code.coding.code in a slice of code.coding
    prof = profile(
        "bp",
        "Observation",
        [
            {
                "id": "Observation.component",
                "slicing": slicing(("value", "code.coding.code"), ("value", "code.coding.system")),
            },
            {"id": "Observation.component:sys", "sliceName": "sys", "min": 1, "max": "1"},
            {"id": "Observation.component:sys.code.coding", "slicing": slicing(("value", "code"))},
            {
                "id": "Observation.component:sys.code.coding:c",
                "sliceName": "c",
                "min": 1,
                "max": "1",
            },
            {"id": "Observation.component:sys.code.coding:c.system", "fixedUri": LOINC},
            {"id": "Observation.component:sys.code.coding:c.code", "fixedCode": "8480-6"},
        ],
    )
    sys_ = {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueString": "x"}
    dia = {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, "valueString": "x"}
    assert check([prof], observation(component=[dia, sys_])) == []
    assert found(check([prof], observation(component=[dia]))) == {
        ("error", "slice-cardinality", "Observation.component")
    }


def test_extension_slices_by_their_profile_url_version_aside() -> None:
    ext = "https://fhir.test.uk/StructureDefinition/ext"
    prof = profile(
        "withext",
        "Patient",
        [
            {
                "id": "Patient.extension:x",
                "sliceName": "x",
                "min": 1,
                "max": "1",
                "type": [{"code": "Extension", "profile": [ext + "|1.0.0"]}],
            }
        ],
    )
    # the extension's definition is not loaded here: an unknown-extension error of its own
    # (the default policy), beside what slicing says
    unknown = ("error", "unknown-extension", "Patient.extension[0]")
    one = patient(extension=[{"url": ext, "valueString": "a"}])
    # in the slice (its profile is unknown: a warning of its own)
    assert found(check([prof], one)) == {
        ("warning", "unknown-profile", "Patient.extension[0]"),
        unknown,
    }
    other = patient(extension=[{"url": ext + "2", "valueString": "a"}])
    assert found(check([prof], other)) == {
        ("error", "slice-cardinality", "Patient.extension"),
        unknown,
    }


# --- exists, type and profile discriminators ------------------------------------------


def test_exists_discriminator() -> None:
    prof = profile(
        "ex",
        "Observation",
        [
            {
                "id": "Observation.component",
                "slicing": slicing(("exists", "dataAbsentReason"), rules="closed"),
            },
            {"id": "Observation.component:absent", "sliceName": "absent", "max": "1"},
            {"id": "Observation.component:absent.dataAbsentReason", "min": 1},
            {"id": "Observation.component:present", "sliceName": "present"},
            {"id": "Observation.component:present.dataAbsentReason", "max": "0"},
            {"id": "Observation.component:present.value[x]", "min": 1},
        ],
    )
    absent = {"code": {"text": "a"}, "dataAbsentReason": {"text": "gone"}}
    present = {"code": {"text": "b"}, "valueString": "v"}
    assert check([prof], observation(component=[absent, present, present])) == []
    assert found(check([prof], observation(component=[absent, absent]))) == {
        ("error", "slice-cardinality", "Observation.component")
    }
    # in slice 'present' (no dataAbsentReason), so its value[x] is required
    assert found(check([prof], observation(component=[{"code": {"text": "c"}}]))) == {
        ("error", "cardinality-min", "Observation.component[0].value[x]")
    }


def typed_components(path: str) -> dict[str, Any]:
    return profile(
        "typed",
        "Observation",
        [
            {"id": "Observation.component", "slicing": slicing(("type", path), rules="closed")},
            {"id": "Observation.component:q", "sliceName": "q", "max": "1"},
            {"id": "Observation.component:q.value[x]", "type": [{"code": "Quantity"}]},
            {"id": "Observation.component:s", "sliceName": "s"},
            {"id": "Observation.component:s.value[x]", "type": [{"code": "string"}]},
        ],
    )


@pytest.mark.parametrize("path", ["value[x]", "value"])
def test_type_discriminator_on_a_choice_element(path: str) -> None:
    prof = typed_components(path)
    q = {"code": {"text": "q"}, "valueQuantity": {"value": 1}}
    s = {"code": {"text": "s"}, "valueString": "v"}
    assert check([prof], observation(component=[s, q, s])) == []
    assert found(check([prof], observation(component=[q, q]))) == {
        ("error", "slice-cardinality", "Observation.component")
    }
    b = {"code": {"text": "b"}, "valueBoolean": True}
    assert found(check([prof], observation(component=[b]))) == {
        ("error", "slice-unmatched", "Observation.component[0]")
    }


def test_of_type_in_a_value_discriminator_path() -> None:
    prof = profile(
        "oftype",
        "Observation",
        [
            {
                "id": "Observation.component",
                "slicing": slicing(("value", "value.ofType(Quantity).code"), rules="closed"),
            },
            {"id": "Observation.component:kg", "sliceName": "kg", "max": "1"},
            {"id": "Observation.component:kg.value[x]", "type": [{"code": "Quantity"}]},
            {"id": "Observation.component:kg.valueQuantity.code", "fixedCode": "kg"},
        ],
    )
    kg = {"code": {"text": "w"}, "valueQuantity": {"value": 1, "code": "kg"}}
    assert check([prof], observation(component=[kg])) == []
    text = {"code": {"text": "w"}, "valueString": "kg"}  # 'kg', but not a Quantity's code
    assert found(check([prof], observation(component=[text]))) == {
        ("error", "slice-unmatched", "Observation.component[0]")
    }


def resolving_profile() -> dict[str, Any]:
    """Observation.performer sliced by the type of the resource each reference points at."""
    return profile(
        "perf",
        "Observation",
        [
            {
                "id": "Observation.performer",
                "slicing": slicing(("type", "resolve()"), rules="closed"),
            },
            {
                "id": "Observation.performer:pat",
                "sliceName": "pat",
                "max": "1",
                "type": [
                    {
                        "code": "Reference",
                        "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Patient"],
                    }
                ],
            },
        ],
    )


def test_type_discriminator_through_resolve() -> None:
    contained = [
        {"resourceType": "Patient", "id": "p"},
        {"resourceType": "Practitioner", "id": "d"},
    ]
    ok = observation(
        contained=contained, performer=[{"reference": "#p"}], subject={"reference": "#d"}
    )
    assert check([resolving_profile()], ok) == []
    wrong = observation(
        contained=contained, performer=[{"reference": "#d"}], subject={"reference": "#p"}
    )
    assert found(check([resolving_profile()], wrong)) == {
        ("error", "slice-unmatched", "Observation.performer[0]")
    }
    # in a Bundle, resolved by fullUrl
    obs = observation(performer=[{"reference": "urn:uuid:1"}])
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}],
    }
    assert found(check([resolving_profile()], obs)) == {
        ("warning", "slice-unevaluable", "Observation.performer")
    }
    assert resolve({"reference": "urn:uuid:1"}, bundle) == bundle["entry"][0]["resource"]
    bundle["entry"].append(
        {"fullUrl": "http://x.org/fhir/Patient/7", "resource": {"resourceType": "Patient"}}
    )
    assert resolve({"reference": "Patient/7"}, bundle) == bundle["entry"][1]["resource"]
    assert resolve({"display": "no reference"}, bundle) is None
    with pytest.raises(ProfileError):
        resolve({"reference": "Patient/8"}, bundle)


def test_a_reference_that_does_not_resolve_offline_is_a_warning_not_an_error() -> None:
    issues = check([resolving_profile()], observation(performer=[{"reference": "Patient/1"}] * 3))
    assert found(issues) == {("warning", "slice-unevaluable", "Observation.performer")}
    assert "Slice 'pat' cannot be evaluated" in issues[0].message
    assert "Patient/1" not in issues[0].message  # never a value from the resource


def entry_profile() -> list[dict[str, Any]]:
    female = profile(
        "female", "Patient", [{"id": "Patient.gender", "min": 1, "fixedCode": "female"}]
    )
    bundle = profile(
        "bundle",
        "Bundle",
        [
            {"id": "Bundle.entry", "slicing": slicing(("profile", "resource"), rules="closed")},
            {"id": "Bundle.entry:f", "sliceName": "f", "min": 1},
            {
                "id": "Bundle.entry:f.resource",
                "type": [{"code": "Patient", "profile": [female["url"]]}],
            },
        ],
    )
    return [bundle, female]


def test_profile_discriminator_evaluates_the_slice_profile() -> None:
    def bundle(*genders: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"urn:uuid:{i}", "resource": {"resourceType": "Patient", "gender": g}}
                for i, g in enumerate(genders)
            ],
        }

    assert check(entry_profile(), bundle("female", "female")) == []
    assert found(check(entry_profile(), bundle("female", "male"))) == {
        ("error", "slice-unmatched", "Bundle.entry[1]")
    }
    assert found(check(entry_profile(), bundle("male"))) == {
        ("error", "slice-unmatched", "Bundle.entry[0]"),
        ("error", "slice-cardinality", "Bundle.entry"),
    }
    # the slice's profile is not known: a warning, not an error
    issues = check(entry_profile()[:1], bundle("male"))
    assert [(i.severity, i.code) for i in issues if i.code.startswith("slice")] == [
        ("warning", "slice-unevaluable")
    ]


# --- slices that cannot be evaluated --------------------------------------------------


@pytest.mark.parametrize(
    ("disc", "why"),
    [
        (("position", "system"), "discriminator type 'position' is not supported"),
        (("value", "nonsense.system"), "'nonsense.system' is not an element path"),
        (("value", "system.matches('x')"), "unsupported function"),
        (("value", "period"), "constrains none of its discriminator paths"),
    ],
)
def test_a_slice_that_cannot_be_evaluated_is_a_warning(disc: tuple[str, str], why: str) -> None:
    prof = profile(
        "bad",
        "Patient",
        [
            {"id": "Patient.identifier", "slicing": slicing(disc, rules="closed")},
            {"id": "Patient.identifier:a", "sliceName": "a", "min": 2},
            {"id": "Patient.identifier:a.system", "fixedUri": NHS},
        ],
    )
    issues = check([prof], patient({"system": "urn:x", "value": "1"}))
    assert found(issues) == {("warning", "slice-unevaluable", "Patient.identifier")}
    assert "Slice 'a' cannot be evaluated" in issues[0].message and why in issues[0].message
    # with no item there is nothing to match: the slice's minimum still holds
    assert found(check([prof], patient(name=[{"text": "n"}]))) == {
        ("error", "slice-cardinality", "Patient.identifier")
    }


def test_slicing_with_no_discriminator_tells_slices_apart_by_validation() -> None:
    prof = profile(
        "nodisc",
        "Patient",
        [
            {"id": "Patient.identifier", "slicing": {"rules": "closed"}},
            {"id": "Patient.identifier:a", "sliceName": "a", "min": 1, "max": "1"},
            {"id": "Patient.identifier:a.system", "min": 1, "fixedUri": "urn:a"},
            {"id": "Patient.identifier:b", "sliceName": "b"},
            {"id": "Patient.identifier:b.period", "min": 1},
        ],
    )
    a = {"system": "urn:a", "value": "1"}
    b = {"system": "urn:b", "period": {"start": "2020"}}
    assert check([prof], patient(b, a, b)) == []
    assert found(check([prof], patient(b, {"system": "urn:c"}))) == {
        ("error", "slice-unmatched", "Patient.identifier[1]"),
        ("error", "slice-cardinality", "Patient.identifier"),
    }


# --- openAtEnd and ordered slicing ----------------------------------------------------


def test_open_at_end() -> None:
    prof = identifier_profile("openAtEnd")
    nhs = {"system": NHS, "value": "9990000018"}
    other = {"system": "urn:other", "value": "1"}
    assert check([prof], patient(nhs, other, other)) == []
    issues = check([prof], patient(other, nhs))
    assert found(issues) == {("error", "slice-order", "Patient.identifier[1]")}
    assert "openAtEnd" in issues[0].message


def test_ordered_slicing() -> None:
    prof = identifier_profile("open", ordered=True)
    nhs = {"system": NHS, "value": "9990000018"}
    local = {"system": "urn:local", "use": "usual", "value": "1"}
    assert check([prof], patient(nhs, local, local)) == []
    issues = check([prof], patient(local, nhs))
    assert found(issues) == {("error", "slice-order", "Patient.identifier[1]")}
    assert "'nhs'" in issues[0].message and "'local'" in issues[0].message
    assert check([identifier_profile("open")], patient(local, nhs)) == []


# --- re-slicing and slicing inside slices ---------------------------------------------


def resliced() -> dict[str, Any]:
    return profile(
        "resliced",
        "Patient",
        [
            {"id": "Patient.identifier", "slicing": slicing(("value", "system"))},
            {
                "id": "Patient.identifier:local",
                "sliceName": "local",
                "min": 1,
                "slicing": slicing(("value", "system"), ("value", "use"), rules="closed"),
            },
            {"id": "Patient.identifier:local.system", "fixedUri": "urn:local"},
            {"id": "Patient.identifier:local/usual", "sliceName": "local/usual", "max": "1"},
            {"id": "Patient.identifier:local/usual.use", "fixedCode": "usual"},
            {"id": "Patient.identifier:local/usual.value", "min": 1},
            {"id": "Patient.identifier:local/old", "sliceName": "local/old"},
            {"id": "Patient.identifier:local/old.use", "fixedCode": "old"},
        ],
    )


def test_reslicing_slices_the_items_of_a_slice_again() -> None:
    usual = {"system": "urn:local", "use": "usual", "value": "1"}
    old = {"system": "urn:local", "use": "old", "value": "2"}
    other = {"system": "urn:other", "use": "temp", "value": "3"}
    assert check([resliced()], patient(other, old, usual, old)) == []
    # re-slice cardinality counts the items of slice 'local' only
    issues = check([resliced()], patient(usual, other, usual))
    assert found(issues) == {("error", "slice-cardinality", "Patient.identifier")}
    assert "'local/usual'" in issues[0].message
    # 'local' is closed to its re-slices; the parent slicing is open
    temp = {"system": "urn:local", "use": "temp", "value": "4"}
    assert found(check([resliced()], patient(other, temp))) == {
        ("error", "slice-unmatched", "Patient.identifier[1]")
    }
    # a re-slice's own rules apply to its items, at their own paths
    assert found(check([resliced()], patient(other, {"system": "urn:local", "use": "usual"}))) == {
        ("error", "cardinality-min", "Patient.identifier[1].value")
    }


def test_a_profile_deriving_from_a_sliced_profile_can_reslice() -> None:
    base = profile(
        "sliced",
        "Patient",
        [
            {"id": "Patient.identifier", "slicing": slicing(("value", "system"))},
            {"id": "Patient.identifier:local", "sliceName": "local"},
            {"id": "Patient.identifier:local.system", "fixedUri": "urn:local"},
        ],
    )
    child = profile(
        "child",
        "Patient",
        [
            {"id": "Patient.identifier:local", "slicing": slicing(("value", "use"))},
            {"id": "Patient.identifier:local/old", "sliceName": "local/old", "max": "0"},
            {"id": "Patient.identifier:local/old.use", "fixedCode": "old"},
        ],
    )
    child["baseDefinition"] = base["url"]
    old = {"system": "urn:local", "use": "old", "value": "2"}
    assert check([child, base], patient({"system": "urn:local", "value": "1"})) == []
    assert found(check([child, base], patient(old))) == {
        ("error", "slice-cardinality", "Patient.identifier")
    }
    assert check([base], patient(old)) == []


def test_slicing_inside_a_slice() -> None:
    prof = profile(
        "inner",
        "Observation",
        [
            {"id": "Observation.component", "slicing": slicing(("pattern", "code"))},
            {"id": "Observation.component:bp", "sliceName": "bp"},
            {"id": "Observation.component:bp.code", "patternCodeableConcept": {"text": "bp"}},
            {
                "id": "Observation.component:bp.interpretation",
                "slicing": slicing(("value", "coding.system"), rules="closed"),
            },
            {"id": "Observation.component:bp.interpretation:h", "sliceName": "h", "min": 1},
            {"id": "Observation.component:bp.interpretation:h.coding.system", "fixedUri": "urn:h"},
        ],
    )
    h = {"coding": [{"system": "urn:h", "code": "H"}]}
    bp = {"code": {"text": "bp"}, "valueString": "x", "interpretation": [h]}
    other = {"code": {"text": "hr"}, "valueString": "x"}
    assert check([prof], observation(component=[other, bp])) == []
    bad = dict(bp, interpretation=[{"coding": [{"system": "urn:x", "code": "N"}]}])
    assert found(check([prof], observation(component=[other, bad]))) == {
        ("error", "slice-unmatched", "Observation.component[1].interpretation[0]"),
        ("error", "slice-cardinality", "Observation.component[1].interpretation"),
    }
    # the inner slicing applies only to the items of slice bp
    assert (
        check([prof], observation(component=[dict(other, interpretation=bad["interpretation"])]))
        == []
    )


# --- hostile input --------------------------------------------------------------------


def _variants(value: Any) -> list[Any]:
    """Copies of ``value`` with one node replaced by something of the wrong shape."""
    out: list[Any] = []
    odd: list[Any] = [5, "x", None, [], {}, [5], {"reference": 5}, True]
    if isinstance(value, dict):
        for k in value:
            if k == "resourceType":
                continue
            for o in odd:
                out.append({**value, k: o})
            out.extend({**value, k: v} for v in _variants(value[k]))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend([*value[:i], v, *value[i + 1 :]] for v in _variants(item))
    return out


def test_sliced_elements_of_any_shape_never_raise() -> None:
    contained = [{"resourceType": "Patient", "id": "p"}]
    cases: list[tuple[list[dict[str, Any]], dict[str, Any]]] = [
        ([resolving_profile()], observation(contained=contained, performer=[{"reference": "#p"}])),
        (
            [typed_components("value")],
            observation(component=[{"code": {"text": "q"}, "valueQuantity": {"value": 1}}]),
        ),
        ([resliced()], patient({"system": "urn:local", "use": "usual", "value": "1"})),
        (
            entry_profile(),
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "gender": "female"}}],
            },
        ),
    ]
    for profiles, resource in cases:
        v = FhirValidator.base().with_definitions(DefinitionSet(profiles))
        variants = _variants(resource)
        assert len(variants) > 20
        for variant in variants:
            v.validate(variant, [profiles[0]["url"]])  # never raises
