"""Shared fixtures for the FHIR engine tests (self-contained: no reference material needed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fhir_helpers import load

from conformance.fhir import FhirValidator


@pytest.fixture(scope="session")
def base() -> FhirValidator:
    return FhirValidator.base()


@pytest.fixture
def patient() -> dict[str, Any]:
    return copy.deepcopy(load("patient-uk.json"))


@pytest.fixture
def observation() -> dict[str, Any]:
    return copy.deepcopy(load("observation-weight.json"))
