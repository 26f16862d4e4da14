"""Pull feeds from a MESH inbox and process them safely.

Order of work for each message (``process``):

1. download it (the client joins the chunks and undoes gzip compression);
2. verify ``Mex-Content-Checksum`` against the content — a mismatch is reported and the
   message is *not* acknowledged, so it stays in the inbox for the sender to resend;
3. write the payload to the work folder, validate it, and store the JSON scorecard
   (written to a temporary file, flushed to disk, then renamed into place);
4. only then acknowledge the message (MESH deletes it);
5. optionally send the scorecard back to the sender's mailbox.

A run that dies before step 4 leaves the message in the inbox: the next run processes
it again and overwrites its scorecard (files are named by message id), so nothing is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_client import MeshClient

PASSWORD_ENV = "MESH_PASSWORD"
SHARED_KEY_ENV = "MESH_SHARED_KEY"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class MeshSettings:
    url: str
    mailbox: str
    password: str
    shared_key: bytes
    verify: str | bool | None = None
    cert: tuple[str, str] | None = None
    timeout: float = 60.0

    @contextlib.contextmanager
    def client(self) -> Iterator[Any]:
        with MeshClient(
            self.url,
            self.mailbox,
            self.password,
            shared_key=self.shared_key,
            verify=self.verify,
            cert=self.cert,
            timeout=self.timeout,
            max_retries=1,
        ) as client:
            yield client


@dataclass(slots=True)
class Pulled:
    """One message taken from the inbox."""

    message_id: str
    workflow: str | None
    sender: str | None
    file: Path | None
    """Where the payload was written (None when it was rejected before writing)."""
    checksum: str
    """``ok``, ``mismatch``, ``missing`` or ``unsupported`` (an algorithm we do not know)."""
    headers: dict[str, str] = field(default_factory=dict)
    scorecard: Path | None = None
    verdict: str | None = None
    acknowledged: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "workflow": self.workflow,
            "sender": self.sender,
            "file": str(self.file) if self.file else None,
            "checksum": self.checksum,
            "scorecard": str(self.scorecard) if self.scorecard else None,
            "verdict": self.verdict,
            "acknowledged": self.acknowledged,
            "error": self.error,
        }


def checksum_status(header: str | None, content: bytes) -> str:
    """Compare ``Mex-Content-Checksum`` (``sha256:HEX``, ``md5:HEX`` or bare hex) to content.

    The checksum is of the content as sent, before any transfer compression.
    """
    if not header:
        return "missing"
    algorithm, _, digest = header.strip().rpartition(":")
    algorithm = algorithm.lower().replace("-", "")
    digest = digest.lower()
    if not algorithm:
        algorithm = {64: "sha256", 32: "md5", 40: "sha1"}.get(len(digest), "")
    if algorithm not in ("sha256", "md5", "sha1"):
        return "unsupported"
    actual = hashlib.new(algorithm, content, usedforsecurity=False).hexdigest()
    return "ok" if actual == digest else "mismatch"


def _safe_file_name(name: str | None, message_id: str) -> str:
    base = Path(name or "").name
    cleaned = _SAFE_NAME.sub("_", base).lstrip(".")
    return cleaned or f"{message_id}.dat"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _headers(message: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in message.mex_headers()}


def _download(client: Any, message_id: str, out_dir: Path, require_checksum: bool) -> Pulled:
    message = client.retrieve_message(message_id)
    try:
        content = message.read()
        headers = _headers(message)
    finally:
        message.close()
    status = checksum_status(headers.get("content-checksum"), content)
    pulled = Pulled(
        message_id=message_id,
        workflow=headers.get("workflowid"),
        sender=headers.get("from"),
        file=None,
        checksum=status,
        headers=headers,
    )
    if status == "mismatch" or (require_checksum and status != "ok"):
        pulled.error = f"checksum {status}: not acknowledged, left in the inbox"
        return pulled
    target = out_dir / message_id / _safe_file_name(headers.get("filename"), message_id)
    _write_atomic(target, content)
    pulled.file = target
    return pulled


def pull(
    settings: MeshSettings, workflow: str | None, out_dir: Path, require_checksum: bool = False
) -> list[Pulled]:
    """Download every message of ``workflow`` (all when None) without acknowledging any."""
    results: list[Pulled] = []
    with settings.client() as client:
        client.handshake()
        for message_id in client.list_messages(workflow_filter=workflow):
            results.append(_download(client, message_id, out_dir, require_checksum))
    return results


Validate = Callable[[Path], dict[str, Any]]


def _default_validate(standard: str | None) -> Validate:
    def run(path: Path) -> dict[str, Any]:
        from conformance import validate

        return dict(validate([path], standard).data)

    return run


def process(
    settings: MeshSettings,
    workflow: str | None,
    work_dir: Path,
    scorecards: Path,
    *,
    standard: str | None = None,
    reply_workflow: str | None = None,
    require_checksum: bool = False,
    validate: Validate | None = None,
) -> list[Pulled]:
    """Download, verify, validate, store the scorecard, then acknowledge (see the module)."""
    check = validate or _default_validate(standard)
    results: list[Pulled] = []
    with settings.client() as client:
        client.handshake()
        for message_id in client.list_messages(workflow_filter=workflow):
            pulled = _download(client, message_id, work_dir, require_checksum)
            results.append(pulled)
            if pulled.file is None:
                continue
            try:
                card = check(pulled.file)
                target = scorecards / f"{message_id}.json"
                _write_atomic(target, json.dumps(card, indent=2).encode() + b"\n")
            except Exception as exc:  # keep the message: it is processed again next time
                pulled.error = f"not acknowledged: {type(exc).__name__}: {exc}"
                continue
            pulled.scorecard = target
            pulled.verdict = str(card.get("verdict"))
            client.acknowledge_message(message_id)
            pulled.acknowledged = True
            if reply_workflow and pulled.sender:
                try:
                    client.send_message(
                        pulled.sender,
                        target.read_bytes(),
                        workflow_id=reply_workflow,
                        filename=f"scorecard-{message_id}.json",
                        subject=f"conformance scorecard: {pulled.verdict}",
                        local_id=message_id,
                        checksum="sha256:" + hashlib.sha256(target.read_bytes()).hexdigest(),
                    )
                except Exception as exc:  # the feed is safe; only the courtesy copy failed
                    pulled.error = f"scorecard not sent back: {type(exc).__name__}: {exc}"
    return results
