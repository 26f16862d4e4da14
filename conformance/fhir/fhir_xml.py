"""FHIR XML -> FHIR JSON conversion, driven by the base R4 model.

Parsing is done with expat directly and refuses any DTD (so no entity expansion and no
external entities can occur). Whether an element repeats and which JSON type a primitive
takes come from the compiled R4 model, so the output is the JSON a FHIR server would emit.
"""

from __future__ import annotations

import re
from typing import Any
from xml.parsers import expat

from conformance.fhir._model import BACKBONE, COMPLEX, PRIMITIVE, RESOURCE, Elem, Model, base_model

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


def _parse(data: bytes) -> _X:
    p = expat.ParserCreate()
    stack: list[_X] = []
    roots: list[_X] = []

    def forbid(*_args: Any) -> None:
        raise FhirXmlError("DTDs and entity declarations are not allowed in FHIR XML")

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _X(tag.rsplit(":", 1)[-1], attrs)
        if stack:
            stack[-1].children.append(node)
        else:
            roots.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if not stack:
            return
        top = stack[-1]
        if top.children:
            top.children[-1].tail += text
        else:
            top.text += text

    p.StartDoctypeDeclHandler = forbid
    p.EntityDeclHandler = forbid
    p.UnparsedEntityDeclHandler = forbid
    p.ExternalEntityRefHandler = forbid  # type: ignore[assignment]
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    try:
        p.Parse(data, True)
    except expat.ExpatError as exc:
        raise FhirXmlError(f"XML is not well-formed ({exc})") from None
    except LookupError:
        raise FhirXmlError("the XML declares an encoding that is not known") from None
    if len(roots) != 1:
        raise FhirXmlError("XML document has no root element")
    return roots[0]


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
    if prim == "boolean":
        return True if value == "true" else False if value == "false" else value
    if prim in ("integer", "positiveInt", "unsignedInt"):
        return int(value) if _NUM.fullmatch(value) else value
    if prim == "decimal":
        try:
            f = float(value)
        except ValueError:
            return value
        return int(value) if _NUM.fullmatch(value) else f
    return value


class _Converter:
    def __init__(self, model: Model) -> None:
        self.model = model

    def resource(self, x: _X) -> dict[str, Any]:
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


def parse_fhir_xml(data: bytes) -> dict[str, Any]:
    """Convert one FHIR XML resource to the FHIR JSON dict. Raises FhirXmlError."""
    root = _parse(data)
    return _Converter(base_model()).resource(root)
