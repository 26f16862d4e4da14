"""conformance-tx against a small FHIR terminology endpoint started on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from conformance_tx import plugin as tx_plugin
from conformance_tx.service import TxService

from conformance.engine.run import validate
from conformance.plugin import Plugins, Standard, build_plugins, hookimpl

DATA = Path(__file__).parent / "data"
WARD_VS = "https://example.org/fhir/ValueSet/ward-type"
WARD_CS = "https://example.org/fhir/CodeSystem/ward-type"
CLASS_VS = "https://example.org/fhir/ValueSet/encounter-class"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SERVER_CODES = {CLASS_VS: {ACT: {"AMB", "EMER", "IMP"}}, WARD_VS: {WARD_CS: {"ACUTE", "REHAB"}}}


class _Handler(BaseHTTPRequestHandler):
    """A minimal FHIR R4 terminology endpoint: GET ValueSet/$validate-code and $expand."""

    calls: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.calls.append(url.path.rsplit("/", 1)[-1])
        codes = SERVER_CODES.get(query.get("url", ""))
        if codes is None:
            self._send(
                404,
                {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "not-found"}],
                },
            )
        elif url.path.endswith("/ValueSet/$validate-code"):
            member = query.get("code") in codes.get(query.get("system", ""), set())
            params: list[dict[str, Any]] = [{"name": "result", "valueBoolean": member}]
            if not member:
                params.append({"name": "message", "valueString": "not in the value set"})
            self._send(200, {"resourceType": "Parameters", "parameter": params})
        elif url.path.endswith("/ValueSet/$expand"):
            contains = [{"system": s, "code": c} for s, cs in codes.items() for c in sorted(cs)]
            self._send(
                200,
                {
                    "resourceType": "ValueSet",
                    "url": query["url"],
                    "expansion": {"total": len(contains), "contains": contains},
                },
            )
        else:
            self._send(400, {"resourceType": "OperationOutcome", "issue": []})


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.calls = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/fhir"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/fhir"


STANDARD = """\
id: tx-test
version: 1.0.0
title: tx test
status: active
fhir_version: 4.0.1
publisher: tests
requirements:
  - id: TX-TERM-01
    title: Encounter classes come from the value set
    level: MUST
    domain: terminology
    rationale: Comparable activity counts.
    source: tests
    check: {{type: tx-code-membership, element: Encounter.class, value_set: '{vs}'}}
"""


def _standard(tmp_path: Path, vs: str) -> Path:
    folder = tmp_path / "std"
    folder.mkdir(exist_ok=True)
    (folder / "standard.yaml").write_text(STANDARD.format(vs=vs))
    (folder / "terminology").mkdir(exist_ok=True)
    for file in (DATA / "terminology").iterdir():
        (folder / "terminology" / file.name).write_bytes(file.read_bytes())
    return folder


def _feed(tmp_path: Path, system: str, codes: list[str]) -> Path:
    path = tmp_path / "Encounter.ndjson"
    path.write_bytes(
        b"".join(
            orjson.dumps(
                {
                    "resourceType": "Encounter",
                    "id": f"e{i}",
                    "status": "finished",
                    "class": {"system": system, "code": code},
                }
            )
            + b"\n"
            for i, code in enumerate(codes)
        )
    )
    return path


def _plugins(monkeypatch: pytest.MonkeyPatch, *extra: object) -> Plugins:
    return build_plugins(extra=[tx_plugin, *extra], load_entry_points=False)


def test_validate_code_against_the_server(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFORMANCE_TX_SERVER", server)
    monkeypatch.setenv("CONFORMANCE_TX_CACHE", str(tmp_path / "cache"))
    feed = _feed(tmp_path, ACT, ["AMB", "EMER", "XYZ", "AMB", "AMB"])
    std = _standard(tmp_path, CLASS_VS)
    card = validate([feed], str(std), plugins=_plugins(monkeypatch)).data
    req = card["requirements"][0]
    assert (req["numerator"], req["denominator"], req["status"]) == (4, 5, "partial")
    assert req["codes"] == {"code-not-in-value-set": 1}
    finding = card["findings"][0]
    assert finding["location"] == {"file": feed.name, "line": 3, "expression": "Encounter.class"}
    # Three distinct codes: three requests; repeated codes come from the memo.
    assert _Handler.calls.count("$validate-code") == 3
    # A second run answers from the on-disk cache, without the server.
    _Handler.calls.clear()
    card2 = validate([feed], str(std), plugins=_plugins(monkeypatch)).data
    assert card2["requirements"][0]["numerator"] == 4
    assert _Handler.calls == []


def test_expand_is_cached_on_disk(tmp_path: Path, server: str) -> None:
    service = TxService(server, tmp_path / "cache")
    assert service.expand(CLASS_VS) == {ACT: frozenset({"AMB", "EMER", "IMP"})}
    assert service.validate_code(CLASS_VS, ACT, "IMP").source == "cache"
    again = TxService(server, tmp_path / "cache")
    assert again.validate_code(CLASS_VS, ACT, "XYZ").member is False
    assert again.requests == 0
    assert _Handler.calls == ["$expand"]


def test_unreachable_server_falls_back_offline_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFORMANCE_TX_SERVER", _closed_port())
    monkeypatch.setenv("CONFORMANCE_TX_CACHE", str(tmp_path / "cache"))
    feed = _feed(tmp_path, WARD_CS, ["ACUTE", "ICU", "REHAB", "ICU"])
    std = _standard(tmp_path, WARD_VS)
    card = validate([feed], str(std), plugins=_plugins(monkeypatch)).data
    req = card["requirements"][0]
    assert (req["numerator"], req["denominator"]) == (2, 4)  # judged offline
    warnings = [f for f in card["findings"] if f["code"] == "terminology-fallback"]
    assert len(warnings) == 1 and warnings[0]["severity"] == "warning"
    assert "is unreachable" in warnings[0]["message"]
    assert card["verdict"] == "Not conformant"


def test_codes_nobody_can_judge_are_not_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONFORMANCE_TX_SERVER", raising=False)
    monkeypatch.setenv("CONFORMANCE_TX_CACHE", str(tmp_path / "cache"))
    feed = _feed(tmp_path, "http://snomed.info/sct", ["22298006"])
    std = _standard(tmp_path, "https://example.org/fhir/ValueSet/unknown")
    card = validate([feed], str(std), plugins=_plugins(monkeypatch)).data
    req = card["requirements"][0]
    assert req["status"] == "not-applicable"
    assert "1 record(s) could not be judged" in req["note"]


class _LocalWards:
    name = "local-wards"

    def validate_code(self, value_set: str, system: str, code: str) -> Any:
        from conformance.plugin.hookspecs import CodeVerdict

        return CodeVerdict(code == "ICU", "local") if value_set == WARD_VS else CodeVerdict(None)

    def expand(self, value_set: str) -> None:
        return None

    def warnings(self) -> list[str]:
        return []


class _LocalPlugin:
    __name__ = "local-wards-plugin"

    @hookimpl
    def conformance_terminology(self, standard: Standard) -> _LocalWards:
        return _LocalWards()


class _BrokenPlugin:
    __name__ = "broken-tx-plugin"

    @hookimpl
    def conformance_terminology(self, standard: Standard) -> Any:
        raise RuntimeError("boom")


def test_other_services_are_consulted_and_a_failing_one_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONFORMANCE_TX_SERVER", raising=False)
    monkeypatch.setenv("CONFORMANCE_TX_CACHE", str(tmp_path / "cache"))
    feed = _feed(tmp_path, WARD_CS, ["ICU"])
    std = _standard(tmp_path, WARD_VS)
    plugins = _plugins(monkeypatch, _LocalPlugin(), _BrokenPlugin())
    card = validate([feed], str(std), plugins=plugins).data
    # The last registered plugin is asked first: the local service says ICU is a member.
    assert card["requirements"][0]["status"] == "pass"
    assert card["plugins"]["failures"] == [
        {
            "plugin": "broken-tx-plugin",
            "hook": "conformance_terminology",
            "error": "RuntimeError: boom",
        }
    ]
    warnings = [f["message"] for f in card["findings"] if f["code"] == "terminology-fallback"]
    assert any("broken-tx-plugin failed and was left out" in w for w in warnings)


def test_installed_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    assert "conformance_tx" in {ep.name for ep in entry_points(group="conformance")}
