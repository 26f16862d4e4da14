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

To run a constraint once per element, use :meth:`CompiledExpression.checker`: compiled
for the element's type, it answers as the FHIR validator reads a result (only ``false``
violates) at a fraction of a full evaluation's cost. :func:`xhtml_problems` checks
narrative XHTML (the rules behind ``htmlChecks()``).

Layout: ``_parser`` (grammar), ``_compiler`` (terms, folding, dispatch) and
``_compiled`` (what a compiled node is), ``_navigation`` (paths over JSON), ``functions/``
and ``operators/`` (one module per section of the FHIRPath specification, plus
``functions/fhir.py`` for FHIR's additions), ``_runtime`` (items, equality, conversions,
the evaluation context and cost budget), ``_values`` (dates, quantities), ``_model``
(the R4 type model), ``_fixes`` (corrected R4 invariants), ``_html`` (XHTML).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

from ._compiled import Test
from ._compiler import FUNCTION_NAMES, Compiler
from ._fixes import fix_invariant
from ._html import xhtml_problems
from ._parser import FhirPathError, parse
from ._runtime import (
    DEFAULT_OPTIONS,
    UNUSED_CONTEXT,
    Coll,
    Ctx,
    ElementNode,
    EvalProblem,
    EvaluationOptions,
    FhirPathEvaluationError,
    resource_node,
    unwrap,
)
from .functions.fhir import resolve_reference
from .operators.types import type_matcher

__all__ = [
    "FUNCTION_NAMES",
    "CompiledExpression",
    "ElementNode",
    "EvaluationOptions",
    "FhirPathError",
    "FhirPathEvaluationError",
    "InvariantCheck",
    "compile_expression",
    "compile_invariant",
    "element_node",
    "fix_invariant",
    "resolve_reference",
    "type_matcher",
    "xhtml_problems",
]

InvariantCheck = Callable[[Any, Any, Any], bool]
"""``check(focus, resource, root) -> bool``, see :meth:`CompiledExpression.checker`."""


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


_RETHROWN: Final = (
    EvalProblem,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


_CHECKERS_KEPT: Final = 64  # per expression: focus types x options in use


def _failure(expression: str, exc: BaseException) -> FhirPathEvaluationError:
    detail = str(exc) if isinstance(exc, EvalProblem) else type(exc).__name__
    return FhirPathEvaluationError(f"evaluation failed: {detail}", expression)


def _start(focus: Any, focus_type: str | None, resource: Any) -> ElementNode | None:
    if focus is None:
        return None if resource is None else resource_node(resource)
    if type(focus) is tuple:
        return focus
    if focus_type is not None:
        return (focus, focus_type, None)
    return resource_node(focus)


def _holds(items: Coll) -> bool:
    """The validator's reading of a result: it fails only when it is a single false."""
    return len(items) != 1 or unwrap(items[0]) != False  # noqa: E712 - [0] fails too


class CompiledExpression:
    """A FHIRPath expression compiled to closures; call it on a resource (JSON).

    ``optimise=False`` compiles without the fused forms (for tests that prove the
    optimised evaluation agrees with the plain one).
    """

    __slots__ = ("_c", "_checkers", "_optimise", "_spares", "expression")

    def __init__(self, expression: str, *, optimise: bool = True):
        self.expression = expression
        self._optimise = optimise
        self._c = Compiler(expression, optimise=optimise).compile_root(parse(expression))
        self._spares: list[Ctx] = []
        self._checkers: dict[
            tuple[str | None, int], tuple[EvaluationOptions | None, InvariantCheck]
        ] = {}

    def __repr__(self) -> str:
        return f"CompiledExpression({self.expression!r})"

    def _context(self, resource: Any, root: Any, context: Coll, opts: EvaluationOptions) -> Ctx:
        """A fresh evaluation context: a used one made fresh, else a new one."""
        if self._optimise and not self._c.deps.ctx:
            return UNUSED_CONTEXT
        try:
            ctx = self._spares.pop()
        except IndexError:
            ctx = Ctx(None, None, context, opts)
        ctx.reset_json(resource, root, context, opts)
        return ctx

    def _release(self, ctx: Ctx) -> None:
        if ctx is not UNUSED_CONTEXT:
            self._spares.append(ctx)

    def _run(
        self,
        form: Callable[[Ctx, Coll, Coll], Any],
        resource: Any,
        focus: Any,
        focus_type: str | None,
        root_resource: Any,
        options: EvaluationOptions | None,
    ) -> Any:
        start = _start(focus, focus_type, resource)
        focus_coll = [] if start is None else [start]
        ctx = self._context(resource, root_resource, focus_coll, options or DEFAULT_OPTIONS)
        try:
            result = form(ctx, focus_coll, focus_coll)
        except _RETHROWN as exc:
            raise _failure(self.expression, exc) from exc
        self._release(ctx)
        return result

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
        items: list[Any] = self._run(
            self._c.fn, resource, focus, focus_type, root_resource, options
        )
        return list(items)

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
        items: Coll = self._run(self._c.fn, resource, focus, focus_type, root_resource, options)
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
        c = self._c
        if c.boolean:
            got = self._run(c.test, resource, focus, focus_type, root_resource, options)
            return got is True
        items: Coll = self._run(c.fn, resource, focus, focus_type, root_resource, options)
        if not items:
            return False
        if len(items) == 1:
            v = items[0]
            if type(v) is tuple:
                v = v[0]
            if v is True or v is False:
                return bool(v)
        return True

    def checker(
        self, focus_type: str | None = None, options: EvaluationOptions | None = None
    ) -> InvariantCheck:
        """``check(focus, resource, root) -> bool`` for a constraint on ``focus_type``.

        ``check`` answers ``False`` exactly when ``self(resource, focus,
        focus_type=focus_type, root_resource=root, options=options)`` would be
        ``[False]`` (the FHIR validator's reading: an empty result is not a violation),
        and raises :class:`FhirPathEvaluationError` where that would. It is the cheap
        way to run an invariant once per element: a Boolean expression is evaluated
        through its test form, and one that never reads the environment without making
        an evaluation context. Made once per focus type and options, and kept.
        """
        key = (focus_type, id(options))
        kept = self._checkers.get(key)
        if kept is not None and kept[0] is options:
            return kept[1]
        if len(self._checkers) >= _CHECKERS_KEPT:
            self._checkers.clear()
        check = self._make_checker(focus_type, options)
        self._checkers[key] = (options, check)  # the options kept: their id stays theirs
        return check

    def _make_checker(
        self, focus_type: str | None, options: EvaluationOptions | None
    ) -> InvariantCheck:
        expression = self.expression

        def general(focus: Any, resource: Any, root: Any) -> bool:
            return _holds(self._run(self._c.fn, resource, focus, focus_type, root, options))

        if not self._optimise or focus_type is None:
            return general
        # compiled again knowing the focus type: plans ready, object forms
        c = Compiler(expression, focus_type=focus_type).compile_root(parse(expression))
        if not c.boolean:
            return general
        test: Test = c.test
        if not c.deps.ctx:
            obj_test = c.obj_test

            def check(focus: Any, resource: Any, root: Any) -> bool:
                try:
                    if type(focus) is dict and obj_test is not None:
                        return obj_test(focus) is not False
                    if focus is None or type(focus) is tuple:
                        return general(focus, resource, root)
                    coll = [(focus, focus_type, None)]
                    return test(UNUSED_CONTEXT, coll, coll) is not False
                except _RETHROWN as exc:
                    raise _failure(expression, exc) from exc

            return check

        opts = options or DEFAULT_OPTIONS
        spares: list[Ctx] = []

        def check_in_context(focus: Any, resource: Any, root: Any) -> bool:
            if focus is None or type(focus) is tuple:
                return general(focus, resource, root)
            coll = [(focus, focus_type, None)]
            try:
                ctx = spares.pop()
            except IndexError:
                ctx = Ctx(None, None, coll, opts)
            ctx.reset_json(resource, root, coll, opts)
            try:
                ok = test(ctx, coll, coll) is not False
            except _RETHROWN as exc:
                raise _failure(expression, exc) from exc
            spares.append(ctx)
            return ok

        return check_in_context


@lru_cache(maxsize=4096)
def compile_expression(expression: str) -> CompiledExpression:
    """Compile (and cache by text) a FHIRPath expression; raises :class:`FhirPathError`."""
    return CompiledExpression(expression)


def compile_invariant(key: str, expression: str) -> CompiledExpression:
    """Compile a StructureDefinition constraint, correcting known-broken R4 expressions
    (see :func:`fix_invariant`) as the HL7 Java validator does."""
    return compile_expression(fix_invariant(key, expression))
