"""Write a synthetic feed folder (manifest + NDJSON + SITREP CSV), streaming, with defects."""

from __future__ import annotations

import csv
import gzip as gzip_mod
import hashlib
import io
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any, Final

import orjson

from conformance.samples.builder import (
    FeedContext,
    NhsNumberAllocator,
    Record,
    ResourceBuilder,
)
from conformance.samples.defects import (
    FEED_LEVEL,
    NOT_INJECTABLE,
    RECORD_DEFECTS,
    SUPPORTED_DEFECTS,
    TABLE_LEVEL,
    DefectState,
    RecordDefect,
)

MANIFEST_NAME: Final = "manifest.json"
SITREP_NAME: Final = "sitrep.csv"
SITREP_TABLE: Final = "sitrep-discharge"
SITREP_COLUMNS: Final = (
    "site_code",
    "date",
    "beds_available",
    "beds_occupied",
    "patients_no_criteria_to_reside",
    "discharges_pathway_0",
    "discharges_pathway_1",
    "discharges_pathway_2",
    "discharges_pathway_3",
)
FILE_ORDER: Final = (
    "Patient",
    "Encounter",
    "Observation",
    "Condition",
    "MedicationRequest",
    "QuestionnaireResponse",
    "Organization",
    "Location",
)
DEFAULT_PERIOD_START: Final = date(2026, 11, 1)
DEFAULT_PERIOD_END: Final = date(2026, 11, 30)
_FLUSH_BYTES = 1 << 18


@dataclass(frozen=True, slots=True)
class InjectedDefect:
    """One defect put into a feed, where a validator should find it.

    ``file`` is relative to the feed folder (POSIX separators). ``line`` is the 1-based
    line: of the NDJSON record, of the CSV row (the header is line 1, so the first data row
    is line 2), or of the manifest key concerned; None when the defect is a whole file.
    """

    requirement_id: str
    file: str
    line: int | None
    resource_type: str | None
    resource_id: str | None
    description: str


@dataclass(slots=True)
class GeneratedFeed:
    root: Path
    feed_id: str
    extracted: datetime
    environment: str
    manifest: Path | None
    paths: dict[str, Path] = field(default_factory=dict)
    """Data files by resource type, and by table id for tables."""
    counts: dict[str, int] = field(default_factory=dict)
    """Records written per resource type (truncated lines included) and rows per table."""
    injected: list[InjectedDefect] = field(default_factory=list)

    def injected_for(self, requirement_id: str) -> list[InjectedDefect]:
        return [d for d in self.injected if d.requirement_id == requirement_id]


class _HashingFile(io.RawIOBase):
    """A write-only file that hashes what goes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        super().__init__()
        self._target = target
        self.sha256 = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.sha256.update(data)
        self._target.write(data)
        return len(data)


class _LineWriter:
    """Buffered NDJSON (or text) output that counts lines and hashes the stored bytes."""

    def __init__(self, path: Path, compress: bool) -> None:
        self.path = path
        self._raw = path.open("wb")
        self._hashing = _HashingFile(self._raw)
        self._gzip: gzip_mod.GzipFile | None = None
        if compress:
            self._gzip = gzip_mod.GzipFile(
                filename="", mode="wb", fileobj=self._hashing, mtime=0, compresslevel=6
            )
        self._buf: list[bytes] = []
        self._size = 0
        self.lines = 0

    def write_line(self, data: bytes) -> int:
        """Write one line; return its 1-based line number."""
        self._buf.append(data)
        self._buf.append(b"\n")
        self._size += len(data) + 1
        self.lines += 1
        if self._size >= _FLUSH_BYTES:
            self._flush()
        return self.lines

    def _flush(self) -> None:
        if self._buf:
            (self._gzip or self._hashing).write(b"".join(self._buf))
            self._buf.clear()
            self._size = 0

    def close(self) -> str:
        """Close and return the sha256 of the bytes on disk."""
        self._flush()
        if self._gzip is not None:
            self._gzip.close()
        self._raw.close()
        return self._hashing.sha256.hexdigest()


def _validate_defects(defects: Mapping[str, float], manifest: bool, sitrep: bool) -> None:
    for req, rate in defects.items():
        if req in NOT_INJECTABLE:
            raise ValueError(f"{req} cannot be injected: {NOT_INJECTABLE[req]}")
        if req not in SUPPORTED_DEFECTS:
            raise ValueError(f"unknown requirement id {req!r}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate for {req} must be between 0 and 1")
        if rate > 0 and req in FEED_LEVEL and not manifest:
            raise ValueError(f"{req} needs the manifest (manifest=False given)")
        if rate > 0 and req in TABLE_LEVEL and not sitrep:
            raise ValueError(f"{req} needs the SITREP table (sitrep=False given)")


class _Injector:
    """Draws and applies record-level defects; one RNG per requirement keeps them independent."""

    def __init__(self, defects: Mapping[str, float], seed: int, ctx: FeedContext) -> None:
        self.state = DefectState(ctx)
        active = [d for d in RECORD_DEFECTS if defects.get(d.requirement_id, 0.0) > 0]
        self._by_type: dict[str, list[tuple[RecordDefect, float, random.Random]]] = {}
        for spec in active:
            rng = random.Random(f"mdss-defects:{seed}:{spec.requirement_id}")
            entry = (spec, float(defects[spec.requirement_id]), rng)
            for rtype in sorted(spec.types):
                self._by_type.setdefault(rtype, []).append(entry)
        # Keep catalogue order within each type.
        order = {d.requirement_id: i for i, d in enumerate(RECORD_DEFECTS)}
        for entries in self._by_type.values():
            entries.sort(key=lambda e: order[e[0].requirement_id])

    def apply(self, record: Record) -> tuple[list[tuple[str, str]], bool]:
        """Mutate the record; return the injected (requirement, description) and truncate flag."""
        entries = self._by_type.get(record.resource_type)
        if not entries:
            return [], False
        hits = [(spec, rng) for spec, rate, rng in entries if rng.random() < rate]
        if not hits:
            return [], False
        res = record.resource
        if hits[0][0].requirement_id == "MDSS-STR-01":
            return hits[0][0].mutate(res, self.state, hits[0][1]), True
        self.state.extra["pair"] = record.pair
        touched: set[str] = set()
        out: list[tuple[str, str]] = []
        for spec, rng in hits:
            if spec.touches & touched:
                continue
            got = spec.mutate(res, self.state, rng)
            if got:
                touched |= spec.touches
                out.extend(got)
        meta = res.get("meta")
        if meta is not None and not meta:
            del res["meta"]
        return out, False


def default_extracted(period_end: date) -> datetime:
    return datetime.combine(period_end + timedelta(days=1), time(3, 0), tzinfo=UTC)


def _sitrep_rows(ctx: FeedContext, seed: int) -> Iterator[dict[str, str]]:
    rng = random.Random(f"mdss-samples:{seed}:sitrep")
    beds = {site: rng.randrange(280, 720) for site in ctx.site_codes}
    day = ctx.period_start
    while day <= ctx.period_end:
        for site in ctx.site_codes:
            available = beds[site] + rng.randrange(-12, 13)
            occupied = int(available * rng.uniform(0.86, 0.99))
            ncr = int(occupied * rng.uniform(0.08, 0.18))
            p0 = rng.randrange(25, 70)
            yield {
                "site_code": site,
                "date": day.isoformat(),
                "beds_available": str(available),
                "beds_occupied": str(occupied),
                "patients_no_criteria_to_reside": str(ncr),
                "discharges_pathway_0": str(p0),
                "discharges_pathway_1": str(rng.randrange(4, 20)),
                "discharges_pathway_2": str(rng.randrange(0, 8)),
                "discharges_pathway_3": str(rng.randrange(0, 4)),
            }
        day += timedelta(days=1)


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def generate_feed(
    out_dir: Path,
    *,
    patients: int,
    seed: int = 0,
    defects: Mapping[str, float] | None = None,
    ics: str = "QWO",
    sender: str = "RXX",
    period_start: date = DEFAULT_PERIOD_START,
    period_end: date = DEFAULT_PERIOD_END,
    extracted: datetime | None = None,
    environment: str = "test",
    gzip: bool = False,
    sitrep: bool = True,
    manifest: bool = True,
    overwrite: bool = False,
) -> GeneratedFeed:
    """Write a synthetic feed to ``out_dir`` and report every defect injected.

    ``defects`` maps requirement ids to the probability that each eligible record carries
    that requirement's defect; feed-level requirements (PROV-01, PROV-02, SEC-01, TIME-03)
    are injected once when their rate is above zero. The output is byte-identical for the
    same arguments. Memory does not grow with ``patients``: records are written as built.
    ``out_dir`` must be empty or absent unless ``overwrite`` is given (which only replaces
    files of the same names). ``extracted`` defaults to 03:00 UTC the day after the period.
    """
    defects = dict(defects or {})
    if patients < 0:
        raise ValueError("patients must be >= 0")
    _validate_defects(defects, manifest, sitrep)
    rate = defects.get
    if extracted is None:
        extracted = default_extracted(period_end)
        if rate("MDSS-TIME-03", 0.0) > 0:
            extracted += timedelta(days=3)
    ctx = FeedContext(ics, sender, period_start, period_end, extracted, environment)
    builder = ResourceBuilder(ctx, seed)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"{out_dir} is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)

    suffix = ".ndjson.gz" if gzip else ".ndjson"
    names = {t: f"{t}{suffix}" for t in FILE_ORDER}
    sec_nhs = NhsNumberAllocator(seed).allocate()
    if rate("MDSS-SEC-01", 0.0) > 0:
        # An export job that named its file after a patient: the NHS Number leaks.
        names["Patient"] = f"Patient-{sec_nhs}{suffix}"

    result = GeneratedFeed(
        root=out_dir,
        feed_id=f"{ics.lower()}-{sender.lower()}-{period_start.isoformat()}-s{seed}",
        extracted=extracted,
        environment=environment,
        manifest=None,
    )
    injector = _Injector(defects, seed, ctx)
    writers: dict[str, _LineWriter] = {}

    def emit(record: Record) -> None:
        rtype = record.resource_type
        state = injector.state
        if record.pair == "follow-up" and state.drop_follow_up:
            state.drop_follow_up = False
            return
        state.drop_follow_up = False
        found, truncate = injector.apply(record)
        data = orjson.dumps(record.resource)
        if truncate:
            data = data[: max(1, len(data) // 2)]
        writer = writers.get(rtype)
        if writer is None:
            writer = writers[rtype] = _LineWriter(out_dir / names[rtype], gzip)
        line = writer.write_line(data)
        rid = record.resource.get("id")
        for req, description in found:
            result.injected.append(InjectedDefect(req, names[rtype], line, rtype, rid, description))

    try:
        for record in builder.organisations():
            emit(record)
        for record in builder.locations():
            emit(record)
        for _ in range(patients):
            batch = builder.patient()
            patient_touched = False
            for record in batch.records:
                before = len(result.injected)
                emit(record)
                if record.resource_type == "Patient":
                    patient_touched = any(
                        d.requirement_id in ("MDSS-ID-01", "MDSS-ID-02", "MDSS-ID-03", "MDSS-ID-08")
                        for d in result.injected[before:]
                    )
            if batch.nhs_number is not None and not patient_touched:
                injector.state.last_clean_nhs = batch.nhs_number
    finally:
        hashes = {rtype: w.close() for rtype, w in writers.items()}

    entries: list[dict[str, Any]] = []
    for rtype in FILE_ORDER:
        if rtype in writers:
            path = writers[rtype].path
            result.paths[rtype] = path
            result.counts[rtype] = writers[rtype].lines
            entries.append(
                {
                    "path": path.name,
                    "type": rtype,
                    "count": writers[rtype].lines,
                    "sha256": hashes[rtype],
                }
            )

    if sitrep:
        entries.append(_write_sitrep(out_dir, ctx, seed, defects, result))

    if manifest:
        _write_manifest(out_dir, ctx, defects, entries, result, names)
    return result


def _write_sitrep(
    out_dir: Path,
    ctx: FeedContext,
    seed: int,
    defects: Mapping[str, float],
    result: GeneratedFeed,
) -> dict[str, Any]:
    tab01 = defects.get("MDSS-TAB-01", 0.0)
    tab02 = defects.get("MDSS-TAB-02", 0.0)
    rng01 = random.Random(f"mdss-defects:{seed}:MDSS-TAB-01")
    rng02 = random.Random(f"mdss-defects:{seed}:MDSS-TAB-02")
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SITREP_COLUMNS, lineterminator="\n")
    writer.writeheader()
    rows = 0
    for row in _sitrep_rows(ctx, seed):
        rows += 1
        line = rows + 1
        hit01 = tab01 > 0 and rng01.random() < tab01
        hit02 = tab02 > 0 and rng02.random() < tab02
        if hit01:
            column = rng01.choice(SITREP_COLUMNS[2:])
            row[column] = rng01.choice(("n/a", "12.5", "-"))
            result.injected.append(
                InjectedDefect(
                    "MDSS-TAB-01",
                    SITREP_NAME,
                    line,
                    None,
                    None,
                    f"{SITREP_TABLE}: column {column} is not a non-negative integer",
                )
            )
        elif hit02:
            shift = rng02.randrange(1, 4)
            day = ctx.period_end + timedelta(days=shift)
            if rng02.random() < 0.5:
                day = ctx.period_start - timedelta(days=shift)
            row["date"] = day.isoformat()
            result.injected.append(
                InjectedDefect(
                    "MDSS-TAB-02",
                    SITREP_NAME,
                    line,
                    None,
                    None,
                    f"{SITREP_TABLE}: date outside the reporting period",
                )
            )
        writer.writerow(row)
    data = text.getvalue().encode("utf-8")
    path = out_dir / SITREP_NAME
    path.write_bytes(data)
    result.paths[SITREP_TABLE] = path
    result.counts[SITREP_TABLE] = rows
    return {
        "path": SITREP_NAME,
        "table": SITREP_TABLE,
        "count": rows,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _write_manifest(
    out_dir: Path,
    ctx: FeedContext,
    defects: Mapping[str, float],
    entries: list[dict[str, Any]],
    result: GeneratedFeed,
    names: Mapping[str, str],
) -> None:
    rate = defects.get
    feed: dict[str, Any] = {
        "id": result.feed_id,
        "ics": ctx.ics,
        "sender": ctx.sender,
        "period": {"start": ctx.period_start.isoformat(), "end": ctx.period_end.isoformat()},
        "extracted": ctx.extracted.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": ctx.environment,
        "conformsTo": "mdss@1.0.0",
    }
    late: list[InjectedDefect] = []
    if rate("MDSS-PROV-01", 0.0) > 0:
        del feed["id"]  # the product's manifest format requires feed.id
    if rate("MDSS-PROV-02", 0.0) > 0 and entries:
        # The sender re-wrote a file after hashing it: the recorded sha256 no longer matches.
        target = next((e for e in entries if e.get("type") == "Condition"), entries[0])
        digest = target["sha256"]
        target["sha256"] = ("0" if digest[0] != "0" else "1") + digest[1:]
        late.append(
            InjectedDefect(
                "MDSS-PROV-02",
                target["path"],
                None,
                target.get("type"),
                None,
                "file content does not match the sha256 in the manifest",
            )
        )
    doc = {"feed": feed, "files": entries}
    text = json.dumps(doc, indent=2) + "\n"
    (out_dir / MANIFEST_NAME).write_text(text, encoding="utf-8")
    result.manifest = out_dir / MANIFEST_NAME

    if rate("MDSS-PROV-01", 0.0) > 0:
        late.append(
            InjectedDefect(
                "MDSS-PROV-01",
                MANIFEST_NAME,
                _line_of(text, '"feed": {'),
                None,
                None,
                "manifest feed object has no id",
            )
        )
    name = names["Patient"]
    if rate("MDSS-SEC-01", 0.0) > 0 and any(e["path"] == name for e in entries):
        late.append(
            InjectedDefect(
                "MDSS-SEC-01",
                MANIFEST_NAME,
                _line_of(text, f'"path": "{name}"'),
                None,
                None,
                "a file name (listed in the manifest) contains an NHS Number",
            )
        )
    if rate("MDSS-TIME-03", 0.0) > 0:
        late.append(
            InjectedDefect(
                "MDSS-TIME-03",
                MANIFEST_NAME,
                _line_of(text, '"extracted":'),
                None,
                None,
                "feed extracted more than 24 hours after the end of its period",
            )
        )
    if ctx.environment == "production" and result.counts.get("Patient"):
        late.append(
            InjectedDefect(
                "MDSS-ID-03",
                MANIFEST_NAME,
                _line_of(text, '"environment":'),
                None,
                None,
                "production feed whose NHS Numbers are all in the 999 test range",
            )
        )
    result.injected.extend(late)
