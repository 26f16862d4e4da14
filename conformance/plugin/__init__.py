"""The public plugin API: decorate hook implementations with :data:`hookimpl`.

A plugin is a module or object with functions named after the hooks in
:mod:`conformance.plugin.hookspecs`, registered under the ``conformance`` entry-point group::

    [project.entry-points.conformance]
    my_plugin = "my_package.plugin"
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "conformance"
HOOK_API_VERSION = "1.1"
"""Version of the hook API: the major part changes only when a hook changes incompatibly."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["HOOK_API_VERSION", "PROJECT_NAME", "hookimpl", "hookspec"]
