"""The one XHTML checker: FHIR narrative rules (R4 §2.4.0.1, invariants txt-1/txt-2).

:func:`xhtml_problems` lists what is wrong with a narrative ``div``: it must be
well-formed XML without a DTD (XML's own five entities and numeric character references
only: HTML named entities such as ``&nbsp;`` are invalid, as in any XML without a DTD and
as HL7's validator reports them; no DOCTYPE or entity declarations) with an XHTML ``div``
root, use only the basic formatting elements
FHIR allows (no scripts, forms, frames, embedded objects, head/body/style/link/meta/base),
no event-handler (``on*``) or other disallowed attributes, and no ``javascript:`` or
``vbscript:`` URL in any attribute (links, images, styles; however spaced or escaped),
nor ``data:text/html`` links. Elements and attributes are those HL7's validator allows
(attributes per element: ``href`` on ``a`` and ``area``, ``src`` on ``img``...). An
internal link (``href="#x"``) must point at an element of the resource with that id or
name (:func:`unresolved_links`, :func:`link_targets`). :func:`html_checks` (``htmlChecks()``, txt-1)
is "no problems"; :func:`html_has_content` (``htmlChecks2()``, txt-2) asks for some
non-whitespace text or an image. Messages name markup (element and attribute names),
never the narrative's text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from typing import Final
from xml.parsers.expat import ErrorString

_XHTML_NS: Final = "{http://www.w3.org/1999/xhtml}"

#: the elements HL7's validator allows (R4 narrative: HTML 4.0 chapters 7-11 but 9.4, and 15)
_ALLOWED_ELEMENTS: Final = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "address",
        "area",
        "b",
        "bdo",
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
        "kbd",
        "li",
        "map",
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
#: attributes allowed on any element (core, i18n and table cell attributes)
_GLOBAL_ATTRIBUTES: Final = frozenset(
    [
        "abbr",
        "accesskey",
        "align",
        "axis",
        "char",
        "charoff",
        "class",
        "colspan",
        "dir",
        "headers",
        "id",
        "lang",
        "rowspan",
        "scope",
        "span",
        "style",
        "tabindex",
        "title",
        "valign",
        "width",
        "xml:lang",
    ]
)
#: attributes allowed on one element only (``element.attribute``)
_ELEMENT_ATTRIBUTES: Final = frozenset(
    [
        "a.charset",
        "a.coords",
        "a.href",
        "a.hreflang",
        "a.name",
        "a.rel",
        "a.rev",
        "a.shape",
        "a.type",
        "area.alt",
        "area.coords",
        "area.href",
        "area.nohref",
        "area.shape",
        "blockquote.cite",
        "img.alt",
        "img.border",
        "img.height",
        "img.ismap",
        "img.longdesc",
        "img.src",
        "img.usemap",
        "img.width",
        "map.name",
        "pre.xml:space",
        "q.cite",
        "table.border",
        "table.cellpadding",
        "table.cellspacing",
        "table.frame",
        "table.rules",
        "table.summary",
        "table.width",
        "td.nowrap",
    ]
)
_XML_ENTITIES: Final = frozenset({"amp", "lt", "gt", "quot", "apos"})
_ENTITY_RE: Final = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_UNDEFINED_ENTITY: Final = 11  # expat's XML_ERROR_UNDEFINED_ENTITY
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
    for m in _ENTITY_RE.finditer(div):
        if m.group(1) not in _XML_ENTITIES:
            return (
                f"uses the entity &{_name(m.group(1))}; which XHTML without a DTD does not "
                "define: only &amp; &lt; &gt; &quot; &apos; and numeric character references"
            )
    try:
        return ET.fromstring(div)
    except ET.ParseError as exc:
        line, column = exc.position
        if exc.code == _UNDEFINED_ENTITY:
            return (
                f"uses an undefined entity (line {line}, column {column}): only XML's own "
                "and numeric character references are known"
            )
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
            if attr not in _GLOBAL_ATTRIBUTES and f"{name}.{attr}" not in _ELEMENT_ATTRIBUTES:
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


@lru_cache(maxsize=256)
def _links(div: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The ids and names of the div's elements, and the '#fragment' targets of its links
    that none of them has."""
    root = _parse(div)
    if isinstance(root, str):
        return frozenset(), ()
    anchors: set[str] = set()
    wanted: list[str] = []
    for el in root.iter():
        for key in ("id", "name"):
            value = el.get(key)
            if value is not None:
                anchors.add(value)
        href = el.get("href")
        if href is not None and href[:1] == "#" and len(href) > 1:
            wanted.append(href[1:])
    return frozenset(anchors), tuple(dict.fromkeys(w for w in wanted if w not in anchors))


def unresolved_links(div: str) -> tuple[str, ...]:
    """The targets of the div's internal links (``href="#x"``) that no element of the div
    has as its id or name: the resource must have them elsewhere."""
    return _links(div)[1]


def link_targets(resource: object) -> set[str]:
    """What an internal narrative link may point at in a resource (HL7's validator): the
    id of any element or contained resource, and the id or name of any element of any
    narrative in it."""
    found: set[str] = set()
    stack = [resource]
    while stack:
        obj = stack.pop()
        if type(obj) is dict:
            for key, value in obj.items():
                if type(value) is str:
                    if key == "id":
                        found.add(value)
                    elif key == "div":
                        found.update(_links(value)[0])
                elif type(value) is dict or type(value) is list:
                    stack.append(value)
        elif type(obj) is list:
            stack.extend(x for x in obj if type(x) is dict or type(x) is list)
    return found


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
