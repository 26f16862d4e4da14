"""What the FHIR engine reports: issues, and the extensions a walk met.

Every compiled rule is a function that returns ``None`` when the value is fine and a list
of :data:`Found` when it is not. Paths in what a rule returns are *relative* to the value
it was given (``""`` is the value itself, ``".code"`` a child, ``".coding[0].code"`` a
grandchild); the caller that knows where the value sits prefixes them (:func:`moved`). So a
valid value costs no path string at all, and the same code that decides also reports.

Messages never carry values from the resource: they say what is wrong and where.
"""

from __future__ import annotations

from typing import Any, NamedTuple

#: the ``source`` of issues of the base specification (else the profile's canonical URL)
BASE = "base"


class FhirIssue(NamedTuple):
    severity: str  # "error" | "warning" | "information"
    code: str  # stable kebab-case issue code
    expression: str  # FHIRPath-style location
    message: str  # what is wrong and where; never a value from the resource
    source: str  # "base" or the profile canonical URL
    key: str = ""  # the invariant's key (e.g. "dom-6") for invariant issues


class ExtensionUse(NamedTuple):
    """An ``extension`` (or ``modifierExtension``) array met by the base walk.

    The validator checks each of its items against the extension's definition once the
    walk is done (definitions are the profile registry's business, not the base model's).
    """

    expression: str  # where the array is (relative, like an issue's, until the walk ends)
    items: list[Any]
    resource: Any  # the resource the extensions sit in (``%resource`` of their invariants)


Found = FhirIssue | ExtensionUse
#: what a compiled rule returns: None when the value is fine
Issues = list[Found] | None


def issue(severity: str, code: str, expression: str, message: str, source: str = BASE) -> Found:
    return FhirIssue(severity, code, expression, message, source)


def error(code: str, expression: str, message: str, source: str = BASE) -> list[Found]:
    """A one-issue result: an error."""
    return [FhirIssue("error", code, expression, message, source)]


def moved(prefix: str, found: list[Found]) -> list[Found]:
    """``found`` (relative to a value) made relative to the value's container, where the
    value sits at ``prefix`` (e.g. ``".name[0]"``)."""
    out: list[Found] = []
    for f in found:
        # tuple.__new__: the NamedTuple's own __new__ costs a Python call per issue
        if isinstance(f, FhirIssue):
            out.append(_new(FhirIssue, (f[0], f[1], prefix + f[2], f[3], f[4], f[5])))
        else:
            out.append(_new(ExtensionUse, (prefix + f[0], f[1], f[2])))
    return out


_new = tuple.__new__


def joined(out: list[Found] | None, more: list[Found]) -> list[Found]:
    """``out`` extended by ``more`` (``more`` itself when ``out`` is None)."""
    if out is None:
        return more
    out.extend(more)
    return out


def issues_only(found: list[Found]) -> list[FhirIssue]:
    return [f for f in found if isinstance(f, FhirIssue)]
