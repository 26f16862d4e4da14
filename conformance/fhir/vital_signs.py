"""The vital-signs profiles R4 implies for an Observation by its code (R4 §8.1.2).

The table is the HL7 reference validator's own
(``BasePolicyAdvisorForFullValidation.getImpliedProfilesForObservation``): LOINC rules
first, then SNOMED CT rules, checked in order; the first rule any coding matches wins.
Codes outside these lists (e.g. SNOMED CT 27113001, 364075005, 75367002) imply nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

SD = "http://hl7.org/fhir/StructureDefinition/"
LOINC = "http://loinc.org"
SNOMED_CT = "http://snomed.info/sct"


class VitalSign(NamedTuple):
    """One rule: a coding of ``system`` with one of ``codes`` implies ``profile``."""

    profile: str  # canonical URL
    name: str  # the profile's title
    system: str
    codes: frozenset[str]


#: (profile id, title, codes), in the reference's order, per code system
_LOINC_RULES = (
    ("vitalspanel", "Vital Signs Panel", "85353-1"),
    (
        "resprate",
        "Respiratory Rate",
        "9279-1 76170-0 76172-6 76171-8 19840-8 33438-3 76270-8 11291-2",
    ),
    (
        "heartrate",
        "Heart rate",
        "60978-4 73795-7 73799-9 76476-1 76477-9 8867-4 8889-8 8890-6 8891-4 8892-2 8893-0 "
        "40443-4 55425-3 68999-2 11328-2 69000-8 8886-4",
    ),
    (
        "oxygensat",
        "Oxygen saturation",
        "2708-6 19224-5 20564-1 2709-4 2710-2 2713-6 51733-4 59408-5 59417-6 89276-0 97549-0",
    ),
    (
        "bodytemp",
        "Body temperature",
        "8310-5 60834-9 60835-6 60836-4 60838-0 60955-2 61009-7 75539-7 75987-8 76010-8 "
        "76011-6 76278-1 8309-7 8328-7 8329-5 8330-3 8331-1 8332-9 8333-7 8334-5 91371-5 "
        "98657-0 98663-8",
    ),
    ("bodyheight", "Body height", "8302-2 3137-7 3138-5 8306-3 8308-9"),
    ("headcircum", "Head circumference", "9843-4 8287-5"),
    ("bodyweight", "Body weight", "29463-7 3141-9 3142-7 75292-3 79348-9 8350-1 8351-9"),
    ("bmi", "Body mass index", "39156-5 89270-3"),
    (
        "bp",
        "Blood pressure systolic and diastolic",
        "85354-9 35094-2 8459-0 76534-7 55284-4 8480-6",
    ),
)
_SNOMED_RULES = (
    ("vitalspanel", "Vital Signs Panel", "46680005"),
    ("resprate", "Respiratory Rate", "86290005 271625008 271306003"),
    (
        "heartrate",
        "Heart rate",
        "271306003 249043002 444981005 399017001 251670001 429525003 429614003",
    ),
    ("oxygensat", "Oxygen saturation", "442476006 431314004"),
    (
        "bodytemp",
        "Body temperature",
        "386725007 276885007 300076005 1222808002 364246006 307047009 708499008 431598003 "
        "698831002 698832009 415882003 415974002 415929009 415945006",
    ),
    (
        "bodyheight",
        "Body height",
        "1153637007 1162419008 50373000 1162418000 1230278008 1162392001 1162417005",
    ),
    ("headcircum", "Head circumference", "363812007 169876006 1269262007 363811000"),
    (
        "bodyweight",
        "Body weight",
        "735395000 425024002 424927000 784399000 1162416001 1162415002",
    ),
    ("bmi", "Body mass index", "60621009"),
    (
        "bp",
        "Blood pressure systolic and diastolic",
        "251076008 163033001 163035008 386534000 386536003 271649006 271650006 407556006 "
        "407554009 716579001 399304008",
    ),
)

RULES: tuple[VitalSign, ...] = tuple(
    VitalSign(SD + pid, name, system, frozenset(codes.split()))
    for system, rules in ((LOINC, _LOINC_RULES), (SNOMED_CT, _SNOMED_RULES))
    for pid, name, codes in rules
)

#: (system, code) -> index of the first rule that lists it
_FIRST: dict[tuple[str, str], int] = {}
for _i, _rule in enumerate(RULES):
    for _code in _rule.codes:
        _FIRST.setdefault((_rule.system, _code), _i)

SYSTEM_NAMES = {LOINC: "LOINC", SNOMED_CT: "SNOMED CT"}


class ImpliedProfile(NamedTuple):
    profile: str  # canonical URL
    rule: VitalSign
    code: str  # the code that matched (a code, not patient data)

    def because(self) -> str:
        """Why the profile applies, for the messages of the issues it causes."""
        system = SYSTEM_NAMES[self.rule.system]
        return (
            f"profile {self.rule.profile} applies to this Observation: its code is "
            f"{system} {self.code} — FHIR R4 §8.1.2"
        )


def implied_profile(resource: Any) -> ImpliedProfile | None:
    """The vital-signs profile an Observation's ``code`` implies, if any."""
    if type(resource) is not dict or resource.get("resourceType") != "Observation":
        return None
    code = resource.get("code")
    codings = code.get("coding") if type(code) is dict else None
    if type(codings) is not list:
        return None
    best: tuple[int, str] | None = None
    for c in codings:
        if type(c) is not dict:
            continue
        system, value = c.get("system"), c.get("code")
        if type(value) is not str or type(system) is not str:
            continue
        i = _FIRST.get((system, value))
        if i is not None and (best is None or i < best[0]):
            best = (i, value)
    if best is None:
        return None
    rule = RULES[best[0]]
    return ImpliedProfile(rule.profile, rule, best[1])
