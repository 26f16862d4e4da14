"""conformance-mesh against a real MESH server: mesh-sandbox, started on 127.0.0.1."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance_mesh.cli import run as cli_run
from conformance_mesh.inbox import MeshSettings, checksum_status, process, pull

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mesh_sandbox") is None,
    reason="mesh-sandbox is not installed (pip install 'plugins/conformance-mesh[test]')",
)

KEY = "TestSharedKey"
SENDER, RECEIVER = "X26ABC1", "X26ABC2"  # mailboxes of mesh-sandbox's canned data
FEED_WF, OTHER_WF, REPLY_WF = "TEST_WORKFLOW", "TEST_WORKFLOW2", "TEST_WORKFLOW_ACK"

STANDARD = """\
id: mesh-test
version: 1.0.0
title: MESH test
status: active
fhir_version: 4.0.1
publisher: tests
requirements:
  - id: MT-ID-01
    title: NHS Numbers are valid
    level: MUST
    domain: identity
    applies_to: [Patient]
    rationale: Linkage.
    source: tests
    check: {type: nhs-number-valid}
"""


def _patients(numbers: list[str]) -> bytes:
    lines = [
        json.dumps(
            {
                "resourceType": "Patient",
                "id": f"p{i}",
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": n}],
            }
        )
        for i, n in enumerate(numbers)
    ]
    return ("\n".join(lines) + "\n").encode()


GOOD = _patients(["9990000018"] * 40)  # test-range numbers with a valid check digit
BAD = _patients(["9990000019"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def mesh_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "STORE_MODE": "memory",
        "AUTH_MODE": "full",
        "SHARED_KEY": KEY,
        "MAILBOXES_DATA_DIR": str(tmp_path_factory.mktemp("mesh")),
    }
    log = tmp_path_factory.mktemp("mesh-log") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "mesh_sandbox.api:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mesh-sandbox did not start: {log.read_text()}") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _settings(url: str, mailbox: str) -> MeshSettings:
    return MeshSettings(url, mailbox, "password", KEY.encode(), verify=False, timeout=30)


def _send(
    url: str,
    data: bytes,
    workflow: str = FEED_WF,
    checksum: str | None = None,
    name: str = "Patient.ndjson",
) -> str:
    with _settings(url, SENDER).client() as client:
        client.handshake()
        message_id: str = client.send_message(
            RECEIVER,
            data,
            workflow_id=workflow,
            filename=name,
            subject="ICS feed",
            local_id=name,
            checksum=checksum or "sha256:" + hashlib.sha256(data).hexdigest(),
            compress=True,
            max_chunk_size=1000,  # gzip-compressed and several chunks
        )
        return message_id


def _inbox(url: str, mailbox: str = RECEIVER, workflow: str | None = None) -> list[str]:
    with _settings(url, mailbox).client() as client:
        ids: list[str] = client.list_messages(workflow_filter=workflow)
        return ids


@pytest.fixture
def empty_inbox(mesh_url: str) -> str:
    with _settings(mesh_url, RECEIVER).client() as client:
        for message_id in client.list_messages():
            client.acknowledge_message(message_id)
    return mesh_url


def _standard(tmp_path: Path) -> Path:
    folder = tmp_path / "std"
    folder.mkdir()
    (folder / "standard.yaml").write_text(STANDARD)
    return folder


def test_checksum_forms() -> None:
    data = b"feed"
    assert checksum_status("sha256:" + hashlib.sha256(data).hexdigest(), data) == "ok"
    assert checksum_status("MD5:" + hashlib.md5(data).hexdigest(), data) == "ok"
    assert checksum_status(hashlib.sha256(data).hexdigest(), data) == "ok"
    assert checksum_status("sha256:" + "0" * 64, data) == "mismatch"
    assert checksum_status("crc32:1234", data) == "unsupported"
    assert checksum_status(None, data) == "missing"


def test_pull_downloads_chunked_gzip_messages_without_acknowledging(
    empty_inbox: str, tmp_path: Path
) -> None:
    url = empty_inbox
    message_id = _send(url, GOOD)
    results = pull(_settings(url, RECEIVER), FEED_WF, tmp_path / "in")
    assert [r.message_id for r in results] == [message_id]
    assert results[0].checksum == "ok" and results[0].headers["total-chunks"] != "1"
    assert results[0].file is not None and results[0].file.read_bytes() == GOOD
    assert results[0].file.name == "Patient.ndjson"
    assert _inbox(url) == [message_id]  # still there: pull never acknowledges


def test_run_validates_stores_acknowledges_and_replies(
    empty_inbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = empty_inbox
    good = _send(url, GOOD)
    corrupt = _send(url, GOOD, checksum="sha256:" + hashlib.sha256(b"other").hexdigest())
    other = _send(url, BAD, workflow=OTHER_WF)
    monkeypatch.setenv("MESH_PASSWORD", "password")
    monkeypatch.setenv("MESH_SHARED_KEY", KEY)
    out, err = io.StringIO(), io.StringIO()
    code = cli_run(
        [
            "run",
            "--url",
            url,
            "--mailbox",
            RECEIVER,
            "--workflow",
            FEED_WF,
            "--out",
            str(tmp_path / "in"),
            "--scorecards",
            str(tmp_path / "cards"),
            "--standard",
            str(_standard(tmp_path)),
            "--reply-workflow",
            REPLY_WF,
        ],
        out,
        err,
    )
    assert code == 1  # the corrupt message was rejected
    lines = {item["message_id"]: item for item in map(json.loads, out.getvalue().splitlines())}
    assert lines[good]["verdict"] == "Conformant" and lines[good]["acknowledged"] is True
    assert lines[corrupt]["checksum"] == "mismatch" and lines[corrupt]["acknowledged"] is False
    assert f"message {corrupt}: checksum mismatch: not acknowledged" in err.getvalue()
    card = json.loads((tmp_path / "cards" / f"{good}.json").read_text())
    assert card["verdict"] == "Conformant" and card["counts"]["records_read"] == 40
    assert not (tmp_path / "cards" / f"{corrupt}.json").exists()
    assert sorted(_inbox(url)) == sorted([corrupt, other])  # only the good one is gone
    # The scorecard went back to the sender.
    with _settings(url, SENDER).client() as client:
        replies = client.list_messages(workflow_filter=REPLY_WF)
        assert len(replies) == 1
        reply = client.retrieve_message(replies[0])
        assert json.loads(reply.read())["verdict"] == "Conformant"
        client.acknowledge_message(replies[0])


def test_nothing_is_lost_when_the_run_dies_before_storing(empty_inbox: str, tmp_path: Path) -> None:
    url = empty_inbox
    message_id = _send(url, BAD)
    settings = _settings(url, RECEIVER)

    def dies(path: Path) -> dict[str, Any]:
        raise OSError("disk full")

    first = process(settings, FEED_WF, tmp_path / "in", tmp_path / "cards", validate=dies)
    assert first[0].acknowledged is False and "disk full" in (first[0].error or "")
    assert _inbox(url) == [message_id]
    again = process(
        settings, FEED_WF, tmp_path / "in", tmp_path / "cards", standard=str(_standard(tmp_path))
    )
    assert again[0].acknowledged is True and again[0].verdict == "Not conformant"
    assert _inbox(url) == []


def test_missing_credentials_are_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESH_PASSWORD", raising=False)
    err = io.StringIO()
    code = cli_run(
        ["pull", "--url", "http://127.0.0.1:9", "--mailbox", RECEIVER, "--out", "x"],
        io.StringIO(),
        err,
    )
    assert code == 2 and "set $MESH_PASSWORD" in err.getvalue()
