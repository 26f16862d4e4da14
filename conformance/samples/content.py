"""Vocabulary for synthetic feeds: names, places and clinical codes.

Every SNOMED CT code here passes ``sctid_problem`` (checked in the tests); dm+d codes are
ones UK Core's own examples use. Names and streets are common words, not people.
"""

from __future__ import annotations

from typing import Final

MDSS_PROFILE_BASE: Final = "https://w3id.org/mdss/StructureDefinition/MDSS-"
PROM_QUESTIONNAIRE: Final = "https://w3id.org/mdss/Questionnaire/prom-general-health|1.0.0"
PROM_TIMEPOINT_SYSTEM: Final = "https://w3id.org/mdss/CodeSystem/prom-timepoint"

ACT_CODE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBS_CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/condition-category"

GIVEN_FEMALE: Final = (
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Grace",
    "Freya",
    "Lily",
    "Ella",
    "Evie",
    "Margaret",
    "Susan",
    "Patricia",
    "Janet",
    "Aisha",
    "Priya",
    "Fatima",
    "Zara",
    "Niamh",
    "Chloe",
)
GIVEN_MALE: Final = (
    "Oliver",
    "George",
    "Noah",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Jack",
    "Charlie",
    "Jacob",
    "David",
    "John",
    "Michael",
    "Peter",
    "Mohammed",
    "Arjun",
    "Yusuf",
    "Kwame",
    "Rhys",
    "Owen",
)
FAMILY: Final = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Khan",
    "Ali",
    "Clarke",
    "Okafor",
    "Murphy",
    "Nowak",
    "Hughes",
    "Edwards",
    "Begum",
    "Shah",
)
STREETS: Final = (
    "Church Lane",
    "Station Road",
    "Park Avenue",
    "Mill Street",
    "Victoria Road",
    "Green Lane",
    "Manor Close",
    "Kings Road",
    "Queens Drive",
    "Orchard Way",
    "Chapel Street",
    "Meadow View",
)
# (town, postcode area) pairs; outward districts and inward codes are drawn at random.
TOWNS: Final = (
    ("Leeds", "LS"),
    ("Bradford", "BD"),
    ("Wakefield", "WF"),
    ("Harrogate", "HG"),
    ("York", "YO"),
    ("Halifax", "HX"),
    ("Huddersfield", "HD"),
    ("Sheffield", "S"),
)
INWARD_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"  # C, I, K, M, O and V are not used inward

# Ethnic category codes with rough weights (synthetic, not a census distribution).
ETHNIC_WEIGHTS: Final = (
    ("A", 70),
    ("B", 2),
    ("C", 5),
    ("D", 1),
    ("E", 1),
    ("F", 1),
    ("G", 1),
    ("H", 3),
    ("J", 4),
    ("K", 1),
    ("L", 2),
    ("M", 1),
    ("N", 3),
    ("P", 1),
    ("R", 1),
    ("S", 3),
)

ENCOUNTER_CLASSES: Final = (
    # class code, display, (SNOMED type code, display), weight, duration minutes (lo, hi)
    ("AMB", "ambulatory", ("11429006", "Consultation"), 60, (15, 60)),
    ("EMER", "emergency", ("50849002", "Emergency room admission"), 25, (90, 480)),
    ("IMP", "inpatient encounter", ("32485007", "Hospital admission"), 15, (1440, 7200)),
)
ENCOUNTER_REASONS: Final = (
    ("29857009", "Chest pain"),
    ("267036007", "Dyspnea"),
    ("21522001", "Abdominal pain"),
    ("271594007", "Syncope"),
    ("386661006", "Fever"),
    ("25064002", "Headache"),
    ("1912002", "Fall"),
    ("422587007", "Nausea"),
    ("49727002", "Cough"),
)
CONDITIONS: Final = (
    ("44054006", "Diabetes mellitus type 2"),
    ("38341003", "Hypertensive disorder, systemic arterial"),
    ("195967001", "Asthma"),
    ("13645005", "Chronic obstructive lung disease"),
    ("49436004", "Atrial fibrillation"),
    ("84114007", "Heart failure"),
    ("709044004", "Chronic kidney disease"),
    ("35489007", "Depressive disorder"),
    ("22298006", "Myocardial infarction"),
    ("230690007", "Cerebrovascular accident"),
    ("233604007", "Pneumonia"),
    ("68566005", "Urinary tract infectious disease"),
    ("396275006", "Osteoarthritis"),
    ("40930008", "Hypothyroidism"),
    ("69896004", "Rheumatoid arthritis"),
    ("414916001", "Obesity"),
)
# dm+d concepts used in UK Core examples (VMP, AMP and VTM levels), with a fitting dosage.
MEDICATIONS: Final = (
    ("39732311000001104", "Amoxicillin 250mg capsules", "One capsule three times a day"),
    (
        "22608811000001102",
        "Amoxicillin 500mg capsules (DE Pharmaceuticals)",
        "One capsule three times a day for five days",
    ),
    (
        "558911000001105",
        "Paracetamol 500mg capsules (A A H Pharmaceuticals Ltd)",
        "Two capsules up to four times a day when required",
    ),
    (
        "36141511000001100",
        "Ciprofloxacin 400mg/200ml infusion bags",
        "400mg intravenously every twelve hours",
    ),
    ("777067000", "Paracetamol", "1g orally up to four times a day when required"),
    ("777773007", "Timolol", "One drop into both eyes twice a day"),
)

# Observations: key, category, LOINC (code, display), SNOMED (code, display),
# UCUM (code, unit), value range (lo, hi), decimals.
VITALS_CORE: Final = (
    (
        "hr",
        "vital-signs",
        ("8867-4", "Heart rate"),
        ("364075005", "Heart rate"),
        ("/min", "beats/minute"),
        (52, 118),
        0,
    ),
    (
        "rr",
        "vital-signs",
        ("9279-1", "Respiratory rate"),
        ("86290005", "Respiratory rate"),
        ("/min", "breaths/minute"),
        (11, 26),
        0,
    ),
    (
        "temp",
        "vital-signs",
        ("8310-5", "Body temperature"),
        ("276885007", "Core body temperature"),
        ("Cel", "degree Celsius"),
        (35.8, 39.2),
        1,
    ),
    (
        "spo2",
        "vital-signs",
        ("2708-6", "Oxygen saturation in Arterial blood"),
        ("431314004", "Peripheral oxygen saturation"),
        ("%", "percent"),
        (89, 100),
        0,
    ),
)
BLOOD_PRESSURE: Final = (
    ("85354-9", "Blood pressure panel with all children optional"),
    ("75367002", "Blood pressure"),
    (("8480-6", "Systolic blood pressure"), ("72313002", "Systolic arterial pressure"), (98, 178)),
    (
        ("8462-4", "Diastolic blood pressure"),
        ("1091811000000102", "Diastolic arterial pressure"),
        (55, 104),
    ),
)
OPTIONAL_OBS: Final = (
    (
        "weight",
        "vital-signs",
        ("29463-7", "Body weight"),
        ("27113001", "Body weight"),
        ("kg", "kilogram"),
        (44.0, 128.0),
        1,
    ),
    (
        "height",
        "vital-signs",
        ("8302-2", "Body height"),
        ("50373000", "Body height measure"),
        ("cm", "centimeter"),
        (148.0, 196.0),
        0,
    ),
    (
        "bmi",
        "vital-signs",
        ("39156-5", "Body mass index (BMI) [Ratio]"),
        ("60621009", "Body mass index"),
        ("kg/m2", "kilogram / (meter ^ 2)"),
        (17.5, 41.0),
        1,
    ),
    (
        "wbc",
        "laboratory",
        ("6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
        ("16181000237107", "White blood cell count"),
        ("10*9/L", "10*9/L"),
        (3.2, 16.5),
        1,
    ),
    (
        "rbc",
        "laboratory",
        ("789-8", "Erythrocytes [#/volume] in Blood by Automated count"),
        ("58571000237106", "Red blood cell count"),
        ("10*12/L", "10*12/L"),
        (3.6, 5.9),
        2,
    ),
)
# Probability of each optional observation per encounter: 4 vitals + BP + 5 x 0.5 = 7.5.
OPTIONAL_OBS_P: Final = 0.5

OBS_NOTES: Final = (
    "Repeated after five minutes rest.",
    "Patient anxious during measurement.",
    "Taken on arrival in the department.",
    "Manual reading, device unavailable.",
    "Within expected range for this patient.",
)
CONDITION_NOTES: Final = (
    "Reviewed in clinic, plan unchanged.",
    "Diagnosis discussed with patient and family.",
    "Follow-up arranged with primary care.",
)
