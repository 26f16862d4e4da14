"""Tabular extracts (MDSS-TAB-*): rows match their table schema; site-level rows are sound."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr

from conformance.checks.base import (
    Check,
    CheckParamError,
    CompileEnv,
    Emit,
    RunContext,
    Tally,
    param,
)
from conformance.findings import Problem
from conformance.nhs.ods import ods_code_problem
from conformance.readers.base import Record
from conformance.standards.model import Requirement


def _coercer(kind: Any) -> Callable[[str], Any]:
    """Turn a CSV cell into the JSON type its column declares (left as text if it will not)."""
    kinds = kind if isinstance(kind, list) else [kind]

    def coerce(text: str) -> Any:
        for k in kinds:
            try:
                if k == "integer":
                    return int(text)
                if k == "number":
                    return float(text) if any(c in text for c in ".eE") else int(text)
                if k == "boolean" and text.lower() in ("true", "false"):
                    return text.lower() == "true"
            except ValueError:
                continue
        return text

    return coerce


@dataclass(slots=True)
class _CompiledTable:
    validator: Any
    coercers: dict[str, Callable[[str], Any]] = field(default_factory=dict)


class TableSchema(Check[Tally]):
    """MDSS-TAB-01: every row of a tabular extract validates against its table schema."""

    def __init__(self, requirement: Requirement, env: CompileEnv) -> None:
        super().__init__(requirement)
        self.env = env
        self.applies_to = frozenset({"table:*"})
        self.tables: dict[str, _CompiledTable | None] = {}

    def _table(self, name: str) -> _CompiledTable | None:
        if name not in self.tables:
            path = self.env.standard.table_schema(name)
            if path is None:
                self.tables[name] = None
            else:
                from conformance.patterns import linear_time_validator

                schema = json.loads(path.read_text(encoding="utf-8"))
                columns = schema.get("properties", {})
                validator = linear_time_validator()  # the standard's patterns run on RE2
                self.tables[name] = _CompiledTable(
                    validator(schema, format_checker=validator.FORMAT_CHECKER),
                    {
                        c: _coercer(spec.get("type", "string"))
                        for c, spec in columns.items()
                        if isinstance(spec, dict)
                    },
                )
        return self.tables[name]

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
        assert record.resource is not None and record.table is not None
        state.checked += 1
        table = self._table(record.table)
        if table is None:
            emit(
                Problem("unknown-table", f"the standard has no schema for table '{record.table}'"),
                record.location,
            )
            return
        row = {
            k: table.coercers[k](v) if k in table.coercers else v
            for k, v in record.resource.items()
        }
        ok = True
        for error in table.validator.iter_errors(row):
            ok = False
            column = "/".join(str(p) for p in error.absolute_path)
            if error.validator == "required":
                message = "a required column is empty or missing"
            elif error.validator == "additionalProperties":
                message = "the row has a column the table schema does not define"
            else:
                message = f"the value breaks the column's '{error.validator}' rule"
            emit(
                Problem("table-schema", message, column or None),
                record.location.at(column or None),
                None,
                None,
            )
        if ok:
            state.passed += 1


@mypyc_attr(native_class=False)  # a subclass of Tally (not native): see hatch_build.py
@dataclass(slots=True)
class _SiteState(Tally):
    start: str | None = None
    end: str | None = None


class SiteRows(Check[_SiteState]):
    """MDSS-TAB-02: site-level rows carry a valid ODS site code and a date in the period."""

    def __init__(self, requirement: Requirement, site_column: str, date_column: str) -> None:
        super().__init__(requirement)
        self.applies_to = frozenset({"table:*"})
        self.site_column = site_column
        self.date_column = date_column

    def start(self, context: RunContext) -> _SiteState:
        return _SiteState(start=context.feed.period_start, end=context.feed.period_end)

    def visit(self, state: _SiteState, record: Record, emit: Emit) -> None:
        row = record.resource
        assert row is not None
        if self.site_column not in row and self.date_column not in row:
            return  # not a site-level table
        state.checked += 1
        problems: list[Problem] = []
        site = row.get(self.site_column)
        if site is None or ods_code_problem(site, "site") is not None:
            problems.append(
                Problem(
                    "site-code-invalid",
                    "the row's site code is not a valid 5-character ODS site code",
                    self.site_column,
                    site,
                    "ods-code",
                )
            )
        day = row.get(self.date_column)
        if day is None:
            problems.append(Problem("row-date-missing", "the row has no date", self.date_column))
        elif state.start and state.end and not (state.start <= day[:10] <= state.end):
            problems.append(
                Problem(
                    "row-date-outside-period",
                    "the row's date is outside the reporting period",
                    self.date_column,
                )
            )
        for problem in problems:
            emit(problem, record.location.at(problem.expression))
        if not problems:
            state.passed += 1


def table_schema(
    requirement: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    return TableSchema(requirement, env)


def site_rows(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    site = param(params, "site_column", str, "site_code")
    day = param(params, "date_column", str, "date")
    if not site or not day:
        raise CheckParamError("site_column and date_column must not be empty")
    return SiteRows(requirement, site, day)


CHECK_TYPES: dict[str, Any] = {"table-schema": table_schema, "site-rows": site_rows}
