"""Standards versions ordered by packaging.version semantics (semver pre-releases mapped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.standards.registry import StandardRegistry, version_key
from tests.conftest import FIXTURES


def test_release_candidates_order_numerically_then_the_release() -> None:
    assert version_key("1.0.0-rc.2") < version_key("1.0.0-rc.10") < version_key("1.0.0")
    assert version_key("1.0.0-rc.9") < version_key("1.0.0-rc.10")


@pytest.mark.parametrize(
    "ordered",
    [
        ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"],
        ["1.0.0-dev.2", "1.0.0-alpha.1"],  # PEP 440: a dev release precedes alphas
        ["0.9.9", "0.9.10", "1.0.0", "1.0.1-rc.1", "1.0.1", "2.0.0", "10.0.0"],
        ["1.0.0-rc", "1.0.0-rc.1"],  # no number: 0
    ],
)
def test_versions_sort_as_packaging_orders_them(ordered: list[str]) -> None:
    assert sorted(reversed(ordered), key=version_key) == ordered


def test_build_metadata_does_not_change_the_order() -> None:
    assert version_key("1.0.0+build.1")[:3] == version_key("1.0.0")[:3]
    assert version_key("1.0.0-rc.10+b.7") < version_key("1.0.0")
    assert version_key("1.0.0+b.1") < version_key("1.0.1-rc.1")
    # ties broken by the metadata, so that sorting is stable
    assert version_key("1.0.0+a") < version_key("1.0.0+b")


def test_pre_releases_with_no_pep440_form_sort_first_by_semver_precedence() -> None:
    ordered = ["1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0-x.8", "1.0.0-alpha", "1.0.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered


def test_text_that_is_not_a_version_sorts_first() -> None:
    assert version_key("draft") < version_key("0.0.1")
    assert sorted(["b", "0.1.0", "a"], key=version_key) == ["a", "b", "0.1.0"]


def _standard(root: Path, version: str, status: str) -> None:
    text = (FIXTURES / "standards" / "identity" / "standard.yaml").read_text(encoding="utf-8")
    text = text.replace("id: identity-test", "id: ordered")
    text = text.replace("version: 1.0.0", f"version: {version}")
    text = text.replace("status: active", f"status: {status}")
    folder = root / "ordered" / version
    folder.mkdir(parents=True)
    (folder / "standard.yaml").write_text(text, encoding="utf-8")


def test_the_registry_resolves_the_latest_candidate(tmp_path: Path) -> None:
    for version in ("1.0.0-rc.2", "1.0.0-rc.10", "1.0.0-rc.9"):
        _standard(tmp_path, version, "draft")
    registry = StandardRegistry([tmp_path])
    assert [e.version for e in registry.entries()] == ["1.0.0-rc.2", "1.0.0-rc.9", "1.0.0-rc.10"]
    assert registry.resolve("ordered").version == "1.0.0-rc.10"
    assert registry.resolve("ordered@1.0").version == "1.0.0-rc.10"
    assert registry.resolve("ordered@1.0.0-rc.2").version == "1.0.0-rc.2"
    _standard(tmp_path, "1.0.0", "draft")
    assert StandardRegistry([tmp_path]).resolve("ordered@1").version == "1.0.0"
