"""MDSS-OUT-*: PROMs/PREMs as complete QuestionnaireResponses, baseline and follow-up pairs."""

from __future__ import annotations

from pathlib import Path

from tests.checks.helpers import (
    assert_merge_exact,
    compile_check,
    context,
    patient,
    ratio,
    response,
    run,
)


def test_out01_complete_response_passes(tmp_path: Path) -> None:
    card = run(tmp_path, [response()], "MDSS-OUT-01")
    assert card["req"]["status"] == "pass"


def test_out01_incomplete(tmp_path: Path) -> None:
    in_progress = response("q2", status="in-progress")
    bare = response("q3", questionnaire=None, subject=None, authored=None)
    card = run(tmp_path, [response(), in_progress, bare], "MDSS-OUT-01")
    assert sorted(card["found"]) == [
        ("authored-missing", "QuestionnaireResponse.ndjson", 3, "QuestionnaireResponse.authored"),
        (
            "questionnaire-missing",
            "QuestionnaireResponse.ndjson",
            3,
            "QuestionnaireResponse.questionnaire",
        ),
        (
            "response-not-completed",
            "QuestionnaireResponse.ndjson",
            2,
            "QuestionnaireResponse.status",
        ),
        (
            "response-subject-missing",
            "QuestionnaireResponse.ndjson",
            3,
            "QuestionnaireResponse.subject",
        ),
    ]
    assert ratio(card) == (1, 3)
    # Status codes are not patient data: the message says which status it was.
    assert any("in-progress" in f["message"] for f in card["findings"])


def _pair(patient_id: str, first: str, second: str | None) -> list[dict[str, object]]:
    subject = {"reference": f"Patient/{patient_id}"}
    out = [response(f"{patient_id}-a", first, subject=subject)]
    if second is not None:
        out.append(response(f"{patient_id}-b", second, subject=subject))
    return out


def test_out02_paired_share(tmp_path: Path) -> None:
    feed = [
        *_pair("p1", "2026-11-02T09:00:00Z", "2026-11-28T09:00:00Z"),
        *_pair("p2", "2026-11-03T09:00:00Z", None),
        *_pair("p3", "2026-11-04T09:00:00Z", "2026-11-04T17:00:00Z"),  # same day: no pair
    ]
    card = run(tmp_path, feed, "MDSS-OUT-02")
    assert ratio(card) == (1, 3)
    assert card["req"]["status"] == "partial"  # 1/3 < 0.5
    assert "1 of 3 patients" in card["req"]["note"]
    assert sorted(card["found"]) == [
        ("outcome-unpaired", "QuestionnaireResponse.ndjson", 3, None),
        ("outcome-unpaired", "QuestionnaireResponse.ndjson", 4, None),
    ]
    assert {f["severity"] for f in card["findings"]} == {"information"}


def test_out02_pass_and_other_questionnaires(tmp_path: Path) -> None:
    other = response(
        "x", "2026-11-20T09:00:00Z", questionnaire="https://w3id.org/mdss/Questionnaire/prem|1.0.0"
    )
    feed = [*_pair("pat-1", "2026-11-02T09:00:00Z", "2026-11-28T09:00:00Z"), other]
    card = run(tmp_path, feed, "MDSS-OUT-02")
    assert ratio(card) == (1, 1) and card["req"]["status"] == "pass"
    assert card["found"] == [("outcome-unpaired", "QuestionnaireResponse.ndjson", 3, None)]


def test_out02_not_applicable_without_responses(tmp_path: Path) -> None:
    card = run(tmp_path, [patient(), response(status="in-progress")], "MDSS-OUT-02")
    assert card["req"]["status"] == "not-applicable"


def test_out02_merge_exact() -> None:
    feed = [
        *_pair("p1", "2026-11-02T09:00:00Z", "2026-11-28T09:00:00Z"),
        *_pair("p2", "2026-11-03T09:00:00Z", "2026-11-03T10:00:00Z"),
        *_pair("p3", "2026-11-05T09:00:00Z", None),
        *_pair("p1", "2026-11-06T09:00:00Z", None),
    ]
    assert_merge_exact(compile_check("MDSS-OUT-02"), feed, context())
