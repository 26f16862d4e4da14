"""``conformance validate --standard fhir-r4``: a FHIR validator's command line, end to end.

Resources and profiles are small ones written here from the FHIR R4 specification
(StructureDefinition differentials, ImplementationGuide.global, NPM package layout).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, CliResult

pytestmark = pytest.mark.acceptance

Cli = Callable[..., CliResult]
EXAMPLES = REPO / "examples" / "fhir"
DEMO = "https://example.org/fhir/StructureDefinition/demo-patient"
P = "https://example.org/fhir/StructureDefinition/"
NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}


def patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p1", "text": NARRATIVE, **extra}


def profile(
    name: str, rtype: str, elements: list[dict[str, Any]], base: str = ""
) -> dict[str, Any]:
    """A profile on ``rtype`` at ``P + name``: the README's demo profile, retargeted."""
    demo = json.loads((EXAMPLES / "demo-ig" / "StructureDefinition-demo-patient.json").read_text())
    return {
        **demo,
        "id": name,
        "url": P + name,
        "name": name,
        "type": rtype,
        "baseDefinition": base or f"http://hl7.org/fhir/StructureDefinition/{rtype}",
        "differential": {"element": [{"id": rtype, "path": rtype}, *elements]},
    }


def needs(rtype: str, element: str) -> dict[str, Any]:
    return {"id": f"{rtype}.{element}", "path": f"{rtype}.{element}", "min": 1}


def write(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


def tgz(path: Path, files: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in files.items():
            raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def run_json(cli: Cli, *argv: str | Path) -> tuple[CliResult, dict[str, Any]]:
    result = cli("validate", "--standard", "fhir-r4", "--format", "json", *argv)
    assert result.code in (0, 1), result.err
    return result, result.json()


def codes(card: dict[str, Any]) -> dict[str, int]:
    return dict(card["requirements"][0]["codes"])


# ------------------------------------------------------------------ the fhir-r4 standard


def test_a_good_resource_file_is_conformant_with_no_manifest(cli: Cli) -> None:
    result, card = run_json(cli, EXAMPLES / "patient.json")
    assert result.code == 0
    assert card["standard"]["id"] == "fhir-r4"
    assert [r["id"] for r in card["requirements"]] == ["FHIR-R4-01"]
    assert card["requirements"][0]["level"] == "MUST"
    assert (card["verdict"], card["score"]) == ("Conformant", 100.0)


def test_a_broken_resource_fails_with_exit_1(cli: Cli) -> None:
    result, card = run_json(cli, EXAMPLES / "patient-bad.json")
    assert result.code == 1
    assert card["verdict"] == "Not conformant"
    assert codes(card) == {"binding-required": 1, "invalid-primitive": 1}
    paths = {f["location"]["expression"] for f in card["findings"]}
    assert paths == {"Patient.gender", "Patient.birthDate"}


def test_fhir_warnings_stay_warnings_and_do_not_fail_the_must(cli: Cli, tmp_path: Path) -> None:
    bare = write(tmp_path / "bare.json", {"resourceType": "Patient", "id": "p"})  # no narrative
    result, card = run_json(cli, bare)
    assert result.code == 0 and card["verdict"] == "Conformant"
    assert {f["severity"] for f in card["findings"]} == {"warning"}  # dom-6, best practice


def test_xml_ndjson_bundle_and_folder_inputs(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "p.xml").write_text(
        '<Patient xmlns="http://hl7.org/fhir"><id value="x"/><gender value="nope"/></Patient>'
    )
    lines = [patient(), patient(gender="nope"), patient()]
    (tmp_path / "p.ndjson").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
                "resource": patient(birthDate="2001-02-30"),
            }
        ],
    }
    write(tmp_path / "b.json", bundle)
    for name, failing in (("p.xml", 1), ("p.ndjson", 1), ("b.json", 1)):
        result, card = run_json(cli, tmp_path / name)
        assert result.code == 1, name
        errors = [f for f in card["findings"] if f["severity"] == "error"]
        assert len(errors) == failing, (name, errors)
    result, card = run_json(cli, tmp_path)
    assert card["counts"]["records_read"] == 5  # 1 XML, 3 NDJSON, the Bundle (one record)
    assert result.code == 1


def test_a_bundle_is_judged_whole_in_json_and_xml(cli: Cli, tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "Patient/1", "resource": {**patient(), "id": "1"}}],
    }
    write(tmp_path / "b.json", bundle)
    (tmp_path / "b.xml").write_text(
        '<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry>'
        '<fullUrl value="Patient/1"/><resource><Patient><id value="1"/></Patient></resource>'
        "</entry></Bundle>"
    )
    for name in ("b.json", "b.xml"):
        result, card = run_json(cli, tmp_path / name)
        assert result.code == 1, name  # R4: Bundle.entry.fullUrl must be an absolute URL
        assert card["counts"]["records_read"] == 1
        errors = [f for f in card["findings"] if f["severity"] == "error"]
        assert [f["location"]["expression"] for f in errors] == ["Bundle.entry[0]"], name
    bundle["entry"][0]["fullUrl"] = "https://example.org/fhir/Patient/1"
    assert run_json(cli, write(tmp_path / "ok.json", bundle))[0].code == 0


def test_profiles_apply_to_the_entries_of_a_bundle_and_to_the_bundle(
    cli: Cli, tmp_path: Path
) -> None:
    write(
        tmp_path / "defs" / "p.json",
        profile("needs-gender", "Patient", [needs("Patient", "gender")]),
    )
    write(
        tmp_path / "defs" / "b.json", profile("needs-id", "Bundle", [needs("Bundle", "identifier")])
    )
    inner = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient()}]}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": patient()}, {"resource": inner}],
    }
    res = write(tmp_path / "in" / "bundle.json", bundle)
    pkg = ("--package", tmp_path / "defs")
    result, card = run_json(cli, *pkg, "--profile", P + "needs-gender", res)
    assert result.code == 1
    assert sorted(f["location"]["expression"] for f in card["findings"]) == [
        "Bundle.entry[0].resource.gender",
        "Bundle.entry[1].resource.entry[0].resource.gender",
    ]
    result, card = run_json(cli, *pkg, "--profile", P + "needs-id", res)
    assert sorted(f["location"]["expression"] for f in card["findings"]) == [
        "Bundle.entry[1].resource.identifier",  # the inner Bundle too
        "Bundle.identifier",
    ]


def test_an_entry_claiming_the_profile_given_is_reported_once(cli: Cli, tmp_path: Path) -> None:
    entry = {**patient(), "meta": {"profile": [DEMO]}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": entry}]}
    res = write(tmp_path / "b.json", bundle)
    result, card = run_json(cli, "--package", EXAMPLES / "demo-ig", "--profile", DEMO, res)
    assert result.code == 1
    assert [(f["code"], f["location"]["expression"]) for f in card["findings"]] == [
        ("cardinality-min", "Bundle.entry[0].resource.birthDate")
    ]


def test_an_unparseable_record_fails_the_one_requirement(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "x.ndjson").write_text(json.dumps(patient()) + "\n{not json\n")
    result, card = run_json(cli, tmp_path / "x.ndjson")
    assert result.code == 1
    req = card["requirements"][0]
    assert (req["numerator"], req["denominator"]) == (1, 2)
    assert "invalid-json" in req["codes"]


# ----------------------------------------------------------------- --package, --profile


def test_profile_from_a_package_folder_applies_to_every_resource_of_its_type(cli: Cli) -> None:
    args = ("--package", EXAMPLES / "demo-ig", "--profile", DEMO)
    result, card = run_json(cli, *args, EXAMPLES / "patient-no-birthdate.json")
    assert result.code == 1
    assert codes(card) == {"cardinality-min": 1}
    assert card["findings"][0]["location"]["expression"] == "Patient.birthDate"
    result, card = run_json(cli, *args, EXAMPLES / "patient.json")
    assert result.code == 0 and card["verdict"] == "Conformant"
    # without --profile the same resource meets base R4
    result, _ = run_json(
        cli, "--package", EXAMPLES / "demo-ig", EXAMPLES / "patient-no-birthdate.json"
    )
    assert result.code == 0


def test_several_profiles_are_all_applied(cli: Cli, tmp_path: Path) -> None:
    write(
        tmp_path / "defs" / "a.json",
        profile("needs-gender", "Patient", [needs("Patient", "gender")]),
    )
    write(
        tmp_path / "defs" / "sub" / "b.json",
        profile("needs-name", "Patient", [needs("Patient", "name")]),
    )
    res = write(tmp_path / "in" / "p.json", patient())
    argv = ["--package", tmp_path / "defs", "--profile", P + "needs-gender"]
    result, card = run_json(cli, *argv, "--profile", P + "needs-name", res)
    assert result.code == 1
    assert sorted(f["location"]["expression"] for f in card["findings"]) == [
        "Patient.gender",
        "Patient.name",
    ]
    result, card = run_json(cli, *argv, res)
    assert [f["location"]["expression"] for f in card["findings"]] == ["Patient.gender"]


def test_profile_only_touches_its_own_type(cli: Cli, tmp_path: Path) -> None:
    write(
        tmp_path / "defs" / "a.json",
        profile("needs-gender", "Patient", [needs("Patient", "gender")]),
    )
    org = write(
        tmp_path / "org.json",
        {"resourceType": "Organization", "id": "o", "text": NARRATIVE, "name": "O"},
    )
    result, _ = run_json(cli, "--package", tmp_path / "defs", "--profile", P + "needs-gender", org)
    assert result.code == 0


def test_tgz_package_with_its_dependency_beside_it(cli: Cli, tmp_path: Path) -> None:
    base = profile("base-patient", "Patient", [needs("Patient", "gender")])
    child = profile("child-patient", "Patient", [needs("Patient", "name")], base=P + "base-patient")
    deps = {"hl7.fhir.r4.core": "4.0.1", "example.base": "1.0.0"}
    pkg = tgz(
        tmp_path / "pkgs" / "example.child#1.0.0.tgz",
        {
            "package.json": {"name": "example.child", "version": "1.0.0", "dependencies": deps},
            "StructureDefinition-child.json": child,
        },
    )
    tgz(
        tmp_path / "pkgs" / "example.base#1.0.0.tgz",
        {
            "package.json": {"name": "example.base", "version": "1.0.0"},
            "StructureDefinition-base.json": base,
        },
    )
    res = write(tmp_path / "p.json", patient())
    result, card = run_json(cli, "--package", pkg, "--profile", P + "child-patient", res)
    assert result.code == 1
    assert sorted(f["location"]["expression"] for f in card["findings"]) == [
        "Patient.gender",  # from the dependency's profile, which the child derives from
        "Patient.name",
    ]
    assert "warning" not in result.err  # the core package is built in; the other is there


def test_missing_dependency_is_one_warning_line_not_a_crash(cli: Cli, tmp_path: Path) -> None:
    sd = profile("needs-gender", "Patient", [needs("Patient", "gender")])
    manifest = {
        "name": "example.alone",
        "version": "1.0.0",
        "dependencies": {"example.gone": "2.0.0"},
    }
    pkg = tgz(tmp_path / "alone.tgz", {"package.json": manifest, "StructureDefinition-a.json": sd})
    res = write(tmp_path / "p.json", patient(gender="male"))
    result, _ = run_json(cli, "--package", pkg, "--profile", P + "needs-gender", res)
    assert result.code == 0
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ")
    assert "example.gone#2.0.0" in lines[0] and "alone.tgz" in lines[0]


def test_unpacked_dependency_folder_is_found(cli: Cli, tmp_path: Path) -> None:
    base = profile("base-patient", "Patient", [needs("Patient", "gender")])
    child = profile("child-patient", "Patient", [], base=P + "base-patient")
    write(
        tmp_path / "example.child" / "package" / "package.json",
        {"name": "example.child", "version": "1.0.0", "dependencies": {"example.base": "1.0.x"}},
    )
    write(tmp_path / "example.child" / "package" / "child.json", child)
    write(tmp_path / "example.base#1.0.3" / "package" / "base.json", base)
    res = write(tmp_path / "in" / "p.json", patient())
    argv = ("--package", tmp_path / "example.child", "--profile", P + "child-patient", res)
    result, card = run_json(cli, *argv)
    assert result.code == 1 and codes(card) == {"cardinality-min": 1}
    assert result.err == ""


def test_implementation_guide_global_profiles_apply_to_their_type(cli: Cli, tmp_path: Path) -> None:
    guide = {
        "resourceType": "ImplementationGuide",
        "url": "https://example.org/fhir/ImplementationGuide/demo",
        "name": "Demo",
        "status": "active",
        "packageId": "example.demo",
        "fhirVersion": ["4.0.1"],
        "global": [{"type": "Patient", "profile": P + "needs-gender"}],
    }
    (tmp_path / "ig").mkdir()
    (tmp_path / "ig" / "ImplementationGuide-demo.xml").write_text(_xml_guide(guide))
    write(
        tmp_path / "ig" / "sd.json",
        profile("needs-gender", "Patient", [needs("Patient", "gender")]),
    )
    no_gender = write(tmp_path / "in" / "a.json", patient())
    org = write(
        tmp_path / "in" / "o.json",
        {"resourceType": "Organization", "id": "o", "text": NARRATIVE, "name": "O"},
    )
    result, card = run_json(cli, "--package", tmp_path / "ig", no_gender, org)
    assert result.code == 1
    assert [(f["resource_type"], f["location"]["expression"]) for f in card["findings"]] == [
        ("Patient", "Patient.gender")
    ]
    result, _ = run_json(
        cli, "--package", tmp_path / "ig", write(tmp_path / "ok.json", patient(gender="other"))
    )
    assert result.code == 0


def _xml_guide(guide: dict[str, Any]) -> str:
    """The guide in FHIR XML (packages hold XML as well as JSON)."""
    parts = [
        f'<url value="{guide["url"]}"/>',
        f'<name value="{guide["name"]}"/>',
        f'<status value="{guide["status"]}"/>',
        f'<packageId value="{guide["packageId"]}"/>',
        '<fhirVersion value="4.0.1"/>',
    ]
    for g in guide["global"]:
        parts.append(
            f'<global><type value="{g["type"]}"/><profile value="{g["profile"]}"/></global>'
        )
    return (
        f'<ImplementationGuide xmlns="http://hl7.org/fhir">{"".join(parts)}</ImplementationGuide>'
    )


def test_package_and_profile_work_with_another_standard(cli: Cli, tmp_path: Path) -> None:
    sd = profile("needs-marital", "Patient", [needs("Patient", "maritalStatus")])
    write(tmp_path / "defs" / "a.json", sd)
    res = write(tmp_path / "in" / "p.json", patient())
    argv = ("validate", "--standard", "mdss", "--format", "json", "--package", tmp_path / "defs")

    def marital(card: dict[str, Any]) -> list[str]:
        return [
            f["requirement"]
            for f in card["findings"]
            if f["location"].get("expression") == "Patient.maritalStatus"
        ]

    assert marital(cli(*argv, res).json()) == []
    assert marital(cli(*argv, "--profile", P + "needs-marital", res).json()) == ["MDSS-STR-03"]


# ------------------------------------------------------------------------- usage errors


def _one_line(result: CliResult) -> str:
    assert result.code == 2, (result.code, result.err)
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    return result.err


def test_unknown_profile_url_is_a_usage_error_naming_it(cli: Cli) -> None:
    url = "https://example.org/fhir/StructureDefinition/nope"
    err = _one_line(
        cli("validate", "--standard", "fhir-r4", "--profile", url, EXAMPLES / "patient.json")
    )
    assert url in err


def test_profile_of_a_data_type_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    ext = {**profile("an-extension", "Extension", []), "kind": "complex-type"}
    write(tmp_path / "defs" / "e.json", ext)
    url = P + "an-extension"
    argv = ("--package", tmp_path / "defs", "--profile", url, EXAMPLES / "patient.json")
    err = _one_line(cli("validate", "--standard", "fhir-r4", *argv))
    assert url in err and "not of a resource type" in err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.json", b"{not json"),
        ("broken.tgz", b"this is not a gzip file"),
        ("empty.tgz", b""),
        ("no-resource.json", b'{"hello": 1}'),
    ],
)
def test_bad_package_input_is_one_line_naming_the_file(
    cli: Cli, tmp_path: Path, name: str, content: bytes
) -> None:
    bad = tmp_path / "pkg" / name
    bad.parent.mkdir()
    bad.write_bytes(content)
    for given in (bad, bad.parent):
        err = _one_line(
            cli("validate", "--standard", "fhir-r4", "--package", given, EXAMPLES / "patient.json")
        )
        assert name in err


def test_tgz_without_a_package_folder_is_not_a_package(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "other.tgz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    err = _one_line(
        cli("validate", "--standard", "fhir-r4", "--package", path, EXAMPLES / "patient.json")
    )
    assert "other.tgz" in err and "not a FHIR package" in err


def test_missing_package_path_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    err = _one_line(
        cli(
            "validate",
            "--standard",
            "fhir-r4",
            "--package",
            tmp_path / "nope",
            EXAMPLES / "patient.json",
        )
    )
    assert "nope" in err


# ------------------------------------------------------------------------------ README


def _readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Validating FHIR resources (like the HL7 validator)")
    return text[start : text.index("\n## ", start + 1)]


def test_readme_fhir_examples_print_what_the_readme_says(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    section = _readme_section()
    block = section[section.index("```sh\n") + 6 : section.index("```\n", section.index("```sh"))]
    commands = [shlex.split(c) for c in block.replace("\\\n", " ").splitlines() if c.strip()]
    monkeypatch.chdir(REPO)
    first, second = (cli(*argv[1:]) for argv in commands[:2])
    said = " ".join(section.split())
    assert "The first prints `Verdict Conformant` and exits 0" in said
    assert first.code == 0 and "Verdict   Conformant" in first.out
    assert "one finding, `cardinality-min` at `Patient.birthDate`" in said
    assert second.code == 1 and "Verdict   Not conformant" in second.out
    assert "Findings by code (1 codes, 1 findings)" in second.out
    assert "cardinality-min" in second.out and "Patient.birthDate" in second.out
    message = "Element 'birthDate' requires at least 1 item(s) in this profile; found 0"
    assert f"(`{message}`)" in said and message in second.out
    bad = cli(
        "validate", "--standard", "fhir-r4", "--format", "json", EXAMPLES / "patient-bad.json"
    )
    assert bad.code == 1 and set(bad.json()["requirements"][0]["codes"]) == {
        "binding-required",
        "invalid-primitive",
    }


def test_readme_fhir_options_exist() -> None:
    import argparse
    import re

    from conformance.cli import validate

    sub = argparse.ArgumentParser().add_subparsers()
    validate.register(sub)
    known = {o for a in sub.choices["validate"]._actions for o in a.option_strings}
    section = _readme_section()
    table = section[section.index("| HL7 validator") :]
    named = set(re.findall(r"`(--[a-z-]+)", table)) | set(re.findall(r"`(--[a-z-]+)", section))
    # the extension options arrive with the extension-policy change (branch fhirext)
    pending = {"--allow-extension-domain", "--allow-example-extensions"} - known
    assert named - pending <= known, named - known
