"""The peers the benchmark compares against, measured in this process on the same data.

* ``fhir.resources`` (pydantic models, FHIR R4B: the package has no R4): structure only,
  ``model_validate`` on every resource of the feed, warm. Parsing is done beforehand and
  not timed, which favours the peer.
* python ``jsonschema`` (Draft 6) with the official FHIR R4 JSON Schema
  (``benchmarks/data/fhir.schema.r4.json``, CC0), compiled once; so slow that only a
  small sample is measured.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

DATA = Path(__file__).resolve().parent / "data"
SCHEMA = DATA / "fhir.schema.r4.json"


@dataclass(slots=True)
class PeerResult:
    name: str
    resources: int
    seconds: float
    invalid: int
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.resources / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["per_second"] = round(self.per_second, 1)
        return out


def sample_resources(files: Sequence[Path], total: int, wanted: int) -> list[dict[str, Any]]:
    """About ``wanted`` resources spread evenly over the feed (every k-th line), parsed."""
    step = max(1, -(-total // max(1, wanted)))
    out: list[dict[str, Any]] = []
    index = 0
    for path in files:
        with path.open("rb") as stream:
            for line in stream:
                if index % step == 0 and line.strip():
                    try:
                        obj = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        obj = None
                    if isinstance(obj, dict):
                        out.append(obj)
                index += 1
    return out


def _fhir_resources_classes() -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    cache: dict[str, Any] = {}

    def lookup(resource_type: str) -> Any:
        cls = cache.get(resource_type)
        if cls is None:
            cls = cache[resource_type] = get_fhir_model_class(resource_type)
        return cls

    return lookup


WARM_UP = 2_000
"""Resources validated once, untimed, before the peer's timing starts (a warm peer)."""
CHUNK = 10_000
"""Resources parsed (untimed) at a time when the peer streams a whole feed."""


def _validate_all(lookup: Any, resources: Sequence[dict[str, Any]]) -> int:
    from pydantic import ValidationError

    invalid = 0
    for resource in resources:
        try:
            lookup(resource["resourceType"]).model_validate(resource)
        except (ValidationError, KeyError, ValueError, TypeError):
            invalid += 1
    return invalid


def fhir_resources_feed(files: Sequence[Path]) -> PeerResult:
    """fhir.resources on every resource of the feed's NDJSON files, warm.

    The files are parsed :data:`CHUNK` lines at a time, untimed (so memory stays bounded
    at any feed size), and only ``model_validate`` is timed, after a warm-up on the first
    :data:`WARM_UP` resources. Parsing is left out, which favours the peer.
    """
    import warnings

    lookup = _fhir_resources_classes()
    chunks = _chunks(files)
    first = next(chunks, [])
    for rtype in {r.get("resourceType") for r in first}:
        if isinstance(rtype, str):
            lookup(rtype)
    seconds = 0.0
    invalid = count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _validate_all(lookup, first[:WARM_UP])
        chunk = first
        while chunk:
            started = time.perf_counter()
            invalid += _validate_all(lookup, chunk)
            seconds += time.perf_counter() - started
            count += len(chunk)
            chunk = next(chunks, [])
    return PeerResult(
        "fhir.resources R4B model_validate",
        count,
        seconds,
        invalid,
        "structure only; every resource of the feed, warm",
    )


def _chunks(files: Sequence[Path]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for line in iter_lines(files):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            chunk.append(obj)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def jsonschema_peer(resources: Sequence[dict[str, Any]]) -> PeerResult:
    """python ``jsonschema`` Draft 6 against the official R4 schema (compiled once)."""
    import jsonschema

    schema = orjson.loads(SCHEMA.read_bytes())
    compile_started = time.perf_counter()
    validator = jsonschema.Draft6Validator(schema)
    validator.is_valid({"resourceType": "Patient"})  # builds the validator's caches
    compiled = time.perf_counter() - compile_started
    invalid = 0
    started = time.perf_counter()
    for resource in resources:
        if next(iter(validator.iter_errors(resource)), None) is not None:
            invalid += 1
    seconds = time.perf_counter() - started
    return PeerResult(
        "jsonschema Draft6 + R4 JSON Schema",
        len(resources),
        seconds,
        invalid,
        f"sample; first error only; compile {compiled:.2f} s",
    )


def iter_lines(files: Sequence[Path]) -> Iterator[bytes]:
    for path in files:
        with path.open("rb") as stream:
            yield from stream
