"""Synthetic ICS feeds for tests, benchmarks and demos, with recorded defect injection.

Every NHS Number is from the 999 test range and every name, address and phone number is
made up (phone numbers from Ofcom's drama range), so no output identifies a real person.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from conformance.samples.builder import FeedContext, ResourceBuilder
from conformance.samples.defects import FEED_LEVEL, NOT_INJECTABLE, SUPPORTED_DEFECTS, TABLE_LEVEL
from conformance.samples.feed import (
    DEFAULT_PERIOD_END,
    DEFAULT_PERIOD_START,
    FILE_ORDER,
    MANIFEST_NAME,
    SITREP_COLUMNS,
    SITREP_NAME,
    SITREP_TABLE,
    GeneratedFeed,
    InjectedDefect,
    default_extracted,
    generate_feed,
)

__all__ = [
    "DEFAULT_PERIOD_END",
    "DEFAULT_PERIOD_START",
    "FEED_LEVEL",
    "FILE_ORDER",
    "MANIFEST_NAME",
    "NOT_INJECTABLE",
    "SITREP_COLUMNS",
    "SITREP_NAME",
    "SITREP_TABLE",
    "SUPPORTED_DEFECTS",
    "TABLE_LEVEL",
    "GeneratedFeed",
    "InjectedDefect",
    "generate_feed",
    "iter_patient_bundles",
    "iter_resources",
]

BUNDLE_BASE = "https://synthetic.invalid/fhir"


def _builder(
    seed: int,
    ics: str,
    sender: str,
    period_start: date,
    period_end: date,
    extracted: datetime | None,
    environment: str,
) -> ResourceBuilder:
    ctx = FeedContext(
        ics,
        sender,
        period_start,
        period_end,
        extracted or default_extracted(period_end),
        environment,
    )
    return ResourceBuilder(ctx, seed)


def iter_resources(
    *,
    patients: int,
    seed: int = 0,
    ics: str = "QWO",
    sender: str = "RXX",
    period_start: date = DEFAULT_PERIOD_START,
    period_end: date = DEFAULT_PERIOD_END,
    extracted: datetime | None = None,
    environment: str = "test",
) -> Iterator[dict[str, Any]]:
    """Defect-free resources in feed order (organisations, sites, then patient by patient).

    The same resources ``generate_feed`` writes for these arguments and no defects; nothing
    is kept, so any number of patients streams in constant memory.
    """
    builder = _builder(seed, ics, sender, period_start, period_end, extracted, environment)
    for record in builder.organisations():
        yield record.resource
    for record in builder.locations():
        yield record.resource
    for _ in range(patients):
        for record in builder.patient().records:
            yield record.resource


def iter_patient_bundles(
    *,
    patients: int,
    seed: int = 0,
    ics: str = "QWO",
    sender: str = "RXX",
    period_start: date = DEFAULT_PERIOD_START,
    period_end: date = DEFAULT_PERIOD_END,
    extracted: datetime | None = None,
    environment: str = "test",
) -> Iterator[dict[str, Any]]:
    """One self-contained collection Bundle per patient, streamed.

    Each Bundle holds the patient's resources plus the Organization and Location resources
    they reference, with RESTful ``fullUrl``s so every reference resolves inside it.
    """
    builder = _builder(seed, ics, sender, period_start, period_end, extracted, environment)
    shared = {
        f"{r.resource_type}/{r.resource['id']}": r.resource
        for r in builder.organisations() + builder.locations()
    }
    stamp = builder.ctx.extracted.strftime("%Y-%m-%dT%H:%M:%SZ")
    for n in range(patients):
        resources = [r.resource for r in builder.patient().records]
        wanted: list[str] = []
        for res in resources:
            _collect_refs(res, shared, wanted)
        included = [shared[key] for key in sorted(set(wanted))]
        entries = [
            {"fullUrl": f"{BUNDLE_BASE}/{res['resourceType']}/{res['id']}", "resource": res}
            for res in resources + included
        ]
        yield {
            "resourceType": "Bundle",
            "id": f"{resources[0]['id'][:24]}-b{n}",
            "type": "collection",
            "timestamp": stamp,
            "entry": entries,
        }


def _collect_refs(node: Any, shared: dict[str, Any], out: list[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref in shared:
            out.append(ref)
        for value in node.values():
            _collect_refs(value, shared, out)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, shared, out)
