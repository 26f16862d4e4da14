"""Regenerate the fixtures of tests/fhirpath from the reference material (not run by tests).

    python tests/fhirpath/make_fixtures.py [SHARED_DIR]

Writes ``invariants.json`` (every FHIRPath constraint of the R4 core StructureDefinition
snapshots and of the UK Core profiles: expression, keys, element paths; ``*`` for rules on
every element) and copies the
example resources listed in ``EXAMPLES`` into ``examples/``.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = [
    "Patient-example.json",
    "Patient-newborn.json",
    "Patient-glossy.json",
    "Observation-bmi.json",
    "Observation-blood-pressure.json",
    "Observation-10minute-apgar-score.json",
    "Observation-vitals-panel.json",
    "Observation-f202.json",
    "Observation-bgpanel.json",
    "Observation-body-temperature.json",
    "Observation-example-genetics-4.json",
    "Bundle-bundle-example.json",
    "Bundle-bundle-response-simplesummary.json",
    "Bundle-bundle-request-simplesummary.json",
    "Condition-f202.json",
    "Condition-example2.json",
    "Encounter-example.json",
    "AllergyIntolerance-medication.json",
    "Appointment-example.json",
    "Appointment-examplereq.json",
    "ActivityDefinition-citalopramPrescription.json",
    "CarePlan-f001.json",
    "CareTeam-example.json",
    "Claim-100151.json",
    "Composition-example.json",
    "DiagnosticReport-pap.json",
    "Immunization-example.json",
    "Goal-example.json",
    "Group-101.json",
    "MedicationDispense-meddisp0312.json",
    "MedicationRequest-medrx0302.json",
    "Organization-hl7.json",
    "Practitioner-f001.json",
    "Procedure-biopsy.json",
    "Questionnaire-bb.json",
    "Questionnaire-qs1.json",
    "RiskAssessment-riskexample.json",
    "List-example-empty.json",
    "MolecularSequence-coord-0-base.json",
    "NutritionOrder-diabeticdiet.json",
    "Provenance-signature.json",
    "AuditEvent-example-logout.json",
    "Medication-med0301.json",
]


def main() -> int:
    repo = os.path.dirname(os.path.dirname(HERE))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared")
    out: dict[str, dict[str, set[str]]] = {}
    pkg = os.path.join(shared, "fhir", "hl7.fhir.r4.core-4.0.1", "package")
    for path in sorted(glob.glob(os.path.join(pkg, "StructureDefinition-*.json"))):
        with open(path, encoding="utf-8") as fh:
            sd = json.load(fh)
        for el in sd.get("snapshot", {}).get("element", []):
            for c in el.get("constraint", []):
                if "expression" in c:
                    entry = out.setdefault(c["expression"], {"keys": set(), "paths": set()})
                    entry["keys"].add(c["key"])
                    entry["paths"].add(el["path"])
    core = {e: {k: sorted(v) for k, v in info.items()} for e, info in out.items()}
    for info in core.values():
        if len(info["paths"]) > 30:  # ele-1, ext-1: on every element; keep the file small
            info["paths"] = ["*"]
    ns = "{http://hl7.org/fhir}"
    uk: dict[str, dict[str, set[str]]] = {}
    for path in sorted(glob.glob(os.path.join(shared, "ukcore", "structuredefinitions", "*.xml"))):
        for el in ET.parse(path).iter(ns + "element"):
            epath = el.find(ns + "path")
            for c in el.iter(ns + "constraint"):
                expr = c.find(ns + "expression")
                key = c.find(ns + "key")
                if expr is None or key is None or expr.get("value") in core:
                    continue
                entry = uk.setdefault(str(expr.get("value")), {"keys": set(), "paths": set()})
                entry["keys"].add(str(key.get("value")))
                entry["paths"].add(str(epath.get("value")) if epath is not None else "")
    data = {
        "core": [{"expression": e, **info} for e, info in sorted(core.items())],
        "ukcore": [
            {"expression": e, **{k: sorted(v) for k, v in info.items()}}
            for e, info in sorted(uk.items())
        ],
    }
    with open(os.path.join(HERE, "invariants.json"), "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.write("\n")
    dest = os.path.join(HERE, "examples")
    os.makedirs(dest, exist_ok=True)
    for name in EXAMPLES:
        shutil.copy(os.path.join(shared, "fhir", "r4-examples", name), os.path.join(dest, name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
