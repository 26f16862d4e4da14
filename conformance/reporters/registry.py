"""Reporters by name, gathered from the plugins of one run."""

from __future__ import annotations

from conformance.errors import UsageError
from conformance.plugin.manager import Plugins
from conformance.reporters.base import Reporter


def reporters(plugins: Plugins) -> dict[str, type[Reporter]]:
    return dict(plugins.registry.reporters)


def reporter_for(plugins: Plugins, name: str) -> Reporter:
    available = plugins.registry.reporters
    cls = available.get(name)
    if cls is None:
        raise UsageError(f"unknown format '{name}' (choose from: {', '.join(sorted(available))})")
    return cls()
