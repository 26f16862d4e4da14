"""UCUM units for FHIR Quantity comparison: parse, convert and compare (offline, exact).

The table is UCUM's own ``ucum-essence.xml``, shipped unmodified (see ``NOTICE.md`` beside
this file for its version, copyright and licence); it is read on first use. Arithmetic is
exact (``fractions.Fraction``), so ``1 kg`` equals ``1000 g`` and ``37 Cel`` equals
``98.6 [degF]`` and ``310.15 K`` exactly.

>>> compare((Decimal("1"), "kg"), (Decimal("1000"), "g"))
0
>>> convert(Decimal("37"), "Cel", "[degF]")
Decimal('98.6')
>>> canonical(Decimal("5"), "mg/dL")
Canonical(value=Fraction(50, 1), dimension=(-3, 0, 1, 0, 0, 0, 0))

Values are ``Number``: Decimal, int, str (a FHIR decimal's text) or float (read back
through its shortest repr, which is the JSON literal a parser read it from); units are
case-sensitive UCUM strings. Both may come straight from a feed, so the functions accept
any object and refuse anything else cleanly (None, False or UcumError), never crash. Arbitrary units
(``[iU]``, ``[arb'U]``), special units on non-linear scales (``[pH]``, ``B``) and special
units inside algebra (``Cel/h``) are valid UCUM but not convertible: quantities in them
compare only with quantities in the very same unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache, lru_cache

from conformance.fhir.ucum._essence import essence
from conformance.fhir.ucum._units import Dimension, Resolver, UcumError, Unit, parse_with

__all__ = [
    "Canonical",
    "Dimension",
    "Number",
    "UcumError",
    "Unit",
    "base_units",
    "canonical",
    "comparable",
    "compare",
    "convert",
    "essence_version",
    "parse",
]

Number = Decimal | int | float | str

#: A value beyond 10**±this (in exponent or digits) is refused rather than made exact.
_MAX_VALUE_DIGITS = 1000


@dataclass(frozen=True, slots=True)
class Canonical:
    """A quantity in UCUM base units: an exact value and the exponents of ``base_units()``."""

    value: Fraction
    dimension: Dimension

    @property
    def unit(self) -> str:
        """The base-unit expression, e.g. ``g``, ``m3``, ``m.s-1`` (``1`` for a number)."""
        parts = [
            code if n == 1 else f"{code}{n}"
            for code, n in zip(base_units(), self.dimension, strict=True)
            if n
        ]
        return ".".join(parts) or "1"

    def decimal(self) -> Decimal:
        """The value as a Decimal (exact when it terminates, else 28 significant digits)."""
        return _to_decimal(self.value)


@cache
def _resolver() -> Resolver:
    return Resolver(essence())


def base_units() -> tuple[str, ...]:
    """The base units in dimension-vector order: ``('m', 's', 'g', 'rad', 'K', 'C', 'cd')``."""
    return essence().base_units


def essence_version() -> str:
    """The UCUM version of the shipped table, e.g. ``2.2 (2024-06-17)``."""
    ess = essence()
    return f"{ess.version} ({ess.revision_date})"


@lru_cache(maxsize=4096)
def _lookup(code: str) -> Unit | str:
    """The parsed unit, or the message of why ``code`` is not valid UCUM (cached both ways)."""
    try:
        return parse_with(code, _resolver())
    except UcumError as exc:
        return str(exc)


def parse(code: object) -> Unit:
    """Parse a case-sensitive UCUM expression; raises UcumError when it is not valid UCUM.

    A valid but non-convertible unit (arbitrary, non-linear special) parses, with
    ``Unit.problem`` saying why it cannot be converted.
    """
    if not isinstance(code, str):
        raise UcumError(f"a UCUM unit is a string, not {type(code).__name__}")
    got = _lookup(code)
    if isinstance(got, str):
        raise UcumError(got)
    return got


def _ratio(value: object) -> tuple[int, int] | None:
    """The exact value of a finite number as (numerator, positive denominator); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value, 1
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, str):
        if len(value) > _MAX_VALUE_DIGITS:
            return None
        try:
            value = Decimal(value)
        except InvalidOperation:
            return None
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    if abs(value.adjusted()) > _MAX_VALUE_DIGITS:
        return None
    return value.as_integer_ratio()


def _exact(value: object) -> Fraction | None:
    r = _ratio(value)
    return None if r is None else Fraction(*r)


def _in_base(r: tuple[int, int], u: Unit) -> tuple[int, int]:
    """``r`` in ``u`` as an unreduced (numerator, positive denominator) in base units."""
    n, d = r
    f, s = u.factor, u.shift
    fn, fd = f.numerator, f.denominator
    if not s:
        return n * fn, d * fd
    sn, sd = s.numerator, s.denominator
    return n * fn * sd + sn * d * fd, d * fd * sd


def _usable(code: object) -> Unit | None:
    got = _lookup(code) if isinstance(code, str) else None
    if got is None or isinstance(got, str) or got.problem is not None:
        return None
    return got


def canonical(value: object, unit: object) -> Canonical | None:
    """``value unit`` in base units; None when the unit is not valid UCUM or not convertible,
    or the value is not a finite number."""
    u = _usable(unit)
    x = _exact(value)
    if u is None or x is None:
        return None
    return Canonical(x * u.factor + u.shift, u.dimension)


def _valid(code: object) -> bool:
    return isinstance(code, str) and not isinstance(_lookup(code), str)


def comparable(a: object, b: object) -> bool:
    """True when quantities in ``a`` and ``b`` can be compared: the same valid unit, or two
    convertible units of one dimension (``mL`` and ``cm3``, ``Cel`` and ``[degF]``)."""
    if a == b:
        return _valid(a)
    ua, ub = _usable(a), _usable(b)
    return ua is not None and ub is not None and ua.dimension == ub.dimension


def compare(q1: tuple[object, object], q2: tuple[object, object]) -> int | None:
    """-1, 0 or 1 as ``q1`` is less than, equal to or greater than ``q2``, each a
    ``(value, unit)`` pair; None when they are not comparable (see ``comparable``)."""
    (v1, u1), (v2, u2) = q1, q2
    a, b = _ratio(v1), _ratio(v2)
    if a is None or b is None:
        return None
    if u1 == u2:
        if not _valid(u1):
            return None
    else:
        ua, ub = _usable(u1), _usable(u2)
        if ua is None or ub is None or ua.dimension != ub.dimension:
            return None
        a, b = _in_base(a, ua), _in_base(b, ub)
    left, right = a[0] * b[1], b[0] * a[1]
    return (left > right) - (left < right)


def convert(value: object, from_unit: object, to_unit: object) -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (exact when the result terminates,
    else 28 significant digits); raises UcumError when that cannot be done."""
    x = _exact(value)
    if x is None:
        raise UcumError(f"{value!r:.40} is not a finite number")
    if from_unit == to_unit:
        parse(from_unit)
        return _to_decimal(x)
    src, dst = parse(from_unit), parse(to_unit)
    for u in (src, dst):
        if u.problem is not None:
            raise UcumError(u.problem)
    if src.dimension != dst.dimension:
        a = Canonical(Fraction(1), src.dimension).unit
        b = Canonical(Fraction(1), dst.dimension).unit
        raise UcumError(f"{from_unit} ({a}) and {to_unit} ({b}) are not commensurable")
    return _to_decimal((x * src.factor + src.shift - dst.shift) / dst.factor)


def _to_decimal(f: Fraction) -> Decimal:
    """Exact when the fraction terminates in base 10, else rounded to 28 digits."""
    n, d = f.numerator, f.denominator
    twos = fives = 0
    rest = d
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest == 1:
        e = max(twos, fives)
        return Decimal(f"{n * (10**e // d)}E-{e}")
    return Decimal(n) / Decimal(d)
