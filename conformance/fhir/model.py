"""The base R4 model: what the specification says of each type, element and backbone.

Built lazily (per type, on first use) from the shipped data (:mod:`conformance.fhir.data`).
A :class:`Node` is one kind of JSON object (a datatype, a resource or a backbone
element); an :class:`Elem` is one of its JSON properties (a choice element gives one
``Elem`` per type: ``valueQuantity``, ``valueString``...). This is the definition only:
the compiled checks are built from it by :mod:`conformance.fhir.base_check`; the XML
converter and the profile compiler read it too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from conformance.fhir.core_constraints import CORE_IMPLEMENTATIONS
from conformance.fhir.data import core_data, core_expansion
from conformance.fhir.invariants import SKIPPED_INVARIANTS, TEXT_RULES, Invariant, guard_names
from conformance.fhir.primitives import Prim
from conformance.fhir.terminology import Expansion
from conformance.fhir.uris import add_uri_rules

# kinds of element
PRIMITIVE = 0
COMPLEX = 1
BACKBONE = 2
RESOURCE = 3


class Binding:
    """A required or extensible binding with an expansion available offline."""

    __slots__ = ("codes", "expansion", "strength", "valueset")

    def __init__(self, strength: str, valueset: str, expansion: Expansion) -> None:
        self.strength = strength
        self.valueset = valueset
        self.expansion = expansion
        self.codes: frozenset[str] = frozenset().union(*expansion.values())

    def has_coding(self, coding: Any) -> bool:
        if type(coding) is not dict:
            return False
        system, code = coding.get("system"), coding.get("code")
        if type(system) is not str:
            return False
        codes = self.expansion.get(system)
        return codes is not None and type(code) is str and code in codes


class Elem:
    """One JSON property of a node."""

    __slots__ = (
        "array",
        "binding",
        "choice",
        "invariants",
        "kind",
        "max",
        "min",
        "name",
        "path",
        "prim",
        "targets",
        "type",
    )

    def __init__(self, name: str, path: str, type_: str, min_: int, max_: int) -> None:
        self.name = name
        self.path = path  # the element's definition path (e.g. Observation.value[x])
        self.type = type_  # type code; for a backbone, the backbone's path
        self.min = min_
        self.max = max_
        self.array = max_ != 1
        self.choice: str | None = None  # "value" for valueQuantity
        self.kind = COMPLEX
        self.prim: Prim | None = None
        self.binding: Binding | None = None
        self.targets: frozenset[str] | None = None  # reference target types
        self.invariants: tuple[Invariant, ...] = ()


class Node:
    """One kind of JSON object: a datatype, a resource or a backbone element."""

    __slots__ = ("children", "has_choice", "invariants", "is_resource", "name", "required")

    def __init__(self, name: str) -> None:
        self.name = name  # type name or backbone path; used as FHIRPath base
        self.children: dict[str, Elem] = {}
        #: (element, the keys any of which satisfies it) for every element with min > 0
        self.required: tuple[tuple[str, tuple[str, ...]], ...] = ()
        self.invariants: tuple[Invariant, ...] = ()
        self.has_choice = False
        self.is_resource = False


def _choice_name(base: str, type_code: str) -> str:
    return base + type_code[0].upper() + type_code[1:]


class Model:
    """Lazily compiled nodes for every base type, backbone element and content reference."""

    def __init__(self) -> None:
        data = core_data()
        self.types: dict[str, Any] = data["types"]
        self._inv_rows: list[list[Any]] = data["invariants"]
        self.prims: dict[str, Prim] = {n: Prim(n, rx) for n, rx in data["primitives"].items()}
        self.resource_types: frozenset[str] = frozenset(
            n for n, t in self.types.items() if t["kind"] == "resource" and not t["abstract"]
        )
        self._nodes: dict[str, Node] = {}
        self._children: dict[str, dict[str, list[list[Any]]]] = {}
        self._rows: dict[str, dict[str, list[Any]]] = {}
        self._invs: dict[tuple[int, str], Invariant] = {}
        self.reference_plans: Any = None
        """references.py's plans for this model (kept here, not in a WeakKeyDictionary:
        a compiled class cannot be weakly referenced)."""

    # -- structure index per type
    def _index(self, type_name: str) -> tuple[dict[str, list[list[Any]]], dict[str, list[Any]]]:
        ch = self._children.get(type_name)
        if ch is None:
            ch = {}
            rows: dict[str, list[Any]] = {}
            for row in self.types[type_name]["elements"]:
                path: str = row[0]
                rows[path] = row
                if "." in path:
                    ch.setdefault(path.rsplit(".", 1)[0], []).append(row)
            self._children[type_name] = ch
            self._rows[type_name] = rows
        return ch, self._rows[type_name]

    def element_row(self, path: str) -> list[Any] | None:
        type_name = path.split(".", 1)[0]
        if type_name not in self.types:
            return None
        return self._index(type_name)[1].get(path)

    def has_children(self, path: str) -> bool:
        type_name = path.split(".", 1)[0]
        return type_name in self.types and path in self._index(type_name)[0]

    def node(self, key: str) -> Node:
        """Node by type name (``Patient``) or backbone path (``Patient.contact``)."""
        n = self._nodes.get(key)
        if n is None:
            n = self._build(key)
        return n

    def guard_keys(self, inv: Invariant) -> tuple[tuple[str, ...], ...] | None:
        """Sets of JSON keys of the invariant's usual focus: on a focus with no key of one
        set, it holds (see :func:`~conformance.fhir.invariants.guard_names`); None when
        not known. Asked once the focus's node is built (when its checks are compiled)."""
        from conformance.fhir.fhirpath import fix_invariant

        alternatives = guard_names(fix_invariant(inv.key, inv.expression))
        if alternatives is None:
            return None
        type_name = inv.focus_type.split(".", 1)[0]
        if type_name not in self.types or (
            "." in inv.focus_type and not self.has_children(inv.focus_type)
        ):
            return None
        children = self.node(inv.focus_type).children.values()
        out: list[tuple[str, ...]] = []
        for names in alternatives:
            keys: list[str] = []
            for name in sorted(names):
                found = [e.name for e in children if name in (e.name, e.choice)]
                if not found:
                    break  # not an element of the focus: this set says nothing
                keys.extend(k for n in found for k in (n, "_" + n))
            else:
                out.append(tuple(keys))
        return tuple(out) or None

    def _invariant(self, idx: int, base: str) -> Invariant:
        inv = self._invs.get((idx, base))
        if inv is None:
            key, severity, human, expr = self._inv_rows[idx]
            impl = CORE_IMPLEMENTATIONS.get(key)
            check = impl.check if impl is not None and impl.expression == expr else None
            inv = Invariant(key, severity, human, expr, base, check=check)
            self._invs[(idx, base)] = inv
        return inv

    def _build(self, key: str) -> Node:
        type_name = key.split(".", 1)[0]
        t = self.types[type_name]
        children, rows = self._index(type_name)
        node = Node(key)
        self._nodes[key] = node  # registered before children: recursive structures
        node.is_resource = "." not in key and t["kind"] == "resource"
        own = rows[key]
        fp_base = t.get("constrains", type_name) + key[len(type_name) :]
        invs = [
            self._invariant(i, fp_base)
            for i in own[5]
            if self._inv_rows[i][0] not in SKIPPED_INVARIANTS
        ]
        invs.extend(TEXT_RULES.get(key, ()))
        node.invariants = tuple(invs)
        required: list[tuple[str, tuple[str, ...]]] = []
        for row in children.get(key, ()):
            path, mn, mx, types, binding, invs = row[:6]
            name = path.rsplit(".", 1)[1]
            if type_name in self.prims and name == "value":
                continue  # the primitive's value is the JSON value itself
            elems: list[Elem] = []
            if name.endswith("[x]"):
                base = name[:-3]
                node.has_choice = True
                for tc in types:
                    code = tc if isinstance(tc, str) else tc[0]
                    e = Elem(_choice_name(base, code), path, code, mn, mx)
                    e.choice = base
                    elems.append(e)
            else:
                if len(row) > 6:
                    code = "@" + row[6]
                elif types:
                    code = types[0] if isinstance(types[0], str) else types[0][0]
                else:
                    code = "Element"
                elems.append(Elem(name, path, code, mn, mx))
            targets = {tgt for tc in types if not isinstance(tc, str) for tgt in tc[1]}
            for e in elems:
                self._setup_elem(e, type_name, path, binding, invs, targets)
                node.children[e.name] = e
            if mn > 0:
                names: list[str] = []
                for e in elems:
                    names.append(e.name)
                    if e.kind == PRIMITIVE:
                        names.append("_" + e.name)
                required.append((elems[0].choice or elems[0].name, tuple(names)))
        node.required = tuple(required)
        add_uri_rules(node, self.resource_types)
        return node

    def _setup_elem(
        self,
        e: Elem,
        type_name: str,
        path: str,
        binding: Any,
        invs: list[int],
        targets: set[str],
    ) -> None:
        code = e.type
        if code.startswith("@"):
            e.kind = BACKBONE
            e.type = code[1:]
        elif (
            code in ("BackboneElement", "Element")
            and path.count(".") >= 1
            and (path in self._index(type_name)[0])
        ):
            e.kind = BACKBONE
            e.type = path
        elif code in self.prims:
            e.kind = PRIMITIVE
            e.prim = self.prims[code]
        elif code == "Resource" or code in self.resource_types:
            e.kind = RESOURCE
        else:
            e.kind = COMPLEX
        if binding is not None:
            exp = core_expansion(binding[1])
            if exp is not None:
                e.binding = Binding(binding[0], binding[1], exp)
        if targets and code == "Reference":
            e.targets = frozenset(targets)
        if e.kind != BACKBONE:
            fp_base = e.type if e.kind == COMPLEX else type_name
            e.invariants = tuple(
                self._invariant(i, fp_base)
                for i in invs
                if self._inv_rows[i][0] not in SKIPPED_INVARIANTS
            )


@cache
def base_model() -> Model:
    return Model()
