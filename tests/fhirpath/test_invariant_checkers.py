"""Invariant checkers (``CompiledExpression.checker``) on FHIR's natively answered rules:
the same answer as the expression's plain evaluation, the expected one, and the native
function's where that still exists (so the natives can be retired for the checkers)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.fhir.fhirpath import (
    CompiledExpression,
    EvaluationOptions,
    compile_expression,
    fix_invariant,
)
from tests.fhirpath.invariant_samples import SAMPLES, expressions, natives

EXPRESSIONS = expressions()
NATIVES = natives()
CASES = [
    (key, base, label, focus, resource, expected)
    for key, (base, cases) in SAMPLES.items()
    for label, focus, resource, expected in cases
]


@pytest.mark.parametrize(("key", "base", "label", "focus", "resource", "expected"), CASES)
def test_checker_answers_as_the_native_rule(
    key: str, base: str, label: str, focus: Any, resource: Any, expected: bool
) -> None:
    expression = fix_invariant(key, EXPRESSIONS[key])
    res = focus if resource is None else resource
    plain = CompiledExpression(expression, optimise=False)
    assert (plain(res, focus, focus_type=base, root_resource=res) != [False]) is expected
    assert compile_expression(expression).checker(base)(focus, res, res) is expected
    native = NATIVES.get(key)
    if native is not None:
        assert native(focus, res, res) in (expected, None)  # None: left to FHIRPath


def test_checkers_are_kept_per_focus_type_and_options() -> None:
    compiled = compile_expression("code.exists() and %limit > 1")
    options = EvaluationOptions(variables={"limit": 2})  # holds a dict: not hashable
    check = compiled.checker("Coding", options)
    assert compiled.checker("Coding", options) is check
    assert compiled.checker("Coding") is not check
    assert check({"code": "x"}, None, None) is True
    assert (
        compiled.checker("Coding", EvaluationOptions(variables={"limit": 0}))(
            {"code": "x"}, None, None
        )
        is False
    )
