"""Generate the MDSS FHIR profiles and ship the UK Core definitions they depend on.

Usage: python tools/build_mdss_profiles.py [--shared ../shared] [--check]

Writes, under standards/mdss/1.0.0/:
  profiles/MDSS-<Type>.json        the six MDSS StructureDefinitions (differentials)
  profiles/ukcore/*.json           the UK Core profiles and extensions they derive from or use
  terminology/ukcore/*.json        the UK Core ValueSets and CodeSystems their required and
                                   extensible bindings need
  profiles/README.md, terminology/README.md   provenance and licence (Apache-2.0)

UK Core is published as XML; it is converted once here to JSON (loading JSON with orjson is
an order of magnitude faster than parsing the XML at start-up) with narrative dropped. Only
the closure the MDSS profiles need is shipped: their derivation chains, the extension
definitions their elements name, and the value sets (and code systems) of the bindings the
engine checks. ``--check`` verifies the shipped files are what the tool would write.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from conformance.fhir.fhir_xml import parse_fhir_xml  # noqa: E402
from conformance.fhir.terminology import strip_version  # noqa: E402

STANDARD = REPO / "standards" / "mdss" / "1.0.0"
MDSS = "https://w3id.org/mdss/StructureDefinition/"
UKCORE = "https://fhir.hl7.org.uk/"
UKCORE_SD = UKCORE + "StructureDefinition/"
CORE_SD = "http://hl7.org/fhir/StructureDefinition/"
VERSION = "1.0.0"
DATE = "2026-04-01"

#: Types whose MDSS profile derives from base R4 instead of UK Core, and why. UK Core
#: MedicationRequest 2.5.0 makes ``substitution`` 1..1; the generator's conformant feeds send
#: no substitution, so deriving from UK Core would fail every MedicationRequest. Remove the
#: entry (and regenerate) once the sample generator emits ``substitution``.
CORE_BASED: dict[str, str] = {
    "MedicationRequest": "UK Core MedicationRequest requires substitution (1..1); the "
    "MDSS minimum does not",
}

#: The MDSS minimum per type: (element id, min, mustSupport). mustSupport flags are exactly
#: the elements MDSS-COMP-02 lists for the type (tests/profiles checks it).
RULES: dict[str, list[tuple[str, int | None, bool]]] = {
    "Patient": [
        ("identifier", None, True),
        ("name", None, True),
        ("gender", 1, True),
        ("birthDate", 1, True),
        ("address", None, True),
        ("generalPractitioner", None, True),
    ],
    "Encounter": [
        ("status", None, True),
        ("class", None, True),
        ("type", None, True),
        ("subject", 1, True),
        ("period", 1, True),
        ("reasonCode", None, True),
        ("location", None, True),
        ("serviceProvider", 1, True),
    ],
    "Observation": [
        ("status", None, True),
        ("category", None, True),
        ("code", None, True),
        ("subject", 1, True),
        ("encounter", None, True),
        ("effective[x]", 1, True),
    ],
    "Condition": [
        ("clinicalStatus", None, True),
        ("verificationStatus", None, True),
        ("category", None, True),
        ("code", 1, True),
        ("subject", 1, True),
        ("encounter", None, True),
        ("recordedDate", None, True),
    ],
    "MedicationRequest": [
        ("status", None, True),
        ("intent", None, True),
        ("medication[x]", 1, True),
        ("subject", 1, True),
        ("authoredOn", None, True),
        ("dosageInstruction", None, True),
    ],
    "QuestionnaireResponse": [
        ("questionnaire", 1, True),
        ("status", None, True),
        ("subject", 1, True),
        ("authored", 1, True),
        ("item", None, True),
    ],
}

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
UNAVAILABLE = UKCORE_SD + "Extension-UKCore-NHSNumberUnavailableReason"
#: Invariants on the root of a profile: (key, human, expression). The NHS Number is required
#: unless the reason it is unavailable is given (MDSS-ID-01), so the nhsNumber slice keeps
#: UK Core's 0..1 and this rule makes it 1..1 in every other case.
INVARIANTS: dict[str, list[tuple[str, str, str]]] = {
    "Patient": [
        (
            "mdss-pat-1",
            "A Patient has an NHS Number (identifier:nhsNumber), or an "
            "NHSNumberUnavailableReason extension saying why not",
            f"identifier.where(system = '{NHS_NUMBER}').exists() or "
            f"extension('{UNAVAILABLE}').exists()",
        ),
    ],
}

DESCRIPTIONS = {
    "Patient": "A Patient as the MDSS requires it: UK Core Patient with an NHS Number (or the "
    "reason it is unavailable), gender and birth date.",
    "Encounter": "An Encounter as the MDSS requires it: UK Core Encounter with its subject, "
    "period and provider organisation.",
    "Observation": "An Observation as the MDSS requires it: UK Core Observation with its "
    "subject and the time it applies to.",
    "Condition": "A Condition as the MDSS requires it: UK Core Condition with its subject and "
    "a code.",
    "MedicationRequest": "A MedicationRequest as the MDSS requires it: its subject and the "
    "medication.",
    "QuestionnaireResponse": "A QuestionnaireResponse as the MDSS requires it: UK Core "
    "QuestionnaireResponse naming its questionnaire, subject and authored time.",
}

LICENCE = """\
The files under `ukcore/` are UK Core R4 (HL7 UK / NHS England,
https://simplifier.net/hl7fhirukcorer4), licensed under the Apache License 2.0. They were
converted once from the published XML to JSON by `tools/build_mdss_profiles.py`, with the
narrative (`text`) removed; nothing else was changed. Only the definitions the MDSS
profiles need are included (their derivation chains, the extensions they name and the
value sets and code systems of their required and extensible bindings).

Do not edit these files by hand: rerun the tool (`--check` verifies them).
"""


def mdss_profile(rtype: str, ukcore: dict[str, Any] | None) -> dict[str, Any]:
    """The MDSS StructureDefinition for one resource type."""
    base = f"{CORE_SD}{rtype}" if rtype in CORE_BASED or ukcore is None else str(ukcore["url"])
    root: dict[str, Any] = {"id": rtype, "path": rtype}
    if rtype in INVARIANTS:
        root["constraint"] = [
            {
                "key": key,
                "severity": "error",
                "human": human,
                "expression": expr,
                "source": f"{MDSS}MDSS-{rtype}",
            }
            for key, human, expr in INVARIANTS[rtype]
        ]
    elements: list[dict[str, Any]] = [root]
    for eid, mn, ms in RULES[rtype]:
        path = rtype + "." + eid.split(":", 1)[0]
        e: dict[str, Any] = {"id": f"{rtype}.{eid}", "path": path}
        if ":" in eid:
            e["sliceName"] = eid.split(":", 1)[1]
        if mn is not None:
            e["min"] = mn
        if ms:
            e["mustSupport"] = True
        elements.append(e)
    name = f"MDSS{rtype}"
    sd: dict[str, Any] = {
        "resourceType": "StructureDefinition",
        "id": f"MDSS-{rtype}",
        "url": f"{MDSS}MDSS-{rtype}",
        "version": VERSION,
        "name": name,
        "title": f"MDSS {rtype}",
        "status": "active",
        "date": DATE,
        "publisher": "The conformance project (MDSS)",
        "description": DESCRIPTIONS[rtype],
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": rtype,
        "baseDefinition": base,
        "derivation": "constraint",
        "differential": {"element": elements},
    }
    if rtype in CORE_BASED:
        sd["purpose"] = "Derives from base R4, not UK Core: " + CORE_BASED[rtype] + "."
    return sd


# ------------------------------------------------------------------------ UK Core closure


def load_ukcore(root: Path) -> dict[str, dict[str, Any]]:
    """Every UK Core StructureDefinition, ValueSet and CodeSystem by canonical URL."""
    out: dict[str, dict[str, Any]] = {}
    for folder in ("structuredefinitions", "valuesets", "codesystems"):
        for f in sorted((root / folder).glob("*.xml")):
            r = parse_fhir_xml(f.read_bytes())
            if isinstance(r.get("url"), str):
                out[r["url"]] = r
    return out


def _elements(sd: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in ("snapshot", "differential"):
        out.extend((sd.get(part) or {}).get("element", []))
    return out


def closure(roots: list[dict[str, Any]], ukcore: dict[str, dict[str, Any]]) -> list[str]:
    """The UK Core canonical URLs the given StructureDefinitions need, sorted."""
    need: set[str] = set()
    todo = list(roots)
    while todo:
        r = todo.pop()
        refs: list[str] = []
        if r["resourceType"] == "StructureDefinition":
            refs.append(str(r.get("baseDefinition", "")))
            for e in _elements(r):
                for t in e.get("type", ()):
                    refs.extend(t.get("profile", ()))
                b = e.get("binding")
                if isinstance(b, dict) and b.get("strength") in ("required", "extensible"):
                    refs.append(str(b.get("valueSet", "")))
        elif r["resourceType"] == "ValueSet":
            for part in ("include", "exclude"):
                for inc in (r.get("compose") or {}).get(part, ()):
                    refs.extend(inc.get("valueSet", ()))
                    if isinstance(inc.get("system"), str):
                        refs.append(inc["system"])
        for ref in refs:
            url = strip_version(ref)
            if url in ukcore and url not in need:
                need.add(url)
                todo.append(ukcore[url])
    return sorted(need)


def _file_name(r: dict[str, Any]) -> str:
    return f"{r['resourceType']}-{r['id']}.json"


def _dump(r: dict[str, Any]) -> bytes:
    return orjson.dumps(r, option=orjson.OPT_INDENT_2) + b"\n"


def planned(shared: Path) -> dict[Path, bytes]:
    """Every file the tool writes, by path."""
    ukcore = load_ukcore(shared / "ukcore")
    files: dict[Path, bytes] = {}
    profiles = []
    for rtype in RULES:
        uk = ukcore.get(f"{UKCORE_SD}UKCore-{rtype}")
        sd = mdss_profile(rtype, uk)
        profiles.append(sd)
        files[STANDARD / "profiles" / f"MDSS-{rtype}.json"] = _dump(sd)
    for url in closure(profiles, ukcore):
        r = {k: v for k, v in ukcore[url].items() if k != "text"}
        folder = "profiles" if r["resourceType"] == "StructureDefinition" else "terminology"
        files[STANDARD / folder / "ukcore" / _file_name(r)] = _dump(r)
    for folder in ("profiles", "terminology"):
        files[STANDARD / folder / "README.md"] = _readme(folder).encode()
    return files


def _readme(folder: str) -> str:
    if folder == "profiles":
        head = (
            "# MDSS profiles\n\n"
            "`MDSS-<Type>.json` are the MDSS StructureDefinitions (canonical\n"
            "`https://w3id.org/mdss/StructureDefinition/MDSS-<Type>`), generated by\n"
            "`tools/build_mdss_profiles.py`: each constrains the UK Core profile of its type to\n"
            "the MDSS minimum, and flags must-support exactly the elements MDSS-COMP-02 scores.\n"
            "Exception: MDSS-MedicationRequest derives from base R4 (see its `purpose`).\n\n"
        )
    else:
        head = (
            "# MDSS terminology\n\n"
            "Value sets and code systems the MDSS profiles' bindings need.\n\n"
        )
    return head + "## Licence\n\n" + LICENCE


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--check", action="store_true", help="only verify the shipped files")
    args = ap.parse_args(argv)
    files = planned(args.shared)
    shipped = {
        p
        for folder in ("profiles", "terminology")
        for p in (STANDARD / folder).rglob("*")
        if p.is_file()
    }
    if args.check:
        stale = sorted(
            str(p) for p, data in files.items() if not p.is_file() or p.read_bytes() != data
        )
        extra = sorted(str(p) for p in shipped - set(files))
        for p in stale:
            print(f"out of date: {p}")
        for p in extra:
            print(f"not generated by the tool: {p}")
        return 1 if stale or extra else 0
    for p in shipped - set(files):
        p.unlink()
    for p, data in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.is_file() or p.read_bytes() != data:
            p.write_bytes(data)
    print(f"wrote {len(files)} files under {STANDARD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
