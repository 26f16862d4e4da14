"""A compiled FHIRPath evaluator for FHIR R4 invariants.

``compile_expression(text)`` parses once and returns a :class:`CompiledExpression`, a tree
of Python closures evaluated directly over JSON (``orjson.loads`` output)::

    inv = compile_expression("dataAbsentReason.empty() or value.empty()")
    inv(observation)          # -> [True]
    inv.is_true(observation)  # -> True

Invariant semantics (:meth:`CompiledExpression.is_true`) follow the HL7 Java validator
(``FHIRPathEngine.convertToBoolean``): a single Boolean gives its value; an **empty
result fails**; any other non-empty result passes. The FHIR specification says a
constraint holds when its expression evaluates to true, so an unknown (empty) result is
not a pass; the R4 invariants are written so that they return a Boolean whenever their
context element exists.

Element typing: the FHIR type of every node is tracked from the resource type (or the
``focus_type`` given), using a model generated from the R4 core package
(``_build_types.py``), so choice elements (``value`` -> ``valueQuantity``), ``is``/``as``/
``ofType``, primitives with ``_name`` extension siblings and date/time comparisons with
partial precision (unknown -> empty) behave per the FHIRPath specification.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ._compiler import FUNCTION_NAMES, Compiler, resolve_reference, type_matcher
from ._fixes import fix_invariant
from ._parser import FhirPathError, parse
from ._runtime import (
    DEFAULT_OPTIONS,
    Ctx,
    ElementNode,
    EvalProblem,
    EvaluationOptions,
    FhirPathEvaluationError,
    resource_node,
    unwrap,
)

__all__ = [
    "FUNCTION_NAMES",
    "CompiledExpression",
    "ElementNode",
    "EvaluationOptions",
    "FhirPathError",
    "FhirPathEvaluationError",
    "compile_expression",
    "compile_invariant",
    "element_node",
    "fix_invariant",
    "resolve_reference",
    "type_matcher",
]


def element_node(
    value: Any, fhir_type: str | None = None, primitive_extension: Any = None
) -> ElementNode:
    """Wrap an element of a resource as a typed focus for evaluation.

    ``fhir_type`` is the FHIR type code (``"Quantity"``, ``"dateTime"``) or, for backbone
    elements, the element path as in the StructureDefinition (``"Observation.component"``).
    ``primitive_extension`` is the ``_name`` sibling object of a primitive (its ``id`` and
    ``extension``), so ``hasValue()``/``extension`` work on primitives.
    """
    if fhir_type is None and type(value) is dict:
        return resource_node(value)
    ext = primitive_extension if type(primitive_extension) is dict else None
    return (value, fhir_type, ext)


_RETHROWN = (EvalProblem, TypeError, ValueError, AttributeError, ArithmeticError, RecursionError)


class CompiledExpression:
    """A FHIRPath expression compiled to closures; call it on a resource (JSON)."""

    __slots__ = ("_fn", "expression")

    def __init__(self, expression: str):
        self.expression = expression
        self._fn = Compiler(expression).compile(parse(expression)).fn

    def __repr__(self) -> str:
        return f"CompiledExpression({self.expression!r})"

    def evaluate_nodes(
        self,
        resource: Any,
        focus: Any = None,
        *,
        focus_type: str | None = None,
        root_resource: Any = None,
        options: EvaluationOptions | None = None,
    ) -> list[Any]:
        """Evaluate and return internal items (element nodes keep their FHIR type)."""
        res = resource_node(resource) if resource is not None else None
        if focus is None:
            start = res
        elif type(focus) is tuple:
            start = focus
        elif focus_type is not None:
            start = (focus, focus_type, None)
        else:
            start = resource_node(focus)
        if root_resource is None:
            root = res
        else:
            root = resource_node(root_resource)
        focus_coll = [] if start is None else [start]
        ctx = Ctx(res, root, focus_coll, options or DEFAULT_OPTIONS)
        try:
            return self._fn(ctx, focus_coll, focus_coll)
        except _RETHROWN as exc:
            detail = str(exc) if isinstance(exc, EvalProblem) else type(exc).__name__
            raise FhirPathEvaluationError(f"evaluation failed: {detail}", self.expression) from exc

    def __call__(
        self,
        resource: Any,
        focus: Any = None,
        *,
        focus_type: str | None = None,
        root_resource: Any = None,
        options: EvaluationOptions | None = None,
    ) -> list[Any]:
        """Evaluate with ``%resource`` = ``resource`` and ``$this`` = ``focus`` (default the
        resource); ``%rootResource`` = ``root_resource`` (default ``resource``).

        ``focus`` may be plain JSON (typed by ``focus_type`` or its ``resourceType``) or an
        :func:`element_node`. Returns plain values: JSON values for elements, Python
        ``bool``/``int``/``Decimal``/``str`` and FHIRPath date/quantity objects otherwise.
        Raises :class:`FhirPathEvaluationError` when the expression fails on this input.
        """
        items = self.evaluate_nodes(
            resource, focus, focus_type=focus_type, root_resource=root_resource, options=options
        )
        return [unwrap(it) for it in items]

    def is_true(
        self,
        resource: Any,
        focus: Any = None,
        *,
        focus_type: str | None = None,
        root_resource: Any = None,
        options: EvaluationOptions | None = None,
    ) -> bool:
        """Invariant semantics: ``[True]`` passes, ``[False]`` and empty fail, any other
        non-empty result passes (as the HL7 Java validator does)."""
        items = self.evaluate_nodes(
            resource, focus, focus_type=focus_type, root_resource=root_resource, options=options
        )
        if not items:
            return False
        if len(items) == 1:
            v = items[0]
            if type(v) is tuple:
                v = v[0]
            if v is True or v is False:
                return bool(v)
        return True


@lru_cache(maxsize=4096)
def compile_expression(expression: str) -> CompiledExpression:
    """Compile (and cache by text) a FHIRPath expression; raises :class:`FhirPathError`."""
    return CompiledExpression(expression)


def compile_invariant(key: str, expression: str) -> CompiledExpression:
    """Compile a StructureDefinition constraint, correcting known-broken R4 expressions
    (see :func:`fix_invariant`) as the HL7 Java validator does."""
    return compile_expression(fix_invariant(key, expression))
