"""``conformance-mesh pull|run``: the command line of the MESH transport.

Secrets come from the environment only (``MESH_PASSWORD``, ``MESH_SHARED_KEY``), never
from arguments, which other users can see in the process list.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from conformance_mesh.inbox import PASSWORD_ENV, SHARED_KEY_ENV, MeshSettings, process, pull


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance-mesh",
        description="Receive ICS feeds from a MESH mailbox and validate them with conformance.",
        epilog=f"Credentials: ${PASSWORD_ENV} and ${SHARED_KEY_ENV}. Exit codes: 0 every "
        "message processed and conformant, 1 a message was not conformant or was rejected "
        "(bad checksum), 2 usage or connection error.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("pull", "download messages without acknowledging them"),
        ("run", "download, validate, store the scorecard, then acknowledge"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--url", default=os.environ.get("MESH_URL"), help="MESH API base URL")
        cmd.add_argument("--mailbox", required=True, help="your mailbox id")
        cmd.add_argument("--workflow", help="only messages with this workflow id")
        cmd.add_argument("--out", type=Path, required=True, help="folder for the payloads")
        cmd.add_argument("--ca-bundle", help="CA bundle to verify the server with")
        cmd.add_argument(
            "--client-cert",
            nargs=2,
            metavar=("CERT", "KEY"),
            help="client certificate and key (MESH needs them outside tests)",
        )
        cmd.add_argument(
            "--require-checksum",
            action="store_true",
            help="reject messages without Mex-Content-Checksum",
        )
        if name == "run":
            cmd.add_argument(
                "--scorecards",
                type=Path,
                required=True,
                help="folder for the JSON scorecards (one per message id)",
            )
            cmd.add_argument("--standard", help="standard REF (default: the feed's conformsTo)")
            cmd.add_argument(
                "--reply-workflow",
                help="send each scorecard back to its sender with this workflow id",
            )
    return parser


def _settings(args: argparse.Namespace) -> MeshSettings:
    password = os.environ.get(PASSWORD_ENV)
    key = os.environ.get(SHARED_KEY_ENV)
    if not args.url:
        raise ValueError("no MESH URL: use --url or $MESH_URL")
    if not password or not key:
        raise ValueError(f"set ${PASSWORD_ENV} and ${SHARED_KEY_ENV}")
    return MeshSettings(
        url=args.url,
        mailbox=args.mailbox,
        password=password,
        shared_key=key.encode(),
        verify=args.ca_bundle if args.ca_bundle else None,
        cert=tuple(args.client_cert) if args.client_cert else None,
    )


def run(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
        if args.command == "pull":
            results = pull(settings, args.workflow, args.out, args.require_checksum)
        else:
            results = process(
                settings,
                args.workflow,
                args.out,
                args.scorecards,
                standard=args.standard,
                reply_workflow=args.reply_workflow,
                require_checksum=args.require_checksum,
            )
    except ValueError as exc:
        err.write(f"conformance-mesh: error: {exc}\n")
        return 2
    except Exception as exc:  # connection, authentication, HTTP errors from the client
        err.write(f"conformance-mesh: error: {type(exc).__name__}: {exc}\n")
        return 2
    for item in results:
        out.write(json.dumps(item.to_dict()) + "\n")
        if item.error:
            err.write(f"conformance-mesh: message {item.message_id}: {item.error}\n")
    rejected = any(item.error and not item.acknowledged for item in results)
    failing = any(item.verdict == "Not conformant" for item in results)
    return 1 if rejected or failing else 0


def main() -> None:
    sys.exit(run())
