"""The compiled data item paths (``compile_leaves``) reach the same values as ``leaves``."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from conformance.checks.completeness import compile_leaves, compile_path, leaves
from conformance.samples import iter_resources

PATHS = [
    "gender",
    "name",
    "name.family",
    "address.postalCode",
    "telecom.value",
    "class.code",
    "period.start",
    "serviceProvider",
    "location.location",
    "code.coding.code",
    "clinicalStatus.coding.code",
    "effective[x]",
    "medication[x]",
    "item",
    "identifier",
    "generalPractitioner.identifier(https://fhir.nhs.uk/Id/ods-organization-code).value",
    "telecom(system=phone).value",
    "extension(http://x.org/e).valueCode",
    "meta.profile",
    "category.coding.system",
    "a.b.c.d",
]


def _corpus() -> list[Any]:
    rng = random.Random(3)
    out: list[Any] = list(iter_resources(patients=3, seed=6))
    odd: list[Any] = [
        None,
        "x",
        1,
        [],
        {},
        {"name": None},
        {"name": []},
        {"name": ["x", {"family": ""}, None, {"family": ["a", None]}]},
        {"code": {"coding": {"code": "x"}}},
        {"period": [{"start": "1"}, 2]},
    ]
    for res in out[:40]:
        broken = copy.deepcopy(res)
        key = rng.choice(sorted(broken))
        broken[key] = rng.choice([None, [], {}, "", [None], [{}], 0, {"coding": "x"}])
        odd.append(broken)
    return out + odd


@pytest.mark.parametrize("path", PATHS)
def test_compiled_leaves_match(path: str) -> None:
    steps = compile_path(path)
    compiled = compile_leaves(steps)
    reached = 0
    for resource in _corpus():
        got = compiled(resource)
        assert got == leaves(resource, steps), (path, resource)
        reached += bool(got)
    assert reached or path in (
        "a.b.c.d",
        "extension(http://x.org/e).valueCode",
        "telecom(system=phone).value",
        "medication[x]",
        "item",
        "generalPractitioner.identifier(https://fhir.nhs.uk/Id/ods-organization-code).value",
    )
