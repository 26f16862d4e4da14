"""docs/plugins.md documents every hook: signature, when it runs, and a working example."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

from conformance.plugin import HOOK_API_VERSION
from conformance.plugin import hookspecs as specs
from conformance.plugin.manager import build_plugins

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = sorted(
    name
    for name, obj in vars(specs).items()
    if name.startswith("conformance_") and inspect.isfunction(obj)
)


def _sections() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^### ", text, flags=re.MULTILINE)
    return {part.split("\n", 1)[0].strip(): part for part in parts[1:]}


def test_hooks_are_found() -> None:
    assert {"conformance_readers", "conformance_terminology"} <= set(HOOKS)


def test_every_hook_is_documented() -> None:
    missing = [name for name in HOOKS if name not in _sections()]
    assert missing == [], f"hooks without a section in docs/plugins.md: {missing}"


def test_no_section_for_a_hook_that_does_not_exist() -> None:
    documented = {name for name in _sections() if name.startswith("conformance_")}
    assert documented <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_section_has_signature_when_and_example(hook: str) -> None:
    section = _sections()[hook]
    params = list(inspect.signature(getattr(specs, hook)).parameters)
    signature = re.search(rf"def {hook}\((?P<args>[^)]*)\)", section)
    assert signature is not None, f"{hook}: no signature line"
    names = [a.split(":")[0].strip() for a in signature["args"].split(",") if a.strip()]
    assert names == params, f"{hook}: documented parameters {names} != {params}"
    assert "**When it runs:**" in section
    assert "**Example:**" in section
    assert "@hookimpl" in section


@pytest.mark.parametrize("hook", HOOKS)
def test_example_registers_as_a_plugin(hook: str) -> None:
    """Each example is real code: it runs and passes the manager's hook validation."""
    section = _sections()[hook]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    example = next(b for b in blocks if "@hookimpl" in b)
    module = types.ModuleType(f"example_{hook}")
    exec(compile(example, f"docs/plugins.md#{hook}", "exec"), module.__dict__)
    plugins = build_plugins(extra=[module], load_entry_points=False)
    callers = plugins.manager.get_hookcallers(module) or []
    assert hook in {c.name for c in callers}


def test_docs_state_the_hook_api_version() -> None:
    assert f"Hook API version: **{HOOK_API_VERSION}**" in DOCS.read_text(encoding="utf-8")


def test_every_hook_has_a_docstring_and_types() -> None:
    for name in HOOKS:
        func = getattr(specs, name)
        assert func.__doc__ and len(func.__doc__.strip()) > 40, name
        assert "return" in func.__annotations__, name
