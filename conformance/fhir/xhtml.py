"""The narrative XHTML rules (R4 §2.4 Narrative; invariants txt-1 and txt-2).

The one implementation of them: the ``xhtml`` primitive of the base walk and the FHIRPath
functions ``htmlChecks()``/``htmlChecks2()`` both call it.

``html_checks`` (txt-1): the narrative ``div`` is well-formed XML with an XHTML ``div``
root, uses only the basic formatting elements FHIR allows (no scripts, forms, frames,
styles sheets, links or embedded objects), only the allowed attributes (so no event
handlers such as ``onclick``), and no script URL in any attribute (``javascript:`` or
``vbscript:``, however spaced or escaped; ``data:text/html`` links and images).
``html_has_content`` (txt-2, ``htmlChecks2()``): it has some non-whitespace text or an
image.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from html.entities import name2codepoint
from typing import Final

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


def _parse(div: str) -> ET.Element | None:
    try:
        return ET.fromstring(_ENTITY_RE.sub(_replace_entity, div))
    except ET.ParseError:
        return None


@lru_cache(maxsize=256)
def _verdicts(div: str) -> tuple[bool, bool]:
    """(txt-1, txt-2) of a narrative, parsed once (the two are usually asked together)."""
    root = _parse(div)
    if root is None:
        return False, False
    return _allowed(root), _has_content(root)


def html_checks(div: str) -> bool:
    """True when ``div`` is a well-formed XHTML div using only the allowed markup."""
    return _verdicts(div)[0]


def html_has_content(div: str) -> bool:
    """True when ``div`` parses and has some non-whitespace text or an image."""
    return _verdicts(div)[1]


def narrative_ok(div: str) -> bool:
    """The ``xhtml`` primitive: a ``div`` element with the XHTML namespace, written first,
    that meets :func:`html_checks`."""
    return div.lstrip().startswith("<div") and _verdicts(div)[0]


def _allowed(root: ET.Element) -> bool:
    if root.tag != _XHTML_NS + "div":
        return False
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str) or not tag.startswith(_XHTML_NS):
            return False
        name = _local(tag)
        if name not in _ALLOWED_ELEMENTS:
            return False
        for attr, value in el.attrib.items():
            aname = attr
            if aname.startswith("{http://www.w3.org/XML/1998/namespace}"):
                aname = "xml:" + _local(aname)
            elif aname.startswith("{"):
                return False
            if aname not in _ALLOWED_ATTRIBUTES or _scripted(aname, value):
                return False
    return True


#: what browsers drop from a URL before reading its scheme (so ``java\tscript:`` runs)
_URL_IGNORED: Final = re.compile(r"[\x00-\x20\x7f]+")


def _scripted(name: str, value: str) -> bool:
    """An attribute value that could run a script (in a link, an image or a style)."""
    flat = _URL_IGNORED.sub("", value).lower()
    if "javascript:" in flat or "vbscript:" in flat:
        return True
    return name in ("href", "src") and flat.startswith("data:text/html")


def _has_content(root: ET.Element) -> bool:
    for el in root.iter():
        if isinstance(el.tag, str) and _local(el.tag) == "img":
            return True
        if (el.text and el.text.strip()) or (el is not root and el.tail and el.tail.strip()):
            return True
    return False
