"""R4 core invariants evaluated in Python: those whose compiled FHIRPath costs too much for
how often they run.

Every other invariant is evaluated from its FHIRPath. These few run on every resource or
every Reference, and their compiled FHIRPath costs several times the Python, adding
microseconds to each resource (measured on the benchmark feed of
``benchmarks/engine_profile.py``, CPU ns per evaluation, FHIRPath checker / Python: see each
``reason``). Each stands for exactly the R4 expression given (the shipped definitions'
text; a profile that words a rule otherwise is evaluated from its FHIRPath) and answers as
that expression does, with the HL7 validator's correction where it corrects it
(``conformance.fhir.fhirpath.fix_invariant``).
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


def _impl(key: str, expression: str, check: Any, reason: str) -> ConstraintImplementation:
    return ConstraintImplementation(key, expression, check, reason)


_DOM = "on every resource"
#: the Python implementations of R4 core invariants, by key
CORE_IMPLEMENTATIONS: Final[Implementations] = {
    impl.key: impl
    for impl in (
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
