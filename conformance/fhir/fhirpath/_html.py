"""The one XHTML checker: FHIR narrative rules (R4 §2.4.0.1, invariants txt-1/txt-2).

:func:`xhtml_problems` lists what is wrong with a narrative ``div``: it must be
well-formed XML (HTML named entities such as ``&nbsp;`` are accepted, DOCTYPE and entity
declarations are not) with an XHTML ``div`` root, use only the basic formatting elements
FHIR allows (no scripts, forms, frames, embedded objects, head/body/style/link/meta/base),
no event-handler (``on*``) or other disallowed attributes, and no ``javascript:`` or
``vbscript:`` URL in any attribute (links, images, styles; however spaced or escaped),
nor ``data:text/html`` links. :func:`html_checks` (``htmlChecks()``, txt-1)
is "no problems"; :func:`html_has_content` (``htmlChecks2()``, txt-2) asks for some
non-whitespace text or an image. Messages name markup (element and attribute names),
never the narrative's text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from html.entities import name2codepoint
from typing import Final
from xml.parsers.expat import ErrorString

_XHTML_NS: Final = "{http://www.w3.org/1999/xhtml}"

_ALLOWED_ELEMENTS: Final = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "b",
        "big",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "ul",
        "var",
    ]
)
_ALLOWED_ATTRIBUTES: Final = frozenset(
    [
        "abbr",
        "accesskey",
        "align",
        "alt",
        "axis",
        "bgcolor",
        "border",
        "cellhalign",
        "cellpadding",
        "cellspacing",
        "cellvalign",
        "char",
        "charoff",
        "charset",
        "cite",
        "class",
        "colspan",
        "compact",
        "coords",
        "dir",
        "frame",
        "headers",
        "height",
        "href",
        "hreflang",
        "hspace",
        "id",
        "lang",
        "longdesc",
        "name",
        "nowrap",
        "rel",
        "rev",
        "rowspan",
        "rules",
        "scope",
        "shape",
        "span",
        "src",
        "start",
        "style",
        "summary",
        "tabindex",
        "title",
        "type",
        "valign",
        "value",
        "vspace",
        "width",
        "xml:lang",
    ]
)
_XML_ENTITIES: Final = frozenset({"amp", "lt", "gt", "quot", "apos"})
_ENTITY_RE: Final = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _replace_entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name in _XML_ENTITIES:
        return m.group(0)
    code = name2codepoint.get(name)
    return f"&#{code};" if code is not None else m.group(0)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_DECLARATION: Final = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_ATTR_NS: Final = "{http://www.w3.org/XML/1998/namespace}"
_NAME_MAX: Final = 40


def _name(text: str) -> str:
    """A markup name for a message, cut short (it comes from the data)."""
    return text if len(text) <= _NAME_MAX else text[:_NAME_MAX] + "..."


@lru_cache(maxsize=256)
def _parse(div: str) -> ET.Element | str:
    """The parsed div, or why it does not parse."""
    if _DECLARATION.search(div):
        return "must not contain a DOCTYPE or entity declarations"
    try:
        return ET.fromstring(_ENTITY_RE.sub(_replace_entity, div))
    except ET.ParseError as exc:
        line, column = exc.position
        return f"is not well-formed XML: {ErrorString(exc.code)} (line {line}, column {column})"


#: what browsers drop from a URL before reading its scheme (so ``java&#9;script:`` runs)
_URL_IGNORED: Final = re.compile(r"[\x00-\x20\x7f]+")


def _script_scheme(attr: str, value: str) -> str | None:
    """The script scheme an attribute value uses, in a link, an image or a style (url(...)),
    however spaced or cased; None when it uses none."""
    flat = _URL_IGNORED.sub("", value).lower()
    for scheme in ("javascript", "vbscript"):
        if scheme + ":" in flat:
            return scheme
    if attr in ("href", "src") and flat.startswith("data:text/html"):
        return "data"
    return None


@lru_cache(maxsize=256)
def _problems(div: str) -> tuple[str, ...]:
    root = _parse(div)
    if isinstance(root, str):
        return (root,)
    if root.tag != _XHTML_NS + "div":
        return ('the root element must be an XHTML div (xmlns="http://www.w3.org/1999/xhtml")',)
    found: list[str] = []
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str) or not tag.startswith(_XHTML_NS):
            found.append(f"element <{_name(str(tag))}> is not in the XHTML namespace")
            continue
        name = _local(tag)
        if name not in _ALLOWED_ELEMENTS:
            found.append(f"element <{_name(name)}> is not allowed")
        for attr, value in el.attrib.items():
            if attr.startswith(_XML_ATTR_NS):
                attr = "xml:" + _local(attr)
            elif attr.startswith("{"):
                found.append(f"attribute {_name(attr)!r} on <{name}> is not allowed")
                continue
            if attr not in _ALLOWED_ATTRIBUTES:
                kind = "event handler attribute" if attr.startswith("on") else "attribute"
                found.append(f"{kind} {_name(attr)!r} on <{name}> is not allowed")
            else:
                scheme = _script_scheme(attr, value)
                if scheme is not None:
                    found.append(f"<{name} {attr}> must not use a {scheme}: URL")
    return tuple(found)


def xhtml_problems(div: str) -> list[str]:
    """What is wrong with narrative XHTML ``div`` (see the module docstring); [] if fine."""
    return list(_problems(div))


def html_checks(div: str) -> bool:
    """True when ``div`` is a well-formed XHTML div using only the allowed markup."""
    return not _problems(div)


def html_has_content(div: str) -> bool:
    """True when ``div`` parses and has some non-whitespace text or an image."""
    root = _parse(div)
    if isinstance(root, str):
        return False
    for el in root.iter():
        if isinstance(el.tag, str) and _local(el.tag) == "img":
            return True
        if (el.text and el.text.strip()) or (el is not root and el.tail and el.tail.strip()):
            return True
    return False
