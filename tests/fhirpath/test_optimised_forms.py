"""The optimised evaluation agrees with the plain one, on generated (often malformed) data.

The compiler gives every node cheaper forms than its collection (a Boolean test, fused
existence and count, flattened ``and``/``or``, object forms when the focus type is known,
see ``conformance.fhir.fhirpath._compiled``). ``CompiledExpression(text, optimise=False)``
compiles with none of them. Here both are run, through the public API and form by form
for every sub-expression, over resources that hypothesis generates from each type's
element names, and must give the same results and the same errors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.fhir.fhirpath import (
    CompiledExpression,
    FhirPathEvaluationError,
    compile_expression,
    fix_invariant,
)
from conformance.fhir.fhirpath import _parser as ast
from conformance.fhir.fhirpath._compiled import C
from conformance.fhir.fhirpath._compiler import Compiler
from conformance.fhir.fhirpath._model import model
from conformance.fhir.fhirpath._runtime import (
    COST_BUDGET,
    DEFAULT_OPTIONS,
    UNUSED_CONTEXT,
    Ctx,
    to_bool3,
    unwrap,
)

HERE = Path(__file__).parent
FORMS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Shapes the optimisations rewrite, beyond the core invariants of each type.
SHAPES = [
    "code.exists()",
    "code.empty()",
    "code.count()",
    "system.exists() and code.exists() and value.empty()",
    "code.empty() or system.exists() or unit.exists()",
    "(code.empty() or system.exists()) and (value.exists() or id.empty())",
    "code = 'kg'",
    "code != 'kg'",
    "system = %ucum",
    "code.exists() = system.exists()",
    "code.exists() != value.exists()",
    "code.exists() xor value.exists()",
    "code.exists() implies system.exists()",
    "code.hasValue()",
    "value.hasValue().not()",
    "value.exists()",
    "value.empty() or value is Quantity",
    "extension.exists() != value.exists()",
    "extension.url.exists()",
    "extension.where(url = 'http://x').exists()",
    "extension.where(url.exists()).count()",
    "extension.where(url = 'http://x').empty()",
    "coding.where(system = 'http://x' and code = 'a').exists()",
    "coding.code.count() > coding.system.count()",
    "coding.first().code = 'a'",
    "hasValue() or (children().count() > id.count())",
    "children().count()",
    "id.count()",
    "true or code.exists()",
    "false or code.exists()",
    "true and code.exists()",
    "false and code.exists()",
    "{} or code.exists()",
    "code and true",
    "code.exists().not() or system.exists().not()",
    "$this.code.exists()",
    "%resource.id.exists() or code.exists()",
]
TYPES = [
    "Quantity",
    "Coding",
    "CodeableConcept",
    "ContactPoint",
    "Attachment",
    "Period",
    "Range",
    "Reference",
    "Extension",
    "Patient.contact",
    "Observation.component",
    "Observation.referenceRange",
    "Questionnaire.item.enableWhen",
    "Bundle.entry",
    "Observation",
    "Condition",
    "Bundle",
]
RESOURCE_TYPES = {"Observation", "Condition", "Bundle", "Patient"}
VOCABULARY = ["system", "code", "value", "url", "id", "reference", "coding", "extension",
              "div", "contained", "meta", "versionId", "type", "resource", "fullUrl"]  # fmt: skip


def _invariants() -> dict[str, list[str]]:
    data = json.loads((HERE / "invariants.json").read_text())
    by_type: dict[str, list[str]] = {}
    for inv in data["core"]:
        for path in inv["paths"]:
            for key in inv["keys"]:
                by_type.setdefault(path, []).append(fix_invariant(key, inv["expression"]))
    return by_type


INVARIANTS = _invariants()

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=3)
    | st.sampled_from(["", "kg", "a", "#gp", "http://x", "2024-01-02", "2024-01-02T10:00:00Z"])
    | st.sampled_from([1.5, 0.0])
)


def _json(keys: list[str]) -> st.SearchStrategy[Any]:
    leaf_keys = st.sampled_from(keys + VOCABULARY)
    return st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(leaf_keys, inner, max_size=4),
        max_leaves=8,
    )


def objects(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects of ``type_name``: its element names (and ``_name`` siblings) with
    any JSON values, well-formed or not."""
    names = sorted(model().elements.get(type_name, {}))
    keys = names + ["_" + n for n in names[:8]]
    strategy = st.dictionaries(st.sampled_from(keys + VOCABULARY), _json(names), max_size=6)
    if type_name in RESOURCE_TYPES:
        return strategy.map(lambda d: {**d, "resourceType": type_name})
    return strategy


def outcome(run: Any) -> Any:
    """What a call gives: its value (type-tagged, so 1 and True differ) or its error."""
    try:
        value = run()
    except FhirPathEvaluationError as exc:
        return ("error", exc.detail)
    except Exception as exc:  # compared, not hidden
        return ("raised", type(exc).__name__)
    if isinstance(value, list):
        return ("ok", [(type(v).__name__, repr(unwrap(v))) for v in value])
    return ("ok", (type(value).__name__, repr(value)))


def _expressions(type_name: str) -> list[str]:
    return sorted(set(INVARIANTS.get(type_name, []) + SHAPES))


def _compiles(expression: str) -> bool:
    try:
        compile_expression(expression)
    except Exception:  # the corpus mixes types
        return False
    return True


@pytest.mark.parametrize("type_name", TYPES)
def test_public_api_agrees_with_plain_compilation(type_name: str) -> None:
    exprs = [e for e in _expressions(type_name) if _compiles(e)]
    plain = {e: CompiledExpression(e, optimise=False) for e in exprs}

    @FORMS
    @given(objects(type_name))
    def check(v: dict[str, Any]) -> None:
        res = v if type_name in RESOURCE_TYPES else {"resourceType": "Basic", "id": "b"}
        for e in exprs:
            _public_forms_agree(compile_expression(e), plain[e], v, type_name, res)

    check()


def _public_forms_agree(
    opt: CompiledExpression, ref: CompiledExpression, v: Any, type_name: str, res: Any
) -> None:
    want = outcome(lambda: ref(res, v, focus_type=type_name, root_resource=res))
    assert outcome(lambda: opt(res, v, focus_type=type_name, root_resource=res)) == want
    assert outcome(lambda: opt.is_true(res, v, focus_type=type_name, root_resource=res)) == (
        outcome(lambda: ref.is_true(res, v, focus_type=type_name, root_resource=res))
    )
    holds = want if want[0] != "ok" else ("ok", ("bool", repr(_holds(want[1]))))
    assert outcome(lambda: opt.checker(type_name)(v, res, res)) == holds, opt.expression


def _holds(tagged: list[tuple[str, str]]) -> bool:
    """The checker's reading of a result: false only for a single false (or zero)."""
    return not (len(tagged) == 1 and tagged[0][1] in ("False", "0", "0.0", "Decimal('0')"))


def _subexpressions(node: ast.Node) -> list[ast.Node]:
    found = [node]
    for f in dataclasses.fields(node):  # not vars(): compiled (mypyc) nodes have no __dict__
        value = getattr(node, f.name)
        if isinstance(value, ast.Node):
            found.extend(_subexpressions(value))
        elif isinstance(value, tuple):
            for v in value:
                if isinstance(v, ast.Node):
                    found.extend(_subexpressions(v))
    return found


def _forms_agree(c: C, v: dict[str, Any], type_name: str, res: Any) -> None:
    def ctx() -> Ctx:
        node = (res, res.get("resourceType"), None)
        return Ctx(node, node, [], DEFAULT_OPTIONS)

    def focus() -> list[Any]:
        return [(v, type_name, None)]

    def run(form: Any) -> Any:
        f = focus()
        return outcome(lambda: form(ctx(), f, f))

    items = run(c.fn)
    assert run(c.test) == outcome(lambda: to_bool3(c.fn(ctx(), focus(), focus())))
    if items[0] == "ok":
        assert run(c.exists) == ("ok", ("bool", repr(bool(items[1]))))
        assert run(c.empty) == ("ok", ("bool", repr(not items[1])))
        assert run(c.count) == ("ok", ("int", repr(len(items[1]))))
        if c.boolean:
            assert items[1] in ([], [("bool", "True")], [("bool", "False")])
    if c.obj is not None:
        assert outcome(lambda: c.obj(v)) == items  # type: ignore[misc]
    if c.obj_test is not None:
        assert outcome(lambda: c.obj_test(v)) == run(c.test)  # type: ignore[misc]
    if c.obj_exists is not None and items[0] == "ok":
        assert outcome(lambda: c.obj_exists(v)) == ("ok", ("bool", repr(bool(items[1]))))  # type: ignore[misc]
    if c.obj_empty is not None and items[0] == "ok":
        assert outcome(lambda: c.obj_empty(v)) == ("ok", ("bool", repr(not items[1])))  # type: ignore[misc]


@pytest.mark.parametrize("type_name", TYPES)
def test_every_form_of_every_subexpression_agrees(type_name: str) -> None:
    compiled: list[C] = []
    for e in _expressions(type_name):
        if not _compiles(e):
            continue
        for sub in _subexpressions(ast.parse(e)):
            try:
                compiled.append(Compiler(e, focus_type=type_name).compile_root(sub))
            except Exception:  # a type name alone
                continue

    @FORMS
    @given(objects(type_name))
    def check(v: dict[str, Any]) -> None:
        res = v if type_name in RESOURCE_TYPES else {"resourceType": "Basic", "id": "b"}
        for c in compiled:
            _forms_agree(c, v, type_name, res)

    check()


def test_flattened_junctions_keep_three_valued_logic() -> None:
    values = {"T": "true", "F": "false", "E": "{}"}
    for op in ("and", "or"):
        for a in values:
            for b in values:
                for c in values:
                    text = f"({values[a]}) {op} ({values[b]}) {op} ({values[c]})"
                    nested = f"(({values[a]}) {op} ({values[b]})) {op} ({values[c]})"
                    got = CompiledExpression(text)({"resourceType": "Basic"})
                    want = CompiledExpression(nested, optimise=False)({"resourceType": "Basic"})
                    assert got == want, text


def test_short_circuits_skip_the_right_operand() -> None:
    several = "(1 | 2) and true"  # an error if evaluated: several items as a Boolean
    basic = {"resourceType": "Basic"}
    assert compile_expression(f"true or ({several})")(basic) == [True]
    assert compile_expression(f"false and ({several})")(basic) == [False]
    assert compile_expression(f"false implies ({several})")(basic) == [True]
    with pytest.raises(FhirPathEvaluationError):
        compile_expression(f"false or ({several})")(basic)


def test_expressions_without_context_never_change_the_shared_one() -> None:
    for e in SHAPES + INVARIANTS["Quantity"]:
        for v in ({"code": "kg"}, {"code": ["a", None]}, {"value": 1, "_code": {"id": "x"}}):
            with contextlib.suppress(FhirPathEvaluationError):
                compile_expression(e).checker("Quantity")(v, v, v)
    shared = UNUSED_CONTEXT
    assert shared.memo == {} and shared.index == 0 and shared.total == []
    assert shared.budget == COST_BUDGET and shared.bundle_index is None


def test_checker_needs_a_focus_type_for_choice_values() -> None:
    """``$this as dateTime`` on an ``effective[x]`` value: typed by the JSON key's type."""
    vs1 = compile_expression("($this as dateTime).toString().length() >= 8")
    obs = {"resourceType": "Observation"}
    assert vs1.checker("dateTime")("2024", obs, obs) is False
    assert vs1.checker("dateTime")("2024-05-01", obs, obs) is True
    assert vs1.checker("Observation.effective[x]")("2024", obs, obs) is True  # empty


def test_fused_where_still_spends_the_cost_budget() -> None:
    codings = [{"system": "http://x", "code": str(i)} for i in range(1500)]
    obs = {"resourceType": "Observation", "code": {"coding": codings}}
    nested = "code.coding.where(code.select(%resource.code.coding).where(code = 'x').exists())"
    compiled = compile_expression(nested)
    with pytest.raises(FhirPathEvaluationError, match="cost budget"):
        compiled(obs)
    with pytest.raises(FhirPathEvaluationError, match="cost budget"):
        compiled.checker("Observation")(obs, obs, obs)
