"""The synthetic feed generator: determinism, shape, validity and recorded defects."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class
from sample_oracle import detect

from conformance.nhs import (
    NHS_NUMBER_SYSTEM,
    is_sentinel_nhs_number,
    nhs_number_check_digit_ok,
    nhs_number_range,
    postcode_problem,
    sctid_problem,
)
from conformance.samples import (
    FEED_LEVEL,
    SUPPORTED_DEFECTS,
    GeneratedFeed,
    generate_feed,
    iter_patient_bundles,
    iter_resources,
)
from conformance.samples import content as C

ROOT = Path(__file__).parents[2]


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def _resources(feed: GeneratedFeed, rtype: str) -> list[dict[str, object]]:
    data = feed.paths[rtype].read_bytes()
    if feed.paths[rtype].suffix == ".gz":
        data = gzip.decompress(data)
    return [orjson.loads(line) for line in data.splitlines()]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GeneratedFeed:
    return generate_feed(tmp_path_factory.mktemp("clean"), patients=50, seed=7)


def test_deterministic(tmp_path: Path) -> None:
    a = generate_feed(tmp_path / "a", patients=40, seed=3, defects={"MDSS-ID-02": 0.2})
    b = generate_feed(tmp_path / "b", patients=40, seed=3, defects={"MDSS-ID-02": 0.2})
    c = generate_feed(tmp_path / "c", patients=40, seed=4, defects={"MDSS-ID-02": 0.2})
    assert _files(a.root) == _files(b.root)
    assert a.injected == b.injected
    assert _files(a.root)["Patient.ndjson"] != _files(c.root)["Patient.ndjson"]


def test_deterministic_across_processes(tmp_path: Path) -> None:
    here = generate_feed(tmp_path / "here", patients=15, seed=11)
    code = (
        "import sys; from pathlib import Path; from conformance.samples import generate_feed; "
        "generate_feed(Path(sys.argv[1]), patients=15, seed=11)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "there")],
        check=True,
        cwd=ROOT,
        env={"PYTHONHASHSEED": "123", "PYTHONPATH": str(ROOT)},
    )
    assert _files(here.root) == _files(tmp_path / "there")


def test_defects_do_not_disturb_other_records(tmp_path: Path) -> None:
    """Adding a requirement's defects leaves other requirements' injections unchanged."""
    one = generate_feed(tmp_path / "one", patients=60, seed=5, defects={"MDSS-ID-07": 0.2})
    two = generate_feed(
        tmp_path / "two", patients=60, seed=5, defects={"MDSS-ID-07": 0.2, "MDSS-ORG-04": 0.3}
    )
    assert one.injected_for("MDSS-ID-07") == two.injected_for("MDSS-ID-07")
    assert two.injected_for("MDSS-ORG-04")


def test_ratios(tmp_path: Path) -> None:
    clean = generate_feed(tmp_path, patients=400, seed=8)
    n = clean.counts["Patient"]
    assert n == 400
    assert 1.7 <= clean.counts["Encounter"] / n <= 2.3
    assert 13 <= clean.counts["Observation"] / n <= 17
    assert 1.6 <= clean.counts["Condition"] / n <= 2.4
    assert 1.6 <= clean.counts["MedicationRequest"] / n <= 2.4
    assert 0.3 <= clean.counts["QuestionnaireResponse"] / n <= 0.7
    assert clean.counts["Organization"] >= 3
    assert clean.counts["Location"] == 3
    assert clean.counts["sitrep-discharge"] == 30 * 3


def test_manifest(clean: GeneratedFeed) -> None:
    assert clean.manifest is not None
    doc = json.loads(clean.manifest.read_text())
    feed = doc["feed"]
    assert feed["ics"] == "QWO"
    assert feed["sender"] == "RXX"
    assert feed["period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert feed["extracted"] == "2026-12-01T03:00:00Z"
    assert feed["environment"] == "test"
    assert feed["conformsTo"] == "mdss@1.0.0"
    listed = {e["path"] for e in doc["files"]}
    on_disk = {p.name for p in clean.root.iterdir()} - {"manifest.json"}
    assert listed == on_disk
    for entry in doc["files"]:
        data = (clean.root / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        lines = data.count(b"\n") - (1 if "table" in entry else 0)
        assert lines == entry["count"]
    assert {e.get("table") for e in doc["files"]} >= {"sitrep-discharge"}


def test_clean_feed_has_no_defects(clean: GeneratedFeed) -> None:
    assert clean.injected == []
    assert detect(clean.root) == set()


def test_clean_resources_are_valid_r4(clean: GeneratedFeed) -> None:
    """Sanity check with fhir.resources (R4B models) on every type, 25 records each."""
    for rtype in clean.paths:
        if rtype == "sitrep-discharge":
            continue
        for res in _resources(clean, rtype)[:25]:
            get_fhir_model_class(str(res["resourceType"])).model_validate(res)


def test_identity_content(clean: GeneratedFeed) -> None:
    patients = _resources(clean, "Patient")
    numbers = [
        i["value"]
        for p in patients
        for i in p.get("identifier", [])  # type: ignore[attr-defined]
        if i["system"] == NHS_NUMBER_SYSTEM
    ]
    assert len(numbers) >= 45
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert nhs_number_check_digit_ok(number)
        assert number.startswith("999")
        assert nhs_number_range(number) == "test"
        assert not is_sentinel_nhs_number(number)
    for p in patients:
        for address in p["address"]:  # type: ignore[attr-defined]
            assert postcode_problem(address["postalCode"]) is None
        assert p["meta"]["profile"] == [  # type: ignore[index]
            "https://w3id.org/mdss/StructureDefinition/MDSS-Patient"
        ]


def test_references_resolve_and_times_fit(clean: GeneratedFeed) -> None:
    start, end = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"
    for enc in _resources(clean, "Encounter"):
        period = enc["period"]
        assert start <= period["start"] < end  # type: ignore[index,operator]
        if "end" in period:  # type: ignore[operator]
            assert period["start"] <= period["end"]  # type: ignore[index]
        else:
            assert enc["status"] == "in-progress"


def test_vocabulary_codes_are_valid_sctids() -> None:
    codes = [c for c, _ in C.CONDITIONS + C.ENCOUNTER_REASONS]
    codes += [c for c, _, _ in C.MEDICATIONS]
    codes += [spec[3][0] for spec in C.VITALS_CORE + C.OPTIONAL_OBS]
    codes += [C.BLOOD_PRESSURE[1][0], C.BLOOD_PRESSURE[2][1][0], C.BLOOD_PRESSURE[3][1][0]]
    codes += [k[2][0] for k in C.ENCOUNTER_CLASSES]
    for code in codes:
        assert sctid_problem(code, concept=True) is None, code


ALL_DEFECTS = {req: 0.1 for req in SUPPORTED_DEFECTS}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> GeneratedFeed:
    return generate_feed(
        tmp_path_factory.mktemp("broken"), patients=90, seed=21, defects=ALL_DEFECTS
    )


def test_every_supported_defect_is_injected(broken: GeneratedFeed) -> None:
    got = Counter(d.requirement_id for d in broken.injected)
    assert set(got) == SUPPORTED_DEFECTS
    for req in FEED_LEVEL:
        assert got[req] == 1


def test_injected_defects_match_independent_detection(broken: GeneratedFeed) -> None:
    recorded = {(d.requirement_id, d.file, d.line) for d in broken.injected}
    assert len(recorded) == len(broken.injected)  # one entry per defect and place
    assert detect(broken.root) == recorded


def test_injected_records_carry_ids(broken: GeneratedFeed) -> None:
    lines: dict[str, list[bytes]] = {}
    for d in broken.injected:
        if d.resource_type is None or d.line is None:
            continue
        if d.file not in lines:
            lines[d.file] = (broken.root / d.file).read_bytes().splitlines()
        data = lines[d.file][d.line - 1]
        assert d.resource_id is not None
        assert d.resource_id.encode() in data
        assert d.resource_type.encode() in data


def test_descriptions_hold_no_identifiers(broken: GeneratedFeed) -> None:
    for d in broken.injected:
        assert re.search(r"\d{4,}", d.description) is None, d.description
        for word in C.FAMILY + C.GIVEN_MALE + C.GIVEN_FEMALE:
            assert word not in d.description


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        ({"MDSS-ID-06": 0.15}, 0.15),
        ({"MDSS-REF-03": 0.3}, 0.3),
        ({"MDSS-TIME-01": 0.05}, 0.05),
    ],
)
def test_rates_are_respected(tmp_path: Path, rates: dict[str, float], expected: float) -> None:
    feed = generate_feed(tmp_path, patients=150, seed=2, defects=rates)
    (req,) = rates
    eligible = {
        "MDSS-ID-06": feed.counts["Patient"],
        "MDSS-REF-03": feed.counts["Observation"] + feed.counts["Condition"],
        "MDSS-TIME-01": sum(v for k, v in feed.counts.items() if k != "sitrep-discharge"),
    }[req]
    share = len(feed.injected_for(req)) / eligible
    assert abs(share - expected) < max(0.05, 3 * (expected * (1 - expected) / eligible) ** 0.5)


def test_gzip_output(tmp_path: Path) -> None:
    plain = generate_feed(tmp_path / "plain", patients=20, seed=9, defects={"MDSS-STR-01": 0.1})
    packed = generate_feed(
        tmp_path / "packed", patients=20, seed=9, defects={"MDSS-STR-01": 0.1}, gzip=True
    )
    again = generate_feed(
        tmp_path / "again", patients=20, seed=9, defects={"MDSS-STR-01": 0.1}, gzip=True
    )
    assert _files(packed.root) == _files(again.root)
    for rtype, path in plain.paths.items():
        other = packed.paths[rtype]
        if rtype == "sitrep-discharge":
            assert other.read_bytes() == path.read_bytes()
            continue
        assert other.name == f"{rtype}.ndjson.gz"
        assert gzip.decompress(other.read_bytes()) == path.read_bytes()
    assert [(d.requirement_id, d.line) for d in packed.injected] == [
        (d.requirement_id, d.line) for d in plain.injected
    ]
    assert detect(packed.root) == {(d.requirement_id, d.file, d.line) for d in packed.injected}


def test_production_feed_records_test_range(tmp_path: Path) -> None:
    feed = generate_feed(tmp_path, patients=5, seed=1, environment="production")
    (only,) = feed.injected
    assert only.requirement_id == "MDSS-ID-03"
    assert only.file == "manifest.json"
    text = (tmp_path / "manifest.json").read_text().splitlines()
    assert only.line is not None and '"environment": "production"' in text[only.line - 1]


def test_options(tmp_path: Path) -> None:
    feed = generate_feed(tmp_path / "a", patients=3, sitrep=False, manifest=False)
    assert feed.manifest is None
    assert not (tmp_path / "a" / "manifest.json").exists()
    assert not (tmp_path / "a" / "sitrep.csv").exists()
    short = generate_feed(
        tmp_path / "b",
        patients=10,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 1),
        defects={"MDSS-TIME-02": 0.2},
    )
    assert short.counts["sitrep-discharge"] == 3
    assert detect(short.root) == {(d.requirement_id, d.file, d.line) for d in short.injected}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"defects": {"MDSS-TIME-04": 0.1}}, ValueError),
        ({"defects": {"MDSS-XX-01": 0.1}}, ValueError),
        ({"defects": {"MDSS-ID-02": 1.5}}, ValueError),
        ({"defects": {"MDSS-PROV-02": 0.1}, "manifest": False}, ValueError),
        ({"defects": {"MDSS-TAB-01": 0.1}, "sitrep": False}, ValueError),
        ({"ics": "RWO"}, ValueError),
        ({"sender": "RXX01"}, ValueError),
        ({"environment": "live"}, ValueError),
        ({"period_start": date(2026, 12, 1)}, ValueError),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        generate_feed(tmp_path, patients=1, **kwargs)  # type: ignore[arg-type]


def test_refuses_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "stray.txt").write_text("x")
    with pytest.raises(FileExistsError):
        generate_feed(tmp_path, patients=1)
    generate_feed(tmp_path, patients=1, overwrite=True)


def test_iter_resources_matches_feed(clean: GeneratedFeed) -> None:
    streamed = list(iter_resources(patients=50, seed=7))
    written = Counter(str(r["resourceType"]) for r in streamed)
    assert {k: v for k, v in clean.counts.items() if k != "sitrep-discharge"} == dict(written)
    patients = [r for r in streamed if r["resourceType"] == "Patient"]
    assert patients == _resources(clean, "Patient")


def test_patient_bundles_are_self_contained() -> None:
    bundles = list(iter_patient_bundles(patients=4, seed=1))
    assert len(bundles) == 4
    for bundle in bundles:
        get_fhir_model_class("Bundle").model_validate(bundle)
        urls = {e["fullUrl"] for e in bundle["entry"]}
        for entry in bundle["entry"]:
            for key, value in _walk_refs(entry["resource"]):
                assert key == "reference"
                assert f"https://synthetic.invalid/fhir/{value}" in urls


def _walk_refs(node: object) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference":
                out.append((key, value))
            else:
                out.extend(_walk_refs(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_walk_refs(value))
    return out


def test_memory_stays_flat(tmp_path: Path) -> None:
    """Peak RSS after 2,000 more patients grows by far less than the data written (~40 MB)."""
    code = """
import resource, sys
from pathlib import Path
from conformance.samples import generate_feed
out = Path(sys.argv[1])
generate_feed(out / "warm", patients=200, seed=1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
generate_feed(out / "big", patients=2000, seed=2)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, after)
"""
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    before, after = (int(x) for x in done.stdout.split())
    written = sum(p.stat().st_size for p in (tmp_path / "big").iterdir())
    assert written > 30_000_000
    assert (after - before) * 1024 < 8_000_000  # ru_maxrss is in KiB on Linux


SAMPLES = ROOT / "sample_feeds"


def _load_tool() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_sample_feeds", ROOT / "tools/make_sample_feeds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_sample_feeds", module)
    spec.loader.exec_module(module)
    return module


def test_sample_feeds_are_up_to_date() -> None:
    tool = _load_tool()
    assert tool.main(["--check"]) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["qwo-conformant", "qr1-warnings", "qop-failing"])
def test_sample_feeds_match_their_expected_defects(name: str) -> None:
    expected = json.loads((SAMPLES / "expected" / f"{name}.json").read_text())
    recorded = {(d["requirement_id"], d["file"], d["line"]) for d in expected}
    assert detect(SAMPLES / name, base=False) == recorded
    levels = {d["requirement_id"] for d in expected}
    if name == "qwo-conformant":
        assert not levels
    if name == "qr1-warnings":
        assert levels == {"MDSS-ID-06", "MDSS-ORG-04", "MDSS-REF-03", "MDSS-STR-04", "MDSS-ID-07"}
    if name == "qop-failing":
        assert {"MDSS-ID-02", "MDSS-ORG-01", "MDSS-STR-01", "MDSS-PROV-02"} <= levels


def test_single_samples_are_valid() -> None:
    patient = json.loads((SAMPLES / "single" / "patient.json").read_text())
    bundle = json.loads((SAMPLES / "single" / "bundle.json").read_text())
    get_fhir_model_class("Patient").model_validate(patient)
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["entry"][0]["resource"] == patient
    assert (SAMPLES / "single" / "bundle.json").read_text().count("\n") > 100


def test_sample_feeds_stay_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 15_000_000
