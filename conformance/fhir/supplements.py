"""CodeSystem supplements are not code systems a Coding can use (R4 codesystem.html
§supplements: a supplement "adds designations and properties to another code system";
it defines no codes of its own, so ``Coding.system`` never names one).

Only resources validated with loaded definitions that include a supplement pay for the
walk; the usual run (no supplement loaded) costs one dictionary lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.issues import BASE, FhirIssue

if TYPE_CHECKING:
    from conformance.fhir.definitions import DefinitionSet

#: the last definitions asked about, their count of code systems and their supplements
#: (a run asks about one set; a set that grows is read again)
_last: list[tuple[DefinitionSet, int, frozenset[str]]] = []


def supplement_urls(definitions: DefinitionSet) -> frozenset[str]:
    """The canonical URLs (with and without version) of the loaded supplements."""
    systems = definitions.codesystems
    if _last and _last[0][0] is definitions and _last[0][1] == len(systems):
        return _last[0][2]
    # R4 CodeSystem: content "supplement", or a `supplements` element naming the code system
    # it adds to, makes a supplement
    urls = frozenset(
        u
        for u, cs in systems.items()
        if cs.get("content") == "supplement" or isinstance(cs.get("supplements"), str)
    )
    _last[:] = [(definitions, len(systems), urls)]
    return urls


def supplement_issues(resource: Any, definitions: DefinitionSet) -> list[FhirIssue]:
    """An error for each Coding whose system is a loaded supplement."""
    if not definitions.codesystems:
        return []  # the usual run: no code system loaded at all
    urls = supplement_urls(definitions)
    if not urls or type(resource) is not dict:
        return []
    out: list[FhirIssue] = []
    rtype = resource.get("resourceType")
    _walk(resource, rtype if type(rtype) is str else "", urls, out)
    return out


def _walk(value: Any, at: str, urls: frozenset[str], out: list[FhirIssue]) -> None:
    if type(value) is dict:
        system = value.get("system")
        # a Coding (code, no value): an Identifier or a Quantity are other matters
        if type(system) is str and system in urls and "value" not in value:
            message = (
                f"CodeSystem {system} is a supplement, so it can't be used as a value in "
                "Coding.system"
            )
            out.append(FhirIssue("error", "codesystem-supplement", f"{at}.system", message, BASE))
        for key, child in value.items():
            if type(child) in (dict, list):
                _walk(child, f"{at}.{key}", urls, out)
    elif type(value) is list:
        for i, item in enumerate(value):
            if type(item) in (dict, list):
                _walk(item, f"{at}[{i}]", urls, out)
