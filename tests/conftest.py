"""Shared fixtures: small synthetic resources (NHS Numbers from the 999 test range only)."""

from __future__ import annotations

import copy
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.cli.main import Io, run
from conformance.codes import STRICT_ENV

# Every finding code a run emits must be registered (conformance/codes/catalogue/ or a
# plugin's conformance_finding_codes): in the test suite an unregistered one fails the run,
# in worker processes and command-line subprocesses too (they inherit the environment).
os.environ[STRICT_ENV] = "1"

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "pat-1",
    "meta": {
        "lastUpdated": "2026-11-01T10:00:00Z",
        "profile": ["https://w3id.org/mdss/StructureDefinition/MDSS-Patient"],
    },
    "text": {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">Patient</div>',
    },
    "identifier": [
        {
            "extension": [
                {
                    "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                                "code": "01",
                                "display": "Number present and verified",
                            }
                        ]
                    },
                }
            ],
            "system": "https://fhir.nhs.uk/Id/nhs-number",
            "value": "9990000018",
        }
    ],
    "name": [{"family": "Testpatient", "given": ["Alex"]}],
    "gender": "female",
    "birthDate": "1980-02-03",
    "address": [{"postalCode": "LS1 4AP"}],
    "extension": [
        {
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
                        "code": "A",
                    }
                ]
            },
        }
    ],
}


def patient(**changes: Any) -> dict[str, Any]:
    """A valid MDSS Patient, with top-level keys replaced (None removes a key)."""
    resource = copy.deepcopy(PATIENT)
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def with_nhs_number(number: str, rid: str = "pat-1") -> dict[str, Any]:
    resource = patient(id=rid)
    resource["identifier"][0]["value"] = number
    return resource


def ndjson(*resources: Any) -> bytes:
    return b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in resources)


@pytest.fixture
def write_ndjson(tmp_path: Path) -> Callable[..., Path]:
    def write(*resources: Any, name: str = "feed.ndjson") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ndjson(*resources))
        return path

    return write


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return orjson.loads(self.out)


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run the command line in-process and capture its output."""

    def invoke(*argv: str | Path) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        code = run([str(a) for a in argv], Io(out, err))
        return CliResult(int(code), out.getvalue(), err.getvalue())

    return invoke
