"""Canonical references to example domains (HL7 validator: "Example URLs are not allowed
in this context", unless it runs allowing examples, as the specification's own example
build does).

A ``canonical`` element (``Questionnaire.item.answerValueSet``,
``DataRequirement.codeFilter.valueSet``...) on example.org that resolves to nothing loaded
is an error. Conservative where the reference's test harness and its command line
differ, so that both would report it: only example.org (the harness resolves the other
example domains, example.com or acme.com, that the extension rule of
:mod:`conformance.fhir.profiles` also treats as examples; UK Core's own examples point at
example.com), only ``canonical`` elements (never ``uri`` ones such as
``Identifier.system`` or ``Coding.system``, which the command line resolves), never
``Extension.value[x]`` (exempt in the reference) nor ``meta.profile`` (the profile checks
say when a claimed profile is unknown).

The base walk flags the values (an element invariant, :data:`EXAMPLE_URL`); the
validator, which knows whether examples are allowed and what is loaded, keeps or drops
each flag (:func:`judged`). The message names the URL, as the reference's does: a
canonical URL on an example domain is not patient data.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from conformance.fhir.invariants import Invariant
from conformance.fhir.issues import FhirIssue

if TYPE_CHECKING:
    from conformance.fhir.definitions import DefinitionSet

#: the example domain both the reference's harness and its command line reject
DOMAINS = ("example.org/",)
KEY = "example-url"
_STEP = re.compile(r"([^.\[\]]+)(?:\[(\d+)\])?")


def is_example_url(url: str) -> bool:
    return any(d in url for d in DOMAINS)


def _not_example(f: Any, r: Any, t: Any) -> bool:
    return type(f) is not str or f[:1] == "#" or not is_example_url(f)


EXAMPLE_URL = Invariant(
    KEY,
    "error",
    "Example URLs are not allowed in this context",
    "",
    "canonical",
    check=_not_example,
)


def value_at(resource: Any, expression: str) -> Any:
    """The value at an issue's expression (``Type.a[0].b``) in ``resource``; None when
    the path does not lead to one."""
    node = resource
    for step in expression.split(".")[1:]:
        m = _STEP.fullmatch(step)
        if m is None or type(node) is not dict:
            return None
        node = node.get(m.group(1))
        if m.group(2) is not None:
            if type(node) is not list or int(m.group(2)) >= len(node):
                return None
            node = node[int(m.group(2))]
    return node


def judged(
    issues: list[FhirIssue], resource: Any, allowed: bool, loaded: DefinitionSet | None
) -> list[FhirIssue]:
    """``issues`` with the example-URL flags judged: all dropped when examples are
    allowed, else each kept (naming its URL) unless the URL resolves to a ``loaded``
    definition."""
    if not issues:
        return issues
    out: list[FhirIssue] = []
    for issue in issues:
        if issue.key != KEY:
            out.append(issue)
            continue
        if allowed:
            continue
        url = value_at(resource, issue.expression)
        if type(url) is not str or (loaded is not None and _resolves(url, loaded)):
            continue
        message = f"Example URLs are not allowed in this context ({url})"
        out.append(issue._replace(code=KEY, message=message))
    return out


def _resolves(url: str, loaded: DefinitionSet) -> bool:
    bare = url.split("|", 1)[0]
    return any(
        u in table
        for table in (loaded.structure_definitions, loaded.valuesets, loaded.codesystems)
        for u in (url, bare)
    )
