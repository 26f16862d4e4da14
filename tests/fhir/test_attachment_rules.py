"""Attachment (R4 datatypes.html#Attachment): size is the decoded length, hash the
base64 SHA-1 of the decoded data; data must be base64."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from fhir_helpers import errors

from conformance.fhir import FhirValidator

_DATA = b"hello, attachment"
_B64 = base64.b64encode(_DATA).decode()
_SHA1 = base64.b64encode(hashlib.sha1(_DATA, usedforsecurity=False).digest()).decode()


def _media(**attachment: Any) -> dict[str, Any]:
    content = {"contentType": "text/plain", **attachment}
    return {"resourceType": "Media", "status": "completed", "content": content}


def _errors(**attachment: Any) -> list[tuple[str, str]]:
    issues = errors(FhirValidator.base().validate(_media(**attachment)))
    return [(i.expression, i.key or i.code) for i in issues]


def test_matching_size_and_hash_are_fine() -> None:
    assert _errors(data=_B64, size=len(_DATA), hash=_SHA1) == []


def test_hash_of_other_data_is_an_error() -> None:
    other = base64.b64encode(hashlib.sha1(b"other", usedforsecurity=False).digest()).decode()
    assert _errors(data=_B64, hash=other) == [("Media.content", "att-hash")]


def test_hash_in_hex_or_of_the_base64_text_is_an_error() -> None:
    text_hash = base64.b64encode(hashlib.sha1(_B64.encode()).digest()).decode()
    assert _errors(data=_B64, hash=text_hash) == [("Media.content", "att-hash")]


def test_data_with_line_breaks_is_decoded_before_hashing() -> None:
    wrapped = _B64[:8] + "\n" + _B64[8:]
    assert _errors(data=wrapped, size=len(_DATA), hash=_SHA1) == []


def test_wrong_size_is_an_error() -> None:
    assert _errors(data=_B64, size=len(_DATA) + 1) == [("Media.content", "att-size")]


def test_hash_without_data_is_not_judged() -> None:
    assert _errors(url="http://example.net/doc.txt", hash=_SHA1) == []


@pytest.mark.parametrize("data", ["not base64!", "abc", "YWJj=="])
def test_data_that_is_not_base64_is_one_error(data: str) -> None:
    got = _errors(data=data, hash=_SHA1, size=3)
    assert got == [("Media.content.data", "invalid-primitive")]
