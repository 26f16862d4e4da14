"""Hand-written twins of core invariants (TEMPORARY: retired once compiled FHIRPath is as
fast; see conformance.fhir.invariants)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any


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


def _has_value(f: dict[str, Any]) -> bool:
    for k in f:  # noqa: SIM110 - a plain loop: this runs for every vital sign
        if k.startswith("value") and len(k) > 5 and k[5].isupper():
            return True
    return False


def _vs1(f: Any, r: Any, t: Any) -> bool:
    return not isinstance(f, str) or len(f) >= 8


def _vs2(f: Any, r: Any, t: Any) -> bool:
    if not isinstance(f, dict) or "component" in f or "hasMember" in f:
        return True
    return "dataAbsentReason" in f or _has_value(f)


def _vs3(f: Any, r: Any, t: Any) -> bool:
    return not isinstance(f, dict) or "dataAbsentReason" in f or _has_value(f)


#: hot invariants of the core vital-signs profiles, evaluated natively
CORE_PROFILE_NATIVE = {"vs-1": _vs1, "vs-2": _vs2, "vs-3": _vs3}
