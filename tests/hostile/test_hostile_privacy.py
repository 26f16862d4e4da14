"""Privacy, proven: no patient value from the feed appears in any output, in any format.

A generated feed gets known NHS Numbers, names, birth dates, postcodes, phone numbers and
free text, with defects so that findings exist *about* those values (a wrong check digit,
an invalid postcode, a future birth date, an NHS Number in a file name). Every output
format registered when the test runs (enumerated through the plugin manager), the history
database and the board pack are searched for every one of those values. The explicit
local opt-in (``--show-values``, terminal to the screen) must then show them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.nhs.systems import NHS_NUMBER_SYSTEM
from conformance.plugin.manager import build_plugins
from conformance.reporters.registry import reporters
from conformance.samples import generate_feed
from tests.conftest import CliResult

Cli = Callable[..., CliResult]

CANARY_NHS = "9990000019"  # fails the Modulus 11 check (9990000018 passes)
CANARY_FAMILY = "Quillfeather"
CANARY_GIVEN = "Ottoline"
CANARY_BIRTH = "2999-05-17"  # in the future
CANARY_POSTCODE = "QX9 9QQZ"  # not a valid UK postcode
CANARY_STREET = "17 Zanzibar Wharf Lane"
CANARY_PHONE = "07700 900731"
CANARY_TEXT = "Ottoline says the knee pain began after the Zanzibar trip"
CANARY_ANSWER = "Lives alone with a parrot called Bramblewick"

CANARIES = (
    CANARY_NHS,
    CANARY_FAMILY,
    CANARY_GIVEN,
    CANARY_BIRTH,
    CANARY_POSTCODE,
    CANARY_STREET,
    CANARY_PHONE,
    "Zanzibar",
    "Bramblewick",
)


def _canary_patient(base: dict[str, Any]) -> dict[str, Any]:
    patient = json.loads(json.dumps(base))
    patient["id"] = "canary-patient"
    for ident in patient.get("identifier", []):
        if ident.get("system") == NHS_NUMBER_SYSTEM:
            ident["value"] = CANARY_NHS
    patient["name"] = [{"use": "official", "family": CANARY_FAMILY, "given": [CANARY_GIVEN]}]
    patient["birthDate"] = CANARY_BIRTH
    patient["address"] = [
        {"use": "home", "line": [CANARY_STREET], "city": "Leeds", "postalCode": CANARY_POSTCODE}
    ]
    patient["telecom"] = [{"system": "phone", "value": CANARY_PHONE, "use": "mobile"}]
    patient["text"] = {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{CANARY_GIVEN} {CANARY_FAMILY}, '
        f"{CANARY_STREET}</div>",
    }
    return patient


def _append(path: Path, *resources: dict[str, Any]) -> None:
    with path.open("ab") as out:
        for resource in resources:
            out.write(orjson.dumps(resource) + b"\n")


def _patient_values(resource: dict[str, Any]) -> Iterator[str]:
    for ident in resource.get("identifier", []):
        if ident.get("system") == NHS_NUMBER_SYSTEM and isinstance(ident.get("value"), str):
            yield ident["value"]
    for name in resource.get("name", []):
        yield from name.get("given", [])
        if "family" in name:
            yield name["family"]
    birth = resource.get("birthDate")
    if isinstance(birth, str) and birth < "2026":  # later dates could be period dates
        yield birth
    for address in resource.get("address", []):
        yield from address.get("line", [])
        if "postalCode" in address:
            yield address["postalCode"]
    for telecom in resource.get("telecom", []):
        yield telecom["value"]


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The feed, and every identifying value it holds."""
    root = tmp_path_factory.mktemp("privacy") / "feed"
    generated = generate_feed(
        root,
        patients=8,
        seed=21,
        defects={
            "MDSS-ID-02": 0.4,  # wrong check digits
            "MDSS-ID-03": 0.2,  # placeholder NHS Numbers
            "MDSS-ID-07": 0.4,  # invalid postcodes
            "MDSS-ID-08": 0.2,  # NHS Number shared by two patients
            "MDSS-SEC-01": 1.0,  # an NHS Number in the Patient file's name
        },
    )
    patient_file = generated.paths["Patient"]
    assert any(ch.isdigit() for ch in patient_file.name)
    patients = [orjson.loads(line) for line in patient_file.read_bytes().splitlines()]
    canary = _canary_patient(patients[0])
    _append(patient_file, canary)
    observation = orjson.loads(generated.paths["Observation"].read_bytes().splitlines()[0])
    observation["id"] = "canary-observation"
    observation["note"] = [{"text": CANARY_TEXT}]
    observation["subject"] = {"reference": "Patient/canary-patient"}
    _append(generated.paths["Observation"], observation)
    answer = orjson.loads(generated.paths["QuestionnaireResponse"].read_bytes().splitlines()[0])
    answer["id"] = "canary-answer"
    answer["item"] = [{"linkId": "1", "answer": [{"valueString": CANARY_ANSWER}]}]
    _append(generated.paths["QuestionnaireResponse"], answer)

    # An export job that put a patient's NHS Number in the feed id as well.
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["feed"]["id"] = f"feed-{CANARY_NHS}"
    (root / "manifest.json").write_text(json.dumps(manifest))

    values = {v for p in [*patients, canary] for v in _patient_values(p) if len(v) >= 4}
    # Placeholders (9999999999) identify nobody, and the standard's own text names them.
    values = {v for v in values if len(set(v)) > 1}
    values.add(patient_file.name.split("-", 1)[1].split(".")[0])  # the NHS Number in the name
    values.update(CANARIES)
    # Every value searched for is really in the feed (else the test would prove nothing).
    held = "".join(p.read_text(encoding="utf-8") for p in root.iterdir())
    assert [v for v in values if v not in held and v not in patient_file.name] == []
    assert len(values) >= 30
    return root, sorted(values)


def _leaks(text: str, values: list[str]) -> list[str]:
    return [v for v in values if v in text]


def _dump_db(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())


def test_no_output_format_leaks_patient_values(
    cli: Cli, feed: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, values = feed
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    formats = sorted(reporters(build_plugins()))
    assert {"json", "terminal", "markdown", "html", "sarif", "junit", "github", "csv"} <= set(
        formats
    )
    outputs: dict[str, str] = {}

    def keep(label: str, result: CliResult) -> None:
        assert result.code in (0, 1), f"{label}: {result.err}"
        outputs[f"{label} stdout"] = result.out
        outputs[f"{label} stderr"] = result.err

    base = ("--no-progress", "--jobs", "1")
    for name in formats:
        target = tmp_path / f"report.{name}"
        keep(f"validate -f {name}", cli("validate", root, "-f", name, "-o", target, *base))
        outputs[f"{name} file"] = target.read_text(encoding="utf-8")
    keep("terminal to the screen", cli("validate", root, *base))
    outputs["github step summary"] = summary.read_text(encoding="utf-8")

    card = json.loads(outputs["json file"])
    codes = {code for req in card["requirements"] for code in req["codes"]}
    # Findings exist about the values themselves: the test proves masking, not absence.
    assert {"nhs-number-check-digit", "birth-date-future", "identifier-in-name"} <= codes
    assert any(c.startswith("postcode") for c in codes), codes

    db = tmp_path / "history.sqlite3"
    keep("validate --record", cli("validate", root, "--record", "--db", db, *base))
    keep("history list", cli("history", "list", "--db", db))
    keep("history list json", cli("history", "list", "--db", db, "-f", "json"))
    for name in formats:
        keep(f"history show -f {name}", cli("history", "show", "1", "--db", db, "-f", name))
    outputs["history database"] = _dump_db(db)
    outputs["history database bytes"] = db.read_bytes().decode("utf-8", errors="replace")

    for kind in ("html", "csv", "json"):
        target = tmp_path / f"board.{kind}"
        keep(
            f"board {kind}",
            cli("board", tmp_path / "report.json", "--db", db, "-f", kind, "-o", target),
        )
        outputs[f"board {kind} file"] = target.read_text(encoding="utf-8")

    leaks = {label: _leaks(text, values) for label, text in outputs.items()}
    assert {label: found for label, found in leaks.items() if found} == {}
    assert len(outputs) > 2 * len(formats)


def test_show_values_is_the_only_way_to_see_them(
    cli: Cli, feed: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, _ = feed
    # Only the canary patient, so that its findings are among the top ones shown.
    small = tmp_path / "canary.ndjson"
    patient_file = next(root.glob("Patient-*.ndjson"))
    small.write_bytes(patient_file.read_bytes().splitlines()[-1] + b"\n")
    base = ("--no-progress", "--standard", "mdss@1.0.0", "--environment", "test")

    masked = cli("validate", small, *base)
    shown = cli("validate", small, "--show-values", *base)
    assert masked.code == shown.code == 1
    assert CANARY_NHS not in masked.out and "999 *** ****" in masked.out
    assert CANARY_NHS in shown.out  # the opt-in works...
    assert CANARY_POSTCODE in shown.out or CANARY_BIRTH in shown.out
    # ...and only for the terminal, to the screen.
    assert cli("validate", small, "--show-values", "-f", "json", *base).code == 2
    report = tmp_path / "report.txt"
    assert cli("validate", small, "--show-values", "-o", report, *base).code == 2
    assert not report.exists()
