"""The base R4 checks, compiled: one function per node of the model.

:class:`BaseChecks` turns each :class:`~conformance.fhir.model.Node` (on first use) into
an *object check* ``(obj, resource, root) -> issues | None`` and each of its elements into
a *property rule* ``(value, obj, resource, root) -> issues | None``. Together they are the
base walk: a valid value returns None without building a path or an issue; an invalid one
returns its issues with paths relative to the object (see :mod:`conformance.fhir.issues`).

What is checked (R4 §2.6 JSON representation, §2.4 datatypes, §1.11 resources): known
properties only, arrays where the element repeats and never elsewhere, cardinality, one
type per choice element, primitive syntax, ``_name`` siblings of primitives, required and
extensible bindings with an offline expansion, reference target types, ele-1 (nothing
empty) and every invariant of the base definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from conformance.fhir.bindings import code_binding, coded_binding
from conformance.fhir.fhirpath._html import link_targets, unresolved_links
from conformance.fhir.invariants import InvariantRule, invariants_rule
from conformance.fhir.issues import (
    BASE,
    ExtensionUse,
    FhirIssue,
    Found,
    error,
    joined,
    moved,
)
from conformance.fhir.model import BACKBONE, COMPLEX, PRIMITIVE, RESOURCE, Elem, Model, base_model
from conformance.fhir.references import reference_target
from conformance.privacy import UNKNOWN_ELEMENT, unknown_name

#: (object, %resource, %rootResource) -> issues relative to the object
ObjectCheck = Callable[[dict[str, Any], Any, Any], "list[Found] | None"]
#: (value, %resource, %rootResource) -> issues relative to the value (the item of an array)
ItemCheck = Callable[[Any, dict[str, Any], Any, Any], "list[Found] | None"]
#: (the property's value, the object holding it, %resource, %rootResource) -> issues
#: relative to the object
PropertyRule = Callable[[Any, dict[str, Any], Any, Any], "list[Found] | None"]
_EMPTY_OBJECT = "Element has no value and no children (ele-1)"
_UNKNOWN = "." + UNKNOWN_ELEMENT


class _Ref:
    """The check of a node, compiled when first called: types are recursive, and most
    elements of most types never occur. ``check`` is then the compiled check itself."""

    __slots__ = ("check",)

    def __init__(self, check: ObjectCheck) -> None:
        self.check = check


#: how an object check treats one property: (a quick acceptance of a valid primitive, or
#: None; the check of a single object value's type, or None, and the element's own checks
#: of that object, or None; the property's path; its full rule; the choice element it
#: belongs to, or None)
_Entry = tuple[
    "Callable[[Any], bool] | None",
    "_Ref | None",
    "Callable[[Any, Any, Any], list[Found] | None] | None",
    str,
    PropertyRule,
    "str | None",
]


class BaseChecks:
    """The compiled checks of one model (one per process: :func:`base_checks`)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._objects: dict[str, ObjectCheck] = {}
        #: the checks of top-level resources, by type (absolute paths)
        self._resources: dict[str, ObjectCheck] = {}
        self._refs: dict[str, _Ref] = {}

    # ---------------------------------------------------------------- resources

    def validate(self, resource: Any) -> list[Found]:
        """Issues and extension uses of a top-level resource, with absolute paths."""
        if type(resource) is dict:
            rtype = resource.get("resourceType")
            check = self._resources.get(rtype) if type(rtype) is str else None
            if check is None and type(rtype) is str and rtype in self.model.resource_types:
                # a top-level resource's check reports at absolute paths: nothing to move
                check = self._resources[rtype] = self._compile_object(rtype, rtype)
            if check is not None:
                return check(resource, resource, resource) or []
        return self.resource(resource, None) or []

    def resource(self, obj: Any, root: Any) -> list[Found] | None:
        """Issues of a resource, relative to where it sits (a contained resource sees its
        container as ``%rootResource``; ``root`` None: it is its own root)."""
        if type(obj) is not dict:
            return error("invalid-type", "", "A resource must be a JSON object")
        rtype = obj.get("resourceType")
        if type(rtype) is not str or rtype not in self.model.resource_types:
            what = "missing" if rtype is None else "not a known R4 resource type"
            return error("invalid-resource-type", "", f"The resourceType is {what}")
        return self.object_check(rtype)(obj, obj, obj if root is None else root)

    # ------------------------------------------------------------------ objects

    def object_check(self, key: str) -> ObjectCheck:
        """The check of a node, by type name (``Patient``) or backbone path."""
        check = self._objects.get(key)
        if check is None:
            check = self._objects[key] = self._compile_object(key, "")
        return check

    def _ref(self, key: str) -> _Ref:
        ref = self._refs.get(key)
        if ref is None:

            def first(obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
                check = self.object_check(key)
                holder.check = check
                return check(obj, res, root)

            ref = holder = _Ref(first)
            self._refs[key] = ref
        return ref

    def _compile_object(self, key: str, base: str) -> ObjectCheck:
        """The check of a node; its issues' paths start with ``base`` (a top-level
        resource's type, or "": relative to the object)."""
        node = self.model.node(key)
        name = node.name
        rules: dict[str, PropertyRule] = {}
        table: dict[str, _Entry] = {}
        primitives: dict[str, bool] = {}  # primitive element -> repeats
        for prop, e in node.children.items():
            rule = rules[prop] = self._property(e, base)
            at = f"{base}.{prop}"
            if e.choice is not None:  # choices are tracked, so always take the rule
                table[prop] = (None, None, None, at, rule, e.choice)
            elif e.kind == PRIMITIVE:
                table[prop] = (self._quick(e), None, None, at, rule, None)
            elif e.kind in (COMPLEX, BACKBONE) and not e.array:
                table[prop] = (None, self._ref(e.type), self._extra(e), at, rule, None)
            else:
                table[prop] = (None, None, None, at, rule, None)
            if e.kind == PRIMITIVE:
                primitives[prop] = e.array
        is_resource = node.is_resource
        required = tuple(
            (names, f"{base}.{group}", f"Missing required element '{group}' in {name}")
            for group, names in node.required
        )
        invariants = invariants_rule(node.invariants, base, guards=self.model.guard_keys)
        extension = self._primitive_extension(primitives, rules, base)
        empty = FhirIssue("error", "empty-element", base, _EMPTY_OBJECT, BASE)
        unknown = base + _UNKNOWN

        def check(obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
            if not obj:
                return [empty]
            out: list[Found] | None = None
            seen: dict[str, str] | None = None  # choice element -> the key that gave it
            for prop, value in obj.items():
                entry = table.get(prop)
                if entry is not None:
                    quick, ref, extra, at, rule, choice = entry
                    if quick is not None:
                        if quick(value):
                            continue
                        got = rule(value, obj, res, root)
                    elif ref is not None and type(value) is dict:
                        got = ref.check(value, res, root)
                        if extra is not None:
                            more = extra(value, res, root)
                            if more is not None:
                                got = more if got is None else joined(got, more)
                        if got is None:
                            continue
                        got = moved(at, got)
                    else:
                        if choice is not None:
                            if seen is None:
                                seen = {choice: prop}
                            else:
                                other = seen.get(choice)
                                if other is None:
                                    seen[choice] = prop
                                else:
                                    out = joined(out, _two_choices(base, prop, choice, other))
                        got = rule(value, obj, res, root)
                elif prop[:1] == "_":
                    got = extension(obj, prop, value, res, root)
                elif prop == "resourceType" and is_resource:
                    continue
                else:  # the name is feed content: described, never echoed
                    message = f"Unknown element in {name}: {unknown_name(prop, rules)}"
                    got = error("unknown-element", unknown, message)
                if got is not None:
                    out = got if out is None else joined(out, got)
            for names, at, message in required:
                for n in names:
                    if n in obj:
                        break
                else:
                    out = joined(out, error("cardinality-min", at, message))
            if invariants is not None:
                got = invariants(obj, res, root)
                if got is not None:
                    out = joined(out, got)
            return out

        return check

    def _quick(self, e: Elem) -> Callable[[Any], bool] | None:
        """Accepts a valid value of a single primitive (that is all its rule would say of
        it); None when the element has more to check (arrays, invariants)."""
        prim = e.prim
        assert prim is not None
        if e.array or e.invariants:
            return None
        if prim.name == "xhtml":
            ok_div = prim.ok

            def narrative(value: Any) -> bool:
                return ok_div(value) and not unresolved_links(value)

            return narrative
        if code_binding(e) is None:
            return prim.ok
        assert e.binding is not None
        ok, codes = prim.ok, e.binding.codes

        def bound(value: Any) -> bool:
            return ok(value) and value in codes

        return bound

    def _extra(self, e: Elem) -> Callable[[Any, Any, Any], list[Found] | None] | None:
        """The checks of an object value beyond its own type's: the element's binding,
        reference target and invariants (None when there are none)."""
        coded = coded_binding(e)
        target = reference_target(e.name, e.targets, self.model.resource_types)
        invariants = invariants_rule(e.invariants, guards=self.model.guard_keys)
        if coded is None and target is None:
            return invariants

        def extra(value: Any, res: Any, root: Any) -> list[Found] | None:
            out = None if coded is None else coded(value)
            if target is not None:
                got = target(value)
                if got is not None:
                    out = got if out is None else joined(out, got)
            if invariants is not None:
                got = invariants(value, res, root)
                if got is not None:
                    out = got if out is None else joined(out, got)
            return out

        return extra

    def _primitive_extension(
        self, primitives: dict[str, bool], known: dict[str, PropertyRule], base: str
    ) -> Callable[[dict[str, Any], str, Any, Any, Any], list[Found] | None]:
        """The rule of ``_name`` properties: the id and extensions of primitive ``name``."""
        element = self._ref("Element")

        def extension(
            obj: dict[str, Any], prop: str, value: Any, res: Any, root: Any
        ) -> list[Found] | None:
            name = prop[1:]
            at = f"{base}.{prop}"
            repeats = primitives.get(name)
            if repeats is None:  # the name is feed content: described, never echoed
                message = (
                    f"Unknown element: {unknown_name(prop, known)}, and no primitive element "
                    "of that name here"
                )
                return error("unknown-element", base + _UNKNOWN, message)
            if not repeats:
                if type(value) is not dict:
                    return error("invalid-type", at, f"Element '{prop}' must be a JSON object")
                got = element.check(value, res, root)
                return None if got is None else moved(f"{base}.{name}", got)
            if type(value) is not list:
                return error("invalid-type", at, f"Element '{prop}' must be a JSON array")
            out: list[Found] | None = None
            values = obj.get(name)
            if values is not None and (type(values) is not list or len(values) != len(value)):
                message = f"Arrays '{name}' and '{prop}' must have the same length"
                out = error("invalid-type", at, message)
            for i, item in enumerate(value):
                if item is None:
                    if type(values) is not list or i >= len(values) or values[i] is None:
                        message = "Primitive has neither a value nor extensions (ele-1)"
                        where = f"{base}.{name}[{i}]"
                        out = joined(out, error("empty-element", where, message))
                    continue
                if type(item) is not dict:
                    message = f"Element '{prop}' items must be JSON objects"
                    out = joined(out, error("invalid-type", f"{at}[{i}]", message))
                    continue
                got = element.check(item, res, root)
                if got is not None:
                    out = joined(out, moved(f"{base}.{name}[{i}]", got))
            return out

        return extension

    # ----------------------------------------------------------------- properties

    def _property(self, e: Elem, base: str) -> PropertyRule:
        """The rule of one JSON property: array shape and cardinality, then each item;
        issues at ``base.name`` and below."""
        rule = self._property_rule(e, base)
        if e.prim is not None and e.prim.name == "xhtml" and not e.array:
            return _narrative_links(rule, f"{base}.{e.name}")
        return rule

    def _property_rule(self, e: Elem, base: str) -> PropertyRule:
        prop = e.name
        at = f"{base}.{prop}"
        if e.array:
            return self._repeated(e, at)
        fast = self._plain_single(e, at)
        if fast is not None:
            return fast
        item = self._item(e)

        def single(value: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
            if type(value) is list:
                return error("invalid-type", at, f"Element '{prop}' must not be an array")
            got = item(value, obj, res, root)
            return None if got is None else moved(at, got)

        return single

    def _plain_single(self, e: Elem, at: str) -> PropertyRule | None:
        """The usual single-valued properties in one function: a primitive or an object
        with no binding, reference target or invariant of its own."""
        prop = e.name
        if e.invariants or e.binding is not None or e.targets is not None:
            return None
        if e.kind == PRIMITIVE:
            prim = e.prim
            assert prim is not None
            ok, under = prim.ok, "_" + prop

            def primitive(
                value: Any, obj: dict[str, Any], res: Any, root: Any
            ) -> list[Found] | None:
                if ok(value) or (value is None and under in obj):
                    return None
                if type(value) is list:
                    return error("invalid-type", at, f"Element '{prop}' must not be an array")
                return [prim.problem(value, prop, at)]

            return primitive
        if e.kind not in (COMPLEX, BACKBONE):
            return None
        ref = self._ref(e.type)
        not_object = f"Element '{prop}' must be a JSON object ({e.type})"

        def datatype(value: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
            if type(value) is dict:
                got = ref.check(value, res, root)
                return None if got is None else moved(at, got)
            if type(value) is list:
                return error("invalid-type", at, f"Element '{prop}' must not be an array")
            return error("invalid-type", at, not_object)

        return datatype

    def _repeated(self, e: Elem, at: str) -> PropertyRule:
        prop = e.name
        item = self._item(e)
        under = "_" + prop
        most = e.max
        too_many = f"Element '{prop}' has more than {most} items"
        extensions = prop in ("extension", "modifierExtension")
        primitive_rule = self._primitive_items(e, at) if e.kind == PRIMITIVE else None
        plain = (
            e.kind in (COMPLEX, BACKBONE)
            and e.binding is None
            and e.targets is None
            and not e.invariants
        )
        ref = self._ref(e.type) if plain else None
        not_object = f"Element '{prop}' must be a JSON object ({e.type})"

        def repeated(value: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
            if type(value) is not list:
                wrong = error("invalid-type", at, f"Element '{prop}' must be a JSON array")
                got = item(value, obj, res, root)
                return wrong if got is None else joined(wrong, moved(at, got))
            if not value:
                if under in obj:
                    return None
                return error("empty-element", at, "Arrays must not be empty (ele-1)")
            out: list[Found] | None = None
            if most > 0 and len(value) > most:
                out = error("cardinality-max", at, too_many)
            if primitive_rule is not None:
                got = primitive_rule(value, obj, res, root)
                return out if got is None else joined(out, got)
            if extensions:
                out = joined(out, [ExtensionUse(at, value, res)])
            if ref is not None:
                for i, x in enumerate(value):
                    if type(x) is dict:
                        got = ref.check(x, res, root)
                        if got is not None:
                            out = joined(out, moved(f"{at}[{i}]", got))
                    else:
                        out = joined(out, error("invalid-type", f"{at}[{i}]", not_object))
                return out
            for i, x in enumerate(value):
                got = item(x, obj, res, root)
                if got is not None:
                    out = joined(out, moved(f"{at}[{i}]", got))
            return out

        return repeated

    def _primitive_items(self, e: Elem, at: str) -> PropertyRule:
        """The items of a repeating primitive: each value, then each one's invariants."""
        prim = e.prim
        assert prim is not None
        ok = prim.ok
        name, under = e.name, "_" + e.name
        bound = code_binding(e)
        invariants = invariants_rule(e.invariants, guards=self.model.guard_keys)

        def items(values: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
            out: list[Found] | None = None
            for i, x in enumerate(values):
                if not ok(x):
                    if x is None and under in obj:
                        continue  # value carried by the _name sibling
                    out = joined(out, [prim.problem(x, name, f"{at}[{i}]")])
                elif bound is not None:
                    got = bound(x)
                    if got is not None:
                        out = joined(out, moved(f"{at}[{i}]", got))
            if invariants is not None:
                for i, x in enumerate(values):
                    got = invariants(x, res, root)
                    if got is not None:
                        out = joined(out, moved(f"{at}[{i}]", got))
            return out

        return items

    def _item(self, e: Elem) -> ItemCheck:
        """The check of one value of an element (an array's item, or the value itself)."""
        kind = e.kind
        if kind == PRIMITIVE:
            return self._primitive(e)
        name, type_ = e.name, e.type
        not_object = f"Element '{name}' must be a JSON object ({type_})"
        if kind == RESOURCE:
            contained = name == "contained"
            wrong = f"Element '{name}' must hold a {type_} resource"
            any_type = type_ == "Resource"

            def resource(
                value: Any, obj: dict[str, Any], res: Any, root: Any
            ) -> list[Found] | None:
                if type(value) is not dict:
                    return error("invalid-type", "", not_object)
                if not any_type and value.get("resourceType") != type_:
                    return error("invalid-type", "", wrong)
                return self.resource(value, root if contained else None)

            return resource
        ref = self._ref(type_)
        if kind == BACKBONE:

            def backbone(
                value: Any, obj: dict[str, Any], res: Any, root: Any
            ) -> list[Found] | None:
                if type(value) is not dict:
                    return error("invalid-type", "", not_object)
                return ref.check(value, res, root)

            return backbone
        assert kind == COMPLEX
        extra = self._extra(e)
        if extra is None:

            def datatype(
                value: Any, obj: dict[str, Any], res: Any, root: Any
            ) -> list[Found] | None:
                if type(value) is not dict:
                    return error("invalid-type", "", not_object)
                return ref.check(value, res, root)

            return datatype

        def checked(value: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
            if type(value) is not dict:
                return error("invalid-type", "", not_object)
            out = ref.check(value, res, root)
            got = extra(value, res, root)
            if got is not None:
                out = got if out is None else joined(out, got)
            return out

        return checked

    def _primitive(self, e: Elem) -> ItemCheck:
        prim = e.prim
        assert prim is not None
        ok, name, under = prim.ok, e.name, "_" + e.name
        bound = code_binding(e)
        invariants = invariants_rule(e.invariants, guards=self.model.guard_keys)
        if bound is None and invariants is None:

            def plain(value: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
                if ok(value) or (value is None and under in obj):
                    return None
                return [prim.problem(value, name, "")]

            return plain

        def primitive(value: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
            out: list[Found] | None = None
            if not ok(value):
                if value is None and under in obj:
                    return None  # value carried by the _name sibling
                out = [prim.problem(value, name, "")]
            elif bound is not None:
                out = bound(value)
            if invariants is not None:
                got = invariants(value, res, root)
                if got is not None:
                    out = joined(out, got)
            return out

        return primitive


_BROKEN_LINK = (
    'The narrative links (href="#...") to an id or name that no element of the resource '
    "or its narrative has"
)


def _narrative_links(rule: PropertyRule, at: str) -> PropertyRule:
    """An XHTML div's rule, then its internal links: each ``href="#x"`` points at an
    element of the narrative, or of the resource (%rootResource, so a contained
    resource's narrative may link to its container's), with that id or name (HL7's
    validator: an error when none has)."""

    def narrative(value: Any, obj: dict[str, Any], res: Any, root: Any) -> list[Found] | None:
        got = rule(value, obj, res, root)
        if got is None and type(value) is str:
            wanted = unresolved_links(value)
            if wanted and not link_targets(root).issuperset(wanted):
                return error("invalid-narrative-link", at, _BROKEN_LINK)
        return got

    return narrative


def _two_choices(base: str, prop: str, choice: str, other: str) -> list[Found]:
    message = f"Only one of the {choice}[x] choices is allowed; found '{other}' and '{prop}'"
    return error("choice-type", f"{base}.{prop}", message)


@cache
def base_checks() -> BaseChecks:
    """The compiled checks of the base R4 model (one per process)."""
    return BaseChecks(base_model())


__all__ = ["BaseChecks", "InvariantRule", "ObjectCheck", "base_checks"]
