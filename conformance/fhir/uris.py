"""URI rules of R4 beyond the ``uri`` regular expression (datatypes.html#uri,
references.html, resource.html#canonical), as the HL7 validator applies them.

- A ``urn:uuid:`` URI holds an RFC 4122 UUID in lowercase, a ``urn:oid:`` URI an OID
  (the ``uuid`` and ``oid`` types' own expressions); ``oid:`` and ``uuid:`` without
  ``urn:`` are not URIs of those schemes. The HL7 validator also rejects OIDs too short to
  name anything (a last arc starting before the fifth character), but under 1.3.
  Checked by the primitive expression of ``uri``, ``url`` and ``canonical``
  (:func:`uri_regex`; :func:`uri_problem` says what is wrong): still one match per value.
- The canonical ``url`` of a canonical resource (its identity) is absolute when present,
  contained or not; ``ValueSet.compose.include.system`` (and ``exclude``) is "an absolute
  URI which is the code system" (never a fragment ``#x`` nor a relative reference).
- A local fragment (``#id``) in a ``uri``, ``url`` or ``canonical`` element refers to a
  contained resource of the resource (its container's, for a contained one): it must
  resolve. Unresolved, it is information for a ``uri``/``url`` (the HL7 validator's
  published outcome for ``meta.source``: "might be wrong ... no matching target") and a
  warning for a ``canonical`` (its ``TYPE_SPECIFIC_CHECKS_DT_CANONICAL_RESOLVE``). The
  datatypes' ``system`` elements (Coding, Identifier, Quantity...), ``Extension.url`` and
  ``meta.profile`` are not judged here: they are on every record, and a fragment there is
  reported by their own checks.

These last rules are invariants of the elements (:func:`add_uri_rules`, called once per
model node): an element without a value never costs anything.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from conformance.fhir.example_urls import EXAMPLE_URL
from conformance.fhir.invariants import Invariant

if TYPE_CHECKING:
    from conformance.fhir.model import Node

URI_TYPES = frozenset({"uri", "url", "canonical"})
_UUID_RX = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_OID_RX = r"[0-2](?:\.(?:0|[1-9][0-9]*))+"
_UUID = re.compile(_UUID_RX).fullmatch
_OID = re.compile(_OID_RX).fullmatch
#: an absolute URI: a (lowercase) scheme, then something without spaces (RFC 3986 §4.3)
_ABSOLUTE = re.compile(r"[a-z][a-z0-9+.\-]*:\S+").fullmatch


def _urn_problem(value: str) -> str | None:
    if value.startswith("urn:uuid:"):
        uuid = value[9:].split("#", 1)[0].split("|", 1)[0]  # a fragment, a version
        return None if _UUID(uuid) else "is not a valid urn:uuid: (a lowercase RFC 4122 UUID)"
    if value.startswith("urn:oid:"):
        oid = value[8:]
        # as the HL7 validator: a root too short to name anything (but in 1.3) is wrong
        if _OID(oid) and (oid.rfind(".") >= 4 or oid.startswith("1.3")):
            return None
        return "is not a valid urn:oid: (an OID such as urn:oid:2.16.840.1.113883)"
    if value.startswith("oid:"):
        return "must not start with 'oid:' (an OID is written urn:oid:)"
    if value.startswith("uuid:"):
        return "must not start with 'uuid:' (a UUID is written urn:uuid:)"
    return None


def uri_regex(base: str) -> str:
    """The expression of a ``uri``/``url``/``canonical`` value: the type's own (``base``)
    for any value but those of the ``urn:uuid:``/``urn:oid:`` schemes (and the ``oid:``,
    ``uuid:`` mistakes), which must follow their rules (a fragment or a ``|version`` may
    follow a UUID). One match per value, as before.

    (The HL7 validator also wants every ``canonical`` absolute or a fragment, but R4's own
    examples use relative ones, ``Library/x``, that its build accepts: not judged.)"""
    uuid = _UUID_RX + r"(?:[#|]\S*)?"
    # an OID whose last arc starts past the fourth character, or one under 1.3
    oid = r"(?=1\.3|[0-9.]{4,}\.)" + _OID_RX
    return rf"(?!urn:uuid:|urn:oid:|oid:|uuid:)(?:{base})|urn:uuid:{uuid}|urn:oid:{oid}"


def uri_problem(type_name: str, value: Any) -> str | None:
    """What is wrong with a value of one of the schemes :func:`uri_regex` judges (None
    for any other value): "is not a valid urn:uuid: ..." and the like."""
    if type_name not in URI_TYPES or type(value) is not str:
        return None
    return _urn_problem(value)


# ------------------------------------------------------------------ element rules


def _absolute(f: Any, r: Any, t: Any) -> bool:
    return type(f) is not str or _ABSOLUTE(f) is not None


def _resolves(f: Any, r: Any, t: Any) -> bool:
    """A local fragment names a contained resource of the root resource ('#' alone is
    the container itself)."""
    if type(f) is not str or f[:1] != "#" or f == "#":
        return True
    target = t if type(t) is dict else r
    contained = target.get("contained") if type(target) is dict else None
    if type(contained) is not list:
        return False
    want = f[1:]
    return any(type(c) is dict and c.get("id") == want for c in contained)


_CANONICAL_URL = Invariant(
    "uri-canonical-absolute",
    "error",
    "The canonical URL of a canonical resource must be an absolute URL",
    "",
    "uri",
    check=_absolute,
)
_SYSTEM = Invariant(
    "uri-system-absolute",
    "error",
    "The code system of a value set include/exclude must be an absolute URI (not a fragment "
    "or a relative reference)",
    "",
    "uri",
    check=_absolute,
)
_FRAGMENT = Invariant(
    "uri-fragment",
    "information",
    "The URL value might be wrong: it is a local fragment, but no contained resource matches",
    "",
    "uri",
    check=_resolves,
)
_CANONICAL_FRAGMENT = Invariant(
    "uri-fragment",
    "warning",
    "The canonical value is a local fragment that does not resolve to a contained resource",
    "",
    "canonical",
    check=_resolves,
)
#: elements whose values are not judged as fragments: on every record, or exempt in the
#: HL7 validator (validated elsewhere, or not references at all)
_NOT_FRAGMENTS = frozenset(
    {
        "Extension.url",
        "Meta.profile",
        "Extension.value[x]",
        "Coding.system",
        "Identifier.system",
        "Quantity.system",
        "Age.system",
        "Count.system",
        "Distance.system",
        "Duration.system",
        "Money.system",
        "Reference.type",
        "Bundle.entry.fullUrl",
        "Bundle.link.url",
        "Bundle.entry.request.url",
        "StructureDefinition.type",
        "ElementDefinition.fixed[x]",
        "ElementDefinition.pattern[x]",
        "ElementDefinition.contentReference",
        "ElementDefinition.type.code",
        "ImplementationGuide.definition.page.name[x]",
    }
)
#: the elements a canonical resource has when its ``url`` is its identity (Contract,
#: Device and DeviceDefinition have a ``url`` that is not)
_CANONICAL_RESOURCE = ("url", "version", "status", "date")


def add_uri_rules(node: Node, resource_types: Collection[str]) -> None:
    """Give the elements of a model node their URI rules (once, when the node is built)."""
    key = node.name
    children = node.children
    canonical = node.is_resource and key in resource_types
    canonical = canonical and all(k in children for k in _CANONICAL_RESOURCE)
    for e in children.values():
        if e.type not in URI_TYPES:
            continue
        extra: list[Invariant] = []
        if canonical and e.name == "url" and e.type == "uri":
            extra.append(_CANONICAL_URL)
        if e.path == "ValueSet.compose.include.system":
            extra.append(_SYSTEM)
        elif e.path not in _NOT_FRAGMENTS and not (canonical and e.name == "url"):
            extra.append(_CANONICAL_FRAGMENT if e.type == "canonical" else _FRAGMENT)
            if e.type == "canonical":
                extra.append(EXAMPLE_URL)
        if extra:
            e.invariants = (*e.invariants, *extra)
