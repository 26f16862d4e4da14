"""Atheris targets beside the readers harness: the XML reader, the archive reader and the
standard loader, one target per run.

    python fuzz/fuzz_targets.py xml --make-corpus CORPUS
    python fuzz/fuzz_targets.py xml -max_total_time=20 CORPUS     # also: archive, standard

A target may only end in its documented ways: records and source issues (XML), issues
and files inside the extraction folder (archives), a loaded standard or a
:class:`~conformance.errors.StandardError` (standards). Anything else escaping is a crash.
``one_input`` needs no atheris: the test suite replays the seeds (tests/hostile).
"""

from __future__ import annotations

import bz2
import contextlib
import io
import lzma
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from conformance.errors import StandardError
from conformance.limits import Limits
from conformance.readers.archive import extract_archive
from conformance.readers.base import SourceIssue
from conformance.readers.fhir_xml import XmlReader
from conformance.readers.opening import source_for_file

LIMITS = Limits(
    max_file_bytes=256 * 1024,
    max_depth=16,
    max_elements=2000,
    max_decompressed_bytes=1024 * 1024,
    max_ratio=50,
    max_files=16,
)
_WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-targets-"))


def xml_input(data: bytes) -> None:
    path = _WORKDIR / "feed.xml"
    path.write_bytes(data)
    issues: list[SourceIssue] = []
    last = 0
    for record in XmlReader(LIMITS).read(source_for_file(path, "feed.xml", LIMITS), issues.append):
        if (record.resource is None) == (record.error is None):
            raise AssertionError("a record holds a resource or an error, never both or neither")
        if record.location.entry is not None:
            if record.location.entry < last:
                raise AssertionError("Bundle entries must come in order")
            last = record.location.entry


ARCHIVE_KINDS = (".zip", ".tar", ".tar.gz", ".tar.bz2", ".tar.xz")


def archive_input(data: bytes) -> None:
    if not data:
        return
    suffix, payload = ARCHIVE_KINDS[data[0] % len(ARCHIVE_KINDS)], data[1:]
    with tempfile.TemporaryDirectory(prefix="fuzz-", dir=_WORKDIR) as temp:
        base = Path(temp)
        archive = base / f"feed{suffix}"
        archive.write_bytes(payload)
        dest = base / "out"
        dest.mkdir()
        extract_archive(archive, dest, LIMITS)
        written = 0
        for path in base.rglob("*"):
            if path != archive and not path.is_relative_to(dest):
                raise AssertionError(f"archive member escaped: {path}")
            if path.is_file() and path.is_relative_to(dest):
                written += path.stat().st_size
        if written > LIMITS.max_decompressed_bytes:
            raise AssertionError(f"{written} bytes written, over the budget")


def standard_input(data: bytes) -> None:
    from conformance.standards.loader import load_standard_file

    folder = _WORKDIR / "standard"
    folder.mkdir(exist_ok=True)
    (folder / "standard.yaml").write_bytes(data)
    with contextlib.suppress(StandardError):
        load_standard_file(folder)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "xml": xml_input,
    "archive": archive_input,
    "standard": standard_input,
}


def _seeds(target: str) -> Iterator[bytes]:
    ndjson = b'{"resourceType":"Patient","id":"p1"}\n'
    if target == "xml":
        yield b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/></Patient>'
        yield (
            b'<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><resource>'
            b'<Patient><id value="a"/><multipleBirthInteger value="' + b"9" * 5000 + b'"/>'
            b"</Patient></resource></entry><entry><resource><Observation>"
            b'<resourceType value="Bundle"/></Observation></resource></entry></Bundle>'
        )
        yield b"<Patient><x/>" + b"<y/>" * 3000 + b"</Patient>"
    elif target == "archive":
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("feed/Patient.ndjson", ndjson)
            archive.writestr("../escape.ndjson", ndjson)
            archive.writestr("bomb.ndjson", b" " * 200_000)
        yield bytes([0]) + zipped.getvalue()
        for index, compress in enumerate((lambda b: b, None, bz2.compress, lzma.compress), 1):
            tarred = io.BytesIO()
            with tarfile.open(fileobj=tarred, mode="w", format=tarfile.GNU_FORMAT) as tar:
                for name in ("feed/P.ndjson", "feed/P.ndjson", "x" * 300):
                    info = tarfile.TarInfo(name)
                    info.size = len(ndjson)
                    tar.addfile(info, io.BytesIO(ndjson))
            raw = tarred.getvalue()
            if compress is None:
                import gzip

                raw = gzip.compress(raw, mtime=0)
            else:
                raw = compress(raw)
            yield bytes([index]) + raw
    else:
        yield (
            Path(__file__)
            .resolve()
            .parents[1]
            .joinpath("standards", "mdss", "1.0.0", "standard.yaml")
            .read_bytes()
        )
        yield b"id: x\nversion: 1.0.0\neffective_from: 2026-02-30\nthreshold: " + b"9" * 5000
        yield b"a: &x [*x]\n" + b"[" * 500


def make_corpus(target: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, seed in enumerate(_seeds(target)):
        path = folder / f"{target}-{index:02d}"
        path.write_bytes(seed)
        written.append(path)
    return written


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        raise SystemExit(
            f"usage: {argv[0]} {{{','.join(TARGETS)}}} [--make-corpus DIR | libFuzzer options]"
        )
    target = argv[1]
    if len(argv) == 4 and argv[2] == "--make-corpus":
        make_corpus(target, Path(argv[3]))
        return
    import atheris

    atheris.instrument_all()
    atheris.Setup([argv[0], *argv[2:]], TARGETS[target])
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
