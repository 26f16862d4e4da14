"""Lexer and Pratt parser for FHIRPath (the R4-era N1 grammar) producing a small AST."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from ._values import CALENDAR_UNITS, Quantity, parse_datetime, parse_time


class FhirPathError(Exception):
    """A FHIRPath expression could not be compiled; names the expression and position."""

    def __init__(self, message: str, expression: str = "", position: int | None = None):
        self.expression = expression
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where} in FHIRPath expression {expression!r}")


# --- AST ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Literal(Node):
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Ident(Node):
    """A member name at the start of a path, navigated from the current focus."""

    name: str


@dataclass(frozen=True)
class Member(Node):
    base: Node
    name: str


@dataclass(frozen=True)
class Call(Node):
    """Function call; ``base`` is None when called on the current focus."""

    base: Node | None
    name: str
    args: tuple[Node, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Indexer(Node):
    base: Node
    index: Node


@dataclass(frozen=True)
class Var(Node):
    """``%name`` external constant."""

    name: str


@dataclass(frozen=True)
class Special(Node):
    """``$this``, ``$index`` or ``$total``."""

    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class TypeOp(Node):
    """``expr is T`` / ``expr as T``."""

    op: str
    operand: Node
    type_name: str


# --- lexer --------------------------------------------------------------------------

_TOKEN_RE: Final = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<datetime>@(?:T[0-9:.]+|\d{4}(?:-\d{2}(?:-\d{2})?)?
                    (?:T(?:[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?)?))
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<delimited>`(?:[^`\\]|\\.)*`)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<special>\$(?:this|index|total))
  | (?P<op><=|>=|!=|!~|[-+*/|&=~<>()\[\]{}.,%])
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES: Final = {
    "'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/",
    "f": "\f", "n": "\n", "r": "\r", "t": "\t",
}  # fmt: skip


def unescape(body: str) -> str:
    """Decode FHIRPath string escapes; unknown escapes keep their backslash (regexes)."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch == "\\" and i + 1 < n:
            nxt = body[i + 1]
            if (
                nxt == "u"
                and i + 5 < n + 0
                and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6])
            ):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            else:
                out.append("\\" + nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(expression: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    n = len(expression)
    while pos < n:
        m = _TOKEN_RE.match(expression, pos)
        if m is None:
            raise FhirPathError(f"unexpected character {expression[pos]!r}", expression, pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "", n))
    return tokens


# --- parser -------------------------------------------------------------------------

# Binding powers, following the order of alternatives in the FHIRPath grammar.
_INFIX: Final[dict[str, int]] = {
    "implies": 10,
    "or": 20, "xor": 20,
    "and": 30,
    "in": 35, "contains": 35,
    "=": 40, "~": 40, "!=": 40, "!~": 40,
    "is": 45, "as": 45,
    "<=": 50, "<": 50, ">": 50, ">=": 50,
    "|": 60,
    "+": 70, "-": 70, "&": 70,
    "*": 80, "/": 80, "div": 80, "mod": 80,
}  # fmt: skip
_UNARY_BP: Final = 90
_KEYWORD_OPS: Final = frozenset(
    {"implies", "or", "xor", "and", "in", "contains", "is", "as", "div", "mod"}
)


class Parser:
    def __init__(self, expression: str):
        self.expression = expression
        self.tokens = tokenize(expression)
        self.i = 0

    def error(self, message: str, tok: Token | None = None) -> FhirPathError:
        tok = tok or self.tokens[self.i]
        return FhirPathError(message, self.expression, tok.pos)

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> Token:
        tok = self.next()
        if tok.text != text or tok.kind in ("string", "delimited"):
            raise self.error(f"expected {text!r} but found {tok.text or 'end'!r}", tok)
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "eof":
            raise self.error("empty expression")
        node = self.expr(0)
        tok = self.peek()
        if tok.kind != "eof":
            raise self.error(f"unexpected {tok.text!r}", tok)
        return node

    def _infix_op(self, tok: Token) -> str | None:
        if tok.kind == "op" and tok.text in _INFIX:
            return tok.text
        if tok.kind == "ident" and tok.text in _KEYWORD_OPS:
            return tok.text
        return None

    def expr(self, min_bp: int) -> Node:
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text == ".":
                self.next()
                left = self.invocation(left)
                continue
            if tok.kind == "op" and tok.text == "[":
                self.next()
                index = self.expr(0)
                self.expect("]")
                left = Indexer(tok.pos, left, index)
                continue
            op = self._infix_op(tok)
            if op is None:
                break
            bp = _INFIX[op]
            if bp <= min_bp:
                break
            self.next()
            if op in ("is", "as"):
                left = TypeOp(tok.pos, op, left, self.type_specifier())
            else:
                right = self.expr(bp)
                left = Binary(tok.pos, op, left, right)
        return left

    def type_specifier(self) -> str:
        parts = [self.identifier()]
        while self.peek().text == "." and self.peek().kind == "op":
            self.next()
            parts.append(self.identifier())
        return ".".join(parts)

    def identifier(self) -> str:
        tok = self.next()
        if tok.kind == "ident":
            return tok.text
        if tok.kind == "delimited":
            return unescape(tok.text[1:-1])
        raise self.error(f"expected an identifier but found {tok.text or 'end'!r}", tok)

    def invocation(self, base: Node) -> Node:
        tok = self.peek()
        if tok.kind == "special":
            self.next()
            return Special(tok.pos, tok.text)
        name = self.identifier()
        if self.peek().text == "(" and self.peek().kind == "op":
            return Call(tok.pos, base, name, self.arguments())
        return Member(tok.pos, base, name)

    def arguments(self) -> tuple[Node, ...]:
        self.expect("(")
        args: list[Node] = []
        if self.peek().text == ")" and self.peek().kind == "op":
            self.next()
            return ()
        while True:
            args.append(self.expr(0))
            tok = self.next()
            if tok.kind == "op" and tok.text == ")":
                return tuple(args)
            if not (tok.kind == "op" and tok.text == ","):
                raise self.error(f"expected ',' or ')' but found {tok.text or 'end'!r}", tok)

    def prefix(self) -> Node:
        tok = self.next()
        kind, text = tok.kind, tok.text
        if kind == "op":
            if text == "(":
                inner = self.expr(0)
                self.expect(")")
                return inner
            if text in ("+", "-"):
                operand = self.expr(_UNARY_BP)
                return Unary(tok.pos, text, operand)
            if text == "{":
                self.expect("}")
                return Literal(tok.pos, ())
            if text == "%":
                nxt = self.next()
                if nxt.kind == "ident":
                    return Var(tok.pos, nxt.text)
                if nxt.kind in ("string", "delimited"):
                    return Var(tok.pos, unescape(nxt.text[1:-1]))
                raise self.error("expected a name after '%'", nxt)
            raise self.error(f"unexpected {text!r}", tok)
        if kind == "string":
            return Literal(tok.pos, (unescape(text[1:-1]),))
        if kind == "number":
            return self.number(tok)
        if kind == "datetime":
            return self.datetime(tok)
        if kind == "special":
            return Special(tok.pos, text)
        if kind in ("ident", "delimited"):
            name = text if kind == "ident" else unescape(text[1:-1])
            if kind == "ident" and name in ("true", "false"):
                return Literal(tok.pos, (name == "true",))
            nxt = self.peek()
            if nxt.kind == "op" and nxt.text == "(":
                return Call(tok.pos, None, name, self.arguments())
            if kind == "ident" and name in _KEYWORD_OPS - {"as", "is", "contains", "in"}:
                raise self.error(f"unexpected keyword {name!r}", tok)
            return Ident(tok.pos, name)
        raise self.error("unexpected end of expression", tok)

    def number(self, tok: Token) -> Node:
        text = tok.text
        value: int | Decimal = Decimal(text) if "." in text else int(text)
        nxt = self.peek()
        if nxt.kind == "string":
            self.next()
            return Literal(tok.pos, (Quantity(value, unescape(nxt.text[1:-1])),))
        if nxt.kind == "ident" and nxt.text in CALENDAR_UNITS:
            self.next()
            return Literal(tok.pos, (Quantity(value, nxt.text),))
        return Literal(tok.pos, (value,))

    def datetime(self, tok: Token) -> Node:
        body = tok.text[1:]
        if body.startswith("T"):
            value = parse_time(body[1:])
        else:
            value = parse_datetime(body.rstrip("T"))
        if value is None:
            raise self.error(f"invalid date/time literal {tok.text!r}", tok)
        return Literal(tok.pos, (value,))


def parse(expression: str) -> Node:
    return Parser(expression).parse()
