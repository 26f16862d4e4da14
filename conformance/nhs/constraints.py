"""Profile constraints about NHS identifiers, implemented in Python.

The FHIR engine evaluates every profile constraint from its FHIRPath unless the validator
is given an implementation for it (``FhirValidator.with_definitions(..., implementations=
NHS_CONSTRAINTS)``, as the standard's FHIR checks do). An implementation replaces only the
constraint whose key *and* expression are the ones below, so a profile that words the
rule differently is still evaluated from its FHIRPath.
"""

from __future__ import annotations

from typing import Any, Final

from conformance.fhir.invariants import ConstraintImplementation
from conformance.nhs.systems import NHS_NUMBER_SYSTEM
from conformance.nhs.ukcore import EXT_NHS_NUMBER_UNAVAILABLE_REASON


def nhs_number_or_reason(focus: Any, resource: Any, root: Any) -> bool:
    """A Patient carries an NHS Number identifier, or says why it has none."""
    if not isinstance(focus, dict):
        return True
    for ident in focus.get("identifier") or ():
        if isinstance(ident, dict) and ident.get("system") == NHS_NUMBER_SYSTEM:
            return True
    return any(
        isinstance(x, dict) and x.get("url") == EXT_NHS_NUMBER_UNAVAILABLE_REASON
        for x in focus.get("extension") or ()
    )


NHS_NUMBER_OR_REASON: Final = ConstraintImplementation(
    key="mdss-pat-1",
    expression=(
        f"identifier.where(system = '{NHS_NUMBER_SYSTEM}').exists() or "
        f"extension('{EXT_NHS_NUMBER_UNAVAILABLE_REASON}').exists()"
    ),
    check=nhs_number_or_reason,
    reason=(
        "speed: it runs on every Patient of a feed, and the compiled FHIRPath costs several "
        "times the Python (see the FHIR engine's invariant measurements)"
    ),
)

#: the NHS constraint implementations, by constraint key
NHS_CONSTRAINTS: Final = {NHS_NUMBER_OR_REASON.key: NHS_NUMBER_OR_REASON}
