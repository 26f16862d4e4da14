"""Build ``_types.json``, the compact FHIR R4 type model the evaluator uses at run time.

Build-time only: reads the R4 core package (never at run time)::

    python -m conformance.fhir.fhirpath._build_types PACKAGE_DIR

PACKAGE_DIR is the ``package`` folder of the unpacked ``hl7.fhir.r4.core`` 4.0.1 NPM package.

The output holds, per type (resources, data types, primitives, and backbone elements
named by their path such as ``Observation.component``):

* ``elements``: JSON property name -> FHIR type code (choice elements expanded to one
  property per allowed type, e.g. ``valueQuantity``);
* ``choices``: choice element name -> allowed type codes (order as in the definition);
* ``bases``: type -> base type (``Age`` -> ``Quantity``, ``code`` -> ``string``, ...);
* ``kinds``: type -> ``primitive-type`` / ``complex-type`` / ``resource`` / ``backbone``.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any

_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_SYSTEM_TO_FHIR = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Time": "time",
}


def _type_code(type_entry: dict[str, Any]) -> str:
    for ext in type_entry.get("extension", []):
        if ext.get("url") == _FHIR_TYPE_EXT:
            return str(ext.get("valueUrl") or ext.get("valueUri"))
    code = str(type_entry["code"])
    return _SYSTEM_TO_FHIR.get(code, code)


def _base_name(url: str | None) -> str | None:
    if not url:
        return None
    return url.rsplit("/", 1)[-1]


def build(package_dir: str) -> dict[str, Any]:
    elements: dict[str, dict[str, str]] = {}
    choices: dict[str, dict[str, list[str]]] = {}
    bases: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(package_dir, "StructureDefinition-*.json"))):
        with open(path, encoding="utf-8") as fh:
            sd = json.load(fh)
        if (
            sd.get("kind") == "logical"
            or sd.get("derivation", "specialization") != "specialization"
        ):
            continue
        name = str(sd["type"])
        if sd.get("id") != name:
            continue
        kinds[name] = str(sd["kind"])
        base = _base_name(sd.get("baseDefinition"))
        if base:
            bases[name] = base
        backbones: set[str] = set()
        for el in sd["snapshot"]["element"]:
            epath = str(el["path"])
            if "." not in epath:
                continue
            owner, leaf = epath.rsplit(".", 1)
            if kinds[name] == "primitive-type" and leaf == "value":
                continue
            types = el.get("type", [])
            if "contentReference" in el:
                codes = [str(el["contentReference"]).lstrip("#")]
            elif (
                any(t["code"] in ("BackboneElement", "Element") for t in types) and len(types) == 1
            ):
                codes = [epath]
                backbones.add(epath)
                bases[epath] = types[0]["code"]
                kinds[epath] = "backbone"
            else:
                codes = [_type_code(t) for t in types]
            if owner == name and leaf == "url" and name == "Extension":
                codes = ["uri"]
            table = elements.setdefault(owner, {})
            if leaf.endswith("[x]"):
                stem = leaf[:-3]
                choices.setdefault(owner, {})[stem] = codes
                for code in codes:
                    table[stem + code[0].upper() + code[1:]] = code
            else:
                table[leaf] = codes[0] if codes else "Element"
        for bb in backbones:
            elements.setdefault(bb, {})
    return {"elements": elements, "choices": choices, "bases": bases, "kinds": kinds}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m conformance.fhir.fhirpath._build_types PACKAGE_DIR\n")
        return 2
    data = build(args[0])
    out = os.path.join(os.path.dirname(__file__), "_types.json")
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"), sort_keys=True)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
