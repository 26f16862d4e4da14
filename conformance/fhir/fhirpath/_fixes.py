"""Corrections for R4 core invariants whose published FHIRPath is known to be wrong.

Several R4 invariants were written against an early engine in which string functions on
an empty input returned ``false`` (FHIRPath says empty); read per the specification they
fail on valid data (``ref-1`` on every Reference without ``reference``). The HL7 Java
validator substitutes corrected expressions for these; :func:`fix_invariant` does the
same so results agree with it. Each replacement keeps the published intent.
"""

from __future__ import annotations

from typing import Final

_NAME_RULE: Final = "name.matches('[A-Z]([A-Za-z0-9_]){0,254}')"
_R4_REF_1: Final = (
    "reference.startsWith('#').not() or "
    "(reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))"
)

# published expression -> corrected expression
_BY_EXPRESSION: Final[dict[str, str]] = {
    # ras-2: empty probability made the whole rule empty (a failure).
    "probability is decimal implies (probability as decimal) <= 100": (
        "probability.exists() implies "
        "((probability is decimal) implies ((probability as decimal) <= 100))"
    ),
    # que-12: "more than one enableWhen" was written as "> 2".
    "enableWhen.count() > 2 implies enableBehavior.exists()": (
        "enableWhen.count() > 1 implies enableBehavior.exists()"
    ),
    # ref-1: a Reference with only an identifier/display has no reference to check;
    # "#" alone refers to the container itself.
    _R4_REF_1: f"reference.exists() implies (reference = '#' or ({_R4_REF_1}))",
    # bdl-8: entries without fullUrl.
    "fullUrl.contains('/_history/').not()": (
        "fullUrl.exists() implies fullUrl.contains('/_history/').not()"
    ),
    # *-0 name rules of canonical resources: absent name, and the regex must match whole.
    _NAME_RULE: "name.exists() implies name.matches('^[A-Z]([A-Za-z0-9_]){0,254}$')",
}

_BY_KEY: Final[dict[str, str]] = {
    # txt-2 shares txt-1's expression in R4; it is the "has some content" rule.
    "txt-2": "htmlChecks2()",
    # dom-6 (narrative best practice) does not apply to contained resources.
    "dom-6": "$this != %rootResource or text.`div`.exists()",
}


# FHIRPath matches() finds a match anywhere; these path rules mean the whole path.
_ANCHOR_KEYS: Final = frozenset({"eld-19", "eld-20"})


def _anchor(expression: str) -> str:
    head, sep, tail = expression.partition("matches('")
    if not sep or not tail.endswith("')") or tail.startswith("^"):
        return expression
    return f"{head}matches('^{tail[:-2]}$')"


def fix_invariant(key: str, expression: str) -> str:
    """The expression to evaluate for invariant ``key`` (corrected when known broken)."""
    fixed = _BY_KEY.get(key)
    if fixed is not None:
        return fixed
    if key in _ANCHOR_KEYS:
        return _anchor(expression)
    return _BY_EXPRESSION.get(expression, expression)
