"""Parse UCUM unit expressions into a magnitude and a dimension vector (UCUM §2-3).

A proper unit is a pair (magnitude, dimension) over the base units of the table; a value
``x`` in it is ``x * magnitude`` base units. A special unit on an interval scale (``Cel``,
``[degF]``, ``[degRe]``) adds an offset: ``x`` is ``(alpha * x + offset) * magnitude``
base units, where ``alpha`` is the scale its prefix or numeric factors give it (UCUM §3.1.2:
a prefix scales the value, never the origin). Arbitrary units and the special units on
logarithmic or trigonometric scales parse, but carry a ``problem``: they are not convertible.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction

from conformance.fhir.ucum._essence import Atom, Essence, EssenceError, number

Dimension = tuple[int, ...]

#: Longest expression accepted (the longest real UCUM codes are a few dozen characters).
MAX_LENGTH = 512
#: Deepest nesting of parentheses.
MAX_DEPTH = 32
#: Largest exponent magnitude (``10*-999`` is still fine).
MAX_EXPONENT = 999
#: Largest integer factor, in digits.
MAX_FACTOR_DIGITS = 40
#: Largest numerator or denominator of a magnitude, in bits (about 10**1200): beyond it an
#: expression is refused rather than computed.
MAX_BITS = 4096

#: Special units on an interval scale: function name -> offset of the scale's origin, in
#: units of the function's corresponding proper unit (the essence's ``function`` value and
#: unit). Cel: K = x + 273.15; degF: K = (x + 459.67) * 5/9; degRe: K = (x + 218.52) * 5/4,
#: i.e. 5/4 x + 273.15 (UCUM's cel, degf and degre function pairs).
AFFINE_FUNCTIONS: dict[str, Fraction] = {
    "Cel": Fraction("273.15"),
    "degF": Fraction("459.67"),
    "degRe": Fraction("218.52"),
}

#: Characters that may never appear in a unit symbol outside square brackets (§2.1.1).
_NOT_IN_SYMBOL = frozenset('"+-=')
_TERMINATORS = frozenset("./(){}")
_DIGITS = frozenset("0123456789")


class UcumError(ValueError):
    """A unit expression that is not valid UCUM (the message says what and where)."""


@dataclass(frozen=True, slots=True)
class Unit:
    """A parsed UCUM expression.

    A value ``x`` in this unit is ``x * factor + shift`` in the base units of ``dimension``
    (``shift`` is non-zero only for ``Cel``, ``[degF]`` and ``[degRe]``). ``problem`` says
    why values in it cannot be converted (arbitrary units, logarithmic or other non-linear
    special units, special units inside algebra); it is None when they can, and only then
    are ``factor``, ``shift`` and ``dimension`` meaningful.
    """

    code: str
    factor: Fraction
    shift: Fraction
    dimension: Dimension
    problem: str | None


@dataclass(slots=True)
class _Term:
    """An intermediate result: see the module docstring for ``alpha`` and ``offset``."""

    mag: Fraction
    dim: Dimension
    offset: Fraction | None = None
    special: str = ""
    problem: str | None = None
    alpha: Fraction = Fraction(1)

    def scalar(self) -> bool:
        """A plain number: dimensionless, proper, convertible."""
        return self.problem is None and self.offset is None and not any(self.dim)


def _check_bits(mag: Fraction) -> Fraction:
    if mag.numerator.bit_length() > MAX_BITS or mag.denominator.bit_length() > MAX_BITS:
        raise UcumError("the unit's magnitude is too large to compute")
    return mag


def _with_problem(t: _Term, problem: str) -> _Term:
    return _Term(Fraction(1), t.dim, problem=t.problem or problem)


def _multiply(a: _Term, b: _Term, divide: bool) -> _Term:
    if a.problem is not None or b.problem is not None:
        return _Term(Fraction(1), a.dim, problem=a.problem or b.problem)
    if a.offset is not None or b.offset is not None:
        # UCUM §3.1.2: a special unit takes part in no algebra, except scaling by a number.
        if a.offset is not None and b.scalar():
            alpha = a.alpha / b.mag if divide else a.alpha * b.mag
            return _Term(a.mag, a.dim, a.offset, a.special, None, _check_bits(alpha))
        if b.offset is not None and a.scalar() and not divide:
            return _Term(b.mag, b.dim, b.offset, b.special, None, _check_bits(b.alpha * a.mag))
        name = a.special or b.special
        return _with_problem(a, f"the special unit {name} cannot be combined with other units")
    if divide:
        dim = tuple(x - y for x, y in zip(a.dim, b.dim, strict=True))
        return _Term(_check_bits(a.mag / b.mag), dim)
    dim = tuple(x + y for x, y in zip(a.dim, b.dim, strict=True))
    return _Term(_check_bits(a.mag * b.mag), dim)


def _power(t: _Term, n: int) -> _Term:
    if n == 1 or t.problem is not None:
        return t
    if t.offset is not None:
        return _with_problem(t, f"the special unit {t.special} cannot be raised to a power")
    mag = t.mag
    bits = (mag.numerator.bit_length() + mag.denominator.bit_length()) * abs(n)
    if bits > 2 * MAX_BITS + 2 * abs(n):
        raise UcumError("the unit's magnitude is too large to compute")
    return _Term(_check_bits(mag**n), tuple(x * n for x in t.dim))


class Resolver:
    """Unit atoms as terms, resolved from their definitions on first use."""

    __slots__ = ("_active", "_lock", "_terms", "essence", "one")

    def __init__(self, essence: Essence) -> None:
        self.essence = essence
        self.one: Dimension = (0,) * len(essence.base_units)
        self._terms: dict[str, _Term] = {}
        self._active: set[str] = set()
        self._lock = threading.RLock()  # definitions resolve recursively, once per process

    def atom(self, atom: Atom) -> _Term:
        got = self._terms.get(atom.code)
        if got is not None:
            return got
        with self._lock:
            return self._resolve(atom)

    def _resolve(self, atom: Atom) -> _Term:
        got = self._terms.get(atom.code)
        if got is None:
            if atom.code in self._active:
                raise EssenceError(f"the UCUM table defines {atom.code!r} in terms of itself")
            self._active.add(atom.code)
            try:
                got = self._define(atom)
            except UcumError as exc:
                raise EssenceError(f"the UCUM table's definition of {atom.code!r}: {exc}") from exc
            finally:
                self._active.discard(atom.code)
            self._terms[atom.code] = got
        return got

    def _define(self, atom: Atom) -> _Term:
        if atom.base_index >= 0:
            dim = list(self.one)
            dim[atom.base_index] = 1
            return _Term(Fraction(1), tuple(dim))
        if atom.arbitrary:
            return _Term(
                Fraction(1),
                self.one,
                problem=f"{atom.code} is an arbitrary unit: it is not commensurable "
                "with any other unit",
            )
        if atom.special:
            proper = _Parser(atom.function_unit, self).main_term()
            offset = AFFINE_FUNCTIONS.get(atom.function)
            if offset is None:
                return _with_problem(
                    proper,
                    f"{atom.code} is a special unit on a non-linear scale "
                    f"({atom.function}): it cannot be converted",
                )
            mag = _check_bits(number(atom.function_value) * proper.mag)
            return _Term(mag, proper.dim, offset, atom.code, proper.problem)
        defined = _Parser(atom.unit, self).main_term()
        if defined.problem is not None:
            return defined
        if defined.offset is not None:
            raise EssenceError(f"the UCUM table defines {atom.code!r} by a special unit")
        return _Term(_check_bits(number(atom.value) * defined.mag), defined.dim)


class _Parser:
    """Recursive descent over UCUM's grammar (UCUM §2.2, exhibit 1)."""

    __slots__ = ("depth", "pos", "resolver", "text")

    def __init__(self, text: str, resolver: Resolver) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.resolver = resolver

    def fail(self, message: str, at: int | None = None) -> UcumError:
        where = self.pos if at is None else at
        return UcumError(f"{message} at position {where + 1} of {self.text!r}")

    def unit(self) -> Unit:
        t = self.main_term()
        if t.offset is not None:
            factor, shift = t.alpha * t.mag, t.offset * t.mag
        else:
            factor, shift = t.mag, Fraction(0)
        return Unit(self.text, factor, shift, t.dim, t.problem)

    def main_term(self) -> _Term:
        text = self.text
        if not text:
            raise UcumError("an empty unit is not valid UCUM (the unity is written 1)")
        if len(text) > MAX_LENGTH:
            raise UcumError(f"a unit longer than {MAX_LENGTH} characters is refused")
        for i, ch in enumerate(text):
            if not 33 <= ord(ch) <= 126:
                raise self.fail(
                    "whitespace is not allowed"
                    if ch.isspace()
                    else f"character {ch!r} is not allowed (UCUM is printable ASCII)",
                    i,
                )
        if text[0] == "/":
            self.pos = 1
            t = _multiply(_Term(Fraction(1), self.resolver.one), self.term(), True)
        else:
            t = self.term()
        if self.pos < len(text):
            raise self.fail(f"unexpected {text[self.pos]!r}")
        return t

    def term(self) -> _Term:
        t = self.component()
        text = self.text
        while self.pos < len(text) and text[self.pos] in "./":
            divide = text[self.pos] == "/"
            self.pos += 1
            t = _multiply(t, self.component(), divide)
        return t

    def component(self) -> _Term:
        text = self.text
        if self.pos >= len(text):
            raise self.fail("a unit is missing")
        ch = text[self.pos]
        if ch == "(":
            if self.depth >= MAX_DEPTH:
                raise self.fail("parentheses are nested too deeply")
            self.depth += 1
            self.pos += 1
            t = self.term()
            if self.pos >= len(text) or text[self.pos] != ")":
                raise self.fail("')' expected")
            self.pos += 1
            self.depth -= 1
            if self.pos < len(text) and text[self.pos] not in "./)":
                raise self.fail("only an operator may follow ')'")
            return t
        if ch == "{":
            self.annotation()
            return _Term(Fraction(1), self.resolver.one)
        start = self.pos
        symbol = self.symbol()
        if not symbol:
            raise self.fail(f"a unit is missing before {ch!r}")
        t = self.simple_unit(symbol, start)
        if self.pos < len(text) and text[self.pos] == "{":
            self.annotation()
        return t

    def symbol(self) -> str:
        """The characters of a simple unit with its exponent, up to an operator or brace."""
        text, start = self.text, self.pos
        i = start
        while i < len(text):
            ch = text[i]
            if ch == "[":
                end = text.find("]", i + 1)
                if end < 0:
                    raise self.fail("'[' is not closed", i)
                nested = text.find("[", i + 1, end)
                if nested >= 0:
                    raise self.fail("square brackets cannot be nested", nested)
                i = end + 1
                continue
            if ch == "]":
                raise self.fail("']' without '['", i)
            if ch in _TERMINATORS:
                break
            i += 1
        self.pos = i
        return text[start:i]

    def annotation(self) -> None:
        text = self.text
        end = text.find("}", self.pos + 1)
        if end < 0:
            raise self.fail("'{' is not closed")
        nested = text.find("{", self.pos + 1, end)
        if nested >= 0:
            raise self.fail("curly braces cannot be nested", nested)
        self.pos = end + 1

    def simple_unit(self, raw: str, start: int) -> _Term:
        """A factor, or a (prefixed) atom with an optional exponent (UCUM §2.2.2-2.2.3)."""
        j = len(raw)
        while j > 0 and raw[j - 1] in _DIGITS:
            j -= 1
        if j == 0:
            return self.factor(raw, start)
        exponent = 1
        symbol = raw
        if j < len(raw):
            k = j - 1 if raw[j - 1] in "+-" else j
            if len(raw) - j > len(str(MAX_EXPONENT)) or int(raw[j:]) > MAX_EXPONENT:
                raise self.fail(f"exponent {raw[j:]} is too large", start + j)
            exponent = int(raw[j:]) * (-1 if raw[j - 1] == "-" else 1)
            symbol = raw[:k]
            if not symbol:
                raise self.fail("an exponent needs a unit", start)
            if all(c in _DIGITS for c in symbol):  # 2+10 is 2**10 (UCUM §2.2.3)
                return _power(self.factor(symbol, start), exponent)
        bracketed = False
        for n, ch in enumerate(symbol):
            if ch in "[]":
                bracketed = ch == "["
            elif not bracketed and ch in _NOT_IN_SYMBOL:
                raise self.fail(f"{ch!r} is not allowed in a unit symbol", start + n)
        return _power(self.atom(symbol, start), exponent)

    def factor(self, digits: str, start: int) -> _Term:
        if len(digits) > MAX_FACTOR_DIGITS:
            raise self.fail("the number is too long", start)
        value = int(digits)
        if value == 0:
            raise self.fail("the factor 0 leaves nothing to convert", start)
        return _Term(Fraction(value), self.resolver.one)

    def atom(self, symbol: str, start: int) -> _Term:
        """Prefix and atom: the prefix is the longest one whose remainder is a metric atom."""
        ess = self.resolver.essence
        for p in ess.prefix_codes:
            if len(symbol) > len(p) and symbol.startswith(p):
                atom = ess.atoms.get(symbol[len(p) :])
                if atom is not None and atom.metric:
                    t = self.resolver.atom(atom)
                    scale = ess.prefixes[p]
                    if t.problem is not None:
                        return t
                    if t.offset is not None:
                        return _Term(t.mag, t.dim, t.offset, t.special, None, t.alpha * scale)
                    return _Term(t.mag * scale, t.dim)
        atom = ess.atoms.get(symbol)
        if atom is None:
            raise self.fail(f"unknown unit {symbol!r}", start)
        return self.resolver.atom(atom)


def parse_with(text: str, resolver: Resolver) -> Unit:
    """Parse ``text`` with the atoms of ``resolver`` (raises UcumError)."""
    return _Parser(text, resolver).unit()
