# ruff: noqa: E501  (the YAML text below keeps the layout of standard.yaml)
"""Generate standards/mdss/1.1.0 from standards/mdss/1.0.0 (run again after 1.0.0 changes).

MDSS 1.1.0 is a *minor* version: nothing in it can turn a feed that conforms to 1.0.0
into one that does not (see docs/standards-authoring.md for the rules, and
``conformance standards diff mdss@1.0.0 mdss@1.1.0`` for the verdict). Its changes:

- MDSS-ID-04 (SHOULD): NHS Number verification status threshold 95 % -> 98 %;
- MDSS-ID-06 (SHOULD) deprecated, replaced by MDSS-ID-09 (SHOULD): the same ethnic-category
  measure, with the "not stated / not known" defaults counted as valid only up to 2 % of
  Patients instead of 5 % (a new requirement rather than a changed measure, so trends of
  ID-06 stay comparable while both are reported);
- MDSS-TIME-05 (MAY, new): the feed is extracted within 6 hours of the end of its period.

The file is edited as text so that 1.0.0's comments and layout carry over. Usage::

    python tools/make_mdss_1_1.py [--standards standards] [--check]

``--check`` exits 1 when the committed 1.1.0 differs from what would be generated.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

OLD, NEW = "1.0.0", "1.1.0"
RELEASE_DATE = "2027-04-01"

CHANGELOG_ENTRY = f"""\
  - version: {NEW}
    date: {RELEASE_DATE}
    changes:
      - "MDSS-ID-04 (SHOULD): the NHS Number verification threshold is raised from 95 % to 98 %."
      - "MDSS-ID-06 is deprecated, replaced by MDSS-ID-09: ethnic category with defaults (Z, 99) accepted for at most 2 % of Patients instead of 5 %."
      - "MDSS-TIME-05 (MAY) is new: the feed is extracted within 6 hours of the end of its period."
      - "A minor version: a feed conformant to 1.0.0 stays conformant (SHOULD and MAY changes and a deprecation only)."
"""

NEW_REQUIREMENTS = """\

  # ------------------------------------------------------------ Added in 1.1.0
  - id: MDSS-ID-09
    title: Ethnic category is recorded with the England codes, with few defaults
    level: SHOULD
    domain: identity
    applies_to: [Patient]
    rationale: >
      Successor of MDSS-ID-06. Five years of DQMI reporting show that "not stated" and
      "not known" are over-used where the category could be asked; health-inequalities
      analysis needs the real category, so defaults count as valid only up to 2 %.
    source: NHS Data Dictionary (Ethnic Category); DQMI methodology; Core20PLUS5
    measure: DQMI item score, (valid codes - defaults in excess of 2 % of records) / Patients.
    threshold: 0.9
    check: {type: ethnic-category, default_threshold: 0.02}

  - id: MDSS-TIME-05
    title: The feed is extracted within 6 hours of the end of its period
    level: MAY
    domain: timeliness
    rationale: >
      Near-real-time data is where operational planning is heading (Hewitt rec 25); a MAY
      lets leading ICSs show it without making it a condition of conformance.
    source: Hewitt rec 25 (automated, timely data)
    measure: 1 when the manifest's extracted time is within 6 hours after the end of the reporting period, else 0. Not applicable without a manifest.
    check: {type: extraction-lag, max_hours: 6}
"""


class GenerateError(Exception):
    pass


def _sub_once(pattern: str, repl: str, text: str, what: str) -> str:
    new, count = re.subn(pattern, repl, text, count=1, flags=re.MULTILINE)
    if count != 1:
        raise GenerateError(f"1.0.0 no longer has {what}: update tools/make_mdss_1_1.py")
    return new


def _edit_block(text: str, rid: str, edit: tuple[str, str], what: str) -> str:
    """Apply ``edit`` (pattern, replacement) inside the requirement block ``rid``."""
    start = text.find(f"\n  - id: {rid}\n")
    if start < 0:
        raise GenerateError(f"1.0.0 has no requirement {rid}")
    end_match = re.compile(r"\n  - id: |\n  # -").search(text, start + 1)
    end = end_match.start() if end_match else len(text)
    block = _sub_once(edit[0], edit[1], text[start:end], f"{rid}: {what}")
    return text[:start] + block + text[end:]


def transform(text: str) -> str:
    text = _sub_once(rf"^version: {re.escape(OLD)}$", f"version: {NEW}", text, "version")
    text = _sub_once(r"^status: active$", "status: draft", text, "status: active")
    text = _sub_once(
        r"^effective_from: .*$", f"effective_from: {RELEASE_DATE}", text, "effective_from"
    )
    # The new changelog entry goes at the end of the changelog list (its indented lines).
    lines = text.split("\n")
    try:
        index = lines.index("changelog:") + 1
    except ValueError:
        raise GenerateError("1.0.0 has no changelog") from None
    while index < len(lines) and lines[index].startswith("  "):
        index += 1
    lines[index:index] = CHANGELOG_ENTRY.rstrip("\n").split("\n")
    text = "\n".join(lines)
    text = _edit_block(
        text, "MDSS-ID-04", (r"^    threshold: 0\.95$", "    threshold: 0.98"), "threshold 0.95"
    )
    text = _edit_block(
        text,
        "MDSS-ID-06",
        (r"^    check: ", "    status: deprecated\n    replaced_by: MDSS-ID-09\n    check: "),
        "a check line",
    )
    header = "# Generated by tools/make_mdss_1_1.py from 1.0.0: edit that script, not this file.\n"
    return header + text.rstrip("\n") + "\n" + NEW_REQUIREMENTS


def generate(standards: Path, target: Path) -> None:
    source = standards / "mdss" / OLD
    text = (source / "standard.yaml").read_text(encoding="utf-8")
    new_text = transform(text)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("standard.yaml", "__pycache__"))
    (target / "standard.yaml").write_text(new_text, encoding="utf-8")


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    repo = Path(__file__).resolve().parent.parent
    parser.add_argument("--standards", type=Path, default=repo / "standards")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    target = args.standards / "mdss" / NEW
    try:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                fresh = Path(tmp) / NEW
                generate(args.standards, fresh)
                if not target.is_dir() or not _same_tree(fresh, target):
                    sys.stderr.write(f"{target} is stale: run tools/make_mdss_1_1.py\n")
                    return 1
            return 0
        generate(args.standards, target)
    except GenerateError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
