"""Every R4 core and UK Core invariant compiles; core invariants hold on official examples."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from conformance.fhir.fhirpath import (
    FhirPathEvaluationError,
    compile_expression,
    compile_invariant,
    fix_invariant,
)

# Rules in the fixture that come from constraint profiles on a base path (MoneyQuantity,
# SimpleQuantity, vital signs) or are best-practice warnings the examples do not follow.
NOT_BASE_RULES = {"mqty-1", "sqty-1", "vs-1", "vs-2", "vs-3", "dom-6"}


def test_fixture_is_complete(invariants: dict[str, list[dict[str, Any]]]) -> None:
    keys = {k for inv in invariants["core"] for k in inv["keys"]}
    assert len(invariants["core"]) >= 200
    assert {"ele-1", "dom-3", "obs-6", "obs-7", "pat-1", "ref-1", "txt-1"} <= keys
    assert len(invariants["ukcore"]) >= 8


def test_every_invariant_compiles(invariants: dict[str, list[dict[str, Any]]]) -> None:
    compiled = 0
    for inv in invariants["core"] + invariants["ukcore"]:
        expr = inv["expression"]
        assert compile_expression(expr).expression == expr
        for key in inv["keys"]:
            compile_invariant(key, expr)
            compiled += 1
    assert compiled >= 230


@pytest.mark.parametrize(
    ("key", "published"),
    [
        ("ref-1", "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
         "%rootResource.contained.id.trace('ids'))"),
        ("bdl-8", "fullUrl.contains('/_history/').not()"),
        ("que-12", "enableWhen.count() > 2 implies enableBehavior.exists()"),
        ("txt-2", "htmlChecks()"),
    ],
)  # fmt: skip
def test_fixes_change_the_published_text(key: str, published: str) -> None:
    assert fix_invariant(key, published) != published


def test_core_invariants_hold_on_official_examples(
    invariants: dict[str, list[dict[str, Any]]],
    examples: dict[str, dict[str, Any]],
    walker: Any,
    resource_pairs: Any,
) -> None:
    by_path: dict[str, list[tuple[str, str]]] = {}
    for inv in invariants["core"]:
        for path in inv["paths"]:
            for key in inv["keys"]:
                by_path.setdefault(path, []).append((key, inv["expression"]))
    everywhere = by_path.pop("*")
    stats: Counter[str] = Counter()
    failures = []
    for name, top in examples.items():
        for res, root in resource_pairs(top):
            for node, epath in walker(res):
                t = node[1]
                rules = list(by_path.get(t, [])) if t else []
                if epath != t:
                    rules += by_path.get(epath, [])
                if node[0] is res:
                    rules += [r for r in everywhere if r[0].startswith("dom-")]
                elif t == "Extension":
                    rules += [r for r in everywhere if r[0] == "ext-1"]
                rules += [r for r in everywhere if r[0] == "ele-1" and node[0] is not res]
                for key, expr in rules:
                    if key in NOT_BASE_RULES or key.startswith("inv-"):
                        continue
                    try:
                        ok = compile_invariant(key, expr).is_true(res, node, root_resource=root)
                    except FhirPathEvaluationError as exc:
                        failures.append((name, key, epath, str(exc)))
                        continue
                    stats[key] += 1
                    if not ok:
                        failures.append((name, key, epath, "false"))
    assert not failures, failures[:10]
    assert sum(stats.values()) > 5000
    assert stats["ele-1"] > 3000 and stats["ref-1"] > 50 and stats["dom-3"] > 40
