"""The public plugin API: everything a plugin author imports, from one module.

A plugin is a module or object with functions named after the hooks in
:mod:`conformance.plugin.hookspecs`, decorated with :data:`hookimpl`, registered under the
``conformance`` entry-point group::

    [project.entry-points.conformance]
    my_plugin = "my_package.plugin"

and importing what it needs from here only::

    from conformance.plugin import Problem, RecordCheck, hookimpl

The names other than the markers are loaded on first use (module ``__getattr__``): the
built-in plugin modules import this module, so it must not import them back.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

PROJECT_NAME = "conformance"
HOOK_API_VERSION = "1.2"
"""Version of the hook API: the major part changes only when a hook changes incompatibly."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

if TYPE_CHECKING:
    from conformance.checks.base import Check as Check
    from conformance.checks.base import CheckFactory as CheckFactory
    from conformance.checks.base import CheckParamError as CheckParamError
    from conformance.checks.base import CompileEnv as CompileEnv
    from conformance.checks.base import Emit as Emit
    from conformance.checks.base import FinishContext as FinishContext
    from conformance.checks.base import Measure as Measure
    from conformance.checks.base import RecordCheck as RecordCheck
    from conformance.checks.base import RunContext as RunContext
    from conformance.checks.base import Tally as Tally
    from conformance.checks.base import param as param
    from conformance.codes import FindingCode as FindingCode
    from conformance.findings import Location as Location
    from conformance.findings import Problem as Problem
    from conformance.findings import Severity as Severity
    from conformance.limits import Limits as Limits
    from conformance.plugin.hookspecs import CodeVerdict as CodeVerdict
    from conformance.plugin.hookspecs import TerminologyService as TerminologyService
    from conformance.plugin.manager import Plugins as Plugins
    from conformance.plugin.manager import build_plugins as build_plugins
    from conformance.plugin.terminology import TerminologyServices as TerminologyServices
    from conformance.plugin.terminology import terminology_services as terminology_services
    from conformance.readers.base import IssueSink as IssueSink
    from conformance.readers.base import Reader as Reader
    from conformance.readers.base import Record as Record
    from conformance.readers.base import RecordError as RecordError
    from conformance.readers.base import Source as Source
    from conformance.readers.base import SourceIssue as SourceIssue
    from conformance.reporters.base import RenderOptions as RenderOptions
    from conformance.reporters.base import Reporter as Reporter
    from conformance.scorecard.model import ScorecardData as ScorecardData
    from conformance.standards.model import Requirement as Requirement
    from conformance.standards.model import Standard as Standard

_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "Check",
            "CheckFactory",
            "CheckParamError",
            "CompileEnv",
            "Emit",
            "FinishContext",
            "Measure",
            "RecordCheck",
            "RunContext",
            "Tally",
            "param",
        ),
        "conformance.checks.base",
    ),
    "FindingCode": "conformance.codes",
    **dict.fromkeys(("Location", "Problem", "Severity"), "conformance.findings"),
    "Limits": "conformance.limits",
    **dict.fromkeys(("CodeVerdict", "TerminologyService"), "conformance.plugin.hookspecs"),
    **dict.fromkeys(("Plugins", "build_plugins"), "conformance.plugin.manager"),
    **dict.fromkeys(
        ("TerminologyServices", "terminology_services"), "conformance.plugin.terminology"
    ),
    **dict.fromkeys(
        ("IssueSink", "Reader", "Record", "RecordError", "Source", "SourceIssue"),
        "conformance.readers.base",
    ),
    **dict.fromkeys(("RenderOptions", "Reporter"), "conformance.reporters.base"),
    "ScorecardData": "conformance.scorecard.model",
    **dict.fromkeys(("Requirement", "Standard"), "conformance.standards.model"),
}

__all__ = ["HOOK_API_VERSION", "PROJECT_NAME", "hookimpl", "hookspec", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
