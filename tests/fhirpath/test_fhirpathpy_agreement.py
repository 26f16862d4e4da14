"""Agreement with fhirpathpy (R4 model) on core invariants x official example resources.

Every disagreement must fall in one of the explained categories below, where the answer
of this evaluator is asserted instead.
"""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from conformance.fhir.fhirpath import compile_expression
from conformance.fhir.fhirpath._model import model
from conformance.fhir.fhirpath._runtime import unwrap

fhirpathpy = pytest.importorskip("fhirpathpy")
from fhirpathpy.models import models  # noqa: E402

# Invariants whose functions fhirpathpy does not implement (hasValue, htmlChecks,
# resolve): compared only for being a Boolean.
UNSUPPORTED_BY_FHIRPATHPY = {"per-1", "age-1", "bdl-10", "txt-1", "ctm-1", "ele-1"}

# Explained disagreements: key -> why; our answer is asserted to be [True] (the official
# examples are valid and the HL7 Java validator accepts them).
EXPLAINED = {
    # fhirpathpy raises "Expected singleton on left side of 'as'" for
    # descendants().as(canonical); the Java engine (and we) filter like ofType().
    "dom-3": "as() over several items",
    # fhirpathpy cannot order two Quantity values (TypeError on dicts).
    "rng-2": "Quantity comparison",
    # FHIR boolean answerBoolean `is Boolean` (System.Boolean): fhirpathpy says false.
    "que-7": "FHIR primitive vs System type",
}


PER_KEY_CAP = 25


def _norm(values: list[Any]) -> list[Any]:
    out = []
    for v in values:
        if isinstance(v, Decimal):
            v = float(v)
        out.append(v)
    return out


def _rules(invariants: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[str, str]]]:
    by_path: dict[str, list[tuple[str, str]]] = {}
    for inv in invariants["core"]:
        key = inv["keys"][0]
        for path in inv["paths"]:
            by_path.setdefault(path, []).append((key, inv["expression"]))
    return by_path


def _compare(
    examples: dict[str, dict[str, Any]],
    walker: Any,
    resource_pairs: Any,
    by_path: dict[str, list[tuple[str, str]]],
    everywhere: list[tuple[str, str]],
) -> tuple[Counter[str], set[str], list[tuple[str, str, str, Any, Any]]]:
    r4 = models["r4"]
    tm = model()
    stats: Counter[str] = Counter()
    per_key: Counter[str] = Counter()
    compared_keys: set[str] = set()
    unexplained: list[tuple[str, str, str, Any, Any]] = []
    quiet = {"traceFn": lambda label, values: None}
    for name, top in examples.items():
        for res, root in resource_pairs(top):
            for node, epath in walker(res):
                t = node[1]
                rules = list(by_path.get(t, [])) if t else []
                if epath != t:
                    rules += by_path.get(epath, [])
                if node[0] is res:
                    rules += [r for r in everywhere if r[0].startswith("dom-")]
                for key, expr in rules:
                    if key == "ele-1" or (key == "dom-6" and res is not root):
                        continue
                    ours = compile_expression(expr).evaluate_nodes(res, node, root_resource=root)
                    mine = _norm([unwrap(x) for x in ours])
                    if key in UNSUPPORTED_BY_FHIRPATHPY:
                        assert mine in ([True], [False]), (name, key, mine)
                        stats["boolean-only"] += 1
                        continue
                    if per_key[key] >= PER_KEY_CAP and key not in EXPLAINED:
                        continue  # bound the run time; breadth matters more than depth
                    per_key[key] += 1
                    base = t if t in tm.kinds else epath.replace("[x]", "")
                    env = {"resource": res, "rootResource": root}
                    try:
                        theirs: Any = fhirpathpy.evaluate(
                            unwrap(node), {"base": base, "expression": expr}, env, r4, quiet
                        )
                        theirs = _norm(theirs)
                    except Exception as exc:  # fhirpathpy raises plain exceptions
                        theirs = f"error: {type(exc).__name__}"
                    stats["compared"] += 1
                    compared_keys.add(key)
                    if mine == theirs:
                        stats["agree"] += 1
                    elif key in EXPLAINED:
                        stats["explained"] += 1
                        assert mine == [True], (name, key, epath, mine)
                    else:
                        unexplained.append((name, key, epath, mine, theirs))
    return stats, compared_keys, unexplained


def test_agreement_with_fhirpathpy(
    invariants: dict[str, list[dict[str, Any]]],
    examples: dict[str, dict[str, Any]],
    walker: Any,
    resource_pairs: Any,
) -> None:
    by_path = _rules(invariants)
    everywhere = by_path.pop("*")
    with contextlib.redirect_stdout(io.StringIO()):  # fhirpathpy prints from trace()
        stats, compared_keys, unexplained = _compare(
            examples, walker, resource_pairs, by_path, everywhere
        )
    assert not unexplained, unexplained[:10]
    # the comparison must actually have covered a broad set of invariants
    assert stats["compared"] > 600, stats
    assert stats["agree"] > 600, stats
    assert len(compared_keys) >= 60, sorted(compared_keys)
    assert stats["explained"] >= 3, stats
    assert {"dom-3", "rng-2", "que-7"} <= compared_keys
