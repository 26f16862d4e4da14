"""Precompile the FHIR R4 core package into the compact data shipped in conformance/fhir/data/.

Usage: python tools/build_fhir_definitions.py [--shared ../shared]

Writes
  conformance/fhir/data/r4.json.gz            types, elements, invariants, bound value sets
  conformance/fhir/data/r4-terminology.json.gz all expandable core value sets + code systems
  conformance/fhir/data/r4-profiles.json.gz   core profiles and extension definitions (trimmed)
  conformance/fhir/resource_types.py is NOT rewritten (it is owned elsewhere); the tool checks it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from conformance.fhir.terminology import (  # noqa: E402
    CodeSystemInfo,
    Expander,
    strip_version,
)

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
NATIVE_KEYS = {"ele-1", "ext-1"}

# Element properties kept for profiles shipped in r4-profiles.json.gz.
KEEP_ELEMENT = {
    "id",
    "path",
    "sliceName",
    "min",
    "max",
    "type",
    "fixed",
    "pattern",
    "binding",
    "constraint",
    "slicing",
    "mustSupport",
    "contentReference",
    "base",
}


def load_package(pkg: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in sorted(pkg.glob("*.json")):
        if f.name == "package.json" or f.name.startswith("."):
            continue
        d = json.loads(f.read_bytes())
        out.setdefault(d.get("resourceType", ""), []).append(d)
    return out


def type_code(t: dict[str, Any]) -> str:
    code: str = t["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", ()):
            if ext.get("url") == FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri"))
        return code.rsplit(".", 1)[1].lower()
    return code


def compact_elements(
    sd: dict[str, Any],
    invariants: dict[tuple[str, str], int],
    inv_list: list[list[Any]],
    bound: dict[str, str],
) -> list[list[Any]]:
    root = sd["id"] if sd.get("derivation") == "constraint" else sd["type"]
    elements: list[list[Any]] = []
    for e in sd["snapshot"]["element"]:
        path: str = e["path"]
        if "sliceName" in e:
            continue  # base types carry no slices except in constraint types we do not need
        parts = path.split(".")
        parts[0] = root
        path = ".".join(parts)
        mx = e.get("max", "*")
        types: list[Any] = []
        for t in e.get("type", ()):
            code = type_code(t)
            if path == f"{root}.id" and sd["kind"] == "resource":
                code = "id"  # the snapshot says string; the spec's Resource.id is an id
            targets = [p.rsplit("/", 1)[1] for p in t.get("targetProfile", ())]
            types.append([code, targets] if targets else code)
        binding = None
        b = e.get("binding")
        if b and b.get("strength") in ("required", "extensible") and b.get("valueSet"):
            vs = strip_version(b["valueSet"])
            binding = [b["strength"], vs]
            bound[vs] = b["strength"]
        invs: list[int] = []
        for c in e.get("constraint", ()):
            key, expr = c.get("key"), c.get("expression")
            if not key or not expr or key in NATIVE_KEYS:
                continue
            ident = (key, expr)
            if ident not in invariants:
                invariants[ident] = len(inv_list)
                inv_list.append([key, c.get("severity", "error"), c.get("human", ""), expr])
            invs.append(invariants[ident])
        row: list[Any] = [path, e.get("min", 0), -1 if mx == "*" else int(mx), types, binding, invs]
        if "contentReference" in e:
            ref = e["contentReference"].split("#", 1)[1]
            row.append(root + ref[ref.index(".") :] if "." in ref else root)
        elements.append(row)
    return elements


def trim_sd(sd: dict[str, Any]) -> dict[str, Any]:
    out = {
        k: sd[k]
        for k in (
            "url",
            "name",
            "type",
            "kind",
            "derivation",
            "baseDefinition",
            "abstract",
            "context",
            "version",
        )
        if k in sd
    }
    for part in ("snapshot", "differential"):
        if part in sd:
            out[part] = {
                "element": [
                    {
                        k: v
                        for k, v in e.items()
                        if k in KEEP_ELEMENT or k.startswith(("fixed", "pattern"))
                    }
                    for e in sd[part]["element"]
                ]
            }
    for elist in (
        out.get("snapshot", {}).get("element", []),
        out.get("differential", {}).get("element", []),
    ):
        for e in elist:
            for c in e.get("constraint", ()):
                for k in ("xpath", "requirements"):
                    c.pop(k, None)
            if "binding" in e:
                e["binding"] = {
                    k: v for k, v in e["binding"].items() if k in ("strength", "valueSet")
                }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = ap.parse_args(argv)
    pkg = args.shared / "fhir" / "hl7.fhir.r4.core-4.0.1" / "package"
    res = load_package(pkg)
    sds = res["StructureDefinition"]

    invariants: dict[tuple[str, str], int] = {}
    inv_list: list[list[Any]] = []
    bound: dict[str, str] = {}
    types: dict[str, Any] = {}
    primitives: dict[str, str] = {}
    profiles: list[dict[str, Any]] = []
    for sd in sds:
        kind, deriv = sd["kind"], sd.get("derivation")
        if kind == "logical" or "snapshot" not in sd:
            continue
        if deriv == "constraint" and (sd["type"] == "Extension" or kind == "resource"):
            profiles.append(trim_sd(sd))
            for e in sd["snapshot"]["element"]:
                b = e.get("binding")
                if b and b.get("strength") in ("required", "extensible") and b.get("valueSet"):
                    bound.setdefault(strip_version(b["valueSet"]), b["strength"])
            continue
        name = sd["id"] if deriv == "constraint" else sd["type"]
        base = sd.get("baseDefinition", "").rsplit("/", 1)[-1] or None
        types[name] = {
            "kind": kind,
            "base": base,
            "abstract": bool(sd.get("abstract")),
            "elements": compact_elements(sd, invariants, inv_list, bound),
        }
        if deriv == "constraint":
            types[name]["constrains"] = sd["type"]
        if kind == "primitive-type":
            for e in sd["snapshot"]["element"]:
                if e["path"].endswith(".value"):
                    for ext in e["type"][0].get("extension", ()):
                        if ext["url"] == REGEX_EXT:
                            primitives[name] = ext["valueString"]
            primitives.setdefault(name, "")

    # terminology
    cs_info: dict[str, CodeSystemInfo] = {}
    for cs in res.get("CodeSystem", ()):
        info = CodeSystemInfo.from_resource(cs)
        if info is not None:
            cs_info[info.url] = info
    vs_by_url = {v["url"]: v for v in res.get("ValueSet", ())}
    expander = Expander(vs_by_url.get, cs_info.get)
    all_exp: dict[str, Any] = {}
    for url in sorted(vs_by_url):
        e = expander.expand(url)
        all_exp[url] = None if e is None else {s: sorted(c) for s, c in sorted(e.items())}
    bound_exp = {url: all_exp.get(url) for url in sorted(bound)}

    data = {
        "fhirVersion": "4.0.1",
        "primitives": primitives,
        "types": types,
        "invariants": inv_list,
        "valuesets": bound_exp,
    }
    term = {
        "valuesets": {k: v for k, v in all_exp.items() if v is not None},
        "codesystems": {u: c.to_json() for u, c in sorted(cs_info.items())},
    }
    out_dir = REPO / "conformance" / "fhir" / "data"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, obj in (
        ("r4.json.gz", data),
        ("r4-terminology.json.gz", term),
        ("r4-profiles.json.gz", {"profiles": profiles}),
    ):
        raw = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
        (out_dir / name).write_bytes(gzip.compress(raw, 9, mtime=0))
    n_res = sum(1 for t in types.values() if t["kind"] == "resource" and not t["abstract"])
    expandable = sum(1 for v in bound_exp.values() if v is not None)
    sys.stdout.write(
        f"types={len(types)} concrete resources={n_res} invariants={len(inv_list)} "
        f"bound value sets={len(bound_exp)} (expandable {expandable}) profiles={len(profiles)}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
