"""Narrative XHTML (R4 narrative.html, txt-1/txt-2; HL7's validator's element and attribute
lists): well-formed, one XHTML div root, entities, allowed markup, internal links; and
dom-6 (a narrative is expected) never on contained resources."""

from __future__ import annotations

from typing import Any

import pytest
from fhir_helpers import errors

from conformance.fhir import FhirValidator

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


def _patient(div: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": {"status": "generated", "div": div}, **more}


def _found(base: FhirValidator, resource: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.code, i.expression) for i in errors(base.validate(resource))]


@pytest.mark.parametrize(
    ("div", "why"),
    [
        (f"<div {NS}><p>unclosed</div>", "not well-formed"),
        (f"<div {NS}><b><i>x</b></i></div>", "not well-formed"),
        (f"<div {NS}><p class=x>t</p></div>", "not well-formed"),  # unquoted attribute
        (f"<div {NS}>a</div><div {NS}>b</div>", "not well-formed"),  # two roots
        ("<div><p>t</p></div>", "XHTML div"),  # no XHTML namespace
        (f"<span {NS}>t</span>", "XHTML div"),
        (f"<div {NS}>&madeup;</div>", "does not define"),
        (f"<div {NS}>A&nbsp;B</div>", "entity &nbsp; which XHTML without a DTD does not"),
        (f"<div {NS}>&reg; 2026</div>", "entity &reg; which XHTML without a DTD does not"),
        (f"<div {NS}><script>x()</script></div>", "<script>"),
        (f"<div {NS}><form><input/></form></div>", "<form>"),
        (f"<div {NS}><ins>x</ins></div>", "<ins>"),  # HTML 4 §9.4: excluded
        (f'<div {NS}><p onmouseover="x()">t</p></div>', "event handler"),
        (f'<div {NS}><p href="x.html">t</p></div>', "'href' on <p>"),  # href: a and area only
        (f'<div {NS}><span src="x.png">t</span></div>', "'src' on <span>"),
        (f'<div {NS}><table bgcolor="red"><tr><td>x</td></tr></table></div>', "'bgcolor'"),
    ],
)
def test_narrative_problems_are_errors(base: FhirValidator, div: str, why: str) -> None:
    (issue,) = errors(base.validate(_patient(div)))
    assert (issue.code, issue.expression) == ("invalid-primitive", "Patient.text.div")
    assert why in issue.message


@pytest.mark.parametrize(
    "div",
    [
        f"<div {NS}>&lt;&gt;&amp;&quot;&apos;&#160;&#xA0;</div>",
        f"<div {NS}>A&#160;B &#169; &amp;&lt;&gt;&quot;&apos;</div>",  # XML's own and numeric
        f"<div {NS}><address>x</address><kbd>k</kbd><bdo dir='rtl'>b</bdo></div>",
        f'<div {NS}><img src="#img1" alt="x"/><map name="m"><area shape="rect" href="#m" '
        f'alt="a"/></map></div>',
        f'<div {NS}><table border="1" cellpadding="2"><tr><td nowrap="nowrap" colspan="2">x'
        f"</td></tr></table></div>",
        f'<div {NS}><a name="top">t</a><a href="#top">back</a></div>',
    ],
)
def test_allowed_narratives(base: FhirValidator, div: str) -> None:
    assert _found(base, _patient(div)) == []


def test_internal_link_to_nothing_is_an_error(base: FhirValidator) -> None:
    div = f'<div {NS}><a href="#nowhere">x</a><p id="here">y</p></div>'
    assert _found(base, _patient(div)) == [("invalid-narrative-link", "Patient.text.div")]
    ok = f'<div {NS}><a href="#here">x</a><p id="here">y</p></div>'
    assert _found(base, _patient(ok)) == []


def test_internal_link_may_point_into_the_resource(base: FhirValidator) -> None:
    # a link to an element id, or to an anchor in a contained resource's narrative
    div = f'<div {NS}><a href="#n1">name</a> <a href="#c1">contained</a></div>'
    patient = _patient(
        div,
        name=[{"id": "n1", "family": "Test"}],
        contained=[
            {
                "resourceType": "Organization",
                "id": "o1",
                "name": "x",
                "text": {"status": "generated", "div": f'<div {NS}><p id="c1">o</p></div>'},
            }
        ],
        managingOrganization={"reference": "#o1"},
    )
    assert _found(base, patient) == []
    patient["name"][0]["id"] = "n2"
    assert _found(base, patient) == [("invalid-narrative-link", "Patient.text.div")]


def test_contained_narrative_may_link_to_its_container(base: FhirValidator) -> None:
    org = {
        "resourceType": "Organization",
        "id": "o1",
        "name": "x",
        "text": {"status": "generated", "div": f'<div {NS}><a href="#top">up</a></div>'},
    }
    patient = _patient(
        f'<div {NS}><a name="top">p</a></div>',
        contained=[org],
        managingOrganization={"reference": "#o1"},
    )
    assert _found(base, patient) == []


def test_link_message_names_no_text(base: FhirValidator) -> None:
    div = f'<div {NS}><a href="#9990000018">Mrs Test</a></div>'
    (issue,) = errors(base.validate(_patient(div)))
    assert "9990000018" not in issue.message and "Mrs Test" not in issue.message


def test_no_dom6_on_contained_resources(base: FhirValidator) -> None:
    # dom-6 (a resource should have a narrative) is for the container only (HL7 corrects
    # the R4 expression so): a contained resource without text gets no warning
    patient = _patient(
        f"<div {NS}>p</div>",
        contained=[{"resourceType": "Organization", "id": "o1", "name": "x"}],
        managingOrganization={"reference": "#o1"},
    )
    assert [i for i in base.validate(patient) if i.key == "dom-6"] == []
    del patient["text"]
    assert [i.expression for i in base.validate(patient) if i.key == "dom-6"] == ["Patient"]
