"""The standard format: loading, schema errors with positions, extends, references."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.errors import StandardError
from conformance.standards.loader import load_standard_file
from conformance.standards.model import Level
from conformance.standards.registry import StandardRegistry, embedded_standards_root

EXAMPLES = Path(__file__).parent.parent / "fixtures" / "standards"

MINIMAL = """\
id: {id}
version: {version}
title: Test standard
status: {status}
fhir_version: 4.0.1
publisher: Tests
requirements:
  - id: TST-ID-01
    title: Patients have an NHS Number
    level: MUST
    domain: identity
    rationale: Linkage.
    source: Tests
    check: {{type: nhs-number-present}}
"""


def make(
    root: Path, std_id: str = "tst", version: str = "1.0.0", status: str = "active", extra: str = ""
) -> Path:
    folder = root / std_id / version
    folder.mkdir(parents=True)
    (folder / "standard.yaml").write_text(
        MINIMAL.format(id=std_id, version=version, status=status) + extra
    )
    return folder


def test_embedded_mdss_loads() -> None:
    std = StandardRegistry.default().resolve("mdss@1.0.0")
    assert std.id == "mdss" and std.version == "1.0.0"
    assert std.requirement("MDSS-ID-01").level is Level.MUST
    ids = [r.id for r in std.requirements]
    assert len(ids) == len(set(ids))
    assert embedded_standards_root().is_dir()


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "positive").glob("*.yaml")), ids=lambda p: p.stem
)
def test_positive_examples_load(path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "std"
    folder.mkdir()
    (folder / "standard.yaml").write_text(path.read_text())
    std = StandardRegistry([tmp_path]).load_folder(folder)
    assert std.requirements


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "negative").glob("*.yaml")), ids=lambda p: p.stem
)
def test_negative_examples_name_file_line_and_key(path: Path, tmp_path: Path) -> None:
    """Each negative example starts with ``# expect: <line>: <text in the message>``."""
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), "negative examples declare the expected error"
    line, expected = first.removeprefix("# expect: ").split(": ", 1)
    folder = tmp_path / "std"
    folder.mkdir()
    (folder / "standard.yaml").write_text(path.read_text())
    with pytest.raises(StandardError) as info:
        StandardRegistry([tmp_path]).load_folder(folder)
    message = str(info.value)
    assert f"standard.yaml:{line}:" in message
    assert expected in message


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    folder = make(tmp_path)
    (folder / "standard.yaml").write_text("id: x\nversion: [1.0\n")
    with pytest.raises(StandardError, match=r"standard.yaml:\d+: invalid YAML"):
        load_standard_file(folder)


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    folder = make(tmp_path)
    (folder / "standard.yaml").write_text("id: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(StandardError, match="invalid YAML"):
        load_standard_file(folder)


def test_duplicate_requirement_ids(tmp_path: Path) -> None:
    folder = make(tmp_path)
    text = (folder / "standard.yaml").read_text()
    block = text[text.index("  - id: TST-ID-01") :]
    (folder / "standard.yaml").write_text(text + block)
    with pytest.raises(
        StandardError, match=r"standard.yaml:15: .*'TST-ID-01' is already used at line 8"
    ):
        load_standard_file(folder)


def test_reference_resolution(tmp_path: Path) -> None:
    for version, status in (
        ("1.0.0", "active"),
        ("1.1.0", "active"),
        ("1.2.0", "draft"),
        ("2.0.0", "draft"),
        ("0.9.0", "retired"),
    ):
        make(tmp_path, version=version, status=status)
    registry = StandardRegistry([tmp_path])
    assert registry.resolve("tst").version == "1.1.0"  # latest *active*
    assert registry.resolve("tst@1").version == "1.1.0"
    assert registry.resolve("tst@1.0").version == "1.0.0"
    assert registry.resolve("tst@1.2.0").version == "1.2.0"  # exact: any status
    assert registry.resolve("tst@2").version == "2.0.0"  # only a draft: still found
    assert registry.resolve(str(tmp_path / "tst" / "1.0.0")).version == "1.0.0"
    with pytest.raises(StandardError, match="no version of 'tst' matches '3'"):
        registry.resolve("tst@3")
    with pytest.raises(StandardError, match="unknown standard 'nope'"):
        registry.resolve("nope")
    with pytest.raises(StandardError, match="not a standard reference"):
        registry.resolve("Bad Ref!")
    with pytest.raises(StandardError, match="retired"):
        registry.resolve("tst@0")


def test_extends_adds_and_overrides(tmp_path: Path) -> None:
    make(tmp_path, "base")
    local = tmp_path / "local" / "1.0.0"
    local.mkdir(parents=True)
    (local / "standard.yaml").write_text(
        textwrap.dedent("""\
        id: local
        version: 1.0.0
        title: A local ICS extension
        status: active
        fhir_version: 4.0.1
        publisher: An ICS
        extends: base@1.0
        requirements:
          - id: TST-ID-01
            title: Patients have an NHS Number (raised locally)
            level: MUST
            domain: identity
            rationale: Local priority.
            source: Hewitt rec 11
            check: {type: nhs-number-valid}
          - id: LOC-ID-01
            title: A local requirement
            level: SHOULD
            domain: identity
            rationale: Local priority.
            source: Hewitt rec 11
            check: {type: postcode-valid}
        """)
    )
    registry = StandardRegistry([tmp_path])
    std = registry.resolve("local")
    assert [r.id for r in std.requirements] == ["TST-ID-01", "LOC-ID-01"]
    assert std.requirement("TST-ID-01").check.type == "nhs-number-valid"
    assert std.requirement("TST-ID-01").origin == "local@1.0.0"
    assert std.folders[-1] == (tmp_path / "base" / "1.0.0").resolve()


def test_extends_of_the_embedded_mdss(tmp_path: Path) -> None:
    local = tmp_path / "qwo" / "1.0.0"
    local.mkdir(parents=True)
    (local / "standard.yaml").write_text(
        MINIMAL.format(id="qwo", version="1.0.0", status="active")
        .replace("requirements:", "extends: mdss@1.0\nrequirements:")
        .replace("TST-ID-01", "QWO-ID-01")
    )
    std = StandardRegistry.default(extra_roots=[tmp_path]).resolve("qwo")
    ids = [r.id for r in std.requirements]
    assert "MDSS-ID-01" in ids and ids[-1] == "QWO-ID-01"
    assert std.requirement("MDSS-ID-01").origin == "mdss@1.0.0"


def test_circular_extends(tmp_path: Path) -> None:
    for name, other in (("a", "b"), ("b", "a")):
        folder = tmp_path / name / "1.0.0"
        folder.mkdir(parents=True)
        (folder / "standard.yaml").write_text(
            MINIMAL.format(id=name, version="1.0.0", status="active").replace(
                "requirements:", f"extends: {other}@1.0.0\nrequirements:"
            )
        )
    with pytest.raises(StandardError, match="circular"):
        StandardRegistry([tmp_path]).resolve("a")
