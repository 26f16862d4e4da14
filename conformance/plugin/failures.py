"""What the run records when a third-party plugin fails in a hook."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class PluginFailure:
    """A plugin that raised in a hook; the hook is called again without it."""

    plugin: str
    hook: str
    error: str
