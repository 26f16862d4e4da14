"""Unit tests of FHIRPath operators and functions (three-valued logic, types, dates)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from conformance.fhir.fhirpath import (
    EvaluationOptions,
    FhirPathError,
    FhirPathEvaluationError,
    compile_expression,
    compile_invariant,
    element_node,
    fix_invariant,
)

OBS: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "w",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2020-03-04T10:00:00+01:00",
    "issued": "2020-03-04T09:30:00Z",
    "valueQuantity": {
        "value": 72.5,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    },
    "component": [
        {"code": {"coding": [{"code": "a"}]}, "valueString": "x"},
        {"code": {"coding": [{"code": "b"}]}, "valueBoolean": False},
    ],
}

PAT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "contained": [{"resourceType": "Practitioner", "id": "gp"}],
    "name": [{"family": "Test", "given": ["A", "B"], "_given": [None, {"extension": []}]}],
    "birthDate": "1980-05",
    "_birthDate": {"extension": [{"url": "http://x/ext", "valueString": "y"}]},
    "_gender": {"extension": [{"url": "http://x/absent", "valueCode": "unknown"}]},
    "generalPractitioner": [{"reference": "#gp"}, {"display": "no ref"}],
    "active": True,
}


def ev(expr: str, res: Any = OBS, **kw: Any) -> list[Any]:
    return compile_expression(expr)(res, **kw)


# --- three-valued logic -------------------------------------------------------------

E = "{}"
T = "true"
F = "false"


@pytest.mark.parametrize(
    ("op", "table"),
    [
        # rows: left in (T, F, E); columns: right in (T, F, E)
        ("and", [[True, False, None], [False, False, False], [None, False, None]]),
        ("or", [[True, True, True], [True, False, None], [True, None, None]]),
        ("xor", [[False, True, None], [True, False, None], [None, None, None]]),
        ("implies", [[True, False, None], [True, True, True], [True, None, None]]),
    ],
)
def test_three_valued_logic(op: str, table: list[list[bool | None]]) -> None:
    operands = [T, F, E]
    for i, left in enumerate(operands):
        for j, right in enumerate(operands):
            expected = table[i][j]
            got = ev(f"({left}) {op} ({right})")
            assert got == ([] if expected is None else [expected]), (left, op, right)


def test_not_and_empty_propagation() -> None:
    assert ev("true.not()") == [False]
    assert ev("{}.not()") == []
    assert ev("dataAbsentReason.exists().not()") == [True]


def test_boolean_of_multiple_items_is_an_error() -> None:
    with pytest.raises(FhirPathEvaluationError) as info:
        ev("component.code and true")
    assert "more than one item" in str(info.value)
    # the message names the expression and never includes data values
    assert "component.code and true" in str(info.value)
    assert "29463-7" not in str(info.value)


def test_single_non_boolean_counts_as_true() -> None:
    assert ev("status and true") == [True]


# --- navigation, choice types, primitives --------------------------------------------


def test_choice_type_navigation() -> None:
    assert ev("value.value") == [72.5]
    assert ev("value.is(Quantity)") == [True]
    assert ev("value is Quantity") == [True]
    assert ev("value.ofType(Quantity).unit") == ["kg"]
    assert ev("value.as(string)") == []
    assert ev("component.value.ofType(string)") == ["x"]
    assert ev("component.value.ofType(boolean)") == [False]
    assert ev("component.value") == ["x", False]
    assert ev("effective.is(dateTime)") == [True]
    assert ev("effective is Period") == [False]


def test_type_name_at_start_filters_by_type() -> None:
    assert ev("Observation.status") == ["final"]
    assert ev("Patient.name") == []


def test_primitive_extensions_and_has_value() -> None:
    assert ev("birthDate.hasValue()", PAT) == [True]
    assert ev("birthDate.extension.url", PAT) == ["http://x/ext"]
    assert ev("birthDate.extension('http://x/ext').value", PAT) == ["y"]
    assert ev("gender.exists()", PAT) == [True]
    assert ev("gender.hasValue()", PAT) == [False]
    assert ev("gender.extension.value", PAT) == ["unknown"]
    assert ev("name.given.count()", PAT) == [2]
    assert ev("name.given[1].hasValue()", PAT) == [True]


def test_ele1_on_primitive_focus() -> None:
    ele1 = compile_invariant("ele-1", "hasValue() or (children().count() > id.count())")
    only_ext = element_node(None, "code", {"extension": [{"url": "u", "valueCode": "x"}]})
    assert ele1.is_true(PAT, only_ext)
    empty_ext = element_node(None, "code", {})
    assert not ele1.is_true(PAT, empty_ext)
    assert ele1.is_true(PAT, element_node("male", "code"))
    assert not ele1.is_true(PAT, element_node({}, "HumanName"))


def test_focus_type_for_backbone_element() -> None:
    vs3 = compile_expression("value.exists() or dataAbsentReason.exists()")
    comp = OBS["component"][1]
    assert vs3(OBS, comp, focus_type="Observation.component") == [True]
    assert vs3.is_true(OBS, {"code": {}}, focus_type="Observation.component") is False


def test_children_and_descendants() -> None:
    assert ev("component.children().count()") == [4]
    assert "29463-7" in ev("descendants().code")
    assert ev("descendants().ofType(Coding).count()") == [3]


def test_indexer_and_subsetting() -> None:
    assert ev("component[1].value") == [False]
    assert ev("component[5]") == []
    assert ev("(1 | 2 | 3).first()") == [1]
    assert ev("(1 | 2 | 3).last()") == [3]
    assert ev("(1 | 2 | 3).tail()") == [2, 3]
    assert ev("(1 | 2 | 3).skip(1).take(1)") == [2]
    assert ev("(1 | 2 | 3).where($this > 1).select($this * 10)") == [20, 30]
    assert ev("(1 | 2 | 3).where($index = 1)") == [2]
    with pytest.raises(FhirPathEvaluationError):
        ev("(1 | 2).single()")


# --- equality, comparison, dates -----------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 = 1.0", [True]),
        ("'a' = 'a'", [True]),
        ("'a' != 'b'", [True]),
        ("{} = 1", []),
        ("(1 | 2) = (1 | 2)", [True]),
        ("(1 | 2) = 1", [False]),
        ("'A  b' ~ 'a b'", [True]),
        ("1.0 ~ 1.04", [True]),  # rounded to the least precise operand
        ("1.0 ~ 1.1", [False]),
        ("{} ~ {}", [True]),
        ("@2020-01-01 = @2020-01-01", [True]),
        ("@2020-01 = @2020-01-01", []),
        ("@2019 = @2020-01-01", [False]),
        ("@2020-01 ~ @2020-01-01", [False]),
        ("@2020 < @2021-06", [True]),
        ("@2020 < @2020-06", []),
        ("@2020-01-01T10:00:00Z = @2020-01-01T11:00:00+01:00", [True]),
        ("@2020-01-01T10:00:00.000Z = @2020-01-01T10:00:00Z", [True]),
        ("@T10:30 > @T10:00", [True]),
        ("'abc' < 'abd'", [True]),
        ("2 >= 2.0", [True]),
        ("10 'mg' = 0.01 'g'", [True]),
        ("1 'kg' > 500 'g'", [True]),
        ("1 'kg' > 1 'm'", []),
        ("4 days = 4 'd'", [True]),
        # UCUM conversion (conformance.fhir.ucum): temperature scales, pressure, volume
        ("37 'Cel' = 98.6 '[degF]'", [True]),
        ("26 'kPa' < 200 'mm[Hg]'", [True]),
        ("1 'L' = 1 'dm3'", [True]),
        ("1 week = 7 'd'", [True]),
        ("1 year = 1 'a'", []),  # a calendar year is not the UCUM mean year
        ("1 '[iU]' = 1 'mg'", []),
        ("effective > @2020-03-04T08:59:00Z", [True]),
        ("effective = @2020-03-04T09:00:00Z", [True]),
        ("issued < effective", [False]),
        ("effective < @2020", []),
    ],
)
def test_equality_and_ordering(expr: str, expected: list[Any]) -> None:
    assert ev(expr) == expected


def test_comparing_incompatible_types_is_an_error() -> None:
    with pytest.raises(FhirPathEvaluationError):
        ev("status < 3")


def test_partial_dates_from_data() -> None:
    per = {"start": "2020-01", "end": "2020-01-15"}
    per1 = compile_invariant(
        "per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"
    )
    assert per1(OBS, per, focus_type="Period") == []  # unknown: precision differs
    assert per1.is_true(OBS, {"start": "2019-12", "end": "2020-01-15"}, focus_type="Period")
    assert not per1.is_true(OBS, {"start": "2021", "end": "2020-01-15"}, focus_type="Period")


def test_quantity_range_rng2() -> None:
    rng2 = compile_expression("low.empty() or high.empty() or (low <= high)")
    ok = {"low": {"value": 1, "unit": "mg", "code": "mg"}, "high": {"value": 2, "code": "g"}}
    bad = {"low": {"value": 3, "code": "g"}, "high": {"value": 2, "code": "g"}}
    assert rng2(OBS, ok, focus_type="Range") == [True]
    assert rng2(OBS, bad, focus_type="Range") == [False]


# --- membership, collections ---------------------------------------------------------


def test_membership_and_sets() -> None:
    assert ev("status in ('final' | 'amended')") == [True]
    assert ev("'x' in {}") == [False]
    assert ev("{} in ('a' | 'b')") == []
    assert ev("('a' | 'b') contains 'b'") == [True]
    assert ev("(1 | 2 | 2).count()") == [2]
    assert ev("(1 | 1).combine(1).count()") == [2]
    assert ev("(1 | 2 | 3).intersect(2 | 3 | 4)") == [2, 3]
    assert ev("(1 | 2 | 3).exclude(2)") == [1, 3]
    assert ev("(1 | 2).subsetOf(1 | 2 | 3)") == [True]
    assert ev("(1 | 2).supersetOf(3)") == [False]
    assert ev("component.code.coding.code.isDistinct()") == [True]
    assert ev("(true | false).allTrue()") == [False]
    assert ev("(true | false).anyTrue()") == [True]
    assert ev("component.all(code.exists())") == [True]
    assert ev("{}.all(false)") == [True]
    assert ev("component.exists(value = 'x')") == [True]


# --- arithmetic and strings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", [7]),
        ("(1 + 2) * 3", [9]),
        ("7 div 2", [3]),
        ("7 mod 2", [1]),
        ("7 / 2", [Decimal("3.5")]),
        ("1 / 0", []),
        ("-(2 + 1)", [-3]),
        ("0.1 + 0.2 = 0.3", [True]),
        ("'a' + 'b'", ["ab"]),
        ("'a' & {} & 'c'", ["ac"]),
        ("'a' + {}", []),
        ("'abcdef'.substring(2, 3)", ["cde"]),
        ("'abc'.substring(5)", []),
        ("'abc'.startsWith('ab')", [True]),
        ("'abc'.endsWith('bc')", [True]),
        ("'abc'.contains('d')", [False]),
        ("'abc'.length()", [3]),
        ("'AbC'.upper()", ["ABC"]),
        ("'AbC'.lower()", ["abc"]),
        ("'a.b.c'.replace('.', '-')", ["a-b-c"]),
        ("'Patient.name'.replaceMatches('\\\\..*', '')", ["Patient"]),
        ("'abc'.matches('b')", [True]),
        ("'abc'.matches('^b')", [False]),
        ("'abc'.indexOf('c')", [2]),
        ("'12'.toInteger() + 1", [13]),
        ("'1.5'.toDecimal()", [Decimal("1.5")]),
        ("'x'.toInteger()", []),
        ("12.toString()", ["12"]),
        ("true.toString()", ["true"]),
        ("'a\\'b'", ["a'b"]),
        ("'\\u0041'", ["A"]),
        ("{}.startsWith('a')", []),
        ("iif(true, 'y', 'n')", ["y"]),
        ("iif({}, 'y', 'n')", ["n"]),
        ("iif(false, 'y')", []),
        ("(2.5).round()", [Decimal("2")]),
        ("(-2).abs()", [2]),
        ("@2020-01-31 + 1 month", ["2020-02-29"]),
    ],
)
def test_arithmetic_and_strings(expr: str, expected: list[Any]) -> None:
    got = ev(expr)
    if expected and isinstance(expected[0], str) and expr.startswith("@"):
        got = [str(g.text) for g in got]
    assert got == expected


def test_string_function_on_several_items_is_an_error() -> None:
    with pytest.raises(FhirPathEvaluationError):
        ev("component.code.coding.code.startsWith('a')")


def test_invalid_regex_is_an_evaluation_error() -> None:
    with pytest.raises(FhirPathEvaluationError):
        ev("status.matches('(')")


# --- environment, resolve, hooks -----------------------------------------------------


def test_environment_variables() -> None:
    assert ev("%ucum") == ["http://unitsofmeasure.org"]
    assert ev("%sct") == ["http://snomed.info/sct"]
    assert ev("%`vs-administrative-gender`") == [
        "http://hl7.org/fhir/ValueSet/administrative-gender"
    ]
    assert ev("%resource.id") == ["w"]
    assert ev("%context.status", OBS, focus=OBS) == ["final"]
    assert ev("%rootResource.id", OBS, root_resource=PAT) == ["p1"]
    opts = EvaluationOptions(variables={"limit": 3})
    assert ev("%limit + 1", options=opts) == [4]
    with pytest.raises(FhirPathEvaluationError):
        ev("%undefined")


def test_resolve_contained_and_bundle() -> None:
    assert ev("generalPractitioner.resolve().id", PAT) == ["gp"]
    assert ev("generalPractitioner.resolve().is(Practitioner)", PAT) == [True]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "http://s/fhir/Patient/p1", "resource": PAT},
            {"fullUrl": "http://s/fhir/Observation/w", "resource": OBS},
        ],
    }
    opts = EvaluationOptions(bundle=bundle, full_url="http://s/fhir/Observation/w")
    assert ev("subject.resolve().ofType(Patient).id", options=opts) == ["p1"]
    assert ev("subject.resolve()") == []
    assert ev("entry[1].resource.subject.resolve().id", bundle) == ["p1"]
    hook = EvaluationOptions(resolver=lambda ref: {"resourceType": "Patient", "id": ref})
    assert ev("subject.resolve().id", options=hook) == ["Patient/p1"]


def test_member_of_and_trace_hooks() -> None:
    assert ev("code.coding.first().memberOf('http://vs')") == []
    opts = EvaluationOptions(member_of=lambda value, url: value.get("code") == "29463-7")
    assert ev("code.coding.first().memberOf('http://vs')", options=opts) == [True]
    seen: list[tuple[str, list[Any]]] = []
    traced = EvaluationOptions(trace=lambda name, values: seen.append((name, values)))
    assert ev("component.code.trace('codes', coding.code).count()", options=traced) == [2]
    assert seen == [("codes", ["a", "b"])]


def test_dom3_contained_must_be_referenced() -> None:
    dom3 = (
        "contained.where((('#'+id in (%resource.descendants().reference | "
        "%resource.descendants().as(canonical) | %resource.descendants().as(uri) | "
        "%resource.descendants().as(url))) or descendants().where(reference = '#').exists() "
        "or descendants().where(as(canonical) = '#').exists() or "
        "descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id)"
        ".empty()"
    )
    inv = compile_expression(dom3)
    assert inv.is_true(PAT)
    orphan = dict(PAT, generalPractitioner=[{"display": "x"}])
    assert not inv.is_true(orphan)


def test_html_checks() -> None:
    ok = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Hello&#160;<b>x</b></p></div>'
    script = '<div xmlns="http://www.w3.org/1999/xhtml"><script>x()</script>text</div>'
    handler = '<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">t</p></div>'
    blank = '<div xmlns="http://www.w3.org/1999/xhtml">  <p> </p></div>'
    no_ns = "<div><p>t</p></div>"
    txt1 = compile_invariant("txt-1", "htmlChecks()")
    txt2 = compile_invariant("txt-2", "htmlChecks()")
    for div, structure, content in [
        (ok, True, True),
        (script, False, True),
        (handler, False, True),
        (blank, True, False),
        (no_ns, False, True),
        ("<div", False, False),
    ]:
        node = element_node(div, "xhtml")
        assert txt1.is_true(OBS, node) is structure, div
        assert txt2.is_true(OBS, node) is content, div


# --- invariant semantics and fixes ---------------------------------------------------


def test_is_true_follows_the_java_validator() -> None:
    assert compile_expression("true").is_true(OBS)
    assert not compile_expression("false").is_true(OBS)
    assert not compile_expression("{}").is_true(OBS)
    assert compile_expression("status").is_true(OBS)
    assert compile_expression("component").is_true(OBS)
    assert not compile_expression("component.value.ofType(boolean)").is_true(OBS)


def test_r4_fixes() -> None:
    ref1 = (
        "reference.startsWith('#').not() or "
        "(reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))"
    )
    raw = compile_expression(ref1)
    fixed = compile_invariant("ref-1", ref1)
    no_ref = element_node({"display": "x"}, "Reference")
    bad_ref = element_node({"reference": "#nope"}, "Reference")
    good_ref = element_node({"reference": "#gp"}, "Reference")
    assert raw(PAT, no_ref) == []  # per the specification: unknown
    assert fixed.is_true(PAT, no_ref)
    assert not fixed.is_true(PAT, bad_ref)
    assert fixed.is_true(PAT, good_ref)
    ras2 = compile_invariant(
        "ras-2", "probability is decimal implies (probability as decimal) <= 100"
    )
    pred = "RiskAssessment.prediction"
    assert not ras2.is_true(OBS, {"probabilityDecimal": 101}, focus_type=pred)
    assert ras2.is_true(OBS, {"probabilityDecimal": 50}, focus_type=pred)
    assert ras2.is_true(OBS, {"outcome": {}}, focus_type=pred)
    assert ras2.is_true(OBS, {"probabilityRange": {}}, focus_type=pred)
    assert fix_invariant("eld-20", "path.matches('[A-Z]+')") == "path.matches('^[A-Z]+$')"
    assert fix_invariant("obs-6", "x") == "x"


# --- compile errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("name.", "position 5"),
        ("name.where(", "position"),
        ("name.frobnicate()", "unknown function frobnicate()"),
        ("value is NoSuchType", "unknown type"),
        ("'unterminated", "unexpected character"),
        ("first(1)", "takes 0 argument"),
        ("a b", "unexpected 'b'"),
    ],
)
def test_compile_errors_name_expression_and_position(expr: str, fragment: str) -> None:
    with pytest.raises(FhirPathError) as info:
        compile_expression(expr)
    assert fragment in str(info.value)
    assert repr(expr) in str(info.value)
    assert not isinstance(info.value, FhirPathEvaluationError)


def test_compile_is_cached() -> None:
    assert compile_expression("status.exists()") is compile_expression("status.exists()")


def test_results_are_fresh_lists() -> None:
    inv = compile_expression("('a' | 'b')")
    first = inv(OBS)
    first.append("c")
    assert inv(OBS) == ["a", "b"]
