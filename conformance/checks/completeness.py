"""Completeness requirements (MDSS-COMP-*): DQMI dataset score, must-support elements.

Data item paths
---------------
``standard.yaml`` names each data item (and each must-support element) by a small path
relative to its resource, steps separated by dots:

- ``name``: a child element; arrays are searched element by element
  (``address.postalCode`` is any address's postcode);
- ``name[x]``: a choice element, whichever type it has (``effective[x]``, ``onset[x]``);
- ``name(value)``: only the array elements whose discriminator equals ``value``; the
  discriminator is ``url`` for ``extension`` and ``modifierExtension`` and ``system``
  otherwise (``identifier(https://fhir.nhs.uk/Id/nhs-number).value``);
- ``name(key=value)``: the same with an explicit discriminator (``telecom(system=phone)``).

An item is *complete* when the path reaches at least one non-empty value (a non-blank
string, a number, a boolean, a non-empty object or array). It is a *default* when every
value reached is one of the item's ``defaults`` (e.g. ethnic category Z or 99).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.checks.base import (
    Check,
    CheckParamError,
    CompileEnv,
    Emit,
    FinishContext,
    Measure,
    RunContext,
    Tally,
    param,
)
from conformance.findings import Problem, Severity
from conformance.readers.base import Record
from conformance.standards.model import DataItem, Requirement

# (name, choice?, discriminator key, discriminator value)
Step = tuple[str, bool, str | None, str | None]

_URL_DISCRIMINATED: Final = frozenset({"extension", "modifierExtension"})


def compile_path(path: str) -> tuple[Step, ...]:
    """Parse a data item path (see the module docstring); ValueError when malformed."""
    steps: list[Step] = []
    depth = 0
    start = 0
    pieces: list[str] = []
    for index, char in enumerate(path):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in '{path}'")
        elif char == "." and depth == 0:
            pieces.append(path[start:index])
            start = index + 1
    if depth != 0:
        raise ValueError(f"unbalanced '(' in '{path}'")
    pieces.append(path[start:])
    for piece in pieces:
        selector: str | None = None
        name = piece
        if piece.endswith(")") and "(" in piece:
            name, _, selector = piece[:-1].partition("(")
        choice = name.endswith("[x]")
        if choice:
            name = name[:-3]
        if not name or not name.replace("_", "a").isalnum():
            raise ValueError(f"bad step '{piece}' in '{path}'")
        key: str | None = None
        if selector is not None:
            if not selector:
                raise ValueError(f"empty selector in '{path}'")
            key = "url" if name in _URL_DISCRIMINATED else "system"
            head, eq, tail = selector.partition("=")
            if eq and head.isidentifier():
                key, selector = head, tail
        steps.append((name, choice, key, selector))
    return tuple(steps)


#: every value a data item path reaches in a resource (arrays flattened), in order
Leaves = Callable[[Any], list[Any]]
_Step = Callable[[list[Any]], list[Any]]


def _step(name: str, choice: bool, key: str | None, wanted: str | None) -> _Step:
    """One path step: the values it reaches from each of the current nodes."""
    if not choice and key is None:

        def child(current: list[Any]) -> list[Any]:
            following: list[Any] = []
            for node in current:
                if type(node) is dict:
                    value = node.get(name)
                    if type(value) is list:
                        following.extend(value)
                    elif value is not None:
                        following.append(value)
            return following

        return child
    size = len(name)

    def selected(current: list[Any]) -> list[Any]:
        following: list[Any] = []
        for node in current:
            if type(node) is not dict:
                continue
            if choice:
                values = [v for k, v in node.items() if _is_choice_key(k, name, size)]
            else:
                value = node.get(name)
                values = [] if value is None else [value]
            for value in values:
                if type(value) is list:
                    if key is None:
                        following.extend(value)
                    else:
                        following.extend(
                            i for i in value if type(i) is dict and i.get(key) == wanted
                        )
                elif key is None or (type(value) is dict and value.get(key) == wanted):
                    following.append(value)
        return following

    return selected


def _is_choice_key(key: str, name: str, size: int) -> bool:
    return key.startswith(name) and key[size : size + 1].isupper()


def compile_leaves(steps: tuple[Step, ...]) -> Leaves:
    """The values a parsed path (see :func:`compile_path`) reaches, as one function."""
    fns = tuple(_step(*step) for step in steps)
    if len(fns) == 1:
        only = fns[0]
        return lambda resource: only([resource])

    def leaves(resource: Any) -> list[Any]:
        current: list[Any] = [resource]
        for fn in fns:
            current = fn(current)
            if not current:
                break
        return current

    return leaves


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if type(value) is str:
        return bool(value.strip())
    if type(value) in (list, dict):
        return bool(value)
    return True


def item_status(resource: dict[str, Any], values: Leaves, defaults: frozenset[str]) -> int:
    """0 missing, 1 complete, 2 complete but only defaults (``values``: the compiled path)."""
    found = False
    for value in values(resource):
        if not _filled(value):
            continue
        if not defaults or type(value) is not str or value not in defaults:
            return 1
        found = True
    return 2 if found else 0


# --------------------------------------------------------------------------- COMP-01


@dataclass(frozen=True, slots=True)
class _Item:
    id: str
    resource: str
    steps: tuple[Step, ...]
    defaults: frozenset[str]
    default_threshold: float
    expression: str
    values: Leaves = field(compare=False)
    """:func:`compile_leaves` of ``steps``."""


@dataclass(slots=True)
class _Scores:
    records: dict[str, int] = field(default_factory=dict)
    valid: list[int] = field(default_factory=list)
    defaults: list[int] = field(default_factory=list)


class DatasetCompleteness(Check[_Scores]):
    """MDSS-COMP-01: the DQMI dataset score over the standard's data items.

    Item score = (valid-and-complete - defaults in excess) / records x 100, where defaults
    in excess = max(0, defaults - default_threshold x records); the dataset score is the
    mean of the item scores of the items whose resource type is in the feed. Reported as
    basis points (rate = score / 100). Each record missing an item gets a warning at the
    item's path, so analysts can find them.
    """

    def __init__(self, requirement: Requirement, items: tuple[_Item, ...]) -> None:
        super().__init__(requirement)
        self.items = items
        by_type: dict[str, list[tuple[int, _Item]]] = {}
        for index, item in enumerate(items):
            by_type.setdefault(item.resource, []).append((index, item))
        self.by_type = {k: tuple(v) for k, v in by_type.items()}
        if self.applies_to is None:
            self.applies_to = frozenset(self.by_type)

    def start(self, context: RunContext) -> _Scores:
        count = len(self.items)
        return _Scores(valid=[0] * count, defaults=[0] * count)

    def visit(self, state: _Scores, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        rtype = record.resource_type or ""
        plan = self.by_type.get(rtype)
        if plan is None:
            return
        records: dict[str, int] = state.records
        records[rtype] = records.get(rtype, 0) + 1
        valid: list[int] = state.valid
        for index, item in plan:
            status = item_status(resource, item.values, item.defaults)
            if status:
                valid[index] += 1
                if status == 2:
                    state.defaults[index] += 1
                continue
            emit(
                Problem(
                    "data-item-missing",
                    f"the data item {item.id} ({item.expression}) is missing or empty",
                    item.expression,
                    severity=Severity.WARNING,
                ),
                record.location.at(item.expression),
                rtype,
                record.resource_id,
            )

    def merge(self, state: _Scores, other: _Scores) -> _Scores:
        for rtype, count in other.records.items():
            state.records[rtype] = state.records.get(rtype, 0) + count
        state.valid = [a + b for a, b in zip(state.valid, other.valid, strict=True)]
        state.defaults = [a + b for a, b in zip(state.defaults, other.defaults, strict=True)]
        return state

    def scores(self, state: _Scores) -> list[tuple[str, float]]:
        """(item id, item score 0-100) for every item whose resource type was seen."""
        out: list[tuple[str, float]] = []
        for index, item in enumerate(self.items):
            records = state.records.get(item.resource, 0)
            if not records:
                continue
            excess = max(0.0, state.defaults[index] - item.default_threshold * records)
            out.append((item.id, max(0.0, (state.valid[index] - excess) / records * 100)))
        return out

    def finish(self, state: _Scores, context: FinishContext, emit: Emit) -> Measure:
        scores = self.scores(state)
        if not scores:
            return Measure(status="not-applicable", note="no records of the data items' types")
        score = sum(s for _, s in scores) / len(scores)
        lowest = sorted(scores, key=lambda s: (s[1], s[0]))[:3]
        low = ", ".join(f"{i} {s:.1f}" for i, s in lowest if s < 100)
        note = f"dataset score {score:.1f} over {len(scores)} data items"
        if low:
            note += f"; lowest: {low}"
        return Measure(round(score * 100), 10000, note=note)


# --------------------------------------------------------------------------- COMP-02


class MustSupport(Check[Tally]):
    """MDSS-COMP-02: must-support elements of the MDSS profiles are populated.

    Measured per slot: populated (resource, element) pairs of all such pairs.
    """

    def __init__(
        self, requirement: Requirement, elements: Mapping[str, tuple[tuple[str, Any], ...]]
    ) -> None:
        super().__init__(requirement)
        self.elements = dict(elements)
        if self.applies_to is None:
            self.applies_to = frozenset(self.elements)
        # per type: (expression, the element name when the path is one plain step, else
        # the compiled path)
        self._plans: dict[str, tuple[tuple[str, str | None, Leaves], ...]] = {
            rtype: tuple(
                (expression, _plain_name(steps), compile_leaves(steps))
                for expression, steps in plan
            )
            for rtype, plan in self.elements.items()
        }

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        rtype = record.resource_type or ""
        plan = self._plans.get(rtype)
        if plan is None:
            return
        state.checked += len(plan)
        for expression, name, values in plan:
            if name is not None:
                filled = _filled(resource.get(name))  # a plain element: one lookup
            else:
                filled = False
                for value in values(resource):
                    if _filled(value):
                        filled = True
                        break
            if filled:
                state.passed += 1
                continue
            emit(
                Problem("must-support-missing", f"{expression} is not populated", expression),
                record.location.at(expression),
                rtype,
                record.resource_id,
            )

    def start(self, context: RunContext) -> Tally:
        return Tally()


# ------------------------------------------------------------------------- factories


def _plain_name(steps: tuple[Step, ...]) -> str | None:
    """The element name of a one-step plain path (checked with one look-up), else None."""
    if len(steps) == 1 and not steps[0][1] and steps[0][2] is None:
        return steps[0][0]
    return None


def _compile_item(item: DataItem) -> _Item:
    try:
        steps = compile_path(item.path)
    except ValueError as exc:
        raise CheckParamError(f"data item {item.id}: {exc}") from None
    return _Item(
        item.id,
        item.resource,
        steps,
        frozenset(item.defaults),
        float(item.default_threshold),
        f"{item.resource}.{item.path}",
        compile_leaves(steps),
    )


def dataset_completeness(
    req: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    wanted = param(params, "items", list, None)
    items = env.standard.data_items
    if wanted is not None:
        known = {i.id for i in items}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise CheckParamError(f"unknown data item(s): {', '.join(map(str, unknown))}")
        items = tuple(i for i in items if i.id in set(wanted))
    if not items:
        raise CheckParamError("the standard lists no data_items to score")
    return DatasetCompleteness(req, tuple(_compile_item(i) for i in items))


def must_support(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    raw = param(params, "elements", dict)
    elements: dict[str, tuple[tuple[str, Any], ...]] = {}
    for rtype, paths in raw.items():
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise CheckParamError(f"elements.{rtype} must be a list of element paths")
        try:
            elements[str(rtype)] = tuple((f"{rtype}.{p}", compile_path(p)) for p in paths)
        except ValueError as exc:
            raise CheckParamError(f"elements.{rtype}: {exc}") from None
    return MustSupport(req, elements)


CHECK_TYPES: dict[str, Any] = {
    "dataset-completeness": dataset_completeness,
    "must-support": must_support,
}
