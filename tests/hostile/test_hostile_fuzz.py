"""Property tests: no input, however broken, raises out of the readers or the engine.

Every bad input must become a finding (a record error or a source issue) or a clean error,
and every record read must be counted (``records_read = validated + unparseable``).
The examples are derandomised so CI is repeatable; ``max_examples`` keeps the module fast.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conformance.engine.accumulate import Share
from conformance.feed import FeedInfo
from conformance.fhir.resource_types import RESOURCE_TYPES
from conformance.limits import Limits
from conformance.readers.archive import extract_archive
from conformance.readers.base import Record, Source, SourceIssue
from conformance.readers.csv_table import CsvReader
from conformance.readers.discovery import InputItem
from conformance.readers.fhir_json import JsonReader, NdjsonReader
from conformance.readers.opening import source_for_stdin
from tests.hostile.hostile_support import (
    INPUT_PROBLEM_CODES,
    RECORD_ERROR_CODES,
    nonblank_lines,
    run_file,
    seed,
    seed_resources,
    session,
)

FAST = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["9990000018", "2999-01-01", "", "Patient", "urn:uuid:x", "#", "1e999"])
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated_resources(draw: st.DrawFn) -> Any:
    """A fixture resource with one to three elements replaced, removed or retyped."""
    resource: Any = seed(draw(st.integers(0, len(seed_resources()) - 1)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(resource))
        path = draw(st.sampled_from(paths))
        value = draw(JSON)
        if not path:
            resource = value
            continue
        parent = resource
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return resource


def _check_records(records: list[Record], issues: list[SourceIssue]) -> None:
    for record in records:
        if record.error is None:
            assert record.resource is not None
            if record.table is None:
                assert record.resource.get("resourceType") in RESOURCE_TYPES
        else:
            assert record.resource is None
            assert record.error.code in RECORD_ERROR_CODES, record.error
    for issue in issues:
        assert issue.code in INPUT_PROBLEM_CODES, issue


def _codes(acc: Share) -> set[str]:
    return {code for counter in acc.collector.by_code.values() for code in counter}


@FAST
@given(
    data=st.binary(max_size=3000),
    suffix=st.sampled_from(
        [".ndjson", ".json", ".csv", ".xml", ".ndjson.gz", ".json.gz", ".xml.gz", ".txt", ""]
    ),
)
def test_random_bytes_never_crash(workdir: Path, data: bytes, suffix: str) -> None:
    path = workdir / f"input{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    acc = run_file(path)  # no exception, and the counts add up
    assert acc.read == acc.summaries[0].records_read


@FAST
@given(resources=st.lists(mutated_resources(), min_size=1, max_size=6))
def test_mutated_fhir_resources_nothing_lost(workdir: Path, resources: list[Any]) -> None:
    data = b"".join(orjson.dumps(r) + b"\n" for r in resources)
    path = workdir / "mutated.ndjson"
    path.write_bytes(data)
    acc = run_file(path)
    assert acc.read == len(resources)  # one record per line, broken or not
    # The engine's safety net turns a crashing check into a located finding, never a crash.
    for req, crashes in acc.crashes.items():
        assert acc.collector.by_code[req]["check-error"] >= crashes


@FAST
@given(
    resources=st.lists(st.integers(0, 50), min_size=1, max_size=5),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=3)), max_size=4),
)
def test_byte_level_damage_is_counted(
    workdir: Path, resources: list[int], edits: list[tuple[int, bytes]]
) -> None:
    """Damaged NDJSON: every non-blank line is exactly one record, parsed or not."""
    data = bytearray(b"".join(orjson.dumps(seed(i)) + b"\n" for i in resources))
    for where, new in edits:
        at = where % (len(data) + 1)
        data[at : at + len(new)] = new
    path = workdir / "damaged.ndjson"
    path.write_bytes(bytes(data))
    records, issues = _read(NdjsonReader(Limits()), path)
    _check_records(records, issues)
    assert len(records) == nonblank_lines(bytes(data))
    lines = [r.location.line for r in records]
    assert lines == sorted(lines) and all(isinstance(n, int) and n >= 1 for n in lines)


@FAST
@given(value=JSON)
def test_random_json_values(workdir: Path, value: Any) -> None:
    encoded = orjson.dumps(value)
    for name, data in (("value.json", encoded), ("value.ndjson", encoded + b"\n")):
        path = workdir / name
        path.write_bytes(data)
        for reader in (JsonReader(Limits()), NdjsonReader(Limits())):
            records, issues = _read(reader, path)
            _check_records(records, issues)


def _read(
    reader: Any, path: Path, name: str | None = None
) -> tuple[list[Record], list[SourceIssue]]:
    from conformance.readers.discovery import open_source

    source = open_source(InputItem(path, name or path.name), Limits())
    issues: list[SourceIssue] = []
    return list(reader.read(source, issues.append)), issues


@FAST
@given(
    count=st.integers(1, 40),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=3),
)
def test_truncated_and_corrupted_gzip(
    workdir: Path, count: int, cut: float, flips: list[tuple[float, int]]
) -> None:
    """A damaged gzip never crashes; a loss of records is always reported, never silent."""
    plain = b"".join(orjson.dumps(seed(i)) + b"\n" for i in range(count))
    packed = bytearray(gzip.compress(plain, mtime=0))
    for where, mask in flips:
        packed[int(where * (len(packed) - 1))] ^= mask
    damaged = bytes(packed[: max(1, int(cut * len(packed)))] if cut < 1 else packed)
    path = workdir / "damaged.ndjson.gz"
    path.write_bytes(damaged)
    acc = run_file(path)
    issue_codes = {i.code for i in acc.source_issues}
    if acc.read != count or acc.unparseable:
        assert issue_codes & {"unreadable-input", "empty-file"} or acc.unparseable, (
            "records were lost without a finding"
        )
    if damaged == bytes(gzip.compress(plain, mtime=0)):
        assert acc.read == count and not issue_codes


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "utf-32"]


@FAST
@given(
    lines=st.lists(
        st.tuples(
            st.integers(0, 50),
            st.sampled_from(ENCODINGS),
            st.sampled_from(["é", "ø", "字", "😀", ""]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mixed_encodings(workdir: Path, lines: list[tuple[int, str, str]]) -> None:
    chunks = []
    for index, encoding, extra in lines:
        resource = seed(index)
        resource["id"] = f"x{extra}"
        chunks.append(orjson.dumps(resource).decode().encode(encoding, errors="replace") + b"\n")
    data = b"".join(chunks)
    path = workdir / "encodings.ndjson"
    path.write_bytes(data)
    records, issues = _read(NdjsonReader(Limits()), path)
    _check_records(records, issues)
    assert len(records) == nonblank_lines(data)
    acc = run_file(path)
    assert acc.read == len(records)


@FAST
@given(
    rows=st.lists(
        st.lists(
            st.text(max_size=12) | st.sampled_from(['"', '""', "\x00", "\r\n", "a,b"]), max_size=5
        ),
        max_size=6,
    )
)
def test_random_csv_tables(workdir: Path, rows: list[list[str]]) -> None:
    import csv

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["site", "date", "count"])
    writer.writerows(rows)
    path = workdir / "sitrep.csv"
    path.write_bytes(text.getvalue().encode("utf-8", errors="surrogatepass"))
    records, issues = _read(CsvReader(Limits()), path)
    _check_records(records, issues)
    run_file(path)


@FAST
@given(data=st.binary(max_size=2000), gz=st.booleans())
def test_stdin_random_bytes(data: bytes, gz: bool) -> None:
    raw = gzip.compress(data)[: max(1, len(data))] if gz else data
    limits = Limits()
    feed = FeedInfo()
    acc = session().accumulator()
    source: Source = source_for_stdin(limits, io.BytesIO(raw))
    acc.read_item(InputItem(None, "<stdin>"), feed, session().readers, limits, source=source)
    acc.check_counts()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return out.getvalue()


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


@FAST
@given(
    kind=st.sampled_from([".zip", ".tar.gz"]),
    names=st.lists(
        st.text(
            st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
            min_size=1,
            max_size=12,
        )
        | st.sampled_from(["../x.ndjson", "/abs.ndjson", "a/../../b", "a\\..\\..\\c", "./d", "."]),
        min_size=1,
        max_size=4,
    ),
    damage=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=2),
)
def test_archives_never_crash_or_escape(
    tmp_path_factory: pytest.TempPathFactory,
    kind: str,
    names: list[str],
    damage: list[tuple[float, int]],
) -> None:
    base = tmp_path_factory.mktemp("archive")
    members = {name: orjson.dumps(seed(i)) + b"\n" for i, name in enumerate(names)}
    blob = bytearray(_zip_bytes(members) if kind == ".zip" else _tar_bytes(members))
    for where, mask in damage:
        blob[int(where * (len(blob) - 1))] ^= mask
    archive = base / f"feed{kind}"
    archive.write_bytes(bytes(blob))
    dest = base / "out"
    dest.mkdir()
    extract_archive(archive, dest, Limits())
    outside = {p for p in base.rglob("*") if not p.is_relative_to(dest)}
    assert outside == {archive}, "an archive member escaped the extraction folder"


# ----------------------------------------------------------------- checks on odd resources
# Regressions for crashes the property tests found in the checks and the FHIR engine: a
# well-formed JSON resource of the wrong shape made a check raise. The engine's safety net
# turns such a crash into a 'check-error' finding, so the run goes on, but the check then
# measured nothing for that record: no check may crash at all.


def _crashes(resource: dict[str, Any], workdir: Path) -> dict[str, int]:
    path = workdir / "one.ndjson"
    path.write_bytes(orjson.dumps(resource) + b"\n")
    return dict(run_file(path).crashes)


def test_term04_survives_an_object_as_coding_system(workdir: Path) -> None:
    condition = next(seed(i) for i in range(60) if seed(i)["resourceType"] == "Condition")
    condition["code"] = {"coding": [{"system": {"not": "a string"}, "code": "1234"}]}
    assert "MDSS-TERM-04" not in _crashes(condition, workdir)


def test_bindings_survive_an_object_as_code(workdir: Path) -> None:
    encounter = next(seed(i) for i in range(60) if seed(i)["resourceType"] == "Encounter")
    encounter["class"] = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": {"not": "a string"},
    }
    assert _crashes(encounter, workdir) == {}


def test_vital_signs_lookup_survives_an_object_as_system(workdir: Path) -> None:
    observation = next(seed(i) for i in range(60) if seed(i)["resourceType"] == "Observation")
    observation["code"] = {"coding": [{"system": {"x": 1}, "code": "8867-4"}]}
    assert _crashes(observation, workdir) == {}


@settings(FAST, max_examples=60, phases=[Phase.generate])  # no shrinking: fail fast
@given(resources=st.lists(mutated_resources(), min_size=1, max_size=4))
def test_no_check_crashes_on_mutated_resources(workdir: Path, resources: list[Any]) -> None:
    path = workdir / "mutated-checks.ndjson"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    assert dict(run_file(path).crashes) == {}


# ------------------------------------------------------------------ the atheris harness


def _harness() -> Any:
    import importlib.util

    path = Path(__file__).parent.parent.parent / "fuzz" / "fuzz_readers.py"
    spec = importlib.util.spec_from_file_location("fuzz_readers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HARNESS = _harness()


def test_fuzz_harness_replays_its_seed_corpus(tmp_path: Path) -> None:
    """The harness CI fuzzes with (fuzz/fuzz_readers.py) runs here without atheris."""
    seeds = HARNESS.make_corpus(tmp_path)
    assert len(seeds) >= 10
    for path in seeds:
        HARNESS.one_input(path.read_bytes())


@FAST
@given(data=st.binary(max_size=1500))
def test_fuzz_harness_random_inputs(data: bytes) -> None:
    HARNESS.one_input(data)


# ------------------------------------------------------------------------ FHIR XML feeds

XML_SEED = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>'
    b'<identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/>'
    b'<value value="9990000018"/></identifier>'
    b'<name><family value="Testpatient"/><given value="Alex"/></name>'
    b'<gender value="female"/><birthDate value="1980-02-03"/>'
    b'<text><status value="generated"/>'
    b'<div xmlns="http://www.w3.org/1999/xhtml">Alex</div></text></Patient>'
)
XML_PIECES = [
    b"<",
    b">",
    b'"',
    b"/>",
    b"</x>",
    b"&amp;",
    b"&x;",
    b'<extension url="u">',
    b'<valueString value="1"/>',
    b"<Bundle>",
    b"<entry><resource>",
    b"\xff",
    b"]]>",
    b'encoding="bogus-8"',
    b"<!DOCTYPE x>",
    b"<?pi?>",
    b"<!-- -->",
]


@FAST
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 6), st.sampled_from(XML_PIECES)),
        max_size=5,
    )
)
def test_damaged_xml_feed_files(workdir: Path, edits: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(XML_SEED)
    for where, cut, piece in edits:
        at = where % (len(data) + 1)
        data[at : at + cut] = piece
    path = workdir / "damaged.xml"
    path.write_bytes(bytes(data))
    acc = run_file(path)
    assert acc.read <= 1 or b"Bundle" in data


def test_xml_with_an_unknown_encoding_is_a_finding(workdir: Path) -> None:
    path = workdir / "encoding.xml"
    path.write_bytes(XML_SEED.replace(b'encoding="UTF-8"', b'encoding="uKf-8"'))
    acc = run_file(path)
    assert (acc.read, acc.unparseable) == (1, 1)
    assert acc.collector.by_code["MDSS-STR-01"]["invalid-xml"] == 1


def test_parse_fhir_xml_unknown_encoding_is_fhir_xml_error() -> None:
    from conformance.fhir.fhir_xml import FhirXmlError, parse_fhir_xml

    with pytest.raises(FhirXmlError):
        parse_fhir_xml(XML_SEED.replace(b'encoding="UTF-8"', b'encoding="uKf-8"'))
