"""Reporters by name, gathered from the plugins of one run."""

from __future__ import annotations

from typing import Any

from conformance.errors import PluginError, UsageError
from conformance.plugin.manager import Plugins
from conformance.reporters.base import Reporter


def reporters(plugins: Plugins) -> dict[str, type[Reporter]]:
    found: dict[str, type[Reporter]] = {}
    for plugin_name, classes in plugins.call("conformance_reporters"):
        for cls in classes:
            if cls.name in found:
                raise PluginError(f"format '{cls.name}' is registered twice (by {plugin_name})")
            found[cls.name] = cls
    return found


def reporter_for(plugins: Plugins, name: str) -> Any:
    available = reporters(plugins)
    cls = available.get(name)
    if cls is None:
        raise UsageError(f"unknown format '{name}' (choose from: {', '.join(sorted(available))})")
    return cls()
