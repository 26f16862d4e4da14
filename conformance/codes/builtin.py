"""The built-in finding codes, registered through the same hook as third-party codes."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.codes import FindingCode, builtin_codes
from conformance.plugin import hookimpl


@hookimpl
def conformance_finding_codes() -> Sequence[FindingCode]:
    return builtin_codes()
