"""Attachment rules the R4 text states (datatypes.html#Attachment) with no FHIRPath.

``Attachment.hash`` is "the calculated hash of the data using SHA-1, represented using
base64": when both ``data`` and ``hash`` are present, the hash must be the SHA-1 of the
decoded data. (``size``, the decoded length, is :mod:`conformance.fhir.invariants`'
``att-size``.) A value that is not base64 is left to the ``base64Binary`` primitive check,
so it is reported once.
"""

from __future__ import annotations

import binascii
import hashlib
from typing import Any


def _decoded(value: str) -> bytes | None:
    text = "".join(value.split())
    if len(text) % 4:
        return None
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def hash_matches(f: Any, r: Any, t: Any) -> bool:
    """att-hash: ``hash`` is the SHA-1 (base64) of ``data``, when both are present."""
    data, stated = f.get("data"), f.get("hash")
    if type(data) is not str or type(stated) is not str:
        return True
    raw, digest = _decoded(data), _decoded(stated)
    if raw is None or digest is None:
        return True  # malformed base64 is reported by the primitive check
    return hashlib.sha1(raw, usedforsecurity=False).digest() == digest
