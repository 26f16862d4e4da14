"""Local (offline) ValueSet expansion from CodeSystem and ValueSet resources.

Only what can be computed from the resources at hand is expanded: explicit concept lists,
whole complete code systems, ``concept is-a / descendent-of / is-not-a`` filters and nested
value sets. Anything else (SNOMED CT, LOINC, UCUM, other filters) makes the value set
*unexpandable*, and callers then skip the binding check rather than report false errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: system URL -> set of codes
Expansion = dict[str, frozenset[str]]


class CodeSystemInfo:
    """The codes of one complete code system and its is-a hierarchy (child -> parents)."""

    __slots__ = ("codes", "parents", "url")

    def __init__(self, url: str, codes: Iterable[str], parents: Mapping[str, list[str]]) -> None:
        self.url = url
        self.codes: frozenset[str] = frozenset(codes)
        self.parents: dict[str, list[str]] = dict(parents)

    @classmethod
    def from_resource(cls, cs: Mapping[str, Any]) -> CodeSystemInfo | None:
        """Build from a CodeSystem resource; None unless its content is complete."""
        url = cs.get("url")
        if not isinstance(url, str) or cs.get("content", "complete") != "complete":
            return None
        codes: list[str] = []
        parents: dict[str, list[str]] = {}

        def walk(concepts: Any, parent: str | None) -> None:
            if not isinstance(concepts, list):
                return
            for c in concepts:
                if not isinstance(c, dict):
                    continue
                code = c.get("code")
                if not isinstance(code, str):
                    continue
                codes.append(code)
                if parent is not None:
                    parents.setdefault(code, []).append(parent)
                for prop in c.get("property", ()) or ():
                    if (
                        isinstance(prop, dict)
                        and prop.get("code") in ("subsumedBy", "parent")
                        and isinstance(prop.get("valueCode"), str)
                    ):
                        parents.setdefault(code, []).append(prop["valueCode"])
                walk(c.get("concept"), code)

        walk(cs.get("concept"), None)
        return cls(url, codes, parents)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"codes": sorted(self.codes)}
        if self.parents:
            out["parents"] = {k: v for k, v in sorted(self.parents.items())}
        return out

    @classmethod
    def from_json(cls, url: str, data: Mapping[str, Any]) -> CodeSystemInfo:
        return cls(url, data["codes"], data.get("parents", {}))

    def descendants(self, code: str, include_self: bool) -> set[str]:
        children: dict[str, list[str]] = {}
        for child, ps in self.parents.items():
            for p in ps:
                children.setdefault(p, []).append(child)
        out: set[str] = {code} if include_self and code in self.codes else set()
        stack = list(children.get(code, ()))
        while stack:
            c = stack.pop()
            if c not in out:
                out.add(c)
                stack.extend(children.get(c, ()))
        return out


def strip_version(url: str) -> str:
    return url.split("|", 1)[0]


class Expander:
    """Expands ValueSets given lookups of ValueSet resources and code systems."""

    def __init__(
        self,
        valueset: Callable[[str], Mapping[str, Any] | None],
        codesystem: Callable[[str], CodeSystemInfo | None],
        expansion: Callable[[str], Expansion | None] | None = None,
    ) -> None:
        self._valueset = valueset
        self._codesystem = codesystem
        self._precomputed = expansion
        self._cache: dict[str, Expansion | None] = {}

    def expand(self, url: str) -> Expansion | None:
        url = strip_version(url)
        if url in self._cache:
            return self._cache[url]
        self._cache[url] = None  # guards against cycles
        result: Expansion | None = None
        vs = self._valueset(url)
        if vs is not None:
            result = self.expand_resource(vs)
        elif self._precomputed is not None:
            result = self._precomputed(url)
        self._cache[url] = result
        return result

    def expand_resource(self, vs: Mapping[str, Any]) -> Expansion | None:
        exp = vs.get("expansion")
        if isinstance(exp, dict) and isinstance(exp.get("contains"), list):
            acc: dict[str, set[str]] = {}
            _collect_contains(exp["contains"], acc)
            if exp.get("total") is None or exp.get("total") == sum(map(len, acc.values())):
                return {k: frozenset(v) for k, v in acc.items()}
        compose = vs.get("compose")
        if not isinstance(compose, dict):
            return None
        included: dict[str, set[str]] = {}
        for inc in compose.get("include", ()) or ():
            part = self._include(inc)
            if part is None:
                return None
            for system, codes in part.items():
                included.setdefault(system, set()).update(codes)
        for exc in compose.get("exclude", ()) or ():
            part = self._include(exc)
            if part is None:
                return None
            for system, codes in part.items():
                if system in included:
                    included[system] -= codes
        return {k: frozenset(v) for k, v in included.items()}

    def _include(self, inc: Any) -> dict[str, set[str]] | None:
        if not isinstance(inc, dict):
            return None
        system = inc.get("system")
        result: dict[str, set[str]] | None = None
        if isinstance(system, str):
            codes = self._system_codes(system, inc)
            if codes is None:
                return None
            result = {system: codes}
        nested = inc.get("valueSet") or []
        for ref in nested:
            sub = self.expand(ref) if isinstance(ref, str) else None
            if sub is None:
                return None
            # A nested value set intersects with the other parts of the same include.
            sub_sets = {k: set(v) for k, v in sub.items()}
            if result is None:
                result = sub_sets
            else:
                result = {k: v & sub_sets.get(k, set()) for k, v in result.items()}
        return result

    def _system_codes(self, system: str, inc: Mapping[str, Any]) -> set[str] | None:
        concepts = inc.get("concept")
        filters = inc.get("filter")
        if concepts:
            return {c["code"] for c in concepts if isinstance(c, dict) and "code" in c}
        cs = self._codesystem(system)
        if cs is None:
            return None
        if not filters:
            return set(cs.codes)
        codes: set[str] | None = None
        for f in filters:
            if not isinstance(f, dict) or f.get("property") not in ("concept", "code"):
                return None
            op, value = f.get("op"), f.get("value")
            if not isinstance(value, str):
                return None
            if op == "is-a":
                part = cs.descendants(value, include_self=True)
            elif op == "descendent-of":
                part = cs.descendants(value, include_self=False)
            elif op == "is-not-a":
                part = set(cs.codes) - cs.descendants(value, include_self=True)
            elif op == "in":
                part = {v for v in value.split(",") if v in cs.codes}
            elif op == "=":
                part = {value} & cs.codes
            else:
                return None
            codes = part if codes is None else codes & part
        return codes


def _collect_contains(contains: list[Any], acc: dict[str, set[str]]) -> None:
    for c in contains:
        if not isinstance(c, dict):
            continue
        if (
            isinstance(c.get("system"), str)
            and isinstance(c.get("code"), str)
            and c.get("abstract") is not True
        ):
            acc.setdefault(c["system"], set()).add(c["code"])
        if isinstance(c.get("contains"), list):
            _collect_contains(c["contains"], acc)
