"""The one XHTML checker (narrative rules): xhtml_problems and the htmlChecks() it backs."""

from __future__ import annotations

import pytest

from conformance.fhir.fhirpath import compile_invariant, element_node, xhtml_problems

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


@pytest.mark.parametrize(
    "div",
    [
        f"<div {NS}>Hello</div>",
        f'<div {NS}><p>Hello&#160;<b>x</b> &amp; &#169;</p><img src="x.png" alt="x"/></div>',
        f'<div {NS} xml:lang="en"><table border="1"><tr><td colspan="2">x</td></tr></table></div>',
        f'<div {NS}><a href="https://example.org/x">link</a></div>',
    ],
)
def test_allowed_narratives_have_no_problems(div: str) -> None:
    assert xhtml_problems(div) == []


@pytest.mark.parametrize(
    ("div", "fragment"),
    [
        (f"<div {NS}><script>alert(1)</script></div>", "element <script> is not allowed"),
        (f"<div {NS}><iframe src='x'></iframe></div>", "element <iframe> is not allowed"),
        (f"<div {NS}><form><input/></form></div>", "element <form> is not allowed"),
        (f"<div {NS}><object/><embed/><applet/></div>", "element <object> is not allowed"),
        (f"<div {NS}><style>p{{}}</style></div>", "element <style> is not allowed"),
        (f'<div {NS}><p onclick="x()">t</p></div>', "event handler attribute 'onclick'"),
        (f'<div {NS}><img src="x" onerror="x()"/></div>', "event handler attribute 'onerror'"),
        (f'<div {NS}><a href=" JavaScript:x()">t</a></div>', "must not use a javascript: URL"),
        (f'<div {NS}><img src="vbscript:x"/></div>', "must not use a vbscript: URL"),
        (f'<div {NS}><a href="data:text/html,x">t</a></div>', "must not use a data: URL"),
        (f'<div {NS}><p foo="1">t</p></div>', "attribute 'foo' on <p> is not allowed"),
        (f"<div {NS}><p>unclosed</div>", "is not well-formed XML"),
        (f"<div {NS}>&nosuchentity;</div>", "which XHTML without a DTD does not define"),
        (f"<div {NS}><p>&copy; x</p></div>", "uses the entity &copy;"),
        ("<div><p>t</p></div>", "the root element must be an XHTML div"),
        (f"<p {NS}>t</p>", "the root element must be an XHTML div"),
        (
            f'<!DOCTYPE div [<!ENTITY x "y">]><div {NS}>&x;</div>',
            "must not contain a DOCTYPE or entity declarations",
        ),
        (
            f'<div {NS}><svg xmlns="http://www.w3.org/2000/svg"/></div>',
            "is not in the XHTML namespace",
        ),
    ],
)
def test_problems_are_named(div: str, fragment: str) -> None:
    problems = xhtml_problems(div)
    assert any(fragment in p for p in problems), problems


def test_every_problem_is_listed_and_names_no_text() -> None:
    div = f'<div {NS}><script>secret 9990000018</script><p onclick="x()">Mrs Test</p></div>'
    problems = xhtml_problems(div)
    assert len(problems) == 2
    assert not any("9990000018" in p or "Mrs Test" in p for p in problems)


def test_long_markup_names_are_cut_short() -> None:
    name = "x" * 500
    (problem,) = xhtml_problems(f"<div {NS}><{name}/></div>")
    assert len(problem) < 100


def test_html_checks_is_no_problems() -> None:
    txt1 = compile_invariant("txt-1", "htmlChecks()")
    for div in (f"<div {NS}>ok</div>", f"<div {NS}><script/></div>", "<div"):
        ok = txt1.is_true({"resourceType": "Basic"}, element_node(div, "xhtml"))
        assert ok is (xhtml_problems(div) == [])
