"""Hooks are called through pluggy's caller: wrappers, firstresult and tracing work, and a
failing third-party plugin is still isolated, reported by name, while a built-in's error
propagates. One registry per run refuses a name registered twice, naming both plugins."""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Sequence
from typing import Any, ClassVar

import pluggy
import pytest

import conformance.plugin as api
from conformance.engine.run import validate
from conformance.errors import PluginError
from conformance.plugin import (
    CodeVerdict,
    RenderOptions,
    ScorecardData,
    Standard,
    hookimpl,
    hookspec,
)
from conformance.plugin.failures import PluginFailure
from conformance.plugin.manager import build_plugins
from conformance.plugin.terminology import TerminologyServices, terminology_services
from tests.conftest import FIXTURES

GOOD = FIXTURES / "feeds" / "conformant"
IDENTITY = FIXTURES / "standards" / "identity"


class _Count:
    name: ClassVar[str] = "count"
    description: ClassVar[str] = "number of findings"
    extension: ClassVar[str] = ".txt"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        return str(scorecard["counts"].get("findings", 0))


class _Other(_Count):
    name: ClassVar[str] = "other"


def _raiser(hook: str, name: str) -> object:
    """A third-party plugin whose implementation of ``hook`` raises."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    return type(name, (), {hook: hookimpl(boom), "__name__": name})()


# ----------------------------------------------------------------------- the public API


def test_the_plugin_api_is_one_module() -> None:
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    assert api.Problem.__module__ == "conformance.findings"
    assert api.RecordCheck.__module__ == "conformance.checks.base"
    with pytest.raises(AttributeError):
        api.NoSuchName  # noqa: B018


@pytest.mark.parametrize("first", ["conformance.plugin", "conformance.readers.builtin"])
def test_the_plugin_api_imports_without_a_cycle(first: str) -> None:
    """Every exported name, in a fresh interpreter, whichever module is imported first."""
    import subprocess
    import sys

    names = ", ".join(api.__all__)
    code = f"import {first}\nfrom conformance.plugin import {names}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------- through pluggy


def test_a_wrapper_hook_sees_and_changes_every_plugin_result() -> None:
    seen: list[Any] = []

    class Adds:
        @hookimpl
        def conformance_reporters(self) -> Sequence[type[Any]]:
            return [_Count]

    class Wraps:
        @hookimpl(wrapper=True)
        def conformance_reporters(self) -> Generator[None, list[Any], list[Any]]:
            result = yield
            seen.extend(result)
            return [[c for c in classes if c.name != "csv"] for classes in result]

    plugins = build_plugins(extra=[Adds(), Wraps()], load_entry_points=False)
    reporters = plugins.registry.reporters
    assert "count" in reporters and "json" in reporters
    assert "csv" not in reporters  # removed by the wrapper
    assert [_Count] in seen
    assert plugins.failures == []


def test_a_firstresult_hook_returns_the_first_answer() -> None:
    class Specs:
        @hookspec(firstresult=True)
        def conformance_test_pick(self, value: int) -> int | None:
            """A firstresult hook, for this test."""
            raise NotImplementedError

    class Low:
        @hookimpl(trylast=True)
        def conformance_test_pick(self, value: int) -> int:
            return value + 1

    class Abstains:
        @hookimpl(tryfirst=True)
        def conformance_test_pick(self, value: int) -> None:
            return None

    plugins = build_plugins(load_entry_points=False)
    plugins.manager.add_hookspecs(Specs)
    plugins.manager.register(Low(), name="low")
    plugins.manager.register(Abstains(), name="abstains")
    assert plugins.call("conformance_test_pick", value=41) == 42
    plugins.manager.register(_raiser("conformance_test_pick", "broken"), name="broken")
    assert plugins.call("conformance_test_pick", value=1) == 2
    assert [f.plugin for f in plugins.failures] == ["broken"]


def test_pluggy_tracing_sees_the_hook_calls() -> None:
    plugins = build_plugins(load_entry_points=False)
    lines: list[str] = []
    plugins.manager.trace.root.setwriter(lines.append)
    undo = plugins.manager.enable_tracing()
    try:
        plugins.registry.check_types  # noqa: B018
    finally:
        undo()
    text = "".join(lines)
    assert "conformance_check_types" in text
    assert "finish conformance_check_types" in text


# ------------------------------------------------------------------------- isolation


def test_a_failing_plugin_is_left_out_and_reported_once() -> None:
    broken = _raiser("conformance_reporters", "broken-reporter-plugin")

    class Good:
        @hookimpl
        def conformance_reporters(self) -> Sequence[type[Any]]:
            return [_Count]

    plugins = build_plugins(extra=[Good(), broken], load_entry_points=False)
    assert "count" in plugins.registry.reporters and "json" in plugins.registry.reporters
    assert plugins.call("conformance_reporters")  # the hook again: it stays left out
    assert plugins.failures == [
        PluginFailure("broken-reporter-plugin", "conformance_reporters", "RuntimeError: boom")
    ]


def test_a_failing_decorated_implementation_is_found() -> None:
    def logged(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return inner

    class Decorated:
        __name__ = "decorated-plugin"

        @hookimpl
        @logged
        def conformance_standard_paths(self) -> list[Any]:
            raise ValueError("bad path")

    plugins = build_plugins(extra=[Decorated()], load_entry_points=False)
    assert plugins.registry.standard_paths == ()
    assert plugins.failures[0].plugin == "decorated-plugin"


def test_a_failing_wrapper_is_left_out() -> None:
    class BadWrapper:
        __name__ = "bad-wrapper"

        @hookimpl(wrapper=True)
        def conformance_readers(self) -> Generator[None, list[Any], list[Any]]:
            yield
            raise KeyError("after")

    plugins = build_plugins(extra=[BadWrapper()], load_entry_points=False)
    assert "ndjson" in plugins.registry.readers
    assert [(f.plugin, f.hook) for f in plugins.failures] == [
        ("bad-wrapper", "conformance_readers")
    ]


def test_a_failing_plugin_does_not_stop_a_run() -> None:
    plugins = build_plugins(
        extra=[_raiser("conformance_check_types", "broken-checks")], load_entry_points=False
    )
    card = validate([GOOD], IDENTITY, plugins=plugins).data
    assert card["verdict"] == "Conformant"
    assert card["plugins"]["failures"] == [
        {
            "plugin": "broken-checks",
            "hook": "conformance_check_types",
            "error": "RuntimeError: boom",
        }
    ]


def test_a_builtin_plugin_error_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.reporters.builtin as builtin

    def conformance_reporters() -> Sequence[type[Any]]:
        raise RuntimeError("a bug of conformance")

    monkeypatch.setattr(builtin, "conformance_reporters", hookimpl(conformance_reporters))
    plugins = build_plugins(load_entry_points=False)
    with pytest.raises(RuntimeError, match="a bug of conformance"):
        plugins.registry.reporters  # noqa: B018


def test_call_each_names_who_registered_what() -> None:
    class Good:
        __name__ = "good-plugin"

        @hookimpl
        def conformance_reporters(self) -> Sequence[type[Any]]:
            return [_Count]

    plugins = build_plugins(extra=[Good()], load_entry_points=False)
    each = dict(plugins.call_each("conformance_reporters"))
    assert each["good-plugin"] == [_Count]
    assert "json" in {c.name for c in each["conformance.reporters.builtin"]}


# -------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("hook", "kind", "name"),
    [
        ("conformance_reporters", "format", "json"),
        ("conformance_readers", "reader", "ndjson"),
    ],
)
def test_a_name_registered_twice_names_both_plugins(hook: str, kind: str, name: str) -> None:
    clash = type(name, (_Count,), {"name": name})

    def impl(self: Any) -> list[Any]:
        return [clash]

    plugin = type("Clash", (), {hook: hookimpl(impl), "__name__": "clash-plugin"})()
    plugins = build_plugins(extra=[plugin], load_entry_points=False)
    attribute = "reporters" if hook == "conformance_reporters" else "readers"
    builtin = (
        "conformance.reporters.builtin"
        if attribute == "reporters"
        else "conformance.readers.builtin"
    )
    with pytest.raises(
        PluginError, match=f"{kind} '{name}' is registered by both clash-plugin and {builtin}"
    ):
        getattr(plugins.registry, attribute)


def test_the_registry_is_built_once_per_run() -> None:
    calls: list[int] = []

    class Counts:
        @hookimpl
        def conformance_reporters(self) -> Sequence[type[Any]]:
            calls.append(1)
            return [_Other]

    plugins = build_plugins(extra=[Counts()], load_entry_points=False)
    assert plugins.registry is plugins.registry
    for _ in range(3):
        assert "other" in plugins.registry.reporters
    assert calls == [1]


# ----------------------------------------------------------------------- terminology


class _Service:
    def __init__(self, name: str, answers: dict[str, bool | None], fail: bool = False) -> None:
        self.name = name
        self.answers = answers
        self.fail = fail
        self.asked = 0

    def validate_code(self, value_set: str, system: str, code: str) -> CodeVerdict:
        self.asked += 1
        if self.fail:
            raise ConnectionError("no route")
        return CodeVerdict(self.answers.get(code), self.name)

    def expand(self, value_set: str) -> Any:
        return None if self.fail else {"s": frozenset(c for c, ok in self.answers.items() if ok)}

    def warnings(self) -> list[str]:
        return [f"{self.name} is offline"] if self.name == "cache" else []


def test_terminology_services_are_asked_in_order_until_one_can_tell() -> None:
    broken = _Service("broken", {}, fail=True)
    cache = _Service("cache", {"A": None, "B": False})
    server = _Service("server", {"A": True, "B": True})
    services = TerminologyServices([broken, cache, server])
    assert services.validate_code("vs", "s", "A") == CodeVerdict(True, "server")
    assert services.validate_code("vs", "s", "B") == CodeVerdict(False, "cache")
    assert services.validate_code("vs", "s", "C") == CodeVerdict(None)
    assert broken.asked == 1  # left out after its first failure
    assert services.expand("vs") == {"s": frozenset()}
    assert list(services.warnings()) == [
        "cache is offline",
        "the terminology service broken failed and was left out (ConnectionError: no route)",
    ]


def test_checks_reach_the_run_services_built_once_without_a_second_manager() -> None:
    calls: list[str] = []

    class Tx:
        __name__ = "tx-test-plugin"

        @hookimpl
        def conformance_terminology(self, standard: Standard) -> _Service:
            calls.append(standard.id)
            return _Service("server", {"A": True})

    from conformance.checks.base import CompileEnv
    from conformance.standards.registry import StandardRegistry

    plugins = build_plugins(extra=[Tx()], load_entry_points=False)

    std = StandardRegistry([]).load_folder(IDENTITY)
    first = CompileEnv(std, {"plugins": plugins})
    second = CompileEnv(std, {"plugins": plugins})
    assert terminology_services(first) is terminology_services(second)
    assert terminology_services(first).validate_code("vs", "s", "A").member is True
    assert calls == ["identity-test"]
    # Compiled outside a run: no services, and no plugin manager built behind its back.
    alone = terminology_services(CompileEnv(std))
    assert alone.services == [] and alone.validate_code("vs", "s", "A").member is None


def test_pluggy_is_the_caller() -> None:
    """``Plugins.call`` goes through the hook caller (so pluggy's own machinery applies)."""
    plugins = build_plugins(load_entry_points=False)
    seen: list[str] = []
    undo = plugins.manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: seen.append(name), lambda *a: None
    )
    plugins.call("conformance_standard_paths")
    undo()
    assert seen == ["conformance_standard_paths"]
    assert isinstance(plugins.manager, pluggy.PluginManager)
