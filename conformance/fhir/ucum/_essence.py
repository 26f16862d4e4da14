"""The UCUM tables (prefixes, base units, unit atoms) read from the shipped ucum-essence.xml.

The file ships unmodified (gzip-compressed) beside this module, with its copyright notice and
licence in ``NOTICE.md``; ``tools/build_ucum.py`` fetches and checks it. It is read once, on
first use, so importing the package costs nothing.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from importlib import resources

DATA_FILE = "ucum-essence.xml.gz"
NAMESPACE = "http://unitsofmeasure.org/ucum-essence"


class EssenceError(ValueError):
    """The UCUM table itself is malformed (a build-time problem, never feed content)."""


@dataclass(frozen=True, slots=True)
class Atom:
    """One unit atom as the essence defines it (fields verbatim, nothing resolved)."""

    code: str
    metric: bool
    special: bool
    arbitrary: bool
    #: index in the dimension vector for a base unit, else -1
    base_index: int
    #: proper units: the definition is ``value`` times the unit term ``unit``
    value: str
    unit: str
    #: special units: the function name and its corresponding proper unit (value, unit term)
    function: str
    function_value: str
    function_unit: str


@dataclass(frozen=True, slots=True)
class Essence:
    version: str
    revision_date: str
    #: base unit codes in dimension-vector order (m, s, g, rad, K, C, cd)
    base_units: tuple[str, ...]
    prefixes: dict[str, Fraction]
    #: prefix codes, longest first (UCUM: the prefix is the longest match)
    prefix_codes: tuple[str, ...]
    atoms: dict[str, Atom]


def number(text: str) -> Fraction:
    """An exact rational from a decimal literal of the table (``1e-3``, ``254e-2``)."""
    try:
        return Fraction(Decimal(text))
    except (InvalidOperation, ValueError) as exc:
        raise EssenceError(f"not a number in the UCUM table: {text!r}") from exc


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_essence(xml: bytes) -> Essence:
    """Read the tables of ``ucum-essence.xml`` (with or without its XML namespace)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise EssenceError(f"ucum-essence.xml does not parse: {exc}") from exc
    if _local(root.tag) != "root":
        raise EssenceError("ucum-essence.xml: the root element is not <root>")
    prefixes: dict[str, Fraction] = {}
    atoms: dict[str, Atom] = {}
    bases: list[str] = []
    for el in root:
        kind = _local(el.tag)
        code = el.get("Code")
        if kind not in ("prefix", "base-unit", "unit"):
            continue
        if not code:
            raise EssenceError(f"ucum-essence.xml: a <{kind}> without a Code")
        if code in (prefixes if kind == "prefix" else atoms):
            raise EssenceError(f"ucum-essence.xml: {code!r} is defined twice")
        value = next((v for v in el if _local(v.tag) == "value"), None)
        if kind == "prefix":
            if value is None or not value.get("value"):
                raise EssenceError(f"ucum-essence.xml: prefix {code!r} has no value")
            prefixes[code] = number(value.get("value", ""))
            continue
        if kind == "base-unit":
            atoms[code] = Atom(code, True, False, False, len(bases), "", "", "", "", "")
            bases.append(code)
            continue
        if value is None:
            raise EssenceError(f"ucum-essence.xml: unit {code!r} has no value")
        function = next((f for f in value if _local(f.tag) == "function"), None)
        special = el.get("isSpecial") == "yes"
        if special and function is None:
            raise EssenceError(f"ucum-essence.xml: special unit {code!r} has no function")
        atoms[code] = Atom(
            code=code,
            metric=el.get("isMetric") == "yes",
            special=special,
            arbitrary=el.get("isArbitrary") == "yes",
            base_index=-1,
            value=value.get("value", "") if function is None else "",
            unit=value.get("Unit", "") if function is None else "",
            function="" if function is None else function.get("name", ""),
            function_value="" if function is None else function.get("value", ""),
            function_unit="" if function is None else function.get("Unit", ""),
        )
    if not bases or not atoms or not prefixes:
        raise EssenceError("ucum-essence.xml: no prefixes, base units or units found")
    return Essence(
        version=root.get("version", ""),
        revision_date=root.get("revision-date", ""),
        base_units=tuple(bases),
        prefixes=prefixes,
        prefix_codes=tuple(sorted(prefixes, key=lambda p: (-len(p), p))),
        atoms=atoms,
    )


@cache
def essence() -> Essence:
    """The shipped table, read on first use."""
    raw = resources.files(__package__ or "conformance.fhir.ucum").joinpath(DATA_FILE).read_bytes()
    return parse_essence(gzip.decompress(raw))
