"""Invariants (ElementDefinition.constraint): compiled once into a rule that returns no
issue when the constraint holds.

An invariant is evaluated from its FHIRPath expression by :mod:`conformance.fhir.fhirpath`
(``compile_invariant``, which corrects the R4 expressions known to be broken as the HL7
validator does, then a *checker* for the focus's type), compiled when first evaluated. The
only rules that are not FHIRPath:

- rules the R4 text states with no FHIRPath invariant to carry them (:data:`TEXT_RULES`:
  Bundle.entry.fullUrl absolute, the Attachment size and hash) and ext-1, which R4 states on every
  ``extension`` element (the shipped data leaves it out so that it is evaluated once per
  Extension, here);
- constraints a caller implements in Python (:class:`ConstraintImplementation`), given to
  the profile registry by whoever knows the profile; each says why it is not evaluated
  as FHIRPath. Only a constraint whose key *and* expression match is replaced, so a
  profile that words the rule differently still goes through FHIRPath.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from conformance.fhir.attachments import hash_matches
from conformance.fhir.issues import FhirIssue, Found

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


def fhirpath_predicate(key: str, expression: str, focus_type: str) -> Predicate:
    """Invariant ``key`` on a focus of type (or backbone path) ``focus_type``: it holds
    unless its expression evaluates to false (an empty result holds: the element it
    speaks of is absent). Compiled when first evaluated; a compile error is raised then
    (and reported as an invariant that cannot be evaluated)."""
    compiled: list[Predicate] = []

    def check(focus: Any, resource: Any, root: Any) -> bool:
        if not compiled:
            from conformance.fhir.fhirpath import compile_invariant

            compiled.append(compile_invariant(key, expression).checker(focus_type))
        return compiled[0](focus, resource, root)

    return check


class Invariant:
    """One constraint: where it comes from, and how it is evaluated: by ``check`` (a Python
    rule), else from its FHIRPath for the focus type (see :meth:`predicate`)."""

    __slots__ = (
        "_checks",
        "check",
        "expression",
        "focus_type",
        "human",
        "key",
        "severity",
        "source",
    )

    def __init__(
        self,
        key: str,
        severity: str,
        human: str,
        expression: str,
        focus_type: str,
        source: str = "base",
        check: Predicate | None = None,
    ) -> None:
        self.key = key
        self.severity = severity
        self.human = human
        self.expression = expression
        self.focus_type = focus_type  # the type (or backbone path) of its usual focus
        self.source = source
        self.check = check
        self._checks: dict[str, Predicate] = {}

    def predicate(self, focus_type: str | None = None) -> Predicate:
        """How to evaluate it on a focus of ``focus_type`` (default: its usual one)."""
        if self.check is not None:
            return self.check
        focus_type = focus_type or self.focus_type
        got = self._checks.get(focus_type)
        if got is None:
            got = self._checks[focus_type] = fhirpath_predicate(
                self.key, self.expression, focus_type
            )
        return got


def invariant_rule(inv: Invariant) -> InvariantRule:
    """The rule of one invariant: None when it holds, else the issue at the focus (an
    expression that cannot be evaluated is a warning, never a crash)."""
    rule = invariants_rule((inv,))
    assert rule is not None
    return rule


#: an invariant -> sets of JSON keys of its usual focus: without any key of one set, the
#: invariant cannot fail (see :func:`guard_names`)
Guards = Callable[[Invariant], "tuple[tuple[str, ...], ...] | None"]


def invariants_rule(
    invariants: tuple[Invariant, ...],
    at: str = "",
    focus_type: str | None = None,
    guards: Guards | None = None,
) -> InvariantRule | None:
    """All the invariants of one focus as one rule (None when there are none); issues at
    ``at`` (relative to the focus, or where the caller knows the focus is). ``focus_type``:
    the focus's type when it is not the invariants' usual one (a choice's concrete type).
    ``guards`` (see :func:`guard_names`): an invariant is not evaluated on a focus object
    that has none of the keys it gives."""
    if not invariants:
        return None
    plan = tuple(
        (
            guards(inv) if guards is not None and focus_type is None else None,
            inv.predicate(focus_type),
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
        for guard, check, failed, inv in plan:
            if guard is not None and type(focus) is dict and _guarded(guard, focus):
                continue  # none of the elements it needs to fail: it holds
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


def _guarded(guard: tuple[tuple[str, ...], ...], focus: dict[str, Any]) -> bool:
    """The focus has no key of one of the guard's sets."""
    for keys in guard:
        for key in keys:
            if key in focus:
                break
        else:
            return True
    return False


# ------------------------------------------------------------------------- guards

#: functions whose result is empty when their input is, without evaluating arguments
_EMPTY_PRESERVING = frozenset(
    {
        "where",
        "select",
        "repeat",
        "trace",
        "ofType",
        "first",
        "last",
        "tail",
        "distinct",
        "children",
        "descendants",
        "extension",
        "single",
    }
)


@lru_cache(maxsize=4096)
def guard_names(expression: str) -> tuple[frozenset[str], ...] | None:
    """Sets of element names, each such that, on a focus object with no element named in
    it, the expression evaluates to true without error; None when there is none (or the
    expression does not parse): it is then always evaluated.

    FHIRPath §6.5: ``or`` stops at its first true operand, ``implies`` at a false one, a
    path from an absent element is empty, ``empty()`` and ``all()`` of empty are true.
    An ``or`` operand counts only when the operands before it cannot raise.
    ``contained.contained.empty()`` gives ({contained},); ``value.empty() or
    component.code.where(...).empty()`` gives ({value}, {component}); ``$this !=
    %rootResource or ...`` gives None.
    """
    from conformance.fhir.fhirpath._parser import FhirPathError, parse

    try:
        found = _true_when_absent(parse(expression))
    except FhirPathError:
        return None
    return tuple(found) or None


def _true_when_absent(node: Any) -> list[frozenset[str]]:
    from conformance.fhir.fhirpath import _parser as ast

    if isinstance(node, ast.Binary):
        if node.op == "or":
            out: list[frozenset[str]] = []
            for operand in _operands(node, "or"):
                out.extend(_true_when_absent(operand))
                if not _safe_boolean(operand):
                    break  # a later operand is reached only if this one did not raise
            return out
        if node.op == "and":
            left, right = _true_when_absent(node.left), _true_when_absent(node.right)
            return [left[0] | right[0]] if left and right else []
        if node.op == "implies":
            premise = _false_when_absent(node.left)
            return [] if premise is None else [premise]
        return []
    if isinstance(node, ast.Call) and node.base is not None:
        keys: frozenset[str] | None = None
        if (node.name == "empty" and not node.args) or node.name == "all":
            keys = _empty_when_absent(node.base)
        elif node.name == "not" and not node.args:
            inner = node.base
            if (
                isinstance(inner, ast.Call)
                and inner.name in ("exists", "hasValue")
                and not inner.args
                and inner.base is not None
            ):
                keys = _empty_when_absent(inner.base)
        return [] if keys is None else [keys]
    return []


def _operands(node: Any, op: str) -> list[Any]:
    """The operands of a chain ``a op b op c`` (parsed left-associative), in order."""
    from conformance.fhir.fhirpath import _parser as ast

    if isinstance(node, ast.Binary) and node.op == op:
        return [*_operands(node.left, op), *_operands(node.right, op)]
    return [node]


def _safe_boolean(node: Any) -> bool:
    """The expression gives one Boolean (or empty) and cannot raise, whatever the focus."""
    from conformance.fhir.fhirpath import _parser as ast

    if isinstance(node, ast.Call) and node.base is not None and not node.args:
        if node.name in ("empty", "exists", "hasValue"):
            return _plain_path(node.base)
        if node.name == "not":
            return _safe_boolean(node.base)
    if isinstance(node, ast.Binary) and node.op in ("and", "or"):
        return _safe_boolean(node.left) and _safe_boolean(node.right)
    return False


def _plain_path(node: Any) -> bool:
    from conformance.fhir.fhirpath import _parser as ast

    if isinstance(node, ast.Ident):
        return node.name[:1].islower()
    return isinstance(node, ast.Member) and _plain_path(node.base)


def _false_when_absent(node: Any) -> frozenset[str] | None:
    from conformance.fhir.fhirpath import _parser as ast

    if isinstance(node, ast.Call) and node.name == "exists" and not node.args:
        return None if node.base is None else _empty_when_absent(node.base)
    return None


def _empty_when_absent(node: Any) -> frozenset[str] | None:
    """Names whose absence from the focus makes the path ``node`` empty."""
    from conformance.fhir.fhirpath import _parser as ast

    if isinstance(node, ast.Ident):
        # a leading capital would be a type name (the focus itself), not an element
        return frozenset({node.name}) if node.name[:1].islower() else None
    if isinstance(node, ast.Member):
        return _empty_when_absent(node.base)
    if isinstance(node, ast.Call) and node.base is not None and node.name in _EMPTY_PRESERVING:
        return _empty_when_absent(node.base)
    if isinstance(node, ast.TypeOp) and node.op == "as":
        return _empty_when_absent(node.operand)
    if isinstance(node, ast.Binary) and node.op == "|":
        left, right = _empty_when_absent(node.left), _empty_when_absent(node.right)
        return None if left is None or right is None else left | right
    return None


# ------------------------------------------------------------- rules of the R4 text

_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


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


#: rules the R4 text states with no FHIRPath to carry them, and ext-1 (see the module
#: docstring; its expression is R4's, StructureDefinition-Extension), by node
TEXT_RULES: dict[str, tuple[Invariant, ...]] = {
    "Bundle.entry": (
        Invariant(
            "bdl-fullurl",
            "error",
            "fullUrl must be an absolute URL",
            "",
            "Bundle.entry",
            check=_bundle_full_url,
        ),
    ),
    "Extension": (
        Invariant(
            "ext-1",
            "error",
            "Must have either extensions or value[x], not both",
            "extension.exists() != value.exists()",
            "Extension",
        ),
    ),
    "Attachment": (
        Invariant(
            "att-size",
            "error",
            "The stated size must match the size of the data",
            "",
            "Attachment",
            check=_attachment_size,
        ),
        Invariant(
            "att-hash",
            "error",
            "The stated hash must be the SHA-1 of the data (base64)",
            "",
            "Attachment",
            check=hash_matches,
        ),
    ),
}

#: invariants the ``xhtml`` primitive check already enforces (``htmlChecks()``)
SKIPPED_INVARIANTS = frozenset({"txt-1", "txt-2"})
