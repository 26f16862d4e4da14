"""The compiled base R4 model: per-type element rules built lazily from the shipped data.

Everything here is computed once per process (per type, on first use) so that the
per-resource validation walk only does dict look-ups and precompiled checks.
"""

from __future__ import annotations

import calendar
import gzip
import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import orjson

from conformance.fhir.terminology import CodeSystemInfo, Expansion

DATA_PACKAGE = "conformance.fhir.data"

# kinds of element
PRIMITIVE = 0
COMPLEX = 1
BACKBONE = 2
RESOURCE = 3


def _read_gz(name: str) -> Any:
    raw = resources.files(DATA_PACKAGE).joinpath(name).read_bytes()
    return orjson.loads(gzip.decompress(raw))


@cache
def core_data() -> dict[str, Any]:
    """The precompiled core model (types, invariants, bound value set expansions)."""
    data: dict[str, Any] = _read_gz("r4.json.gz")
    return data


@cache
def core_terminology() -> dict[str, Any]:
    """All expandable core value sets and complete core code systems (loaded on demand)."""
    data: dict[str, Any] = _read_gz("r4-terminology.json.gz")
    return data


@cache
def core_profiles() -> dict[str, dict[str, Any]]:
    """Core profiles and extension definitions, by canonical URL (loaded on demand)."""
    return {p["url"]: p for p in _read_gz("r4-profiles.json.gz")["profiles"]}


@cache
def core_codesystem(url: str) -> CodeSystemInfo | None:
    cs = core_terminology()["codesystems"].get(url)
    return None if cs is None else CodeSystemInfo.from_json(url, cs)


@cache
def core_expansion(url: str) -> Expansion | None:
    vs = core_data()["valuesets"].get(url)
    if vs is None:
        vs = core_terminology()["valuesets"].get(url)
    if vs is None:
        return None
    return {system: frozenset(codes) for system, codes in vs.items()}


# ---------------------------------------------------------------------------- primitives

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_DATE_PARTS = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_XHTML_NS = 'xmlns="http://www.w3.org/1999/xhtml"'
_XHTML_BAD = re.compile(
    r"<\s*(script|object|applet|embed|form|iframe|frame|frameset|input|button|select|"
    r"textarea|style|link|meta|base|head|body|html)\b|\son\w+\s*=|javascript:",
    re.IGNORECASE,
)


def _date_ok(value: str) -> bool:
    m = _DATE_PARTS.match(value)
    if m is None:
        return False
    y, mo, d = m.group(1), m.group(2), m.group(3)
    if d is not None and mo is not None and d > "28":
        return int(d) <= calendar.monthrange(int(y), int(mo))[1]
    return True


class Prim:
    """Precompiled check of one primitive type; ``ok(value)`` is the whole hot path."""

    __slots__ = ("expect", "name", "ok")

    def __init__(self, name: str, regex: str) -> None:
        self.name = name
        rx = re.compile(regex, re.ASCII).fullmatch if regex else None
        self.expect = "a string"
        ok: Callable[[Any], bool]
        if name == "boolean":
            self.expect = "a JSON boolean"

            def ok(v: Any) -> bool:
                return v is True or v is False
        elif name in ("integer", "positiveInt", "unsignedInt"):
            self.expect = "a JSON integer in range"
            low = {"integer": _INT_MIN, "positiveInt": 1, "unsignedInt": 0}[name]

            def ok(v: Any) -> bool:
                return type(v) is int and low <= v <= _INT_MAX
        elif name == "decimal":
            self.expect = "a JSON number"

            def ok(v: Any) -> bool:
                t = type(v)
                return t is int or (t is float and math.isfinite(v))
        elif name in ("date", "dateTime", "instant"):
            assert rx is not None
            rxm = rx

            def ok(v: Any) -> bool:
                return type(v) is str and rxm(v) is not None and _date_ok(v)
        elif name == "xhtml":

            def ok(v: Any) -> bool:
                return (
                    type(v) is str
                    and v.lstrip().startswith("<div")
                    and _XHTML_NS in v
                    and _XHTML_BAD.search(v) is None
                )
        elif name == "base64Binary":
            b64 = re.compile(r"[A-Za-z0-9+/]*={0,2}").fullmatch
            ws = re.compile(r"\s+")

            def ok(v: Any) -> bool:
                if type(v) is not str:
                    return False
                s = ws.sub("", v) if " " in v or "\n" in v or "\r" in v or "\t" in v else v
                return len(s) % 4 == 0 and s != "" and b64(s) is not None
        elif name in ("string", "markdown"):

            def ok(v: Any) -> bool:
                # the regex [ \r\n\t\S]+ only forbids empty strings and other control spaces
                return type(v) is str and v != "" and (v.isprintable() or _str_rx(v))
        else:
            assert rx is not None, name
            rxm = rx

            def ok(v: Any) -> bool:
                return type(v) is str and rxm(v) is not None

        self.ok = ok


_str_rx_c = re.compile(r"[ \r\n\t\S]+", re.ASCII).fullmatch


def _str_rx(v: str) -> bool:
    return _str_rx_c(v) is not None


# ------------------------------------------------------------------------------ elements


class Binding:
    __slots__ = ("codes", "expansion", "strength", "valueset")

    def __init__(self, strength: str, valueset: str, expansion: Expansion) -> None:
        self.strength = strength
        self.valueset = valueset
        self.expansion = expansion
        self.codes: frozenset[str] = frozenset().union(*expansion.values())

    def has_coding(self, coding: Any) -> bool:
        if type(coding) is not dict:
            return False
        system, code = coding.get("system"), coding.get("code")
        if type(system) is not str:
            return False
        codes = self.expansion.get(system)
        return codes is not None and type(code) is str and code in codes


class Invariant:
    """One invariant with a precompiled evaluator ``check(focus, resource, root) -> bool``.

    ``check`` raises on evaluation failure; the caller turns that into an issue.
    """

    __slots__ = ("check", "expression", "human", "key", "severity", "source", "trigger")

    def __init__(
        self,
        key: str,
        severity: str,
        human: str,
        expression: str,
        check: Callable[[Any, Any, Any], bool],
        source: str = "base",
    ) -> None:
        self.key = key
        self.severity = severity
        self.human = human
        self.expression = expression
        self.check = check
        self.source = source
        # the invariant holds trivially when this key is absent from the focus object
        self.trigger: str | None = TRIGGERS.get(key) if source == "base" else None


class Elem:
    """Rule for one JSON property of one node."""

    __slots__ = (
        "array",
        "binding",
        "choice",
        "invariants",
        "kind",
        "max",
        "min",
        "name",
        "node",
        "ok",
        "path",
        "prim",
        "targets",
        "type",
    )

    def __init__(self, name: str, path: str, type_: str, min_: int, max_: int) -> None:
        self.name = name
        self.path = path  # the element's definition path (e.g. Observation.value[x])
        self.type = type_
        self.min = min_
        self.max = max_
        self.array = max_ != 1
        self.choice: str | None = None
        self.kind = COMPLEX
        self.prim: Prim | None = None
        self.ok: Callable[[Any], bool] | None = None
        self.node: Node | None = None
        self.binding: Binding | None = None
        self.targets: frozenset[str] | None = None
        self.invariants: tuple[Invariant, ...] = ()


class Node:
    """The rules for one JSON object: a datatype, a resource or a backbone element."""

    __slots__ = ("children", "fast", "has_choice", "invariants", "is_resource", "name", "required")

    def __init__(self, name: str) -> None:
        self.name = name  # type name or backbone path; used as FHIRPath base
        self.children: dict[str, Elem] = {}
        self.required: tuple[tuple[str, tuple[str, ...]], ...] = ()
        self.invariants: tuple[Invariant, ...] = ()
        self.has_choice = False
        self.is_resource = False
        #: the fast-path rules of a datatype (see :func:`fast_ok`); None until computed
        self.fast: FastSpec | None = None


# ------------------------------------------------------------------ datatype fast path

PrimOk = Callable[[Any], bool]


class FastSpec:
    """What a datatype's fast check needs: its simple keys, required groups, invariants.

    ``prims`` maps each primitive key the fast path can decide to one predicate of its
    JSON value (array shape and code binding folded in); ``nodes`` maps each complex key to
    (spec, is array, max items). Any other key (an extension, a choice, a primitive's
    ``_key``, a backbone) sends the object to the full walk. ``usable`` is False for types
    the fast path never handles.
    """

    __slots__ = ("invariants", "nodes", "prims", "required", "usable")

    def __init__(self) -> None:
        self.prims: dict[str, PrimOk] = {}
        self.nodes: dict[str, tuple[FastSpec, bool, int]] = {}
        self.required: tuple[tuple[str, ...], ...] = ()
        self.invariants: tuple[Invariant, ...] = ()
        self.usable = False


def _prim_rule(ok: PrimOk, codes: frozenset[str] | None, array: bool, most: int) -> PrimOk:
    """One predicate for a primitive key: valid value(s), in the value set if bound."""
    if not array:
        if codes is None:
            return ok
        bound = codes
        return lambda v: ok(v) and v in bound

    def items_ok(v: Any) -> bool:
        if type(v) is not list or not v or (most > 0 and len(v) > most):
            return False
        for item in v:  # noqa: SIM110 - a plain loop is faster here
            if not ok(item) or (codes is not None and item not in codes):
                return False
        return True

    return items_ok


def fast_ok(obj: dict[str, Any], spec: FastSpec, res: Any, root: Any) -> bool:
    """True when the full walk would report nothing for this datatype value.

    A pure predicate: it only ever answers True for values that are entirely valid (known
    keys, valid primitives, codes in their value sets, cardinality, invariants); anything
    else, including anything it cannot decide, answers False and the caller walks the value
    in full, which then reports exactly as before. So the fast path never changes a result.
    """
    if not obj:
        return False
    prims = spec.prims
    nodes = spec.nodes
    for key, v in obj.items():
        ok = prims.get(key)
        if ok is not None:
            if not ok(v):
                return False
            continue
        rule = nodes.get(key)
        if rule is None:
            return False
        sub = rule[0]
        if not rule[1]:
            if type(v) is not dict or not fast_ok(v, sub, res, root):
                return False
            continue
        most = rule[2]
        if type(v) is not list or not v or (most > 0 and len(v) > most):
            return False
        for item in v:
            if type(item) is not dict or not fast_ok(item, sub, res, root):
                return False
    for names in spec.required:
        for n in names:
            if n in obj:
                break
        else:
            return False
    for inv in spec.invariants:
        if inv.trigger is not None and inv.trigger not in obj:
            continue
        try:
            if not inv.check(obj, res, root):
                return False
        except Exception:
            return False
    return True


# -------------------------------------------------------------------------- FHIRPath glue


def compile_fhirpath(expression: str, base: str) -> Callable[[Any, Any, Any], list[Any]]:
    """Compile a FHIRPath expression to ``f(focus, resource, root) -> result list``.

    The one place to swap FHIRPath engines. Raises on compile failure.
    """
    return _compile_native(expression, base)


def _compile_native(expression: str, base: str) -> Callable[[Any, Any, Any], list[Any]]:
    """The project's own compiled FHIRPath (conformance.fhir.fhirpath)."""
    from conformance.fhir.fhirpath import compile_expression

    compiled = compile_expression(expression)

    def run(focus: Any, resource: Any, root: Any) -> list[Any]:
        return compiled(resource, focus, focus_type=base, root_resource=root)

    return run


def fhirpath_invariant(expression: str, base: str) -> Callable[[Any, Any, Any], bool]:
    run = compile_fhirpath(expression, base)

    def check(focus: Any, resource: Any, root: Any) -> bool:
        return run(focus, resource, root) != [False]

    return check


# ------------------------------------------------------------------- native invariants


def _has_value_key(obj: Mapping[str, Any], prefix: str) -> bool:
    n = len(prefix)
    return any(k.startswith(prefix) and len(k) > n and k[n].isupper() for k in obj)


def _contained(focus: Any) -> list[Any]:
    c = focus.get("contained")
    return c if type(c) is list else []


def _dom2(f: Any, r: Any, t: Any) -> bool:
    return not any(type(c) is dict and c.get("contained") for c in _contained(f))


def _dom4(f: Any, r: Any, t: Any) -> bool:
    for c in _contained(f):
        meta = c.get("meta") if type(c) is dict else None
        if type(meta) is dict and ("versionId" in meta or "lastUpdated" in meta):
            return False
    return True


def _dom5(f: Any, r: Any, t: Any) -> bool:
    for c in _contained(f):
        meta = c.get("meta") if type(c) is dict else None
        if type(meta) is dict and meta.get("security"):
            return False
    return True


def _strings(obj: Any, out: set[str]) -> None:
    if type(obj) is dict:
        for v in obj.values():
            _strings(v, out)
    elif type(obj) is list:
        for v in obj:
            _strings(v, out)
    elif type(obj) is str and obj.startswith("#"):
        out.add(obj)


def _dom3(f: Any, r: Any, t: Any) -> bool:
    contained = _contained(f)
    if not contained:
        return True
    refs: set[str] = set()
    _strings(f, refs)
    for c in contained:
        if type(c) is not dict:
            continue
        cid = c.get("id")
        if type(cid) is str and "#" + cid in refs:
            continue
        inner: set[str] = set()
        _strings(c, inner)
        if "#" in inner:
            continue
        return False
    return True


def _dom6(f: Any, r: Any, t: Any) -> bool:
    text = f.get("text")
    return type(text) is dict and "div" in text


def _pat1(f: Any, r: Any, t: Any) -> bool:
    return "name" in f or "telecom" in f or "address" in f or "organization" in f


def _cpt2(f: Any, r: Any, t: Any) -> bool:
    return "value" not in f or "system" in f or "_system" in f


def _qty3(f: Any, r: Any, t: Any) -> bool:
    return "code" not in f or "system" in f or "_system" in f


def _sqty1(f: Any, r: Any, t: Any) -> bool:
    return "comparator" not in f and "_comparator" not in f


def _att1(f: Any, r: Any, t: Any) -> bool:
    return "data" not in f or "contentType" in f or "_contentType" in f


def _obs3(f: Any, r: Any, t: Any) -> bool:
    return "low" in f or "high" in f or "text" in f or "_text" in f


def _obs6(f: Any, r: Any, t: Any) -> bool:
    return "dataAbsentReason" not in f or not _has_value_key(f, "value")


def _obs7(f: Any, r: Any, t: Any) -> bool:
    if not _has_value_key(f, "value"):
        return True
    comps = f.get("component")
    if type(comps) is not list:
        return True
    code = r.get("code") if type(r) is dict else None
    own = code.get("coding") if type(code) is dict else None
    if type(own) is not list or not own:
        return True
    for comp in comps:
        cc = comp.get("code") if type(comp) is dict else None
        codings = cc.get("coding") if type(cc) is dict else None
        if type(codings) is list and any(c in own for c in codings):
            return False
    return True


def _ref1(f: Any, r: Any, t: Any) -> bool:
    ref = f.get("reference")
    if type(ref) is not str or not ref.startswith("#"):
        return True
    if ref == "#":
        return True  # a contained resource pointing back at its container
    target = t if type(t) is dict else r
    ids = [c.get("id") for c in _contained(target) if type(c) is dict]
    return ref[1:] in ids


_DT_FULL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _per1(f: Any, r: Any, t: Any) -> bool:
    start, end = f.get("start"), f.get("end")
    if type(start) is not str or type(end) is not str:
        return True
    if _DT_FULL.fullmatch(start) and _DT_FULL.fullmatch(end):
        from datetime import datetime

        try:
            a = datetime.fromisoformat(start.replace("Z", "+00:00"))
            b = datetime.fromisoformat(end.replace("Z", "+00:00"))
        except ValueError:
            return True
        return a <= b
    if len(start) == len(end) and "T" not in start:
        return start <= end  # same-precision dates compare lexically
    return True  # mixed precision: FHIRPath gives empty, not false


def _quantity_value(q: Any) -> tuple[Any, Any] | None:
    if type(q) is not dict:
        return None
    v = q.get("value")
    if type(v) not in (int, float):
        return None
    return v, (q.get("system"), q.get("code") or q.get("unit"))


def _rng2(f: Any, r: Any, t: Any) -> bool:
    low, high = _quantity_value(f.get("low")), _quantity_value(f.get("high"))
    if low is None or high is None or low[1] != high[1]:
        return True  # incomparable units: FHIRPath gives empty, not false
    return bool(low[0] <= high[0])


def _que7(f: Any, r: Any, t: Any) -> bool:
    return f.get("operator") != "exists" or "answerBoolean" in f


def _entries(f: Any) -> list[Any]:
    e = f.get("entry")
    return [x for x in e if type(x) is dict] if type(e) is list else []


def _bdl1(f: Any, r: Any, t: Any) -> bool:
    return ("total" not in f and "_total" not in f) or f.get("type") in ("searchset", "history")


def _bdl2(f: Any, r: Any, t: Any) -> bool:
    return f.get("type") == "searchset" or not any(e.get("search") is not None for e in _entries(f))


def _bdl_all(key: str, kinds: tuple[str, ...]) -> Callable[[Any, Any, Any], bool]:
    def check(f: Any, r: Any, t: Any) -> bool:
        # %resource is the Bundle itself: the walker passes each resource as its own
        want = type(r) is dict and r.get("type") in kinds
        return all((e.get(key) is not None) is want for e in _entries(f))

    return check


def _bdl7(f: Any, r: Any, t: Any) -> bool:
    if f.get("type") == "history":
        return True
    seen: set[str] = set()
    n = 0
    for e in _entries(f):
        url = e.get("fullUrl")
        if url is None:
            continue
        res = e.get("resource")
        meta = res.get("meta") if type(res) is dict else None
        version = meta.get("versionId") if type(meta) is dict else None
        seen.add(f"{url}{version if version is not None else ''}")
        n += 1
    return len(seen) == n


def _bdl9(f: Any, r: Any, t: Any) -> bool:
    if f.get("type") != "document":
        return True
    ident = f.get("identifier")
    return (
        type(ident) is dict and ident.get("system") is not None and (ident.get("value") is not None)
    )


def _bdl10(f: Any, r: Any, t: Any) -> bool:
    return f.get("type") != "document" or type(f.get("timestamp")) is str


def _bdl_first(kind: str, rtype: str) -> Callable[[Any, Any, Any], bool]:
    def check(f: Any, r: Any, t: Any) -> bool:
        entries = f.get("entry")
        if f.get("type") != kind or type(entries) is not list or not entries:
            return True  # an empty first() makes the implication empty, not false
        first = entries[0]
        res = first.get("resource") if type(first) is dict else None
        return type(res) is not dict or res.get("resourceType") == rtype

    return check


def _bdl5(f: Any, r: Any, t: Any) -> bool:
    return any(f.get(k) is not None for k in ("resource", "request", "response"))


def _bdl8(f: Any, r: Any, t: Any) -> bool:
    url = f.get("fullUrl")
    return type(url) is not str or "/_history/" not in url


NATIVE_INVARIANTS: dict[str, Callable[[Any, Any, Any], bool]] = {
    # Bundle rules: natively, so a Bundle of n entries costs O(n) (and no FHIRPath)
    "bdl-1": _bdl1,
    "bdl-2": _bdl2,
    "bdl-3": _bdl_all("request", ("batch", "transaction", "history")),
    "bdl-4": _bdl_all("response", ("batch-response", "transaction-response", "history")),
    "bdl-5": _bdl5,
    "bdl-7": _bdl7,
    "bdl-8": _bdl8,
    "bdl-9": _bdl9,
    "bdl-10": _bdl10,
    "bdl-11": _bdl_first("document", "Composition"),
    "bdl-12": _bdl_first("message", "MessageHeader"),
    "dom-2": _dom2,
    "dom-3": _dom3,
    "dom-4": _dom4,
    "dom-5": _dom5,
    "dom-6": _dom6,
    "pat-1": _pat1,
    "cpt-2": _cpt2,
    "qty-3": _qty3,
    "sqty-1": _sqty1,
    "att-1": _att1,
    "obs-3": _obs3,
    "obs-6": _obs6,
    "obs-7": _obs7,
    "ref-1": _ref1,
    "per-1": _per1,
    "rng-2": _rng2,
    "que-7": _que7,
}
TRIGGERS: dict[str, str] = {
    "bdl-8": "fullUrl",
    "dom-2": "contained",
    "dom-3": "contained",
    "dom-4": "contained",
    "dom-5": "contained",
    "cpt-2": "value",
    "qty-3": "code",
    "sqty-1": "comparator",
    "att-1": "data",
    "obs-6": "dataAbsentReason",
    "obs-7": "component",
    "ref-1": "reference",
    "per-1": "end",
    "rng-2": "high",
}


def _ext1(f: Any, r: Any, t: Any) -> bool:
    return ("extension" in f) != _has_value_key(f, "value")


def _bundle_full_url(f: Any, r: Any, t: Any) -> bool:
    url = f.get("fullUrl")
    return type(url) is not str or _ABSOLUTE.match(url) is not None


def _attachment_size(f: Any, r: Any, t: Any) -> bool:
    data, size = f.get("data"), f.get("size")
    if type(data) is not str or type(size) is not int:
        return True
    s = "".join(data.split())
    if len(s) % 4:
        return True  # malformed base64 is reported by the primitive check
    return len(s) // 4 * 3 - (s.endswith("=") + s.endswith("==")) == size


# Condition rules (con-3/4/5), natively for the usual shapes: they run on every
# Condition and FHIRPath costs more than the rest of its walk. Each answers None for
# anything unusual (a null, an empty object, a primitive extension, an unknown choice
# key, a category), and the FHIRPath expression then decides as before.
_CON_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CON_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CON_INACTIVE = ("resolved", "remission", "inactive")
_ABATEMENT = frozenset(
    {"abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString"}
)


def _plain_codings(f: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    """The codings of a CodeableConcept child ([] when absent); None for odd shapes."""
    if name not in f:
        return [] if "_" + name not in f else None
    concept = f[name]
    if type(concept) is not dict or not concept:
        return None
    if "coding" not in concept:
        return [] if "_coding" not in concept else None
    codings = concept["coding"]
    if type(codings) is not list:
        return None
    for c in codings:
        if type(c) is not dict or not c:
            return None
        for k, v in c.items():
            if k[:1] == "_" or (k in ("system", "code") and type(v) is not str):
                return None
    return codings


def _has_coding(codings: list[dict[str, Any]], system: str, codes: tuple[str, ...]) -> bool:
    return any(c.get("system") == system and c.get("code") in codes for c in codings)


def _con3(f: Any, r: Any, t: Any) -> bool | None:
    if type(f) is not dict:
        return None
    clinical = _plain_codings(f, "clinicalStatus")
    verification = _plain_codings(f, "verificationStatus")
    if clinical is None or verification is None:
        return None
    if "clinicalStatus" in f:
        return True
    if _has_coding(verification, _CON_VERIFICATION, ("entered-in-error",)):
        return True
    if "category" not in f and "_category" not in f:
        return True
    return None  # category.select($this = ...): left to FHIRPath


def _con4(f: Any, r: Any, t: Any) -> bool | None:
    if type(f) is not dict:
        return None
    clinical = _plain_codings(f, "clinicalStatus")
    if clinical is None:
        return None
    abated = False
    for k, v in f.items():
        if k.startswith(("abatement", "_abatement")):
            if k not in _ABATEMENT or v is None:
                return None
            abated = True
    return not abated or _has_coding(clinical, _CON_CLINICAL, _CON_INACTIVE)


def _con5(f: Any, r: Any, t: Any) -> bool | None:
    if type(f) is not dict:
        return None
    clinical = _plain_codings(f, "clinicalStatus")
    verification = _plain_codings(f, "verificationStatus")
    if clinical is None or verification is None:
        return None
    erroneous = _has_coding(verification, _CON_VERIFICATION, ("entered-in-error",))
    return not erroneous or "clinicalStatus" not in f


#: base invariants answered natively for the usual shapes, by FHIRPath otherwise (None)
HYBRID_INVARIANTS: dict[str, Callable[[Any, Any, Any], bool | None]] = {
    "con-3": _con3,
    "con-4": _con4,
    "con-5": _con5,
}


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

#: rules the R4 text states but no FHIRPath invariant carries (key, human, check, trigger)
EXTRA_RULES: dict[str, list[tuple[str, str, Callable[[Any, Any, Any], bool], str]]] = {
    "Bundle.entry": [
        ("bdl-fullurl", "fullUrl must be an absolute URL", _bundle_full_url, "fullUrl"),
    ],
    "Extension": [
        ("ext-1", "Must have either extensions or value[x], not both", _ext1, ""),
    ],
    "Attachment": [
        ("att-size", "The stated size must match the size of the data", _attachment_size, "size"),
    ],
}

#: invariants that the Prim check of xhtml already covers (htmlChecks() is not FHIRPath)
SKIPPED_INVARIANTS = frozenset({"txt-1", "txt-2"})


def _lazy_invariant(
    key: str, severity: str, human: str, expression: str, base: str, source: str = "base"
) -> Invariant:
    """An invariant whose FHIRPath is compiled on first evaluation (compilation is slow)."""
    native = NATIVE_INVARIANTS.get(key) if source == "base" else None
    if native is not None:
        return Invariant(key, severity, human, expression, native, source)
    holder: list[Callable[[Any, Any, Any], bool]] = []
    hybrid = HYBRID_INVARIANTS.get(key) if source == "base" else None

    def check(focus: Any, resource: Any, root: Any) -> bool:
        if hybrid is not None:
            answer = hybrid(focus, resource, root)
            if answer is not None:
                return answer
        if not holder:
            holder.append(fhirpath_invariant(expression, base))
        return holder[0](focus, resource, root)

    return Invariant(key, severity, human, expression, check, source)


# -------------------------------------------------------------------------- the model


def _choice_name(base: str, type_code: str) -> str:
    return base + type_code[0].upper() + type_code[1:]


class Model:
    """Lazily compiled nodes for every base type, backbone element and content reference."""

    def __init__(self) -> None:
        data = core_data()
        self.types: dict[str, Any] = data["types"]
        self._inv_rows: list[list[Any]] = data["invariants"]
        self.prims: dict[str, Prim] = {n: Prim(n, rx) for n, rx in data["primitives"].items()}
        self.resource_types: frozenset[str] = frozenset(
            n for n, t in self.types.items() if t["kind"] == "resource" and not t["abstract"]
        )
        self._nodes: dict[str, Node] = {}
        self._children: dict[str, dict[str, list[list[Any]]]] = {}
        self._rows: dict[str, dict[str, list[Any]]] = {}
        self._invs: dict[tuple[int, str], Invariant] = {}

    # -- structure index per type
    def _index(self, type_name: str) -> tuple[dict[str, list[list[Any]]], dict[str, list[Any]]]:
        ch = self._children.get(type_name)
        if ch is None:
            ch = {}
            rows: dict[str, list[Any]] = {}
            for row in self.types[type_name]["elements"]:
                path: str = row[0]
                rows[path] = row
                if "." in path:
                    ch.setdefault(path.rsplit(".", 1)[0], []).append(row)
            self._children[type_name] = ch
            self._rows[type_name] = rows
        return ch, self._rows[type_name]

    def element_row(self, path: str) -> list[Any] | None:
        type_name = path.split(".", 1)[0]
        if type_name not in self.types:
            return None
        return self._index(type_name)[1].get(path)

    def has_children(self, path: str) -> bool:
        type_name = path.split(".", 1)[0]
        return type_name in self.types and path in self._index(type_name)[0]

    def node(self, key: str) -> Node:
        """Node by type name (``Patient``) or backbone path (``Patient.contact``)."""
        n = self._nodes.get(key)
        if n is None:
            n = self._build(key)
        return n

    def _invariant(self, idx: int, base: str) -> Invariant:
        inv = self._invs.get((idx, base))
        if inv is None:
            key, severity, human, expr = self._inv_rows[idx]
            inv = _lazy_invariant(key, severity, human, expr, base)
            self._invs[(idx, base)] = inv
        return inv

    def _build(self, key: str) -> Node:
        type_name = key.split(".", 1)[0]
        t = self.types[type_name]
        children, rows = self._index(type_name)
        node = Node(key)
        self._nodes[key] = node  # registered before children: recursive structures
        node.is_resource = "." not in key and t["kind"] == "resource"
        own = rows[key]
        fp_base = t.get("constrains", type_name) + key[len(type_name) :]
        invs = [
            self._invariant(i, fp_base)
            for i in own[5]
            if self._inv_rows[i][0] not in SKIPPED_INVARIANTS
        ]
        for rkey, human, fn, trigger in EXTRA_RULES.get(key, ()):
            inv = Invariant(rkey, "error", human, "", fn)
            inv.trigger = trigger or None
            invs.append(inv)
        node.invariants = tuple(invs)
        required: list[tuple[str, tuple[str, ...]]] = []
        for row in children.get(key, ()):
            path, mn, mx, types, binding, invs = row[:6]
            name = path.rsplit(".", 1)[1]
            if type_name in self.prims and name == "value":
                continue  # the primitive's value is the JSON value itself
            elems: list[Elem] = []
            if name.endswith("[x]"):
                base = name[:-3]
                node.has_choice = True
                for tc in types:
                    code = tc if isinstance(tc, str) else tc[0]
                    e = Elem(_choice_name(base, code), path, code, mn, mx)
                    e.choice = base
                    elems.append(e)
            else:
                if len(row) > 6:
                    code = "@" + row[6]
                elif types:
                    code = types[0] if isinstance(types[0], str) else types[0][0]
                else:
                    code = "Element"
                elems.append(Elem(name, path, code, mn, mx))
            targets = {tgt for tc in types if not isinstance(tc, str) for tgt in tc[1]}
            for e in elems:
                self._setup_elem(e, type_name, path, binding, invs, targets)
                node.children[e.name] = e
            if mn > 0:
                names: list[str] = []
                for e in elems:
                    names.append(e.name)
                    if e.kind == PRIMITIVE:
                        names.append("_" + e.name)
                required.append((elems[0].choice or elems[0].name, tuple(names)))
        node.required = tuple(required)
        return node

    def _setup_elem(
        self,
        e: Elem,
        type_name: str,
        path: str,
        binding: Any,
        invs: list[int],
        targets: set[str],
    ) -> None:
        code = e.type
        if code.startswith("@"):
            e.kind = BACKBONE
            e.type = code[1:]
        elif (
            code in ("BackboneElement", "Element")
            and path.count(".") >= 1
            and (path in self._index(type_name)[0])
        ):
            e.kind = BACKBONE
            e.type = path
        elif code in self.prims:
            e.kind = PRIMITIVE
            e.prim = self.prims[code]
            e.ok = e.prim.ok
        elif code == "Resource" or code in self.resource_types:
            e.kind = RESOURCE
        else:
            e.kind = COMPLEX
        if binding is not None:
            exp = core_expansion(binding[1])
            if exp is not None:
                e.binding = Binding(binding[0], binding[1], exp)
        if targets and code == "Reference":
            e.targets = frozenset(targets)
        if e.kind != BACKBONE:
            fp_base = e.type if e.kind == COMPLEX else type_name
            e.invariants = tuple(
                self._invariant(i, fp_base)
                for i in invs
                if self._inv_rows[i][0] not in SKIPPED_INVARIANTS
            )

    def fast_spec(self, node: Node) -> FastSpec:
        """The fast-path rules of a datatype node (computed once; recursive types allowed)."""
        spec = node.fast
        if spec is not None:
            return spec
        spec = node.fast = FastSpec()  # registered first: recursive datatypes
        if node.is_resource or "." in node.name:
            return spec
        for inv in node.invariants:
            if inv.check is not NATIVE_INVARIANTS.get(inv.key) and inv.key not in (
                "ext-1",
                "att-size",
                "bdl-fullurl",
            ):
                return spec  # a FHIRPath invariant: leave the type to the full walk
        prims: dict[str, PrimOk] = {}
        nodes: dict[str, tuple[FastSpec, bool, int]] = {}
        for key, e in node.children.items():
            if (
                e.choice is not None
                or e.invariants
                or e.targets is not None
                or key in ("extension", "modifierExtension")
            ):
                continue  # extensions are collected by the full walk
            codes: frozenset[str] | None = None
            if e.binding is not None:
                if e.kind != PRIMITIVE or e.type not in ("code", "string", "uri"):
                    continue
                codes = e.binding.codes
            if e.kind == PRIMITIVE:
                assert e.ok is not None
                prims[key] = _prim_rule(e.ok, codes, e.array, e.max)
            elif e.kind == COMPLEX:
                sub = self.fast_spec(self.complex_node(e))
                if sub is spec or not sub.usable:
                    continue  # recursion (Identifier.assigner...) or an unhandled type
                nodes[key] = (sub, e.array, e.max)
        spec.prims = prims
        spec.nodes = nodes
        spec.required = tuple(names for _, names in node.required)
        spec.invariants = node.invariants
        spec.usable = True
        return spec

    def complex_node(self, e: Elem) -> Node:
        n = e.node
        if n is None:
            n = self.node(e.type)
            e.node = n
        return n


@cache
def base_model() -> Model:
    return Model()
