"""Atheris (libFuzzer) harness over the readers: NDJSON, JSON/Bundle, CSV, gzip, stdin,
archives and the Bundle line locator.

    python fuzz/fuzz_readers.py --make-corpus CORPUS     # write the seed inputs
    python fuzz/fuzz_readers.py -max_total_time=60 CORPUS

The first byte of an input picks the path under test, the rest is the input. A bad input
must come out as records with errors or as source issues: any exception escaping the
readers (or a record that breaks the reader contract) is a crash. ``one_input`` needs no
atheris, so the test suite replays the seed corpus through it (tests/hostile).
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from conformance.limits import Limits
from conformance.readers.archive import extract_archive
from conformance.readers.base import Record, Source, SourceIssue
from conformance.readers.csv_table import CsvReader
from conformance.readers.fhir_json import JsonReader, NdjsonReader
from conformance.readers.fhir_xml import XmlReader
from conformance.readers.locate import bundle_entry_lines
from conformance.readers.opening import source_for_file, source_for_stdin

LIMITS = Limits(
    max_line_bytes=4096,
    max_file_bytes=64 * 1024,
    max_depth=16,
    max_decompressed_bytes=1024 * 1024,
    max_ratio=50,
    max_files=16,
)
"""Small limits, so that fuzzed inputs reach them."""

READERS = {
    "ndjson": NdjsonReader(LIMITS),
    "json": JsonReader(LIMITS),
    "csv": CsvReader(LIMITS),
    "xml": XmlReader(LIMITS),
}
NAMES = ("feed.ndjson", "feed.json", "sitrep.csv", "feed.ndjson.gz", "feed", "feed.xml", "<stdin>")


_WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))


def _file_source(data: bytes, name: str) -> Source:
    """A file holding ``data``, opened as the engine opens inputs (gzip sniffed and guarded)."""
    path = _WORKDIR / name
    path.write_bytes(data)
    return source_for_file(path, name, LIMITS)


def _check(records: Iterator[Record], issues: list[SourceIssue]) -> None:
    last_line = 0
    for record in records:
        if record.error is None:
            if not isinstance(record.resource, dict):
                raise AssertionError("a record without an error must hold an object")
        elif record.resource is not None:
            raise AssertionError("an unparseable record must not hold a resource")
        line = record.location.line
        if line is not None:
            if line < last_line:
                raise AssertionError("record lines must not go backwards")
            last_line = line
    for issue in issues:
        if not issue.code or not isinstance(issue.message, str):
            raise AssertionError("a source issue needs a code and a message")


def _read(source: Source, reader_name: str) -> None:
    issues: list[SourceIssue] = []
    _check(READERS[reader_name].read(source, issues.append), issues)


def _archive(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as temp:
        base = Path(temp)
        archive = base / f"feed{suffix}"
        archive.write_bytes(data)
        dest = base / "out"
        dest.mkdir()
        extract_archive(archive, dest, LIMITS)
        for path in base.rglob("*"):
            if path != archive and not path.is_relative_to(dest):
                raise AssertionError(f"archive member escaped: {path}")


def one_input(data: bytes) -> None:
    """Run one fuzzed input through the path its first byte selects."""
    if not data:
        return
    mode, payload = data[0] % 13, data[1:]
    if mode < 7:  # a file of each kind, by name (the reader is chosen as the engine does)
        name = NAMES[mode]
        if name == "<stdin>":
            source = source_for_stdin(LIMITS, io.BytesIO(payload))
        else:
            source = _file_source(payload, name)
        scores = {n: r.claims(source) for n, r in READERS.items()}
        best = max(scores, key=lambda n: scores[n])
        if scores[best] > 0:
            _read(source, best)
    elif mode < 10:  # each reader forced on any bytes, gzip-wrapped when mode is 9
        reader = ("ndjson", "json", "csv", "xml")[payload[0] % 4] if payload else "ndjson"
        body = gzip.compress(payload[1:], mtime=0) if mode == 9 else payload[1:]
        if mode == 9 and payload:
            body = body[: max(2, len(body) * payload[0] // 255)]  # truncated gzip
        _read(_file_source(body, f"fuzz.{reader}"), reader)
    elif mode == 10:
        _archive(payload, ".zip")
    elif mode == 11:
        _archive(payload, ".tar.gz")
    else:
        lines = bundle_entry_lines(payload)
        if lines != sorted(lines):
            raise AssertionError("Bundle entry lines must be in order")


# --------------------------------------------------------------------------- corpus


def _seeds() -> Iterator[bytes]:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
        "birthDate": "1980-02-03",
        "name": [{"family": "Testpatient", "given": ["Alex"]}],
    }
    one = orjson.dumps(patient)
    ndjson = one + b"\n" + orjson.dumps({**patient, "id": "p2"}) + b"\n"
    bundle = orjson.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]},
        option=orjson.OPT_INDENT_2,
    )
    xml = (
        b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>'
        b'<birthDate value="1980-02-03"/><name><family value="Testpatient"/></name></Patient>'
    )
    table = b"site,date,count\nRXX01,2026-11-01,3\nRXX02,2026-11-02,x,y\n"
    yield bytes([0]) + ndjson
    yield bytes([1]) + bundle
    yield bytes([2]) + table
    yield bytes([3]) + gzip.compress(ndjson, mtime=0)
    yield bytes([4]) + ndjson
    yield bytes([5]) + xml
    yield bytes([6]) + gzip.compress(bundle, mtime=0)
    yield bytes([7, 0]) + ndjson + b'{"resourceType": "Patient", "id": \n'
    yield bytes([8, 1]) + bundle[:40]
    yield bytes([8, 3]) + xml[:60]
    yield bytes([9, 128]) + ndjson * 4
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("feed/Patient.ndjson", ndjson)
        archive.writestr("../escape.ndjson", ndjson)
    yield bytes([10]) + zipped.getvalue()
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w:gz") as tar:
        info = tarfile.TarInfo("feed/Patient.ndjson")
        info.size = len(ndjson)
        tar.addfile(info, io.BytesIO(ndjson))
    yield bytes([11]) + tarred.getvalue()
    yield bytes([12]) + bundle


def make_corpus(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, seed in enumerate(_seeds()):
        path = folder / f"seed-{index:02d}"
        path.write_bytes(seed)
        written.append(path)
    return written


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "--make-corpus":
        make_corpus(Path(argv[2]))
        return
    import atheris

    atheris.instrument_all()
    test: Callable[[bytes], None] = one_input
    atheris.Setup(argv, test)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
