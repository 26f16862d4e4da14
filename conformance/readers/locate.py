"""Line numbers for Bundle entries in pretty-printed JSON, found only when needed.

Standard JSON parsers drop positions. Rather than slow every read with a position-aware
parser, the engine asks for the lines of the few Bundle entries that have findings, after
the run: one scan of the file's tokens finds where each ``entry`` element starts.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import IO, Any

import orjson

_SPECIAL = re.compile(rb'["{}\[\]:,]')
CHUNK = 1 << 20
KEY_BYTES = 256
"""Strings longer than this are scanned past, never kept (keys are short)."""

Token = tuple[int, bytes | None, int]
"""(kind, text, line): kind is a structural byte (``{`` ``}`` ``[`` ``]`` ``:`` ``,``) or
``"`` for a string, whose text (quotes included) is kept only when short."""


def _chunks(data: bytes | IO[bytes]) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = bytes(data)
        for start in range(0, len(view), CHUNK):
            yield view[start : start + CHUNK]
        return
    while chunk := data.read(CHUNK):
        yield chunk


def json_tokens(data: bytes | IO[bytes]) -> Iterator[Token]:
    """The tokens of a JSON text, read a chunk at a time (bytes or a binary stream).

    Memory stays bounded whatever the input: a string is skipped with ``bytes.find``
    (a 40 MB base64 value costs one scan, not a regex's backtracking stack) and only its
    first :data:`KEY_BYTES` are kept.
    """
    line = 1
    in_string = False
    kept = bytearray()
    long_string = False
    backslashes = 0  # a run of backslashes that ended the previous chunk, inside a string
    string_line = 1
    for chunk in _chunks(data):
        pos = 0
        size = len(chunk)
        while pos < size:
            if in_string:
                quote = chunk.find(b'"', pos)
                stop = size if quote < 0 else quote
                piece = chunk[pos:stop]
                if not long_string:
                    if len(kept) + len(piece) <= KEY_BYTES:
                        kept += piece
                    else:
                        long_string = True
                line += piece.count(b"\n")
                run = len(piece) - len(piece.rstrip(b"\\"))
                backslashes = backslashes + run if run == len(piece) else run
                if quote < 0:
                    break
                if backslashes % 2:  # an escaped quote: still inside the string
                    if not long_string:
                        kept += b'"'
                    backslashes = 0
                    pos = quote + 1
                    continue
                in_string = False
                backslashes = 0
                yield 34, None if long_string else b'"' + bytes(kept) + b'"', string_line
                pos = quote + 1
                continue
            match = _SPECIAL.search(chunk, pos)
            if match is None:
                line += chunk.count(b"\n", pos)
                break
            at = match.start()
            line += chunk.count(b"\n", pos, at)
            byte = chunk[at]
            pos = at + 1
            if byte == 34:
                in_string, kept, long_string, backslashes, string_line = (
                    True, bytearray(), False, 0, line,
                )  # fmt: skip
            else:
                yield byte, None, line


_OPEN = (ord("{"), ord("["))


def bundle_entry_lines(data: bytes | IO[bytes]) -> list[int]:
    """1-based line of each element of a Bundle's top-level ``entry`` array, in order.

    ``data`` is the document or a binary stream of it: one streaming scan, with memory
    bounded by the number of entries (never by the size of a value in the Bundle).
    """
    lines: list[int] = []
    depth = 0
    in_entry = False
    entry_depth = -1
    last_key: bytes | None = None
    expect_key = False
    for kind, text, line in json_tokens(data):
        if kind == 34:
            if expect_key and depth == 1:
                last_key = text
            continue
        if kind == 58:  # :
            expect_key = False
            continue
        if kind == 44:  # ,
            expect_key = depth >= 1 and not (in_entry and depth == entry_depth)
            continue
        if kind in _OPEN:
            if in_entry and depth == entry_depth and kind == 123:
                lines.append(line)
            if depth == 1 and kind == 91 and last_key == b'"entry"':
                in_entry = True
                entry_depth = depth + 1
            depth += 1
            expect_key = kind == 123
        else:
            depth -= 1
            if in_entry and depth < entry_depth - 1:
                break
            expect_key = False
    return lines


def json_key_lines(data: bytes | IO[bytes]) -> dict[tuple[str | int, ...], int]:
    """1-based line of every value in a JSON document, by its path of keys and indices.

    For small documents (a feed manifest) whose problems must point at a line: the path
    ``("feed", "extracted")`` maps to the line where the ``"extracted"`` key stands.
    """
    lines: dict[tuple[str | int, ...], int] = {(): 1}
    # One frame per open container: [path, next array index or None, pending key]
    stack: list[list[Any]] = []

    def value_path() -> tuple[str | int, ...] | None:
        if not stack:
            return ()
        frame = stack[-1]
        if frame[1] is None:
            return (*frame[0], frame[2]) if frame[2] is not None else None
        return (*frame[0], frame[1])

    expecting_key = False
    for kind, text, line in json_tokens(data):
        if kind == 34:
            if expecting_key:
                try:
                    key = orjson.loads(text) if text is not None else None
                except orjson.JSONDecodeError:
                    key = None
                stack[-1][2] = key
                if key is not None:
                    lines[(*stack[-1][0], key)] = line
                expecting_key = False
            elif stack and stack[-1][1] is not None:
                lines.setdefault((*stack[-1][0], stack[-1][1]), line)
            continue
        if kind == 58:
            continue
        if kind == 44:
            if stack and stack[-1][1] is not None:
                stack[-1][1] += 1
            expecting_key = bool(stack) and stack[-1][1] is None
            continue
        if kind in _OPEN:
            path = value_path()
            if path is None:
                path = ()
            if stack and stack[-1][1] is not None:
                lines.setdefault(path, line)
            stack.append([path, None if kind == 123 else 0, None])
            expecting_key = kind == 123
            continue
        if stack:
            stack.pop()
        expecting_key = False
    return lines


def line_of(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int | None:
    """The line of ``path``, or of its nearest ancestor that the document has."""
    for cut in range(len(path), -1, -1):
        found = lines.get(path[:cut])
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------------ FHIR XML

XHTML_NS = "http://www.w3.org/1999/xhtml"
XmlPath = tuple[str | int, ...]


def xml_element_lines(
    data: bytes | IO[bytes], wanted: Collection[XmlPath] | None = None
) -> dict[XmlPath, int]:
    """1-based line of every element of a FHIR XML document, by its FHIR JSON path.

    ``wanted``: only the lines of these paths and their ancestors are kept, so memory
    follows the findings to place, not the document (which is read as a stream).

    Every element is keyed with its index among same-named siblings, as if it repeated
    (``("identifier", 0, "value", 0)``); the element naming a resource inside
    ``resource`` or ``contained`` adds no step, as in JSON. XHTML inside ``div`` is not
    entered. DTDs are refused, as the reader refuses them. Empty when not well-formed.
    """
    from xml.parsers import expat

    lines: dict[XmlPath, int] = {}
    keep = None if wanted is None else {p[:i] for p in wanted for i in range(len(p) + 1)}
    parser = expat.ParserCreate(namespace_separator=" ")
    stack: list[tuple[XmlPath, dict[str, int], bool]] = []  # path, sibling counts, in xhtml

    def refuse(*_args: Any) -> None:
        raise ValueError("DTD")

    def start(tag: str, _attrs: dict[str, str]) -> None:
        namespace, _, name = tag.rpartition(" ")
        if not stack:
            stack.append(((), {}, False))
            lines[()] = parser.CurrentLineNumber
            return
        path, siblings, in_xhtml = stack[-1]
        if in_xhtml:
            stack.append((path, {}, True))
            return
        if name[:1].isupper():  # a resource named inside resource / contained: no step
            stack.append((path, siblings, False))
            return
        index = siblings.get(name, 0)
        siblings[name] = index + 1
        child = (*path, name, index)
        if keep is None or child in keep:
            lines.setdefault(child, parser.CurrentLineNumber)
        stack.append((child, {}, namespace == XHTML_NS))

    def end(_tag: str) -> None:
        stack.pop()

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        if isinstance(data, bytes):
            parser.Parse(data, True)
        else:
            parser.ParseFile(data)
    except (expat.ExpatError, ValueError, LookupError):
        return lines
    return lines


_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def expression_path(expression: str) -> XmlPath:
    """The keys and indices of a finding's element expression (``Patient.identifier[0]
    .value`` -> ``("identifier", 0, "value", 0)``), up to the first step that is not a
    plain element (a function call such as ``identifier(system)``)."""
    steps: list[str] = []
    depth = 0
    current = ""
    for ch in expression:
        if ch == "." and depth == 0:
            steps.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    steps.append(current)
    if steps and steps[0][:1].isupper():
        steps = steps[1:]  # the resource type
    path: list[str | int] = []
    for step in steps:
        match = _STEP.fullmatch(step)
        if match is None:
            break
        path += [match.group(1), int(match.group(2) or 0)]
    return tuple(path)


def xml_path(expression: str | None, entry: int | None) -> XmlPath:
    """The path of a finding's element in a FHIR XML document; ``entry``: the Bundle entry
    whose resource the expression is in."""
    prefix: XmlPath = () if entry is None else ("entry", entry, "resource", 0)
    return (*prefix, *(expression_path(expression) if expression else ()))


def xml_line(lines: dict[XmlPath, int], expression: str | None, entry: int | None) -> int | None:
    """The line of a finding's element in a FHIR XML document (or of its nearest ancestor
    the document has)."""
    return line_of(lines, xml_path(expression, entry))


def is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".xml.gz"))
