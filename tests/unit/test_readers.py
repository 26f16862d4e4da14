"""Every reader, with the exact location of each record, and bad input as data."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest

from conformance.errors import InputError
from conformance.limits import Limits
from conformance.readers.base import Record, SourceIssue
from conformance.readers.discovery import InputItem, find_inputs, open_source
from conformance.readers.fhir_json import JsonReader, NdjsonReader
from conformance.readers.opening import source_for_stdin
from tests.conftest import ndjson, patient

LIMITS = Limits()


def read(path: Path | str, limits: Limits = LIMITS) -> tuple[list[Record], list[SourceIssue]]:
    source = open_source(InputItem(Path(path), str(path)), limits)
    readers = [NdjsonReader(limits), JsonReader(limits)]
    reader = max(readers, key=lambda r: r.claims(source))
    issues: list[SourceIssue] = []
    return list(reader.read(source, issues.append)), issues


def test_ndjson_lines_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "Patient.ndjson"
    path.write_bytes(ndjson(patient(id="a")) + b"\n   \n" + ndjson(patient(id="b")))
    records, issues = read(path)
    assert [(r.resource_id, r.location.line) for r in records] == [("a", 1), ("b", 4)]
    assert all(r.location.file == str(path) for r in records)
    assert not issues


def test_ndjson_broken_lines_are_records(tmp_path: Path) -> None:
    path = tmp_path / "feed.ndjson"
    path.write_bytes(
        ndjson(patient(id="a"))
        + b'{"resourceType": "Patient", "id": \n'
        + b"[1, 2]\n"
        + b'{"id": "x"}\n'
        + b'{"resourceType": "Pateint"}\n'
        + b'{"resourceType": "Patient", "name": [{"text": "caf\xe9"}]}\n'
        + ndjson(patient(id="z"))
    )
    records, _ = read(path)
    codes = [(r.location.line, r.error.code if r.error else None) for r in records]
    assert codes == [
        (1, None),
        (2, "invalid-json"),
        (3, "not-an-object"),
        (4, "missing-resource-type"),
        (5, "unknown-resource-type"),
        (6, "not-utf8"),
        (7, None),
    ]


def test_ndjson_gzip_and_truncated_gzip(tmp_path: Path) -> None:
    body = ndjson(*[patient(id=f"p{i}") for i in range(200)])
    good = tmp_path / "Patient.ndjson.gz"
    good.write_bytes(gzip.compress(body))
    records, issues = read(good)
    assert len(records) == 200 and not issues
    truncated = tmp_path / "cut.ndjson.gz"
    truncated.write_bytes(gzip.compress(body)[:-200])
    records, issues = read(truncated)
    assert 0 < len(records) < 200 or issues
    assert [i.code for i in issues] == ["unreadable-input"]
    assert "truncated" in issues[0].message


def test_line_too_long_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "feed.ndjson"
    path.write_bytes(
        ndjson(patient(id="a"), {"resourceType": "Basic", "id": "x" * 5000}, patient(id="b"))
    )
    records, _ = read(path, Limits(max_line_bytes=1000))
    assert [(r.location.line, r.error.code if r.error else None) for r in records] == [
        (1, None),
        (2, "line-too-long"),
        (3, None),
    ]


def test_depth_limit(tmp_path: Path) -> None:
    deep: object = "x"
    for _ in range(50):
        deep = {"a": deep}
    path = tmp_path / "feed.ndjson"
    path.write_bytes(ndjson({"resourceType": "Basic", "extension": [deep]}, patient()))
    records, _ = read(path, Limits(max_depth=20))
    assert [r.error.code if r.error else None for r in records] == ["too-deep", None]


def test_json_resource_file(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_bytes(orjson.dumps(patient(), option=orjson.OPT_INDENT_2))
    records, issues = read(path)
    assert len(records) == 1 and records[0].resource_type == "Patient"
    assert not issues
    assert records[0].location.file == str(path)


def test_bundle_entries_are_records(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": patient(id="a")},
            {"fullUrl": "urn:uuid:2"},
            {"request": {"method": "DELETE", "url": "Patient/x"}},
            {"resource": {"resourceType": "Nope"}},
            {"resource": patient(id="b")},
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    records, _ = read(path)
    assert [(r.location.entry, r.error.code if r.error else r.resource_id) for r in records] == [
        (0, "a"),
        (1, "bundle-entry-without-resource"),
        (3, "unknown-resource-type"),
        (4, "b"),
    ]


def test_invalid_json_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(b'{\n  "resourceType": "Patient",\n  "id": oops\n}\n')
    records, _ = read(path)
    assert len(records) == 1
    assert records[0].error is not None and records[0].error.code == "invalid-json"
    assert records[0].location.line == 3


def test_not_utf8_json_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"resourceType": "Patient", "id": "é"}'.encode("latin-1"))
    records, _ = read(path)
    assert records[0].error is not None and records[0].error.code == "not-utf8"


@pytest.mark.parametrize("name", ["empty.ndjson", "empty.json"])
def test_empty_file_is_reported(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\n  \n")
    records, issues = read(path)
    assert records == []
    assert [i.code for i in issues] == ["empty-file"]


def test_stdin_plain_and_gzip() -> None:
    body = ndjson(patient(id="a"), patient(id="b"))
    for data in (body, gzip.compress(body)):
        source = source_for_stdin(LIMITS, io.BytesIO(data))
        reader = NdjsonReader(LIMITS)
        assert reader.claims(source) > 0
        issues: list[SourceIssue] = []
        records = list(reader.read(source, issues.append))
        assert [r.resource_id for r in records] == ["a", "b"]
        assert records[1].location.file == "<stdin>" and records[1].location.line == 2


def test_directory_is_recursive_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.ndjson").write_bytes(ndjson(patient()))
    (tmp_path / "1.ndjson").write_bytes(ndjson(patient()))
    (tmp_path / "README.md").write_text("docs")
    (tmp_path / ".hidden.ndjson").write_bytes(b"")
    found = find_inputs([str(tmp_path)], LIMITS)
    assert [i.name for i in found.items] == ["1.ndjson", "b/2.ndjson"]  # relative to the root
    assert found.root == str(tmp_path)


def test_symlink_out_of_tree_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.ndjson"
    outside.write_bytes(ndjson(patient()))
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "link.ndjson").symlink_to(outside)
    found = find_inputs([str(feed)], LIMITS)
    assert found.items == []
    assert [i.code for i in found.issues] == ["link-outside-input"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        find_inputs([str(tmp_path / "nope.ndjson")], LIMITS)


def test_file_count_limit(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.ndjson").write_bytes(ndjson(patient()))
    found = find_inputs([str(tmp_path)], Limits(max_files=3))
    assert len(found.items) == 3
    assert [i.code for i in found.issues] == ["limit-exceeded"]


def test_gzip_bomb_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.ndjson.gz"
    path.write_bytes(gzip.compress(b" " * (20 * 1024 * 1024)))
    records, issues = read(path, Limits(max_ratio=100))
    assert records == []
    assert [i.code for i in issues] == ["limit-exceeded"]
    assert "ratio" in issues[0].message


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archived_feed_is_extracted_with_stable_names(tmp_path: Path, kind: str) -> None:
    import tarfile
    import zipfile

    body = ndjson(patient(id="a"))
    archive = tmp_path / f"feed.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("feed/manifest.json", b'{"feed": {"id": "z"}, "files": []}')
            zf.writestr("feed/Patient.ndjson", body)
            zf.writestr("../escape.ndjson", body)
    else:
        with tarfile.open(archive, "w:gz") as tf:
            for name, data in (
                ("feed/manifest.json", b'{"feed": {"id": "z"}, "files": []}'),
                ("feed/Patient.ndjson", body),
                ("/abs.ndjson", body),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            link = tarfile.TarInfo("feed/link.ndjson")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tf.addfile(link)
    found = find_inputs([str(archive)], LIMITS)
    try:
        assert found.feed.id == "z"
        codes = sorted(i.code for i in found.issues)
        assert codes == (
            ["unsafe-archive-member"]
            if kind == "zip"
            else ["unsafe-archive-member", "unsafe-archive-member"]
        )
        assert not (tmp_path / "escape.ndjson").exists()
        names = [i.name for i in found.items]
        assert names in (["Patient.ndjson"], ["feed/Patient.ndjson"])
        assert found.root == str(archive)
        assert [i.relative for i in found.items] == ["Patient.ndjson"]
    finally:
        temp = list(found.temporary)
        found.cleanup()
    assert temp and not any(t.exists() for t in temp)


def test_bundle_entry_lines_in_pretty_json() -> None:
    from conformance.readers.locate import bundle_entry_lines

    bundle = {
        "resourceType": "Bundle",
        "meta": {"tag": [{"code": "entry"}]},
        "entry": [
            {
                "resource": {
                    "resourceType": "Basic",
                    "extension": [{"url": "entry", "valueString": 'a "}" ['}],
                }
            },
            {"resource": patient(id="b")},
        ],
    }
    data = orjson.dumps(bundle, option=orjson.OPT_INDENT_2)
    lines = bundle_entry_lines(data)
    text = data.decode().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert text[line - 1].strip() == "{"
        assert '"resource"' in text[line]
    assert bundle_entry_lines(orjson.dumps(bundle)) == [1, 1]


def test_xml_resources_and_bundles(tmp_path: Path) -> None:
    patient_xml = (
        b'<Patient xmlns="http://hl7.org/fhir"><id value="x1"/>'
        b'<gender value="female"/><birthDate value="1980-02-03"/></Patient>'
    )
    path = tmp_path / "patient.xml"
    path.write_bytes(patient_xml)
    records, issues = read_with_xml(path)
    assert issues == []
    assert [(r.resource_type, r.resource_id, r.location.line) for r in records] == [
        ("Patient", "x1", 1)
    ]
    assert records[0].resource == {
        "resourceType": "Patient",
        "id": "x1",
        "gender": "female",
        "birthDate": "1980-02-03",
    }
    bundle = tmp_path / "bundle.xml"
    bundle.write_bytes(
        b'<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>'
        b"<entry><resource>" + patient_xml + b"</resource></entry>"
        b"<entry><resource>" + patient_xml.replace(b"x1", b"x2") + b"</resource></entry>"
        b"</Bundle>"
    )
    records, _ = read_with_xml(bundle)
    assert [(r.resource_id, r.location.entry) for r in records] == [("x1", 0), ("x2", 1)]
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b'<!DOCTYPE x [<!ENTITY e "e">]><Patient xmlns="http://hl7.org/fhir"/>')
    records, _ = read_with_xml(broken)
    assert records[0].error is not None and records[0].error.code == "invalid-xml"


def read_with_xml(path: Path) -> tuple[list[Record], list[SourceIssue]]:
    from conformance.readers.fhir_xml import XmlReader

    source = open_source(InputItem(path, str(path)), LIMITS)
    reader = XmlReader(LIMITS)
    assert reader.claims(source) > 0
    issues: list[SourceIssue] = []
    return list(reader.read(source, issues.append)), issues
