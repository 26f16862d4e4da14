"""Profile checks, compiled: one function per element of a profile tree.

:class:`ProfileChecks` compiles each :class:`~conformance.fhir.profile_model.PElem` (once,
on first use) into an *item rule* ``(value, ext, type, resource) -> issues | None``: the
checks of one occurrence of the element (its type, fixed and pattern values, bindings,
minimum and maximum values, reference targets, invariants, type profiles, then its
children's elements: their cardinality, their items and their slices). ``ext`` is a
primitive's ``_name`` object; ``type`` the concrete type when a choice key tells it.
Paths in the issues are relative to the item (see :mod:`conformance.fhir.issues`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

from conformance.fhir.bindings import profile_binding
from conformance.fhir.invariants import Guards, Invariant, invariants_rule
from conformance.fhir.issues import FhirIssue, Found, joined, moved
from conformance.fhir.profile_model import CompiledProfile, PElem, ProfileError
from conformance.fhir.references import profile_reference_target
from conformance.fhir.slicing import Item, SliceMatchers, item_path, slicing_rule
from conformance.fhir.terminology import Expansion
from conformance.fhir.values import fixed_rule, limit_rule, pattern_rule

#: (value, the primitive's _name object, the type a choice key gives, %resource) -> issues
ItemRule = Callable[[Any, Any, "str | None", Any], "list[Found] | None"]
#: (the object holding the elements, %resource) -> issues relative to it
ObjectRule = Callable[[dict[str, Any], Any], "list[Found] | None"]

_QUANTITIES = frozenset({"Quantity", "SimpleQuantity"})
#: how many distinct key lists one choice element remembers
_SHAPES = 512


class ProfileSource(Protocol):
    """What the checks need of the profile registry."""

    def compiled(self, url: str) -> CompiledProfile | None: ...

    def structure_definition(self, url: str) -> dict[str, Any] | None: ...

    def expansion(self, url: str) -> Expansion | None: ...


#: the children of an item with no object (read only)
_NO_CHILDREN: dict[str, Any] = {}


def _object_of(value: Any, ext: Any) -> dict[str, Any]:
    """The object whose children are the element's children."""
    if type(value) is dict:
        return value
    return ext if type(ext) is dict else _NO_CHILDREN


class RootRule:
    """The rule of a whole profile, as ``.rule``: compiled when first called (profiles
    refer to themselves)."""

    __slots__ = ("rule",)

    def __init__(self, rule: ItemRule) -> None:
        self.rule = rule


class ProfileChecks:
    """The compiled checks of the profiles of one registry.

    ``xc`` (extensions checked) says the caller checks every extension of the resource
    against its own definition anyway, so an extension slice need not apply it again.
    """

    def __init__(
        self,
        profiles: ProfileSource,
        matchers: SliceMatchers,
        primitives: frozenset[str],
        guards: Guards | None = None,
    ) -> None:
        self.profiles = profiles
        self.matchers = matchers
        self.primitives = primitives
        #: see conformance.fhir.invariants.invariants_rule
        self.guards = guards
        self._items: dict[tuple[int, bool], ItemRule | None] = {}
        self._roots: dict[tuple[str, bool], RootRule] = {}

    def root(self, url: str, xc: bool) -> RootRule:
        """The rule of a whole profile (its root element) as ``root(...).rule``, compiled
        on first use; the profile must be known and usable (``ProfileSource.compiled``
        returns it without raising)."""
        key = (url, xc)
        ref = self._roots.get(key)
        if ref is None:

            def first(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
                prof = self.profiles.compiled(url)
                assert prof is not None
                rule = self.item(prof.root, url, xc, False) or _no_issue
                holder.rule = rule
                return rule(value, ext, t, res)

            ref = holder = RootRule(first)
            self._roots[key] = ref
        return ref

    # ------------------------------------------------------------------- items

    def item(self, pe: PElem, source: str, xc: bool, in_quantity: bool) -> ItemRule | None:
        """The rule of one item of ``pe`` (None when it has nothing to check)."""
        key = (id(pe), xc)
        if key in self._items:
            return self._items[key]
        rule = self._compile_item(pe, source, xc, in_quantity)
        self._items[key] = rule
        return rule

    def _compile_item(self, pe: PElem, source: str, xc: bool, in_quantity: bool) -> ItemRule | None:
        children = self._children(pe, source, xc)
        if not pe.value_checks:
            if children is None:
                return None
            kids = children

            def walk(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
                return kids(value if type(value) is dict else _object_of(value, ext), res)

            return walk
        type_rule = self._type_rule(pe, source)
        before, after = self._value_tests(pe, source, xc, in_quantity)
        choice = pe.name.endswith("[x]")
        constraints = None if choice else invariants_rule(pe.constraints, guards=self.guards)
        if type_rule is None and not before and not after and constraints is not None:
            invariants = constraints

            def constrained(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
                focus = value if type(value) is dict else _object_of(value, ext)
                out = invariants(value if value is not None else focus, res, res)
                if children is not None:
                    got = children(focus, res)
                    if got is not None:
                        out = got if out is None else joined(out, got)
                return out

            return constrained
        if constraints is not None:
            before.append(_constraints(constraints))
        elif choice and pe.constraints:
            before.append(_typed_constraints(pe.constraints))
        tests = before + after
        if type_rule is None and len(tests) == 1:
            test = tests[0]
            if children is None:
                return test
            kids = children

            def tested(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
                out = test(value, ext, t, res)
                got = kids(value if type(value) is dict else _object_of(value, ext), res)
                if got is None:
                    return out
                return got if out is None else joined(out, got)

            return tested

        def item(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
            if type_rule is not None:
                wrong = type_rule(value, t)
                if wrong is not None:
                    return wrong  # a value of the wrong type: nothing else applies
            out: list[Found] | None = None
            for test in tests:
                got = test(value, ext, t, res)
                if got is not None:
                    out = got if out is None else joined(out, got)
            if children is not None:
                got = children(value if type(value) is dict else _object_of(value, ext), res)
                if got is not None:
                    out = got if out is None else joined(out, got)
            return out

        return item

    def _type_rule(
        self, pe: PElem, source: str
    ) -> Callable[[Any, str | None], list[Found] | None] | None:
        codes = pe.type_codes
        if codes is None:
            return None
        quantity = bool(codes & _QUANTITIES)

        def typed(value: Any, t: str | None) -> list[Found] | None:
            if t is None and type(value) is dict:
                rt = value.get("resourceType")
                if type(rt) is str:
                    t = rt
            if t is None or t in codes or (quantity and t in _QUANTITIES):
                return None
            message = f"Type {t} is not allowed here by the profile"
            return [FhirIssue("error", "invalid-type", "", message, source)]

        return typed

    def _value_tests(
        self, pe: PElem, source: str, xc: bool, in_quantity: bool
    ) -> tuple[list[ItemRule], list[ItemRule]]:
        """The value checks of ``pe`` in the order they report: those before its
        constraints (invariants) and those after."""
        tests: list[ItemRule] = []
        fixed = pe.fixed
        if fixed is not None:
            tests.append(fixed_rule(fixed, in_quantity, source, pe.quantity))
        if pe.pattern is not None:
            tests.append(pattern_rule(pe.pattern, source, pe.quantity))
        for strength, vs in pe.bindings:
            tests.append(profile_binding(strength, vs, source, self.profiles.expansion))
        if pe.min_value is not None:
            tests.append(limit_rule(pe.min_value, -1, source))
        if pe.max_value is not None:
            tests.append(limit_rule(pe.max_value, 1, source))
        if pe.target_types is not None:
            tests.append(profile_reference_target(pe.target_types, source))
        after: list[ItemRule] = []
        if len(pe.type_profiles) == 1:
            url = pe.type_profiles[0]
            rule = self._type_profile(url, xc)
            if xc and self.profiles.structure_definition(url) is not None:
                rule = _unless_extension(url, rule)
            after.append(rule)
        elif pe.type_profiles:
            after.append(self._any_profile(pe.type_profiles, source, xc))
        return tests, after

    # ----------------------------------------------------------- type profiles

    def _type_profile(self, url: str, xc: bool) -> ItemRule:
        """A profile named on the element's type: the value conforms to it."""
        if self.profiles.structure_definition(url) is None:
            unknown = FhirIssue(
                "warning",
                "unknown-profile",
                "",
                "The profile required for this element is not known",
                url,
            )
            return lambda value, ext, t, res: [unknown]
        try:
            prof = self.profiles.compiled(url)
        except ProfileError as exc:
            broken = FhirIssue("error", "profile-error", "", f"Profile cannot be used: {exc}", url)
            return lambda value, ext, t, res: [broken]
        if prof is None:
            return _no_issue
        ptype = prof.type
        wrong = FhirIssue(
            "error",
            "profile-type",
            "",
            f"Resource must be a {ptype} to conform to the profile",
            url,
        )
        root = self.root(url, xc)

        def typed(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
            if type(value) is dict and type(value.get("resourceType")) is str:
                if value["resourceType"] != ptype:
                    return [wrong]
                return root.rule(value, ext, t, value)  # an inline resource is its own
            return root.rule(value, ext, t, res)

        return typed

    def _any_profile(self, urls: tuple[str, ...], source: str, xc: bool) -> ItemRule:
        """Several profiles on one type: conforming to any one of them is enough."""
        rules = [self._type_profile(url, xc) for url in urls]
        none = FhirIssue(
            "error",
            "profile-no-match",
            "",
            "Value conforms to none of the profiles allowed here",
            source,
        )

        def any_of(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
            for rule in rules:
                got = rule(value, ext, t, res)
                if got is None or all(
                    not isinstance(i, FhirIssue) or i.severity != "error" for i in got
                ):
                    return None
            return [none]

        return any_of

    # ---------------------------------------------------------------- children

    def _children(self, pe: PElem, source: str, xc: bool) -> ObjectRule | None:
        rules = tuple(
            self._element(name, child, source, xc, pe.quantity)
            for name, child in pe.children.items()
        )
        if not rules:
            return None
        if len(rules) == 1:
            return rules[0]

        def children(obj: dict[str, Any], res: Any) -> list[Found] | None:
            out: list[Found] | None = None
            for rule in rules:
                got = rule(obj, res)
                if got is not None:
                    out = got if out is None else joined(out, got)
            return out

        return children

    def _element(
        self, name: str, pe: PElem, source: str, xc: bool, in_quantity: bool
    ) -> ObjectRule:
        """The rule of one element of an object: its items, counted, checked, sliced."""
        item = self.item(pe, source, xc, in_quantity)
        slices = None
        if pe.sliced:
            slices = slicing_rule(
                pe, name, source, self.matchers, lambda s: self.item(s, source, xc, in_quantity)
            )
        counted = _counter(pe, name, source)
        low, high = _bounds(pe)  # counts in low..high are fine
        absent_ok = pe.absent_ok

        def check(items: list[Item], res: Any) -> list[Found] | None:
            n = len(items)
            out = None if low <= n <= high else counted(n)
            if item is not None:
                for value, ext, key, idx, t in items:
                    got = item(value, ext, t, res)
                    if got is not None:
                        out = joined(out, moved(item_path(key, idx), got))
            if slices is not None:
                got = slices([it[0] for it in items], items, res)
                if got is not None:
                    out = joined(out, got)
            return out

        one_ok = low <= 1 <= high
        if name.endswith("[x]"):
            scan = self._choice_keys(name[:-3])
            shapes: dict[tuple[str, ...], tuple[tuple[str, str, str], ...]] = {}

            def chosen(obj: dict[str, Any], res: Any) -> list[Found] | None:
                keys = tuple(obj)
                found = shapes.get(keys)
                if found is None:
                    found = scan(keys)
                    if len(shapes) < _SHAPES:  # a pure memo on the key list; bounded
                        shapes[keys] = found
                if not found:
                    return None if absent_ok else check([], res)
                if len(found) == 1:
                    key, t, under_key = found[0]
                    value = obj.get(key)
                    if value is not None and type(value) is not list and under_key not in obj:
                        # the usual case: one value, no _name sibling
                        out = None if one_ok else counted(1)
                        if item is not None:
                            got = item(value, None, t, res)
                            if got is not None:
                                out = joined(out, moved("." + key, got))
                        if slices is not None:
                            got = slices([value], [(value, None, key, -1, t)], res)
                            if got is not None:
                                out = joined(out, got)
                        return out
                items: list[Item] = []
                for k, kt, _u in found:
                    items.extend(_items_of(obj, k, kt))
                return check(items, res)

            return chosen
        under = "_" + name
        at = "." + name
        if slices is not None:

            def sliced(obj: dict[str, Any], res: Any) -> list[Found] | None:
                value = obj.get(name)
                if under in obj:
                    return check(_items_of(obj, name, None), res)
                if value is None:
                    return None if absent_ok else check([], res)
                if type(value) is not list:
                    return check([(value, None, name, -1, None)], res)
                n = len(value)
                out = None if low <= n <= high else counted(n)
                if item is not None:
                    for i, x in enumerate(value):
                        got = item(x, None, None, res)
                        if got is not None:
                            out = joined(out, moved(f"{at}[{i}]", got))
                got = slices(value, None, res)
                return out if got is None else joined(out, got)

            return sliced

        def plain(obj: dict[str, Any], res: Any) -> list[Found] | None:
            value = obj.get(name)
            if value is None:
                if under in obj:
                    return check(_items_of(obj, name, None), res)
                return None if absent_ok else check([], res)
            if under in obj:
                return check(_items_of(obj, name, None), res)
            if type(value) is not list:
                out = None if one_ok else counted(1)
                if item is not None:
                    got = item(value, None, None, res)
                    if got is not None:
                        out = joined(out, moved(at, got))
                return out
            n = len(value)
            out = None if low <= n <= high else counted(n)
            if item is not None:
                for i, x in enumerate(value):
                    got = item(x, None, None, res)
                    if got is not None:
                        out = joined(out, moved(f"{at}[{i}]", got))
            return out

        return plain

    def _choice_keys(
        self, prefix: str
    ) -> Callable[[tuple[str, ...]], tuple[tuple[str, str, str], ...]]:
        """The keys of a choice element (``value[x]``) among an object's keys: (``valueX``
        key, its type, ``_valueX``), also for a ``_valueX`` with no ``valueX``."""
        size = len(prefix)
        primitives = self.primitives

        def scan(keys: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
            found: list[tuple[str, str, str]] = []
            for k in keys:
                if k[:1] == "_":
                    if (
                        k.startswith(prefix, 1)
                        and len(k) > size + 1
                        and k[size + 1].isupper()
                        and k[1:] not in keys
                    ):
                        k = k[1:]
                    else:
                        continue
                elif not (k.startswith(prefix) and len(k) > size and k[size].isupper()):
                    continue
                suffix = k[size:]
                lowered = suffix[0].lower() + suffix[1:]
                found.append((k, lowered if lowered in primitives else suffix, "_" + k))
            return tuple(found)

        return scan

    # ----------------------------------------------------------------- slicing


def _no_issue(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
    return None


def _unless_extension(url: str, rule: ItemRule) -> ItemRule:
    """``rule``, except for an extension of that very url: when extensions are checked
    against their own definitions anyway (``xc``), an extension slice need not."""

    def checked(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        if type(value) is dict and value.get("url") == url:
            return None
        return rule(value, ext, t, res)

    return checked


def _constraints(rule: Callable[[Any, Any, Any], list[Found] | None]) -> ItemRule:
    """The invariants of an element: on its value (the ``_name`` object for a primitive
    with no value), with the resource as ``%resource`` and ``%rootResource``."""

    def constraint(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        return rule(value if value is not None else _object_of(value, ext), res, res)

    return constraint


def _typed_constraints(invariants: tuple[Invariant, ...]) -> ItemRule:
    """The invariants of a choice element, each item's evaluated for its own type
    (``effectiveDateTime`` as a dateTime)."""
    rules: dict[str | None, Callable[[Any, Any, Any], list[Found] | None]] = {}

    def constraint(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        rule = rules.get(t)
        if rule is None:
            made = invariants_rule(invariants, focus_type=t)
            assert made is not None
            rule = rules[t] = made
        return rule(value if value is not None else _object_of(value, ext), res, res)

    return constraint


def _bounds(pe: PElem) -> tuple[int, int]:
    """The counts of items that meet the element's cardinality rules in the profile."""
    if not pe.counts:
        return 0, sys.maxsize
    low = pe.min if pe.check_min else 0
    high = pe.max if pe.check_max else sys.maxsize
    if pe.max == 0:
        high = 0
    return low, high


def _counter(pe: PElem, name: str, source: str) -> Callable[[int], list[Found] | None]:
    """The cardinality rules of an element in the profile."""
    at = "." + name
    check_min, low, check_max, high = pe.check_min, pe.min, pe.check_max, pe.max
    banned = high == 0 and not check_max

    def counted(n: int) -> list[Found] | None:
        out: list[Found] | None = None
        if check_min and n < low:
            message = f"Element '{name}' requires at least {low} item(s) in this profile; found {n}"
            out = [FhirIssue("error", "cardinality-min", at, message, source)]
        if check_max and n > high:
            message = f"Element '{name}' allows at most {high} item(s) in this profile; found {n}"
            out = joined(out, [FhirIssue("error", "cardinality-max", at, message, source)])
        if banned and n:
            message = f"Element '{name}' is not allowed in this profile"
            out = joined(out, [FhirIssue("error", "cardinality-max", at, message, source)])
        return out

    return counted


def _items_of(obj: dict[str, Any], key: str, t: str | None) -> list[Item]:
    """The items of ``key`` (and its ``_key`` sibling) in an object."""
    v = obj.get(key)
    x = obj.get("_" + key)
    if v is None and x is None:
        return []
    if type(v) is list or type(x) is list:
        vs = v if type(v) is list else []
        xs = x if type(x) is list else []
        return [
            (vs[i] if i < len(vs) else None, xs[i] if i < len(xs) else None, key, i, t)
            for i in range(max(len(vs), len(xs)))
        ]
    return [(v, x, key, -1, t)]
