"""``conformance formats``, ``conformance plugins list`` and ``conformance version``."""

from __future__ import annotations

import argparse
from typing import Any

from conformance.__about__ import __version__
from conformance.cli.common import Io
from conformance.errors import ExitCode


def register(sub: Any) -> None:
    sub.add_parser("formats", help="list the output formats").set_defaults(handler=run_formats)
    plugins = sub.add_parser("plugins", help="plugins and what they register")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", metavar="SUBCOMMAND")
    plugins_sub.add_parser("list", help="list loaded plugins and their hooks")
    plugins.set_defaults(handler=run_plugins)
    sub.add_parser("version", help="print the version").set_defaults(handler=run_version)


def run_version(args: argparse.Namespace, io: Io) -> int:
    io.stdout.write(f"conformance {__version__}\n")
    return ExitCode.OK


def run_plugins(args: argparse.Namespace, io: Io) -> int:
    from conformance.plugin import HOOK_API_VERSION
    from conformance.plugin.manager import build_plugins

    plugins = build_plugins()
    registered: dict[str, list[str]] = {}
    for hook, kind, describe in (
        ("conformance_readers", "readers", lambda r: [c.name for c in r]),
        ("conformance_check_types", "check types", lambda r: sorted(r)),
        ("conformance_reporters", "formats", lambda r: [c.name for c in r]),
        ("conformance_standard_paths", "standard folders", lambda r: [str(p) for p in r]),
    ):
        for name, result in plugins.call_each(hook):
            items = describe(result)
            if items:
                registered.setdefault(name, []).append(f"{kind}: {', '.join(items)}")
    io.stdout.write(f"hook API {HOOK_API_VERSION}\n")
    for name, plugin in sorted(
        (plugins.manager.get_name(p) or "?", p) for p in plugins.manager.get_plugins()
    ):
        hooks = sorted(h.name for h in plugins.manager.get_hookcallers(plugin) or [])
        io.stdout.write(f"{name}\n  hooks: {', '.join(hooks)}\n")
        for line in registered.get(name, []):
            io.stdout.write(f"  {line}\n")
    for failure in plugins.failures:
        io.stdout.write(f"{failure.plugin}: failed in {failure.hook}: {failure.error}\n")
    return ExitCode.OK


def run_formats(args: argparse.Namespace, io: Io) -> int:
    from conformance.plugin.manager import build_plugins
    from conformance.reporters.registry import reporters

    for name, cls in sorted(reporters(build_plugins()).items()):
        io.stdout.write(f"{name:<18} {cls.description}\n")
    return ExitCode.OK
