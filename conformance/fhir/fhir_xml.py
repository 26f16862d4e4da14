"""FHIR XML -> FHIR JSON conversion, driven by the base R4 model.

Parsing is done with expat directly and refuses any DTD (so no entity expansion and no
external entities can occur). Whether an element repeats and which JSON type a primitive
takes come from the compiled R4 model, so the output is the JSON a FHIR server would emit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any
from xml.parsers import expat

from conformance.fhir.model import BACKBONE, COMPLEX, PRIMITIVE, RESOURCE, Elem, Model, base_model

XHTML_NS = "http://www.w3.org/1999/xhtml"


class FhirXmlError(ValueError):
    """The bytes are not well-formed, safe FHIR XML."""


class _X:
    __slots__ = ("attrs", "children", "tag", "tail", "text")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_X] = []
        self.text = ""
        self.tail = ""


class _TreeBuilder:
    """Builds element trees from expat, fed a chunk at a time.

    With ``split_entries``, each ``entry`` of a root ``Bundle`` is taken out of the tree
    as soon as it ends (:attr:`entries`), so memory holds one entry, not the Bundle.
    ``max_elements`` bounds the elements of one entry (or of the whole document).
    """

    def __init__(self, max_elements: int = 0, split_entries: bool = False) -> None:
        self.parser = p = expat.ParserCreate()
        p.buffer_text = True
        self.stack: list[_X] = []
        self.roots: list[_X] = []
        self.entries: list[tuple[int, _X]] = []
        """Bundle entries that have ended: (line where each starts, its tree)."""
        self.max_elements = max_elements
        self.split = split_entries
        self.count = 0
        self._entry_line = 0
        p.StartDoctypeDeclHandler = self._forbid
        p.EntityDeclHandler = self._forbid
        p.UnparsedEntityDeclHandler = self._forbid
        p.ExternalEntityRefHandler = self._forbid  # type: ignore[assignment]
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._chars

    def _forbid(self, *_args: Any) -> None:
        raise FhirXmlError("DTDs and entity declarations are not allowed in FHIR XML")

    def _is_entry(self, node: _X) -> bool:
        return (
            self.split
            and len(self.stack) == 1
            and node.tag == "entry"
            and (self.stack[0].tag == "Bundle")
        )

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        node = _X(tag.rsplit(":", 1)[-1], attrs)
        if self._is_entry(node):
            self.count = 0  # each entry has its own element budget
            self._entry_line = self.parser.CurrentLineNumber
        elif self.stack:
            self.stack[-1].children.append(node)
        else:
            self.roots.append(node)
        self.count += 1
        if self.max_elements and self.count > self.max_elements:
            raise FhirXmlError(
                f"more than {self.max_elements} elements in one resource (max-elements)"
            )
        self.stack.append(node)

    def _end(self, _tag: str) -> None:
        node = self.stack.pop()
        if self._is_entry(node):
            self.entries.append((self._entry_line, node))

    def _chars(self, text: str) -> None:
        if not self.stack:
            return
        top = self.stack[-1]
        if top.children:
            top.children[-1].tail += text
        else:
            top.text += text

    def feed(self, data: bytes | str, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise FhirXmlError(f"XML is not well-formed ({exc})") from None
        except LookupError:
            raise FhirXmlError("the XML declares an encoding that is not known") from None
        except RecursionError:
            raise FhirXmlError("XML nested too deeply") from None

    def root(self) -> _X:
        if len(self.roots) != 1:
            raise FhirXmlError("XML document has no root element")
        return self.roots[0]


def _parse(data: bytes | str) -> _X:
    builder = _TreeBuilder()
    builder.feed(data, True)
    return builder.root()


def _esc(s: str, attr: bool = False) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace('"', "&quot;") if attr else s


def _serialise(x: _X, top: bool) -> str:
    attrs = dict(x.attrs)
    if top and "xmlns" not in attrs:
        attrs["xmlns"] = XHTML_NS
    a = "".join(f' {k}="{_esc(v, True)}"' for k, v in attrs.items())
    inner = _esc(x.text) + "".join(_serialise(c, False) + _esc(c.tail) for c in x.children)
    if not inner:
        return f"<{x.tag}{a}/>"
    return f"<{x.tag}{a}>{inner}</{x.tag}>"


_NUM = re.compile(r"-?\d+")


def _primitive(value: str, prim: str) -> Any:
    """The JSON value of a primitive; text the JSON type cannot hold stays text (the
    validator reports it): a number of thousands of digits, an infinite decimal."""
    if prim == "boolean":
        return True if value == "true" else False if value == "false" else value
    if prim in ("integer", "positiveInt", "unsignedInt"):
        return int(value) if _NUM.fullmatch(value) and len(value) <= _MAX_DIGITS else value
    if prim == "decimal":
        if len(value) > _MAX_DIGITS:
            return value
        try:
            f = float(value)
        except ValueError:
            return value
        if _NUM.fullmatch(value):
            return int(value)
        return f if math.isfinite(f) else value
    return value


_MAX_DIGITS = 1000
"""Longer numbers stay text: Python refuses to convert very long ones (int_max_str_digits)."""


class _Converter:
    def __init__(self, model: Model) -> None:
        self.model = model

    def resource(self, x: _X) -> dict[str, Any]:
        if any(c.tag == "resourceType" for c in x.children):
            # In JSON it would replace the type (a Patient read as an empty Bundle).
            raise FhirXmlError(f"{x.tag} has a child element named 'resourceType'")
        out: dict[str, Any] = {"resourceType": x.tag}
        key = x.tag if x.tag in self.model.resource_types else None
        self.fill(out, x, key)
        return out

    def fill(self, out: dict[str, Any], x: _X, node_key: str | None) -> None:
        children = self.model.node(node_key).children if node_key is not None else {}
        if "id" in x.attrs:
            out["id"] = x.attrs["id"]
        if "url" in x.attrs:
            out["url"] = x.attrs["url"]
        groups: dict[str, list[tuple[Any, dict[str, Any] | None]]] = {}
        for c in x.children:
            groups.setdefault(c.tag, []).append(self.element(c, children.get(c.tag)))
        for name, items in groups.items():
            e = children.get(name)
            is_array = e.array if e is not None else len(items) > 1
            if is_array or len(items) > 1:
                values = [v for v, _ in items]
                exts = [x for _, x in items]
                if any(v is not None for v in values):
                    out[name] = values
                if any(x is not None for x in exts):
                    out["_" + name] = exts
            else:
                value, ext = items[0]
                if value is not None:
                    out[name] = value
                if ext is not None:
                    out["_" + name] = ext

    def element(self, x: _X, e: Elem | None) -> tuple[Any, dict[str, Any] | None]:
        """(JSON value, primitive-extension object or None) for one XML element."""
        if e is not None and e.kind == PRIMITIVE:
            assert e.prim is not None
            if e.prim.name == "xhtml" or x.tag == "div":
                return _serialise(x, True), None
            value = x.attrs.get("value")
            ext: dict[str, Any] = {}
            self.fill(ext, x, "Element")
            converted = _primitive(value, e.prim.name) if value is not None else None
            return converted, ext or None
        if e is not None and e.kind == RESOURCE:
            inner = x.children[0] if x.children else None
            return (self.resource(inner) if inner is not None else {}), None
        obj: dict[str, Any] = {}
        if e is None:
            if x.tag == "div":
                return _serialise(x, True), None
            if "value" in x.attrs and not x.children:
                return x.attrs["value"], None
            self.fill(obj, x, None)
            return obj, None
        if e.kind == BACKBONE:
            self.fill(obj, x, e.type)
        elif e.kind == COMPLEX:
            self.fill(obj, x, e.type if e.type in self.model.types else None)
        return obj, None


def parse_fhir_xml(data: bytes | str) -> dict[str, Any]:
    """Convert one FHIR XML resource to the FHIR JSON dict. Raises FhirXmlError."""
    root = _parse(data)
    return _Converter(base_model()).resource(root)


def iter_fhir_xml(
    chunks: Iterable[bytes], max_elements: int = 0
) -> Iterator[tuple[int | None, int, dict[str, Any] | FhirXmlError]]:
    """Read FHIR XML incrementally: ``(index, line, JSON)`` for each entry of a root Bundle
    as soon as it ends (an entry that cannot be converted gives its FhirXmlError), then
    ``(None, 1, JSON)`` for the document itself (a Bundle without its entries, or the one
    resource). Memory holds one entry at a time. Raises FhirXmlError when the document
    is not well-formed (after the entries before that point).
    """
    builder = _TreeBuilder(max_elements, split_entries=True)
    converter = _Converter(base_model())
    entry_elem = converter.model.node("Bundle").children["entry"]
    index = 0
    for chunk in chunks:
        builder.feed(chunk)
        for line, node in builder.entries:
            try:
                value, _ = converter.element(node, entry_elem)
            except FhirXmlError as exc:
                value = exc
            except RecursionError:
                value = FhirXmlError("XML nested too deeply")
            yield index, line, value
            index += 1
        builder.entries.clear()
    builder.feed(b"", True)
    for line, node in builder.entries:  # pragma: no cover - entries end before the root
        yield index, line, converter.element(node, entry_elem)[0]
        index += 1
    try:
        document = converter.resource(builder.root())
    except RecursionError:
        raise FhirXmlError("XML nested too deeply") from None
    yield None, 1, document
