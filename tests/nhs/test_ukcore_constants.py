"""The UK Core constants match the published UK Core XML (copies in ``ukcore/``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.nhs import ukcore

HERE = Path(__file__).parent / "ukcore"
NS = {"f": "http://hl7.org/fhir"}


def _root(name: str) -> ET.Element:
    return ET.parse(HERE / name).getroot()


def _url(name: str) -> str:
    node = _root(name).find("f:url", NS)
    assert node is not None
    return node.attrib["value"]


def _concepts(name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for concept in _root(name).findall("f:concept", NS):
        code = concept.find("f:code", NS)
        display = concept.find("f:display", NS)
        assert code is not None and display is not None
        out[code.attrib["value"]] = display.attrib["value"]
    return out


def _extension_facts(name: str) -> tuple[list[str], list[str], list[str]]:
    root = _root(name)
    contexts = [e.attrib["value"] for e in root.findall("f:context/f:expression", NS)]
    differential = root.find("f:differential", NS)
    assert differential is not None
    paths = [e.attrib["value"] for e in differential.findall("f:element/f:path", NS)]
    value_sets = [e.attrib["value"] for e in differential.iter("{http://hl7.org/fhir}valueSet")]
    return contexts, paths, value_sets


def test_extension_urls() -> None:
    assert _url("Extension-UKCore-EthnicCategory.xml") == ukcore.EXT_ETHNIC_CATEGORY
    assert (
        _url("Extension-UKCore-NHSNumberVerificationStatus.xml")
        == ukcore.EXT_NHS_NUMBER_VERIFICATION_STATUS
    )
    assert (
        _url("Extension-UKCore-NHSNumberUnavailableReason.xml")
        == ukcore.EXT_NHS_NUMBER_UNAVAILABLE_REASON
    )


def test_verification_status_is_a_simple_extension_on_identifier() -> None:
    contexts, paths, value_sets = _extension_facts(
        "Extension-UKCore-NHSNumberVerificationStatus.xml"
    )
    assert contexts == ["Patient.identifier"]
    assert "Extension.value[x]" in paths
    assert not any(p.startswith("Extension.extension") for p in paths)
    assert value_sets == [ukcore.VS_NHS_NUMBER_VERIFICATION_STATUS]


def test_patient_level_extensions() -> None:
    for name, vs in [
        ("Extension-UKCore-EthnicCategory.xml", ukcore.VS_ETHNIC_CATEGORY),
        (
            "Extension-UKCore-NHSNumberUnavailableReason.xml",
            ukcore.VS_NHS_NUMBER_UNAVAILABLE_REASON,
        ),
    ]:
        contexts, _paths, value_sets = _extension_facts(name)
        assert contexts == ["Patient"]
        assert value_sets == [vs]


def test_code_systems() -> None:
    name = "CodeSystem-UKCore-EthnicCategoryEngland.xml"
    assert _url(name) == ukcore.CS_ETHNIC_CATEGORY_ENGLAND
    assert _concepts(name) == ukcore.ETHNIC_CATEGORY_ENGLAND
    name = "CodeSystem-UKCore-NHSNumberVerificationStatusEngland.xml"
    assert _url(name) == ukcore.CS_NHS_NUMBER_VERIFICATION_STATUS_ENGLAND
    assert _concepts(name) == ukcore.NHS_NUMBER_VERIFICATION_STATUS_ENGLAND
    name = "CodeSystem-UKCore-NHSNumberUnavailableReason.xml"
    assert _url(name) == ukcore.CS_NHS_NUMBER_UNAVAILABLE_REASON
    assert _concepts(name) == ukcore.NHS_NUMBER_UNAVAILABLE_REASON


def test_ethnic_category_letters() -> None:
    stated = sorted(ukcore.ETHNIC_CATEGORY_STATED_CODES)
    assert stated == list("ABCDEFGHJKLMNPRS")
    assert {"Z", "99"} == ukcore.ETHNIC_CATEGORY_DEFAULT_CODES
