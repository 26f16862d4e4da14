"""The built-in reporters, registered through the same hook as third-party reporters."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.plugin import hookimpl
from conformance.reporters.base import Reporter
from conformance.reporters.github import GitHubReporter
from conformance.reporters.html import HtmlReporter
from conformance.reporters.junit import JUnitReporter
from conformance.reporters.operationoutcome import OperationOutcomeReporter
from conformance.reporters.sarif import SarifReporter
from conformance.reporters.tabular import CodeQualityReporter, CsvReporter
from conformance.reporters.text import JsonReporter, MarkdownReporter, TerminalReporter


@hookimpl
def conformance_reporters() -> Sequence[type[Reporter]]:
    return [
        TerminalReporter,
        JsonReporter,
        MarkdownReporter,
        HtmlReporter,
        JUnitReporter,
        SarifReporter,
        GitHubReporter,
        CsvReporter,
        OperationOutcomeReporter,
        CodeQualityReporter,
    ]
