"""The plugin system: built-ins through the same hooks, pending checks, failures, blocking."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from conformance.engine.run import validate
from conformance.errors import PluginError
from conformance.plugin import hookimpl
from conformance.plugin.manager import BUILTIN_PLUGINS, build_plugins
from conformance.reporters.base import RenderOptions
from conformance.reporters.registry import reporter_for
from tests.conftest import FIXTURES

GOOD = FIXTURES / "feeds" / "conformant"
IDENTITY = FIXTURES / "standards" / "identity"


def test_builtins_register_through_hooks() -> None:
    plugins = build_plugins(load_entry_points=False)
    assert set(BUILTIN_PLUGINS) <= set(plugins.names())
    hooks = {
        h.name
        for p in plugins.manager.get_plugins()
        for h in plugins.manager.get_hookcallers(p) or []
    }
    assert {"conformance_readers", "conformance_check_types", "conformance_reporters"} <= hooks


def test_misspelt_hook_fails_loudly() -> None:
    class Misspelt:
        @hookimpl
        def conformance_reporter(self) -> list[Any]:  # the hook is conformance_reporters
            return []

    with pytest.raises(PluginError, match="unknown hook"):
        build_plugins(extra=[Misspelt()], load_entry_points=False)


def test_third_party_reporter_and_check() -> None:
    class Csv:
        name: ClassVar[str] = "count"
        description: ClassVar[str] = "number of findings"
        extension: ClassVar[str] = ".txt"

        def render(self, scorecard: dict[str, Any], options: RenderOptions) -> str:
            return str(scorecard["counts"]["findings"])

    class Plugin:
        @hookimpl
        def conformance_reporters(self) -> Sequence[type[Any]]:
            return [Csv]

    plugins = build_plugins(extra=[Plugin()], load_entry_points=False)
    card = validate([GOOD], IDENTITY, plugins=plugins)
    assert reporter_for(plugins, "count").render(card.data, RenderOptions()) == "0"


def test_failing_plugin_is_reported_and_run_goes_on() -> None:
    class Broken:
        __name__ = "broken-plugin"

        @hookimpl
        def conformance_readers(self) -> Sequence[type[Any]]:
            raise RuntimeError("boom")

    plugins = build_plugins(extra=[Broken()], load_entry_points=False)
    card = validate([GOOD], IDENTITY, plugins=plugins).data
    assert card["verdict"] == "Conformant"
    assert card["plugins"]["failures"] == [
        {"plugin": "broken-plugin", "hook": "conformance_readers", "error": "RuntimeError: boom"}
    ]


def test_duplicate_check_type_is_an_error() -> None:
    class Dup:
        @hookimpl
        def conformance_check_types(self) -> dict[str, Any]:
            return {"parseable": lambda *a: None}

    plugins = build_plugins(extra=[Dup()], load_entry_points=False)
    with pytest.raises(PluginError, match="check type 'parseable' is registered by both"):
        validate([GOOD], IDENTITY, plugins=plugins)


def _fake_distribution(root: Path, name: str) -> None:
    """An installed distribution with a ``conformance`` entry point, on sys.path."""
    (root / f"{name}.py").write_text(
        "from conformance.plugin import hookimpl\n"
        "LOADED = []\n"
        "@hookimpl\n"
        "def conformance_standard_paths():\n"
        "    LOADED.append(1)\n"
        "    return []\n"
    )
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[conformance]\n{name} = {name}\n")


def test_entry_points_load_and_can_be_blocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(tmp_path, "fake_conformance_plugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "fake_conformance_plugin" in build_plugins().names()
    monkeypatch.setenv("CONFORMANCE_DISABLE_PLUGINS", "fake_conformance_plugin")
    assert "fake_conformance_plugin" not in build_plugins().names()
    monkeypatch.setenv("CONFORMANCE_DISABLE_PLUGINS", "all")
    assert "fake_conformance_plugin" not in build_plugins().names()
