"""Agreement with the HL7 Java reference validator on HL7's own validator test cases.

Usage: python benchmarks/hl7_suite.py [--shared ../shared] [-v]

Each manifest case is run like the reference harness: supporting and profile files are
loaded as a package; the instance is validated against base R4 plus the profiles it claims
(compared with the case's ``java`` outcome) and, where the case has a ``profile`` block,
also against that profile (compared with ``profile.java``). Prints verdict agreement
(errors expected vs found), error-count agreement, and error-message agreement: the
share of the reference's errors that one of ours matches with the same element path and
the same kind of problem (see :func:`same_error`).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from conformance.fhir import DefinitionError, DefinitionSet, FhirValidator  # noqa: E402

KINDS = (
    "cardinality",
    "type",
    "code",
    "invariant",
    "slicing",
    "extension",
    "reference",
    "structure",
    "other",
)
"""The kinds of problem two validators' errors are compared by (type: type or format)."""

_OUR_KINDS = {
    "cardinality-min": "cardinality",
    "cardinality-max": "cardinality",
    "invalid-primitive": "type",
    "invalid-type": "type",
    "choice-type": "type",
    "empty-element": "type",
    "invalid-resource-type": "structure",
    "binding-required": "code",
    "binding-extensible": "code",
    "invariant": "invariant",
    "invariant-error": "invariant",
    "slice-cardinality": "slicing",
    "slice-unmatched": "slicing",
    "profile-no-match": "slicing",
    "unknown-extension": "extension",
    "reference-ambiguous": "reference",
    "reference-not-found": "reference",
    "reference-target": "reference",
    "unknown-element": "structure",
    "profile-error": "structure",
    "unknown-profile": "structure",
    "profile-type": "structure",
}
"""Our FHIR issue codes by kind (fixed values, patterns, min/max values: other)."""

_THEIR_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I))
    for kind, pattern in (
        ("cardinality", r"minimum required|max allowed|^required\b"),
        ("type", r"allows for the types?\b|\bis not a valid type"),
        ("slicing", r"slice|slicing|discriminator"),
        ("invariant", r"^invariant\b|constraint failed|rule .* failed"),
        ("extension", r"\bextension\b|example urls"),
        ("code", r"^code-invalid\b|value ?set|code ?system|\bunknown code|display"),
        ("reference", r"reference|fullurl|in the bundle|resolve|target"),
        ("other", r"minimum value|maximum value|but must be|fixed value|pattern"),
        ("structure", r"error parsing|unrecognized property|unknown element|profile"),
        ("type", r"^(invalid|value)\b|not a valid|format|base64|invalid|type|empty"),
    )
)


def reference_errors(outcome_path: Path) -> list[tuple[str, str]]:
    """The reference's errors as ``(normalised element path, kind)``."""
    oo = orjson.loads(outcome_path.read_bytes())
    out: list[tuple[str, str]] = []
    for issue in oo.get("issue", ()):
        if issue.get("severity") not in ("error", "fatal"):
            continue
        where = issue.get("expression") or issue.get("location") or [""]
        path = str(where[0])
        text = str((issue.get("details") or {}).get("text", ""))
        kind = their_kind(str(issue.get("code", "")), text)
        named = re.match(r"^([A-Z][\w\[\]:-]*(?:\.[\w\[\]:-]+)+): (minimum|max)", text)
        if named:  # a cardinality error sits on the parent and names the element (or slice)
            element = named.group(1).rsplit(".", 1)[-1]
            kind = "slicing" if ":" in element else kind
            path = f"{path}.{element.split(':', 1)[0]}"
        out.append((normalise_path(path), kind))
    return out


def their_kind(code: str, text: str) -> str:
    line = f"{code} {text}"
    return next((kind for kind, pattern in _THEIR_KINDS if pattern.search(line)), "other")


def our_kind(code: str, message: str) -> str:
    return _OUR_KINDS.get(code) or their_kind("", message)


def normalise_path(path: str) -> str:
    """A FHIRPath-ish element path as both validators can be compared on: no comments,
    no indexes, ``value.ofType(Quantity)`` as ``valueQuantity``, no ``[x]``."""
    path = re.sub(r"/\*.*?\*/", "", path)
    path = re.sub(r"\.ofType\((\w)(\w*)\)", lambda m: m.group(1).upper() + m.group(2), path)
    path = re.sub(r"\[\d+\]|\[x\]", "", path)
    if path.endswith(("extension.url", "Extension.url")):
        path = path[: -len(".url")]  # an extension is named by its url
    return path.removesuffix(".(unknown element)")


def same_error(theirs: list[tuple[str, str]], ours: list[tuple[str, str]]) -> int:
    """How many of the reference's errors one of ours matches (same path, same kind)."""
    mine = set(ours)
    return sum(1 for error in theirs if error in mine)


def our_errors(issues: list[Any]) -> list[tuple[str, str]]:
    return [
        (normalise_path(i.expression), our_kind(i.code, i.message))
        for i in issues
        if i.severity == "error"
    ]


PARSE_ERROR = ("", "structure")
"""Our error for an instance that does not parse (the reference reports it at no path)."""


def run(shared: Path, verbose: bool) -> int:
    root = shared / "fhir" / "fhir-test-cases"
    vdir = root / "validator"
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    base = FhirValidator.base()
    rows: list[tuple[str, str, int, int, int]] = []
    t0 = time.perf_counter()
    for case in manifest["test-cases"]:
        files = [*case.get("supporting", ()), *case.get("profiles", ())]
        prof_block: dict[str, Any] | None = case.get("profile")
        validator = base
        if files:
            try:
                validator = base.with_definitions(DefinitionSet.load([vdir / f for f in files]))
            except DefinitionError as exc:
                print(f"  {case['name']}: cannot load definitions: {exc}")
        try:
            resource = orjson.loads((vdir / case["file"]).read_bytes())
            issues = validator.validate(resource)
            mine = our_errors(issues)
        except orjson.JSONDecodeError:
            resource, issues, mine = None, [], [PARSE_ERROR]  # a parse failure is one error
        theirs = reference_errors(vdir / "outcomes" / case["java"])
        rows.append((case["name"], "base", len(theirs), len(mine), same_error(theirs, mine)))
        if verbose:
            _unmatched(case["name"], theirs, mine)
        if verbose:
            for i in issues:
                if i.severity == "error":
                    print(f"    [{case['name']}] {i.code} {i.expression}: {i.message}")
        if prof_block is not None and resource is not None and "java" in prof_block:
            sd = DefinitionSet.load([vdir / prof_block["source"]])
            url = next(u for u in sd.structure_definitions if "|" not in u)
            extra = [*prof_block.get("supporting", ()), prof_block["source"]]
            pvalidator = validator.with_definitions(DefinitionSet.load([vdir / f for f in extra]))
            pissues = pvalidator.validate(resource, [url])
            pmine = our_errors(pissues)
            ptheirs = reference_errors(vdir / "outcomes" / prof_block["java"])
            matched = same_error(ptheirs, pmine)
            rows.append((case["name"], "profile", len(ptheirs), len(pmine), matched))
            if verbose:
                _unmatched(case["name"] + " profile", ptheirs, pmine)
            if verbose:
                for i in pissues:
                    if i.severity == "error":
                        print(f"    [{case['name']} profile] {i.code} {i.expression}: {i.message}")
    elapsed = time.perf_counter() - t0
    verdict = sum(1 for _, _, j, o, _ in rows if (j > 0) == (o > 0))
    counts = sum(1 for _, _, j, o, _ in rows if j == o)
    print(f"{'case':45} {'step':8} {'java':>5} {'ours':>5} {'msgs':>7}")
    for name, step, j, o, m in rows:
        mark = "" if (j > 0) == (o > 0) else "   <-- verdict differs"
        msgs = f"{m}/{j}" if j else "-"
        print(f"{name[:45]:45} {step:8} {j:5} {o:5} {msgs:>7}{mark}")
    n = len(rows)
    expected = sum(j for _, _, j, _, _ in rows)
    matched = sum(m for _, _, _, _, m in rows)
    print(f"\nruns: {n} ({len(manifest['test-cases'])} cases) in {elapsed:.2f} s")
    print(f"verdict agreement:     {verdict}/{n} = {100 * verdict / n:.1f} %")
    print(f"error-count agreement: {counts}/{n} = {100 * counts / n:.1f} %")
    print(
        f"error-message agreement: {matched}/{expected} = {100 * matched / max(1, expected):.1f} %"
        " of the reference's errors matched (same element path, same kind of problem)"
    )
    return 0


def _unmatched(name: str, theirs: list[tuple[str, str]], ours: list[tuple[str, str]]) -> None:
    mine = set(ours)
    for path, kind in theirs:
        if (path, kind) not in mine:
            print(f"    [{name}] reference error not matched: {kind} at {path or '(no path)'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every error found")
    args = ap.parse_args(argv)
    return run(args.shared, args.verbose)


if __name__ == "__main__":
    raise SystemExit(main())
