"""Line numbers for Bundle entries in pretty-printed JSON, found only when needed.

Standard JSON parsers drop positions. Rather than slow every read with a position-aware
parser, the engine asks for the lines of the few Bundle entries that have findings, after
the run: one scan of the file's tokens finds where each ``entry`` element starts.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def bundle_entry_lines(data: bytes) -> list[int]:
    """1-based line of each element of a Bundle's top-level ``entry`` array, in order."""
    lines: list[int] = []
    depth = 0
    in_entry = False
    entry_depth = -1
    last_key: bytes | None = None
    line = 1
    last_pos = 0
    expect_key = False
    for match in _TOKEN.finditer(data):
        token = match.group()
        first = token[:1]
        if first == b'"':
            if expect_key and depth == 1:
                last_key = token
            continue
        if token == b":":
            expect_key = False
            continue
        if token == b",":
            expect_key = depth >= 1 and not (in_entry and depth == entry_depth)
            continue
        if first in b"{[":
            if in_entry and depth == entry_depth and first == b"{":
                start = match.start()
                line += data.count(b"\n", last_pos, start)
                last_pos = start
                lines.append(line)
            if depth == 1 and first == b"[" and last_key == b'"entry"':
                in_entry = True
                entry_depth = depth + 1
            depth += 1
            expect_key = first == b"{"
        else:
            depth -= 1
            if in_entry and depth < entry_depth - 1:
                in_entry = False
                break
            expect_key = False
    return lines


def json_key_lines(data: bytes) -> dict[tuple[str | int, ...], int]:
    """1-based line of every value in a JSON document, by its path of keys and indices.

    For small documents (a feed manifest) whose problems must point at a line: the path
    ``("feed", "extracted")`` maps to the line where the ``"extracted"`` key stands.
    """
    lines: dict[tuple[str | int, ...], int] = {(): 1}
    # One frame per open container: [path, next array index or None, pending key]
    stack: list[list[Any]] = []
    line = 1
    last = 0
    key: str | None = None

    def here(pos: int) -> int:
        nonlocal line, last
        line += data.count(b"\n", last, pos)
        last = pos
        return line

    def value_path() -> tuple[str | int, ...] | None:
        if not stack:
            return ()
        frame = stack[-1]
        if frame[1] is None:
            return (*frame[0], frame[2]) if frame[2] is not None else None
        return (*frame[0], frame[1])

    expecting_key = False
    for match in _TOKEN.finditer(data):
        token = match.group()
        first = token[:1]
        if first == b'"':
            if expecting_key:
                try:
                    key = orjson.loads(token)
                except orjson.JSONDecodeError:
                    key = None
                stack[-1][2] = key
                if key is not None:
                    lines[(*stack[-1][0], key)] = here(match.start())
                expecting_key = False
            elif stack and stack[-1][1] is not None:
                lines.setdefault((*stack[-1][0], stack[-1][1]), here(match.start()))
            continue
        if token == b":":
            continue
        if token == b",":
            if stack and stack[-1][1] is not None:
                stack[-1][1] += 1
            expecting_key = bool(stack) and stack[-1][1] is None
            continue
        if first in b"{[":
            path = value_path()
            if path is None:
                path = ()
            if stack and stack[-1][1] is not None:
                lines.setdefault(path, here(match.start()))
            stack.append([path, None if first == b"{" else 0, None])
            expecting_key = first == b"{"
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


def xml_element_lines(data: bytes) -> dict[XmlPath, int]:
    """1-based line of every element of a FHIR XML document, by its FHIR JSON path.

    Every element is keyed with its index among same-named siblings, as if it repeated
    (``("identifier", 0, "value", 0)``); the element naming a resource inside
    ``resource`` or ``contained`` adds no step, as in JSON. XHTML inside ``div`` is not
    entered. DTDs are refused, as the reader refuses them. Empty when not well-formed.
    """
    from xml.parsers import expat

    lines: dict[XmlPath, int] = {}
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
        lines.setdefault(child, parser.CurrentLineNumber)
        stack.append((child, {}, namespace == XHTML_NS))

    def end(_tag: str) -> None:
        stack.pop()

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
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


def xml_line(lines: dict[XmlPath, int], expression: str | None, entry: int | None) -> int | None:
    """The line of a finding's element in a FHIR XML document (or of its nearest ancestor
    the document has); ``entry``: the Bundle entry whose resource the expression is in."""
    prefix: XmlPath = () if entry is None else ("entry", entry, "resource", 0)
    path = (*prefix, *(expression_path(expression) if expression else ()))
    return line_of(lines, path)


def is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".xml.gz"))
