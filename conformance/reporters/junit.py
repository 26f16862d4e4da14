"""JUnit XML for CI dashboards: one test case per requirement.

A requirement not met (``partial`` or ``fail``) is a ``<failure>`` whatever its level
(the failure's ``type`` says ``MUST``/``SHOULD``/``MAY``, so a dashboard can tell a
warning from a blocker); ``not-applicable`` is ``<skipped>``; a check that crashed is an
``<error>``. A failure carries the requirement's top findings, masked as in the scorecard.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any, ClassVar

from conformance.reporters.base import RenderOptions
from conformance.reporters.common import (
    NOT_MET,
    clean_xml_text,
    feed_period_label,
    feed_title,
    finding_count,
    findings_by_requirement,
    location_text,
    percent,
    threshold_text,
)
from conformance.scorecard.model import ScorecardData

FINDINGS_PER_CASE = 10


def _timestamp(started: str) -> str:
    """JUnit's timestamp has no zone designator: ``2026-11-02T03:00:00``."""
    return started[:-1] if started.endswith("Z") else started.split("+")[0]


def _failure_message(req: Mapping[str, Any]) -> str:
    rate = req["rate"]
    if rate is None:
        return f"{req['level']} not met: failed outright"
    return (
        f"{req['level']} not met: rate {percent(rate)} "
        f"({req['numerator']} of {req['denominator']}) below threshold "
        f"{threshold_text(req['threshold'])}"
    )


class JUnitReporter:
    name: ClassVar[str] = "junit"
    description: ClassVar[str] = "JUnit XML: one test case per requirement (for CI dashboards)"
    extension: ClassVar[str] = ".xml"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        std = scorecard["standard"]
        reqs = scorecard["requirements"]
        by_req = findings_by_requirement(scorecard)
        failures = sum(1 for r in reqs if r["status"] in NOT_MET)
        errors = sum(1 for r in reqs if r["status"] == "error")
        skipped = sum(1 for r in reqs if r["status"] == "not-applicable")
        run = scorecard.get("run", {})
        duration = f"{float(run.get('duration_seconds', 0.0)):.3f}"
        suite_name = (
            f"{std['id']}@{std['version']} {feed_title(scorecard)} ({feed_period_label(scorecard)})"
        )
        counts = {
            "tests": str(len(reqs)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(skipped),
            "time": duration,
        }
        root = ET.Element("testsuites", {"name": f"conformance {std['id']}@{std['version']}"})
        root.attrib.update(counts)
        suite = ET.SubElement(root, "testsuite", {"name": clean_xml_text(suite_name)})
        suite.attrib.update(counts)
        if "started" in run:
            suite.set("timestamp", _timestamp(str(run["started"])))
        props = ET.SubElement(suite, "properties")
        feed = scorecard.get("feed", {})
        for key, value in (
            ("verdict", scorecard["verdict"]),
            ("score", f"{scorecard['score']:.1f}"),
            ("complete", "true" if scorecard["complete"] else "false"),
            ("standard", f"{std['id']}@{std['version']}"),
            ("feed.id", feed.get("id")),
            ("feed.ics", feed.get("ics")),
            ("feed.sender", feed.get("sender")),
            ("feed.period", feed_period_label(scorecard) if feed.get("period") else None),
            ("records.read", str(scorecard["counts"]["records_read"])),
            ("findings.total", str(scorecard["counts"].get("findings", 0))),
        ):
            if value is not None:
                ET.SubElement(props, "property", {"name": key, "value": clean_xml_text(value)})
        for req in reqs:
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": f"{std['id']}.{req['domain']}",
                    "name": clean_xml_text(f"{req['id']} [{req['level']}] {req['title']}"),
                    "time": "0",
                },
            )
            status = req["status"]
            if status in NOT_MET:
                failure = ET.SubElement(
                    case,
                    "failure",
                    {"type": f"{req['level']} {status}", "message": _failure_message(req)},
                )
                failure.text = clean_xml_text(self._details(req, by_req.get(req["id"], [])))
            elif status == "error":
                err = ET.SubElement(
                    case,
                    "error",
                    {"type": "check-error", "message": "the check failed to run"},
                )
                err.text = f"{req.get('check_errors', 0)} check error(s); see the run log"
            elif status == "not-applicable":
                ET.SubElement(
                    case, "skipped", {"message": req.get("note", "nothing to measure in this feed")}
                )
            if status not in (*NOT_MET, "not-applicable") and req.get("note"):
                ET.SubElement(case, "system-out").text = clean_xml_text(str(req["note"]))
        ET.indent(root, space="  ")
        body = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"

    @staticmethod
    def _details(req: Mapping[str, Any], findings: list[dict[str, Any]]) -> str:
        lines = [_failure_message(req)]
        if req.get("note"):
            lines.append(str(req["note"]))
        total = finding_count(req)
        shown = findings[:FINDINGS_PER_CASE]
        if shown:
            lines.append(f"Top findings ({len(shown)} of {total}):")
        for f in shown:
            lines.append(
                f"  {f['severity']}: {location_text(f['location'])}: {f['code']}: {f['message']}"
            )
        return "\n".join(lines)
