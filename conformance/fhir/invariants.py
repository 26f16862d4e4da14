"""Invariants (ElementDefinition.constraint): compiled once into a rule that returns no
issue when the constraint holds.

An invariant is evaluated from its FHIRPath expression (compiled on first evaluation, by
:mod:`conformance.fhir.fhirpath`). Two kinds of rules are not FHIRPath:

- rules the R4 text states with no FHIRPath invariant to carry them (:data:`TEXT_RULES`:
  Bundle.entry.fullUrl absolute, ext-1, the Attachment size);
- constraints a caller implements in Python (:class:`ConstraintImplementation`), given to
  the profile registry by whoever knows the profile; each says why it is not evaluated
  as FHIRPath. Only a constraint whose key *and* expression match is replaced, so a
  profile that words the rule differently still goes through FHIRPath.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from conformance.fhir.issues import FhirIssue, Found
from conformance.fhir.native_invariants import HYBRID_INVARIANTS, NATIVE_INVARIANTS, TRIGGERS

#: (focus, %resource, %rootResource) -> does the constraint hold?
Predicate = Callable[[Any, Any, Any], bool]
#: (focus, %resource, %rootResource) -> issues at the focus, None when it holds
InvariantRule = Callable[[Any, Any, Any], "list[Found] | None"]


class ConstraintImplementation(NamedTuple):
    """A profile constraint evaluated by Python code instead of its FHIRPath."""

    key: str  # the constraint's key, as in the profile
    expression: str  # the exact FHIRPath it stands for
    check: Predicate
    reason: str  # why the FHIRPath is not evaluated (speed, an unsupported function...)


#: constraint implementations by key
Implementations = Mapping[str, ConstraintImplementation]


def compile_fhirpath(expression: str, base: str) -> Callable[[Any, Any, Any], list[Any]]:
    """Compile a FHIRPath expression to ``f(focus, resource, root) -> result list``; the
    focus is typed as ``base`` (a type name or a backbone element path). Raises on a
    compile failure."""
    from conformance.fhir.fhirpath import compile_expression

    compiled = compile_expression(expression)

    def run(focus: Any, resource: Any, root: Any) -> list[Any]:
        return compiled(resource, focus, focus_type=base, root_resource=root)

    return run


def fhirpath_predicate(expression: str, base: str) -> Predicate:
    """The constraint holds unless the expression evaluates to false (an empty result
    holds: the element the constraint speaks of is absent). Compiled on first use, since
    compiling costs more than most resources' whole validation."""
    compiled: list[Callable[[Any, Any, Any], list[Any]]] = []

    def check(focus: Any, resource: Any, root: Any) -> bool:
        if not compiled:
            compiled.append(compile_fhirpath(expression, base))
        return compiled[0](focus, resource, root) != [False]

    return check


class Invariant:
    """One constraint: where it comes from and its predicate (see :func:`invariant_rule`)."""

    __slots__ = ("check", "expression", "human", "key", "severity", "source", "trigger")

    def __init__(
        self,
        key: str,
        severity: str,
        human: str,
        expression: str,
        check: Predicate,
        source: str = "base",
        trigger: str | None = None,
    ) -> None:
        self.key = key
        self.severity = severity
        self.human = human
        self.expression = expression
        self.check = check
        self.source = source
        #: the invariant holds trivially when this key is absent from the focus object
        self.trigger = trigger


def base_invariant(key: str, severity: str, human: str, expression: str, base: str) -> Invariant:
    """An invariant of the base specification, on a focus of type (or path) ``base``."""
    native = NATIVE_INVARIANTS.get(key)
    trigger = TRIGGERS.get(key)
    if native is not None:
        return Invariant(key, severity, human, expression, native, "base", trigger)
    fhirpath = fhirpath_predicate(expression, base)
    hybrid = HYBRID_INVARIANTS.get(key)
    if hybrid is None:
        return Invariant(key, severity, human, expression, fhirpath, "base", trigger)

    def check(focus: Any, resource: Any, root: Any) -> bool:
        answer = hybrid(focus, resource, root)
        return fhirpath(focus, resource, root) if answer is None else answer

    return Invariant(key, severity, human, expression, check, "base", trigger)


def invariant_rule(inv: Invariant) -> InvariantRule:
    """The rule of one invariant: None when it holds, else the issue at the focus (an
    expression that cannot be evaluated is a warning, never a crash)."""
    rule = invariants_rule((inv,))
    assert rule is not None
    return rule


def invariants_rule(invariants: tuple[Invariant, ...], at: str = "") -> InvariantRule | None:
    """All the invariants of one focus as one rule (None when there are none); issues at
    ``at`` (relative to the focus, or where the caller knows the focus is)."""
    if not invariants:
        return None
    plan = tuple(
        (
            inv.trigger,
            inv.check,
            FhirIssue(
                inv.severity,
                "invariant",
                at,
                f"Constraint {inv.key} failed: {inv.human}",
                inv.source,
                inv.key,
            ),
            inv,
        )
        for inv in invariants
    )

    def rule(focus: Any, resource: Any, root: Any) -> list[Found] | None:
        out: list[Found] | None = None
        for trigger, check, failed, inv in plan:
            if trigger is not None and trigger not in focus:
                continue
            try:
                if check(focus, resource, root):
                    continue
                found: Found = failed
            except Exception as exc:  # a broken expression must never crash validation
                message = f"Invariant {inv.key} could not be evaluated ({type(exc).__name__})"
                found = FhirIssue("warning", "invariant-error", at, message, inv.source)
            if out is None:
                out = [found]
            else:
                out.append(found)
        return out

    return rule


# ------------------------------------------------------------- rules of the R4 text

_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _has_value_key(obj: Mapping[str, Any], prefix: str) -> bool:
    n = len(prefix)
    return any(k.startswith(prefix) and len(k) > n and k[n].isupper() for k in obj)


def _ext1(f: Any, r: Any, t: Any) -> bool:
    return ("extension" in f) != _has_value_key(f, "value")


def _bundle_full_url(f: Any, r: Any, t: Any) -> bool:
    url = f.get("fullUrl")
    return type(url) is not str or _ABSOLUTE.match(url) is not None


def _attachment_size(f: Any, r: Any, t: Any) -> bool:
    data, size = f.get("data"), f.get("size")
    if type(data) is not str or type(size) is not int:
        return True
    s = "".join(data.split())
    if len(s) % 4:
        return True  # malformed base64 is reported by the primitive check
    return len(s) // 4 * 3 - (s.endswith("=") + s.endswith("==")) == size


#: rules the R4 text states but no FHIRPath invariant carries, by the node they apply to
TEXT_RULES: dict[str, tuple[Invariant, ...]] = {
    "Bundle.entry": (
        Invariant(
            "bdl-fullurl",
            "error",
            "fullUrl must be an absolute URL",
            "",
            _bundle_full_url,
            trigger="fullUrl",
        ),
    ),
    "Extension": (
        Invariant("ext-1", "error", "Must have either extensions or value[x], not both", "", _ext1),
    ),
    "Attachment": (
        Invariant(
            "att-size",
            "error",
            "The stated size must match the size of the data",
            "",
            _attachment_size,
            trigger="size",
        ),
    ),
}

#: invariants the ``xhtml`` primitive check already enforces (``htmlChecks()``)
SKIPPED_INVARIANTS = frozenset({"txt-1", "txt-2"})
