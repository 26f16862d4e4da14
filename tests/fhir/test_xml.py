"""FHIR XML -> JSON conversion and safe parsing."""

from __future__ import annotations

import pytest
from fhir_helpers import FIXTURES

from conformance.fhir import FhirValidator, parse_fhir_xml
from conformance.fhir.fhir_xml import FhirXmlError

PATIENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <text><status value="generated"/>
    <div xmlns="http://www.w3.org/1999/xhtml"><p>Hi &amp; <b>bye</b></p></div></text>
  <extension url="http://x.org/e"><valueBoolean value="true"/></extension>
  <active value="true"/>
  <name><given value="A"/><given value="B"><extension url="http://x.org/q">
    <valueCode value="IN"/></extension></given></name>
  <birthDate id="bd"><extension url="http://x.org/t"><valueInteger value="3"/></extension>
  </birthDate>
  <multipleBirthInteger value="2"/>
</Patient>"""


def test_conversion_types_arrays_and_primitive_extensions() -> None:
    d = parse_fhir_xml(PATIENT)
    assert d["resourceType"] == "Patient"
    assert d["active"] is True
    assert d["multipleBirthInteger"] == 2
    assert d["extension"] == [{"url": "http://x.org/e", "valueBoolean": True}]
    assert d["name"] == [
        {
            "given": ["A", "B"],
            "_given": [None, {"extension": [{"url": "http://x.org/q", "valueCode": "IN"}]}],
        }
    ]
    assert "birthDate" not in d
    assert d["_birthDate"] == {
        "id": "bd",
        "extension": [{"url": "http://x.org/t", "valueInteger": 3}],
    }
    div = d["text"]["div"]
    assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "<b>bye</b>" in div and "&amp;" in div
    lenient = FhirValidator.base().allowing_extensions(False, ["http://x.org/"])
    assert [i.severity for i in lenient.validate(d)] == ["information"] * 3  # not checked
    assert {i.code for i in FhirValidator.base().validate(d)} == {"unknown-extension"}


def test_contained_resources() -> None:
    xml = (
        b'<Patient xmlns="http://hl7.org/fhir"><contained><Organization><id value="o"/>'
        b'<name value="N"/></Organization></contained><managingOrganization>'
        b'<reference value="#o"/></managingOrganization></Patient>'
    )
    d = parse_fhir_xml(xml)
    assert d["contained"] == [{"resourceType": "Organization", "id": "o", "name": "N"}]


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Patient '
        b'xmlns="http://hl7.org/fhir"><id value="&a;"/></Patient>',
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.org/x.dtd"><Patient/>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<Patient xmlns="http://hl7.org/fhir"><id value="&e;"/></Patient>',
        b"<Patient><id value='x'></Patient>",
    ],
)
def test_unsafe_or_broken_xml_is_rejected(data: bytes) -> None:
    with pytest.raises(FhirXmlError):
        parse_fhir_xml(data)


def test_uk_core_example_round_trip() -> None:
    d = parse_fhir_xml(
        (FIXTURES / "ukcore" / "UKCore-Patient-RichardSmith-Example.xml").read_bytes()
    )
    assert d["resourceType"] == "Patient"
    assert isinstance(d["identifier"], list) and isinstance(d["name"], list)
    lenient = FhirValidator.base().allowing_extensions(False, ["https://fhir.hl7.org.uk/"])
    assert [i for i in lenient.validate(d) if i.severity == "error"] == []
