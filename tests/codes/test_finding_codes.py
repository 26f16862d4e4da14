"""The finding-code catalogue: complete, never shrinking, documented, and enforced in runs."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, get_args

import pytest

from conformance.codes import (
    CODE_PATTERN,
    STRICT_ENV,
    Catalogue,
    DuplicateCode,
    FindingCode,
    UnregisteredCode,
    builtin_codes,
)
from conformance.codes.docs import render_markdown
from conformance.engine.run import validate
from conformance.errors import PluginError
from conformance.nhs.ods import OdsProblem
from conformance.nhs.snomed import SctidProblem
from conformance.plugin import Check, CompileEnv, Emit, Problem, Record, Requirement, hookimpl
from conformance.plugin.manager import build_plugins
from tests.conftest import FIXTURES, REPO

GOOD = FIXTURES / "feeds" / "conformant"
IDENTITY = FIXTURES / "standards" / "identity"
LOCK = Path(__file__).with_name("released-codes.txt")
DOCS = REPO / "docs" / "finding-codes.md"

# Callables with a parameter named ``code``/``codes`` that holds something other than a
# finding code (a clinical code, an ODS code, a FHIR issue type).
NOT_FINDING_CODES = frozenset(
    {
        "validate_code",
        "descendants",
        "ods_code_problem",
        "issue_type",
        "org_id",
        "org_ref",
        "site_ref",
        "_entry",
        "CodeSystemInfo",
        "_prim_rule",
        "_has_coding",
    }
)


def _catalogue() -> Catalogue:
    return build_plugins(load_entry_points=False).registry.finding_codes


def _released() -> list[str]:
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# ------------------------------------------------------------------ the catalogue itself


def test_builtin_codes_load_by_area() -> None:
    codes = builtin_codes()
    assert len(codes) > 100
    areas = {c.area for c in codes}
    assert {"input", "fhir", "identity", "engine"} <= areas
    assert {c.code for c in codes if c.area == "input"} >= {"invalid-json", "not-utf8"}


def test_every_entry_says_what_it_means() -> None:
    for entry in builtin_codes():
        assert CODE_PATTERN.fullmatch(entry.code)
        assert entry.title[0].isupper() and not entry.title.endswith("."), entry.code
        assert entry.description.endswith((".", ")")), entry.code
        assert len(entry.description) > 30, entry.code
    assert _catalogue().problems() == []


def test_a_code_is_registered_once_across_areas() -> None:
    catalogue = Catalogue()
    catalogue.add(FindingCode("x-y", "X", "The x is y, which it must not be."), "input")
    with pytest.raises(DuplicateCode, match="'x-y' is registered by both input and fhir"):
        catalogue.add(FindingCode("x-y", "X", "The x is y, which it must not be."), "fhir")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "T"}, "missing key 'description'"),
        ({"title": "T", "description": "D.", "severity": "fatal"}, "'fatal' is not a valid"),
        (
            {"title": "T", "description": "D.", "deprecated": "yes"},
            "deprecated: must be a bool",
        ),
        ({"title": "T", "description": "D.", "owner": "me"}, "owner: unknown key"),
        (["T", "D."], "expected an object"),
    ],
)
def test_catalogue_files_are_checked_when_read(fields: Any, message: str) -> None:
    from conformance.codes import _entry

    with pytest.raises(ValueError, match=re.escape(message)):
        _entry("conformance/codes/catalogue/x.json", "some-code", fields)
    entry = _entry(
        "conformance/codes/catalogue/x.json", "ok-code", {"title": "T", "description": "D."}
    )
    assert (entry.area, entry.severity) == ("x", "error")


def test_entries_are_validated() -> None:
    with pytest.raises(ValueError, match="not kebab-case"):
        FindingCode("Not_Kebab", "T", "A description long enough to say something.")
    with pytest.raises(ValueError, match="replaced_by but is not deprecated"):
        FindingCode("old-code", "T", "Renamed to new-code, a better name.", replaced_by="new")
    catalogue = Catalogue(
        [("p", FindingCode("old", "Old", "Renamed.", deprecated=True, replaced_by="gone"))]
    )
    assert "replaced by 'gone', which is not a registered current code" in catalogue.problems()[0]


# ------------------------------------------------------- released codes never disappear


def test_released_codes_are_never_removed() -> None:
    """A code in the lock list must stay registered (a rename is a deprecation)."""
    missing = sorted(set(_released()) - set(_catalogue()))
    assert missing == [], (
        f"finding codes released and no longer registered: {missing}; keep each in "
        'conformance/codes/catalogue/ with "deprecated": true (and "replaced_by")'
    )


def test_new_codes_are_added_to_the_lock_list() -> None:
    released = _released()
    assert released == sorted(set(released)), "keep tests/codes/released-codes.txt sorted"
    new = sorted(set(_catalogue()) - set(released))
    assert new == [], f"add these codes to tests/codes/released-codes.txt: {new}"


# ------------------------------------------------------------ codes at their call sites


def _callee(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _code_parameters(trees: Sequence[ast.Module]) -> dict[str, set[tuple[int, str]]]:
    """Callable name -> (position, name) of its parameters named ``code`` or ``codes``.

    Functions and methods by their parameters (``self`` dropped); classes by their
    ``__init__``, or by their annotated fields (dataclasses, NamedTuples).
    """
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name != "__init__":
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
            elif isinstance(node, ast.ClassDef):
                init = next(
                    (
                        b
                        for b in node.body
                        if isinstance(b, ast.FunctionDef) and b.name == "__init__"
                    ),
                    None,
                )
                names = (
                    [a.arg for a in init.args.args]
                    if init is not None
                    else [
                        b.target.id
                        for b in node.body
                        if isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name)
                    ]
                )
            else:
                continue
            if names[:1] in (["self"], ["cls"]):
                names = names[1:]
            for index, name in enumerate(names):
                if name in ("code", "codes") and node.name not in NOT_FINDING_CODES:
                    found[node.name].add((index, name))
    return found


def _strings(node: ast.expr, many: bool) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if many and isinstance(node, ast.Tuple | ast.List):
        return [
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
    return []


def literal_codes(root: Path) -> Iterator[tuple[str, str]]:
    """``(code, "file:line")`` for every literal given where a finding code is expected.

    That is: an argument for a parameter named ``code`` (``codes``: a tuple of them) of a
    callable defined under ``root`` (``Problem``, ``RecordError``, ``SourceIssue``,
    ``FhirIssue``, the FHIR walkers' ``add``...), a ``code=`` keyword, and a literal
    assigned to a variable named ``code``.
    """
    files = sorted(root.rglob("*.py"))
    trees = [ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in files]
    params = _code_parameters(trees)
    for path, tree in zip(files, trees, strict=True):
        where = path.relative_to(REPO).as_posix()
        for node in ast.walk(tree):
            values: list[str] = []
            if isinstance(node, ast.Call):
                for index, name in params.get(_callee(node) or "", ()):
                    if index < len(node.args):
                        values += _strings(node.args[index], name == "codes")
                for kw in node.keywords:
                    if kw.arg in ("code", "codes") and _callee(node) not in NOT_FINDING_CODES:
                        values += _strings(kw.value, kw.arg == "codes")
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    pairs: list[tuple[ast.expr, ast.expr]] = [(target, node.value)]
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        pairs = list(zip(target.elts, node.value.elts, strict=False))
                    for name, value in pairs:
                        if isinstance(name, ast.Name) and name.id == "code":
                            values += _strings(value, False)
            for value in values:
                if CODE_PATTERN.fullmatch(value):
                    yield value, f"{where}:{getattr(node, 'lineno', 0)}"


def test_the_scan_finds_codes_at_every_kind_of_call_site() -> None:
    found = {code for code, _ in literal_codes(REPO / "conformance")}
    expected = {
        "nhs-number-check-digit",  # Problem(...)
        "invalid-json",  # RecordError(...)
        "empty-file",  # SourceIssue(...)
        "unknown-profile",  # FhirIssue(...)
        "unknown-element",  # the validator walker's add(...)
        "link-outside-input",  # discovery's skip(path, code, message)
        "gp-not-ods",  # a tuple passed as `codes`
        "clinical-code-text-only",  # code, text = "...", "..."
    }
    assert expected <= found
    assert len(found) > 100


def test_every_literal_code_in_conformance_is_registered() -> None:
    catalogue = _catalogue()
    unknown = sorted(
        f"{where}: {code}"
        for code, where in literal_codes(REPO / "conformance")
        if code not in catalogue
    )
    assert unknown == [], (
        "finding codes used but not registered (add each to conformance/codes/catalogue/"
        f"<area>.json, or the emitting plugin's conformance_finding_codes): {unknown}"
    )


def test_the_scan_flags_an_unregistered_literal(tmp_path: Path) -> None:
    module = REPO / "conformance" / "_scan_probe_test.py"
    try:
        module.write_text(
            "from conformance.findings import Problem\n"
            "def f():\n"
            "    return Problem('made-up-code', 'a message')\n",
            encoding="utf-8",
        )
        found = dict(literal_codes(REPO / "conformance"))
    finally:
        module.unlink()
    assert found["made-up-code"] == "conformance/_scan_probe_test.py:3"
    assert "made-up-code" not in _catalogue()


@pytest.mark.parametrize(
    ("prefix", "problems"),
    [("snomed-", get_args(SctidProblem)), ("ods-code-", get_args(OdsProblem))],
)
def test_code_families_built_from_a_reason_are_registered(
    prefix: str, problems: tuple[str, ...]
) -> None:
    """``snomed-{reason}`` and ``ods-code-{reason}``: every reason the helper can return."""
    catalogue = _catalogue()
    assert problems
    assert [p for p in problems if prefix + p not in catalogue] == []


# --------------------------------------------------------------------------- the docs


def test_docs_list_every_builtin_code_and_are_current() -> None:
    expected = render_markdown(_catalogue())
    assert DOCS.read_text(encoding="utf-8") == expected, (
        "docs/finding-codes.md is stale: run "
        "CONFORMANCE_DISABLE_PLUGINS=all conformance codes docs -o docs/finding-codes.md"
    )
    for entry in builtin_codes():
        assert f"| `{entry.code}` |" in expected


def test_codes_command(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_DISABLE_PLUGINS", "all")
    listed = cli("codes", "list")
    assert listed.code == 0
    line = next(x for x in listed.out.splitlines() if x.startswith("nhs-number-check-digit "))
    assert "identity" in line and "conformance.codes.builtin" in line
    out = tmp_path / "codes.md"
    assert cli("codes", "docs", "-o", out).code == 0
    assert out.read_text(encoding="utf-8") == DOCS.read_text(encoding="utf-8")
    assert cli("codes").code == 2


# ------------------------------------------------------------------ enforced in a run


class _Emits(Check):
    def visit(self, state: Any, record: Record, emit: Emit) -> None:
        state.checked += 1
        emit(Problem("made-up-code", "a problem nobody registered"), record.location)


def _emits(req: Requirement, params: Any, env: CompileEnv) -> Check:
    return _Emits(req)


def _replacing_plugins() -> Any:
    """The built-ins with ``nhs-number-valid`` swapped for a check emitting a made-up code."""
    plugins = build_plugins(load_entry_points=False)
    builtin = plugins.registry.check_types
    plugins.registry.check_types = {**builtin, "nhs-number-valid": _emits}
    return plugins


def test_strict_mode_fails_a_run_that_emits_an_unregistered_code() -> None:
    with pytest.raises(UnregisteredCode, match="'made-up-code' \\(IDT-ID-02\\)"):
        validate([GOOD], IDENTITY, plugins=_replacing_plugins())


def test_outside_strict_mode_an_unregistered_code_is_reported_not_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(STRICT_ENV)
    card = validate([GOOD], IDENTITY, plugins=_replacing_plugins()).data
    req = next(r for r in card["requirements"] if r["id"] == "IDT-ID-02")
    assert req["codes"] == {"made-up-code": req["denominator"]}  # every one still counted
    assert card["plugins"]["failures"] == [
        {
            "plugin": "conformance.checks.builtin",
            "hook": "conformance_finding_codes",
            "error": "finding code 'made-up-code' (requirement IDT-ID-02) is not registered",
        }
    ]


def test_a_plugin_registering_a_builtin_code_is_an_error() -> None:
    class Clash:
        __name__ = "clash-plugin"

        @hookimpl
        def conformance_finding_codes(self) -> list[FindingCode]:
            return [FindingCode("invalid-json", "Mine", "A plugin that reuses a built-in code.")]

    plugins = build_plugins(extra=[Clash()], load_entry_points=False)
    with pytest.raises(
        PluginError,
        match=re.escape(
            "'invalid-json' is registered by both clash-plugin and conformance.codes.builtin"
        ),
    ):
        plugins.registry.finding_codes  # noqa: B018


def test_the_catalogue_is_not_gathered_for_a_run_without_findings() -> None:
    plugins = build_plugins(load_entry_points=False)
    card = validate([GOOD], IDENTITY, plugins=plugins).data
    assert card["counts"]["findings"] == 0
    assert "finding_codes" not in vars(plugins.registry)
