"""Create the plugin manager for one run (never at import time), and call its hooks.

Hooks are called through pluggy's own hook caller, so hook wrappers (``wrapper=True``),
``firstresult`` hooks and pluggy's tracing all work. A third-party plugin that raises is
isolated: the implementation that raised is found from the traceback, recorded in
:attr:`Plugins.failures` (the scorecard's ``plugins.failures``) and the hook is called
again without that plugin. A built-in plugin that raises is a bug of conformance: its
exception propagates.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from types import CodeType
from typing import TYPE_CHECKING, Any

import pluggy

from conformance.errors import PluginError
from conformance.plugin import PROJECT_NAME
from conformance.plugin import hookspecs as _hookspecs
from conformance.plugin.failures import PluginFailure

if TYPE_CHECKING:
    from conformance.plugin.registry import Registry

ENTRY_POINT_GROUP = "conformance"
BLOCK_ENV = "CONFORMANCE_DISABLE_PLUGINS"
"""Comma-separated names of external plugins not to load; ``all`` blocks every one."""

BUILTIN_PLUGINS = (
    "conformance.readers.builtin",
    "conformance.checks.builtin",
    "conformance.reporters.builtin",
    "conformance.codes.builtin",
)


@dataclass
class Plugins:
    """The plugin manager of one run, and what happened while using it."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    left_out: dict[str, list[object]] = field(default_factory=dict)
    """Plugins that failed in a hook, by hook name: later calls of that hook skip them."""

    @property
    def hook(self) -> Any:
        return self.manager.hook

    @functools.cached_property
    def registry(self) -> Registry:
        """What the plugins register (readers, check types, ...), gathered once per run."""
        from conformance.plugin.registry import Registry

        return Registry(self)

    def call(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a hook through pluggy's caller: a list of results, or one for ``firstresult``.

        A third-party plugin that raises is recorded in :attr:`failures` and the hook is
        called again without it; an exception from a built-in plugin propagates.
        """
        while True:
            caller = self._caller(hook_name)
            try:
                return caller(**kwargs)
            except Exception as exc:  # a third-party plugin's bug must not end the run
                self._isolate(hook_name, caller, exc)

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook plugin by plugin: ``(plugin name, result)`` for each result.

        Each call still goes through pluggy (restricted to one plugin), so the plugin's own
        wrappers and tracing apply. For saying *who* registered what (``conformance
        plugins list``, duplicate names); :meth:`call` is the way to use a hook.
        """
        results: list[tuple[str, Any]] = []
        seen: list[object] = []
        for impl in reversed(self._caller(hook_name).get_hookimpls()):
            if any(impl.plugin is p for p in seen):
                continue
            seen.append(impl.plugin)
            others = [p for p in self.manager.get_plugins() if p is not impl.plugin]
            caller = self.manager.subset_hook_caller(hook_name, others)
            try:
                result = caller(**kwargs)
            except Exception as exc:
                self._isolate(hook_name, caller, exc, default=impl)
                continue
            items = [result] if _is_firstresult(caller) else result
            results.extend((impl.plugin_name, item) for item in items if item is not None)
        return results

    def names(self) -> list[str]:
        return [self.manager.get_name(p) or repr(p) for p in self.manager.get_plugins()]

    def _caller(self, hook_name: str) -> pluggy.HookCaller:
        caller: pluggy.HookCaller = getattr(self.manager.hook, hook_name)
        left_out = self.left_out.get(hook_name)
        return self.manager.subset_hook_caller(hook_name, left_out) if left_out else caller

    def _isolate(
        self,
        hook_name: str,
        caller: pluggy.HookCaller,
        exc: Exception,
        default: pluggy.HookImpl | None = None,
    ) -> None:
        """Leave the plugin that raised ``exc`` out of ``hook_name``, or re-raise."""
        impl = _raising_impl(caller, exc) or default
        if impl is None or impl.plugin_name in BUILTIN_PLUGINS:
            raise exc
        self.left_out.setdefault(hook_name, []).append(impl.plugin)
        error = f"{type(exc).__name__}: {exc}"
        self.failures.append(PluginFailure(impl.plugin_name, hook_name, error))


def _is_firstresult(caller: pluggy.HookCaller) -> bool:
    return bool(caller.spec is not None and caller.spec.opts.get("firstresult"))


def _code_objects(function: Any) -> list[CodeType]:
    """The code objects a call of ``function`` runs (a method's function, decorators')."""
    target = getattr(function, "__func__", function)
    try:
        chain = [target, inspect.unwrap(target)]
    except ValueError:  # a cycle of __wrapped__
        chain = [target]
    return [
        c for c in (getattr(item, "__code__", None) for item in chain) if isinstance(c, CodeType)
    ]


def _raising_impl(caller: pluggy.HookCaller, exc: BaseException) -> pluggy.HookImpl | None:
    """The hook implementation whose frame is deepest in ``exc``'s traceback, if any."""
    impls = {code: impl for impl in caller.get_hookimpls() for code in _code_objects(impl.function)}
    found = None
    tb = exc.__traceback__
    while tb is not None:
        found = impls.get(tb.tb_frame.f_code, found)
        tb = tb.tb_next
    return found


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
