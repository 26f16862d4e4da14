"""Slice verdicts (R4 §5.1.0.14, Profiling): items of a sliced element given to slices.

:func:`slicing_rule` gives each item to the first slice whose matcher
(:mod:`conformance.fhir.discriminators`; with no discriminator, the first whose rules
find no error in it) it meets, then checks what the slicing says:
closed slicing (no item outside the slices), openAtEnd (items outside the slices only
after the sliced ones), ordered slicing (items in the order of the slices), each slice's
cardinality, its items (with the item rules :mod:`conformance.fhir.profile_check`
compiles) and its re-slices (slice ``a/b`` of slice ``a``: the items of ``a`` sliced
again). A slice that cannot be evaluated gives a warning naming it, and the verdicts that
depend on which items it holds (closed, order, cardinality) are not given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.fhir.discriminators import Discriminators, Matcher, SliceMatchers
from conformance.fhir.issues import FhirIssue, Found, joined, moved
from conformance.fhir.profile_model import PElem, ProfileError

__all__ = [
    "EXTENSION_SLICING",
    "Item",
    "ItemRule",
    "SliceMatchers",
    "SlicingRule",
    "item_path",
    "slicing_rule",
]

#: extensions are sliced by url when the profile says nothing else
EXTENSION_SLICING: Discriminators = (("value", "url"),)

# ------------------------------------------------------------- slice verdicts

#: (value, the primitive's _name object, its type, %resource) -> issues, as profile checks
ItemRule = Callable[[Any, Any, "str | None", Any], "list[Found] | None"]
#: one occurrence of an element: (value, _name object, key, index or -1, type or None)
Item = tuple[Any, Any, str, int, "str | None"]
#: (the items' values, the items or None for a plain array, %resource) -> issues
SlicingRule = Callable[[list[Any], "list[Item] | None", Any], "list[Found] | None"]
_EXTENSIONS = ("extension", "modifierExtension")


def item_path(key: str, idx: int) -> str:
    """An item's path relative to the object holding it."""
    return f".{key}" if idx < 0 else f".{key}[{idx}]"


def slicing_rule(
    pe: PElem,
    name: str,
    source: str,
    matchers: SliceMatchers,
    rule_of: Callable[[PElem], ItemRule | None],
    inherited: Discriminators | None = None,
) -> SlicingRule | None:
    """Items given to the first slice they match; the slicing's rules, each slice's
    cardinality, its items' checks and its re-slices. ``inherited``: the discriminators
    of the slicing a re-sliced slice belongs to (when it names none of its own)."""
    disc: Discriminators
    rules, ordered = "open", False
    if pe.slicing is not None:
        disc, rules, ordered = pe.slicing
        if not disc and inherited:
            disc = inherited
    elif inherited is not None:
        disc = inherited
    elif name in _EXTENSIONS:
        disc = EXTENSION_SLICING
    else:
        disc = ()
    closed, at_end = rules == "closed", rules == "openAtEnd"
    if not pe.slices and not closed:
        return None
    at = "." + name
    slice_rules = tuple(rule_of(s) for s in pe.slices)
    if disc:
        slice_matchers = tuple(matchers.matcher(s, disc) for s in pe.slices)
    else:  # "the slices can only be differentiated by full validation of the content"
        slice_matchers = tuple(_conforming(rule) for rule in slice_rules)
    resliced = tuple(
        slicing_rule(s, name, source, matchers, rule_of, disc)
        if s.slices or s.slicing is not None
        else None
        for s in pe.slices
    )
    bounds = tuple((s.min, s.max) for s in pe.slices)
    counters = tuple(_slice_counter(s, at, source) for s in pe.slices)
    labels = tuple(s.slice_name or "" for s in pe.slices)
    unmatched = "Item matches none of the slices and the slicing is closed"
    checks_order = ordered or at_end

    def sliced(values: list[Any], items: list[Item] | None, res: Any) -> list[Found] | None:
        """``values``: the items' values; ``items``: the items, or None for the values
        of a plain array (``name[i]``, no _name objects, no choice types)."""
        out: list[Found] | None = None
        hits: list[tuple[int, int]] = []  # (slice, position) for each item that matched
        outside: list[int] = []  # positions of the items that matched no slice
        failed: dict[int, str] | None = None  # slices that could not be evaluated
        for p, value in enumerate(values):
            t = None if items is None else items[p][4]
            for i, match in enumerate(slice_matchers):
                try:
                    if match(value, t, res):
                        hits.append((i, p))
                        break
                except ProfileError as exc:
                    if failed is None:
                        failed = {}
                    failed.setdefault(i, str(exc))
            else:
                outside.append(p)
        if failed is not None:
            out = [_unevaluable(labels[i], why, at, source) for i, why in sorted(failed.items())]
        else:
            if closed:
                for p in outside:
                    where = _place(at, items, p)
                    out = joined(
                        out, [FhirIssue("error", "slice-unmatched", where, unmatched, source)]
                    )
            if checks_order:
                for p, message in _misplaced(hits, outside, ordered, at_end, labels):
                    where = _place(at, items, p)
                    out = joined(out, [FhirIssue("error", "slice-order", where, message, source)])
        for i, rule in enumerate(slice_rules):
            low, high = bounds[i]
            if failed is None and (low or high != -1):
                n = 0
                for j, _p in hits:
                    if j == i:
                        n += 1
                if (low and n < low) or (high != -1 and n > high):
                    out = joined(out, counters[i](n))
            sub = resliced[i]
            if rule is None and sub is None:
                continue
            mine = [p for j, p in hits if j == i]
            if rule is not None:
                for p in mine:
                    got: list[Found] | None
                    if items is None:
                        got = rule(values[p], None, None, res)
                        where = at + f"[{p}]"
                    else:
                        value, ext, key, idx, t = items[p]
                        got = rule(value, ext, t, res)
                        where = item_path(key, idx)
                    if got is not None:
                        out = joined(out, moved(where, got))
            if sub is not None:
                group: list[Item] = [
                    items[p] if items is not None else (values[p], None, name, p, None)
                    for p in mine
                ]
                resliced_found = sub([values[p] for p in mine], group, res)
                if resliced_found is not None:
                    out = joined(out, resliced_found)
        return out

    return sliced


def _conforming(rule: ItemRule | None) -> Matcher:
    """A slice told apart by validation: an item is in it when the slice's rules find no
    error in it (slicing with no discriminator, R4 §5.1.0.14)."""
    if rule is None:
        return lambda value, t, res: True

    def conforms(value: Any, t: str | None, res: Any) -> bool:
        found = rule(value, None, t, res)
        return found is None or not any(
            isinstance(i, FhirIssue) and i.severity == "error" for i in found
        )

    return conforms


def _unevaluable(label: str, why: str, at: str, source: str) -> FhirIssue:
    message = (
        f"Slice '{label}' cannot be evaluated: {why}; which items it holds, and so the "
        "slicing rules and slice cardinalities of this element, are not checked"
    )
    return FhirIssue("warning", "slice-unevaluable", at, message, source)


def _place(at: str, items: list[Item] | None, p: int) -> str:
    """The path of the item at position ``p`` (see ``sliced``)."""
    return at + f"[{p}]" if items is None else item_path(*items[p][2:4])


def _misplaced(
    hits: list[tuple[int, int]],
    outside: list[int],
    ordered: bool,
    at_end: bool,
    labels: tuple[str, ...],
) -> list[tuple[int, str]]:
    """(position, message) of the items out of place. Ordered slicing: items in the
    order of their slices; openAtEnd: the items outside the slices come after all the
    sliced ones."""
    out: list[tuple[int, str]] = []
    if ordered:
        highest = -1
        for i, p in hits:
            if i < highest:
                message = (
                    f"Item of slice '{labels[i]}' comes after an item of slice "
                    f"'{labels[highest]}', but the slicing is ordered"
                )
                out.append((p, message))
            highest = max(highest, i)
    if at_end and outside and hits:
        first_out = outside[0]
        for i, p in hits:
            if p > first_out:
                message = (
                    f"Item of slice '{labels[i]}' comes after an item that matches no slice, "
                    "but the slicing allows other items only at the end (openAtEnd)"
                )
                out.append((p, message))
    return out


def _slice_counter(s: PElem, at: str, source: str) -> Callable[[int], list[Found]]:
    """The issues of a slice matched by ``n`` items, outside its cardinality."""
    low, high, label = s.min, s.max, s.slice_name

    def counted(n: int) -> list[Found]:
        out: list[Found] = []
        if low and n < low:
            message = f"Slice '{label}' requires at least {low} item(s); found {n}"
            out.append(FhirIssue("error", "slice-cardinality", at, message, source))
        if high != -1 and n > high:
            message = f"Slice '{label}' allows at most {high} item(s); found {n}"
            out.append(FhirIssue("error", "slice-cardinality", at, message, source))
        return out

    return counted
