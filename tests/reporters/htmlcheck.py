"""A strict reading of the HTML pages with the standard library: a small tree, or an error.

:func:`parse` fails on a tag closed out of order, a tag left open, a void element closed,
a duplicated attribute or id, a missing doctype, and a fragment link (``href="#x"``) to
no element. The tree answers the tests' questions (elements by tag and class, their text).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

# HTML elements that never have an end tag
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr"}
)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    line: int = 0

    def text(self) -> str:
        """The text of the element and its descendants, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        def wanted(n: Node) -> bool:
            return (
                (tag is None or n.tag == tag)
                and (cls is None or cls in n.classes())
                and all(n.attrs.get(k) == v for k, v in attrs.items())
            )

        return [n for n in self.iter() if wanted(n)]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'} class={cls} {attrs}>"
        return found[0]

    def select(self, test: Callable[[Node], bool]) -> list[Node]:
        return [n for n in self.iter() if test(n)]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]
        self.errors: list[str] = []
        self.ids: Counter[str] = Counter()
        self.fragments: list[tuple[str, int]] = []
        self.doctype = False

    def _open(self, tag: str, attrs: list[tuple[str, str | None]]) -> Node:
        line = self.getpos()[0]
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.errors.append(f"line {line}: <{tag}> repeats an attribute: {names}")
        node = Node(tag, dict(attrs), line=line)
        if node.attrs.get("id"):
            self.ids[str(node.attrs["id"])] += 1
        href = node.attrs.get("href")
        if href and href.startswith("#"):
            self.fragments.append((href[1:], line))
        self.stack[-1].children.append(node)
        return node

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = self._open(tag, attrs)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs)  # <rect .../> in SVG, <br/>

    def handle_endtag(self, tag: str) -> None:
        line = self.getpos()[0]
        if tag in VOID:
            self.errors.append(f"line {line}: </{tag}> closes a void element")
            return
        top = self.stack[-1]
        if top.tag != tag:
            self.errors.append(f"line {line}: </{tag}> closes <{top.tag}> (line {top.line})")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(text: str) -> Node:
    """The page as a tree; AssertionError listing every problem when it is not well formed."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    errors = list(builder.errors)
    if not builder.doctype:
        errors.append("no <!DOCTYPE html>")
    errors += [f"<{n.tag}> (line {n.line}) is never closed" for n in builder.stack[1:]]
    errors += [f'id="{i}" is used {n} times' for i, n in builder.ids.items() if n > 1]
    errors += [
        f'line {line}: href="#{target}" points at no element'
        for target, line in builder.fragments
        if target and target not in builder.ids
    ]
    assert not errors, "HTML not well formed:\n" + "\n".join(errors[:20])
    return builder.root
