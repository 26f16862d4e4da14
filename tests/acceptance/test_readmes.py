"""The README and the sample feeds' READMEs say what the tool prints (numbers generated)."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.standards.registry import StandardRegistry
from tests.conftest import REPO, CliResult

pytestmark = pytest.mark.acceptance

Cli = Callable[..., CliResult]
README = REPO / "README.md"
SAMPLE_READMES = sorted((REPO / "sample_feeds").glob("*/README.md"))


def test_every_sample_feed_has_a_generated_output_section() -> None:
    assert [p.parent.name for p in SAMPLE_READMES] == [
        "qop-failing",
        "qr1-warnings",
        "qwo-conformant",
        "single",
    ]
    for path in SAMPLE_READMES:
        assert "## What `conformance validate` prints" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("readme", SAMPLE_READMES, ids=lambda p: p.parent.name)
def test_sample_readme_says_what_the_tool_prints(
    cli: Cli, readme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = readme.read_text(encoding="utf-8")
    command = re.search(r"From a run of `conformance ([^`]+)`", text)
    assert command is not None
    monkeypatch.chdir(REPO)
    argv = shlex.split(command.group(1))
    result = cli(*argv, "--format", "json")
    card = result.json()
    said = re.search(
        r"Verdict: \*\*(.+?)\*\*, score \*\*([\d.]+)\*\*, exit code \*\*(\d+)\*\*", text
    )
    assert said is not None
    assert (card["verdict"], f"{card['score']:.1f}", result.code) == (
        said.group(1),
        said.group(2),
        int(said.group(3)),
    )
    reqs = card["requirements"]
    std = card["standard"]
    assert f"Requirements of {std['id']}@{std['version']}: {len(reqs)};" in text
    met = sum(1 for r in reqs if r["status"] == "pass")
    not_met = sum(1 for r in reqs if r["status"] in ("fail", "partial"))
    assert f"; {met} met, {not_met} not met" in text
    counts = card["counts"]
    assert (
        f"Records: {counts['records_read']} read, {counts['records_unparseable']} unparseable"
        in text
    )
    assert f"Findings: {counts['findings']}\n" in text
    table = {
        (rid, code): int(n)
        for rid, code, n in re.findall(r"^\| (\S+) \| `(\S+)` \| (\d+) \|$", text, re.M)
    }
    actual = {(r["id"], c): n for r in reqs for c, n in r["codes"].items()}
    actual.update(
        {
            (rid, c): n
            for rid, codes in card.get("input_problems", {}).items()
            for c, n in codes.items()
        }
    )
    assert table == actual
    terminal = cli(*argv).out
    assert f"Verdict   {card['verdict']}" in terminal
    assert f"Score     {card['score']:.1f} / 100" in terminal


def test_readme_quick_start_says_what_the_tool_prints(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    text = " ".join(README.read_text(encoding="utf-8").split())
    result = cli("validate", "sample_feeds/qwo-conformant")
    assert result.code == 0
    assert "and exits 0" in text
    assert "`Score 100.0 / 100`" in text and "Score     100.0 / 100" in result.out
    assert "`Verdict Conformant`" in text and "Verdict   Conformant" in result.out
    found = re.search(r"Findings by code \((\d+) codes?, (\d+) findings", result.out)
    assert found is not None
    assert f"findings grouped by code ({found.group(2)} warnings" in text
    assert all(
        line.split()[1] == "warning"
        for line in result.out.splitlines()
        if re.match(r"^\s+\d+  \w+\s+MDSS-", line)
    )


def test_readme_requirement_counts_are_the_standard_s() -> None:
    count = len(StandardRegistry.default().resolve("mdss@1.0.0").requirements)
    text = " ".join(README.read_text(encoding="utf-8").split())
    claims = re.findall(r"(\d+) requirements\b", text)
    assert claims, "the README names the requirement count"
    assert {int(c) for c in claims} == {count}, claims


def test_readme_library_example_prints_what_it_says(monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("### As a library") :]
    code = block[
        block.index("```python") + len("```python") : block.index(
            "```\n", block.index("```python") + 9
        )
    ]
    printing = next(line for line in code.splitlines() if line.startswith("print("))
    expected = printing.split("#", 1)[1].strip()
    monkeypatch.chdir(REPO)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})  # the README's own example, as written
    assert out.getvalue().strip() == expected
