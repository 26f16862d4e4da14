"""R4 core invariants evaluated in Python: those whose compiled FHIRPath costs too much for
how often they run.

Every other invariant is evaluated from its FHIRPath. These few run on every resource,
every Reference or every Bundle entry, and their compiled FHIRPath costs more than three
times the Python, adding at least 0.2 microseconds to each resource (measured on the
benchmark feed of ``benchmarks/engine_profile.py`` and on Bundles; CPU ns per evaluation,
FHIRPath checker and Python, in each ``reason``). Each stands for exactly the R4
expression given (the shipped definitions' text; a profile that words a rule otherwise
is evaluated from its FHIRPath) and answers as that expression does, with the HL7
validator's correction where it corrects it (``conformance.fhir.fhirpath.fix_invariant``).
"""

from __future__ import annotations

from typing import Any, Final

from conformance.fhir.invariants import ConstraintImplementation, Implementations


def _contained(focus: Any) -> list[Any]:
    c = focus.get("contained") if type(focus) is dict else None
    return c if type(c) is list else []


def _dom6(f: Any, r: Any, t: Any) -> bool:
    """Corrected as HL7 does: a contained resource (not %rootResource) needs no narrative."""
    if f is not t:
        return True
    text = f.get("text") if type(f) is dict else None
    return type(text) is dict and "div" in text


def _qty3(f: Any, r: Any, t: Any) -> bool:
    return type(f) is not dict or "code" not in f or "system" in f or "_system" in f


def _ref1(f: Any, r: Any, t: Any) -> bool:
    """Corrected as HL7 does: only a local reference ('#id') must resolve to a contained
    resource of the root resource ('#' alone is the container)."""
    ref = f.get("reference") if type(f) is dict else None
    if type(ref) is not str or not ref.startswith("#") or ref == "#":
        return True
    target = t if type(t) is dict else r
    return ref[1:] in [c.get("id") for c in _contained(target) if type(c) is dict]


def _vs1(f: Any, r: Any, t: Any) -> bool:
    """A vital sign's effective dateTime is precise to the day (a Period: not judged)."""
    return type(f) is not str or len(f) >= 8


def _vs3(f: Any, r: Any, t: Any) -> bool:
    """A vital sign's component has a value or says why not."""
    if type(f) is not dict or "dataAbsentReason" in f or "_dataAbsentReason" in f:
        return True
    return any(
        k.startswith(("value", "_value")) and k[6 if k[:1] == "_" else 5 :][:1].isupper() for k in f
    )


def _entries(f: Any) -> list[Any]:
    e = f.get("entry") if type(f) is dict else None
    return [x for x in e if type(x) is dict] if type(e) is list else []


def _bdl2(f: Any, r: Any, t: Any) -> bool:
    return f.get("type") == "searchset" or not any(e.get("search") is not None for e in _entries(f))


def _bdl_all(key: str, kinds: tuple[str, ...]) -> Any:
    """bdl-3, bdl-4: ``key`` on every entry exactly when the Bundle (%resource) is of
    one of ``kinds``."""

    def check(f: Any, r: Any, t: Any) -> bool:
        want = type(r) is dict and r.get("type") in kinds
        return all((e.get(key) is not None) is want for e in _entries(f))

    return check


def _bdl7(f: Any, r: Any, t: Any) -> bool:
    """fullUrl (with the resource's versionId) unique, but in a history."""
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


def _bdl8(f: Any, r: Any, t: Any) -> bool:
    """Corrected as HL7 does: an entry without fullUrl is not judged."""
    url = f.get("fullUrl") if type(f) is dict else None
    return type(url) is not str or "/_history/" not in url


def _impl(key: str, expression: str, check: Any, reason: str) -> ConstraintImplementation:
    return ConstraintImplementation(key, expression, check, reason)


_DOM = "on every resource"
_ENTRY = "per Bundle entry (a Bundle of 2000 entries)"
#: the Python implementations of R4 core invariants, by key
CORE_IMPLEMENTATIONS: Final[Implementations] = {
    impl.key: impl
    for impl in (
        _impl(
            "bdl-2",
            "entry.search.empty() or (type = 'searchset')",
            _bdl2,
            f"speed: {_ENTRY}: FHIRPath 387 ns, Python 91 ns",
        ),
        _impl(
            "bdl-3",
            "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = "
            "'transaction' or %resource.type = 'history'))",
            _bdl_all("request", ("batch", "transaction", "history")),
            f"speed: {_ENTRY}: FHIRPath 949 ns, Python 93 ns",
        ),
        _impl(
            "bdl-4",
            "entry.all(response.exists() = (%resource.type = 'batch-response' or "
            "%resource.type = 'transaction-response' or %resource.type = 'history'))",
            _bdl_all("response", ("batch-response", "transaction-response", "history")),
            f"speed: {_ENTRY}: FHIRPath 1055 ns, Python 88 ns",
        ),
        _impl(
            "bdl-7",
            "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta"
            ".versionId).isDistinct()",
            _bdl7,
            f"speed: {_ENTRY}: FHIRPath 2942 ns, Python 312 ns",
        ),
        _impl(
            "bdl-8",
            "fullUrl.contains('/_history/').not()",
            _bdl8,
            "speed: on every Bundle entry; FHIRPath 2121 ns, Python 122 ns",
        ),
        _impl(
            "dom-6",
            "text.`div`.exists()",
            _dom6,
            f"speed: {_DOM}; FHIRPath 2401 ns, Python 73 ns",
        ),
        _impl(
            "qty-3",
            "code.empty() or system.exists()",
            _qty3,
            "speed: on every Quantity; FHIRPath 986 ns, Python 116 ns",
        ),
        _impl(
            "ref-1",
            "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
            "%rootResource.contained.id.trace('ids'))",
            _ref1,
            "speed: on every Reference (two a resource); FHIRPath 3019 ns, Python 505 ns",
        ),
        _impl(
            "vs-1",
            "($this as dateTime).toString().length() >= 8",
            _vs1,
            "speed: on every vital sign; FHIRPath 1455 ns, Python 72 ns",
        ),
        _impl(
            "vs-3",
            "value.exists() or dataAbsentReason.exists()",
            _vs3,
            "speed: on every vital-sign component; FHIRPath 1815 ns, Python 323 ns",
        ),
    )
}
