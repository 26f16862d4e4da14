"""Implied vital-signs profiles (R4 §8.1.2), chosen as the HL7 reference validator does:
its LOINC rules first, then its SNOMED CT rules, the first match winning; codes outside
its lists imply nothing. The profile is named in the message of every issue it causes."""

from __future__ import annotations

import copy
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir_helpers import errors

from conformance.fhir import FhirValidator
from conformance.fhir.vital_signs import LOINC, RULES, SD, SNOMED_CT, implied_profile

REPO = Path(__file__).resolve().parents[2]


def observation(*codings: tuple[str, str], **more: Any) -> dict[str, Any]:
    """A heart-rate-shaped Observation that meets every vital-signs profile but the code
    (the codings given)."""
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": s, "code": c} for s, c in codings]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-01T09:30:00Z",
        "valueQuantity": {
            "value": 72,
            "unit": "beats/minute",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }
    obs.update(more)
    return obs


@pytest.mark.parametrize(
    ("system", "code", "profile"),
    [
        (LOINC, "85353-1", "vitalspanel"),
        (LOINC, "76170-0", "resprate"),
        (LOINC, "8867-4", "heartrate"),
        (LOINC, "8886-4", "heartrate"),
        (LOINC, "59408-5", "oxygensat"),
        (LOINC, "98663-8", "bodytemp"),
        (LOINC, "8308-9", "bodyheight"),
        (LOINC, "8287-5", "headcircum"),
        (LOINC, "3141-9", "bodyweight"),
        (LOINC, "89270-3", "bmi"),
        (LOINC, "8480-6", "bp"),
        (SNOMED_CT, "46680005", "vitalspanel"),
        (SNOMED_CT, "86290005", "resprate"),
        (SNOMED_CT, "271306003", "resprate"),  # listed twice: the first rule (resprate) wins
        (SNOMED_CT, "249043002", "heartrate"),
        (SNOMED_CT, "431314004", "oxygensat"),
        (SNOMED_CT, "276885007", "bodytemp"),
        (SNOMED_CT, "1162417005", "bodyheight"),
        (SNOMED_CT, "363811000", "headcircum"),
        (SNOMED_CT, "1162415002", "bodyweight"),
        (SNOMED_CT, "60621009", "bmi"),
        (SNOMED_CT, "399304008", "bp"),
    ],
)
def test_the_reference_code_lists_imply_their_profile(system: str, code: str, profile: str) -> None:
    got = implied_profile(observation((system, code)))
    assert got is not None and got.profile == SD + profile and got.code == code


@pytest.mark.parametrize("code", ["27113001", "364075005", "75367002"])
def test_snomed_codes_the_reference_does_not_list_imply_nothing(code: str) -> None:
    assert implied_profile(observation((SNOMED_CT, code))) is None


def test_codes_in_another_system_or_resource_imply_nothing() -> None:
    assert implied_profile(observation(("http://example.org/codes", "8867-4"))) is None
    assert implied_profile(observation((SNOMED_CT, "8867-4"))) is None  # a LOINC code
    not_obs = observation((LOINC, "8867-4"))
    not_obs["resourceType"] = "Basic"
    assert implied_profile(not_obs) is None
    assert implied_profile(observation()) is None
    assert implied_profile({"resourceType": "Observation", "code": {"coding": "x"}}) is None


def test_loinc_rules_come_before_snomed_rules_whatever_the_coding_order() -> None:
    got = implied_profile(observation((SNOMED_CT, "86290005"), (LOINC, "8867-4")))
    assert got is not None and got.profile == SD + "heartrate" and got.code == "8867-4"


def test_the_table_has_each_profile_once_per_system() -> None:
    for system in (LOINC, SNOMED_CT):
        profiles = [r.profile for r in RULES if r.system == system]
        assert len(profiles) == len(set(profiles)) == 10


def test_issues_of_the_implied_profile_name_it_and_the_code(base: FhirValidator) -> None:
    obs = observation((LOINC, "8867-4"))
    assert errors(base.validate(obs)) == []
    del obs["effectiveDateTime"]  # required by the vital-signs profiles, not by base R4
    found = errors(base.validate(obs))
    assert found and all(i.source == SD + "heartrate" for i in found)
    for i in found:
        assert i.message.endswith(
            f"(profile {SD}heartrate applies to this Observation: its code is LOINC 8867-4"
            " — FHIR R4 §8.1.2)"
        )
    assert any(i.expression == "Observation.effective[x]" for i in found)


def test_snomed_only_rule_names_snomed(base: FhirValidator) -> None:
    obs = observation((SNOMED_CT, "249043002"))
    found = errors(base.validate(obs))
    # the heartrate profile requires its LOINC code (a slice of Observation.code.coding)
    assert found and all(i.source == SD + "heartrate" for i in found)
    assert all("its code is SNOMED CT 249043002" in i.message for i in found)


@pytest.mark.parametrize("code", ["27113001", "364075005", "75367002"])
def test_unlisted_snomed_observation_is_valid(base: FhirValidator, code: str) -> None:
    assert errors(base.validate(observation((SNOMED_CT, code)))) == []


def test_claimed_vital_signs_profile_is_checked_once(base: FhirValidator) -> None:
    obs = observation((LOINC, "8867-4"), meta={"profile": [SD + "heartrate"]})
    del obs["effectiveDateTime"]
    found = errors(base.validate(obs))
    assert len(found) == len(set((i.expression, i.code) for i in found))
    assert all("applies to this Observation" in i.message for i in found)


def test_vital_signs_apply_inside_bundles_and_contained(base: FhirValidator) -> None:
    obs = observation((LOINC, "8867-4"), id="o1")
    del obs["effectiveDateTime"]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:0b3c1d1e-0000-4000-8000-000000000001", "resource": obs},
            {
                "fullUrl": "urn:uuid:0b3c1d1e-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "Patient",
                    "contained": [copy.deepcopy(obs)],
                },
            },
        ],
    }
    where = {i.expression for i in errors(base.validate(bundle)) if i.source == SD + "heartrate"}
    assert "Bundle.entry[0].resource.effective[x]" in where
    assert "Bundle.entry[1].resource.contained[0].effective[x]" in where


# -- a feed: STR-02 (base R4 and the profiles R4 mandates) through the command line


def _feed_with_snomed_only_vitals(src: Path, dest: Path, drop_loinc_for: set[str]) -> int:
    """A copy of a sample feed whose vital signs coded with these SNOMED CT codes lose
    their LOINC coding; the manifest's count and sha256 follow. Returns how many changed."""
    shutil.copytree(src, dest)
    path = dest / "Observation.ndjson"
    lines, changed = [], 0
    for line in path.read_bytes().splitlines():
        obs = orjson.loads(line)
        codings = obs["code"]["coding"]
        if any(c.get("system") == SNOMED_CT and c.get("code") in drop_loinc_for for c in codings):
            obs["code"]["coding"] = [c for c in codings if c.get("system") != LOINC]
            changed += 1
        lines.append(orjson.dumps(obs))
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    manifest = orjson.loads((dest / "manifest.json").read_bytes())
    for entry in manifest["files"]:
        if entry["path"] == "Observation.ndjson":
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            entry["count"] = len(lines)
    (dest / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return changed


def _str02(card: dict[str, Any]) -> dict[str, Any]:
    req: dict[str, Any] = next(r for r in card["requirements"] if r["id"] == "MDSS-STR-02")
    return req


def test_feed_with_vitals_coded_only_in_unlisted_snomed_has_no_str02_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    unlisted = {"27113001", "364075005", "75367002"}
    feed = tmp_path / "feed"
    changed = _feed_with_snomed_only_vitals(
        REPO / "sample_feeds" / "qwo-conformant", feed, unlisted
    )
    assert changed > 100
    result = cli("validate", feed, "--format", "json")
    str02 = _str02(result.json())
    assert str02["findings"]["error"] == 0 and str02["status"] == "pass"


def test_feed_with_vitals_coded_only_in_listed_snomed_fails_str02(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """The control: SNOMED CT codes on the reference's lists do imply a profile, and the
    profile wants its LOINC code, so the same change fails STR-02 naming the profile."""
    feed = tmp_path / "feed"
    changed = _feed_with_snomed_only_vitals(
        REPO / "sample_feeds" / "qwo-conformant", feed, {"86290005"}
    )
    assert changed > 100
    card = cli("validate", feed, "--format", "json").json()
    assert _str02(card)["findings"]["error"] >= changed
    messages = {f["message"] for f in card["findings"] if f["requirement"] == "MDSS-STR-02"}
    assert messages and all(f"profile {SD}resprate applies" in m for m in messages)
    assert all("its code is SNOMED CT 86290005" in m for m in messages)


def test_malformed_codings_imply_nothing_and_do_not_crash(base: FhirValidator) -> None:
    obs = observation()
    obs["code"]["coding"] = [{"system": ["x"], "code": "8867-4"}, {"system": LOINC, "code": {}}, 3]
    assert implied_profile(obs) is None
    assert base.validate(obs)  # base R4 reports the wrong types
