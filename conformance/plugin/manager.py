"""Create the plugin manager for one run (never at import time)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from conformance.errors import PluginError
from conformance.plugin import PROJECT_NAME
from conformance.plugin import hookspecs as _hookspecs

ENTRY_POINT_GROUP = "conformance"
BLOCK_ENV = "CONFORMANCE_DISABLE_PLUGINS"
"""Comma-separated names of external plugins not to load; ``all`` blocks every one."""

BUILTIN_PLUGINS = (
    "conformance.readers.builtin",
    "conformance.checks.builtin",
    "conformance.reporters.builtin",
)


@dataclass(slots=True)
class PluginFailure:
    plugin: str
    hook: str
    error: str


@dataclass
class Plugins:
    """The plugin manager of one run, and what happened while using it."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def call(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook plugin by plugin, so that one failing plugin does not stop the run.

        Returns ``(plugin name, result)`` pairs; a plugin that raises is recorded in
        :attr:`failures` (and shown in the scorecard) and left out.
        """
        caller = getattr(self.manager.hook, hook_name)
        results: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            name = self.manager.get_name(impl.plugin) or repr(impl.plugin)
            try:
                result = impl.function(**kwargs)
            except Exception as exc:  # a third-party plugin's bug must not end the run
                if name in BUILTIN_PLUGINS:
                    raise
                self.failures.append(PluginFailure(name, hook_name, f"{type(exc).__name__}: {exc}"))
                continue
            if result is not None:
                results.append((name, result))
        return results

    def names(self) -> list[str]:
        return [self.manager.get_name(p) or repr(p) for p in self.manager.get_plugins()]


def blocked_plugins() -> set[str]:
    return {n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip()}


def build_plugins(
    extra: Iterable[object] = (),
    load_entry_points: bool = True,
    blocked: Collection[str] | None = None,
) -> Plugins:
    """A fresh plugin manager: built-ins, then installed plugins, then ``extra`` objects.

    ``blocked`` names external plugins not to load (``all``: none); None reads
    :data:`BLOCK_ENV`.
    """
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(_hookspecs)
    for module_name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    blocked = blocked_plugins() if blocked is None else set(blocked)
    if load_entry_points and "all" not in blocked:
        for name in blocked:
            manager.set_blocked(name)
        try:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:
            raise PluginError(f"a conformance plugin failed to load: {exc}") from None
    for index, plugin in enumerate(extra):
        manager.register(plugin, name=getattr(plugin, "__name__", f"extra-{index}"))
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from None
    return Plugins(manager)
