"""Reading ElementDefinitions: element ids, type codes, fixed/pattern values, bindings.

Plain functions over the JSON of a StructureDefinition's elements, used by
:mod:`conformance.fhir.profile_model` to build its trees.
"""

from __future__ import annotations

from typing import Any

from conformance.fhir.terminology import strip_version


def segments(eid: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in eid.split("."):
        if ":" in part:
            name, sl = part.split(":", 1)
            out.append((name, sl))
        else:
            out.append((part, None))
    return out


def element_ids(elements: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Element ids, derived from path + sliceName when absent (older profiles)."""
    out: list[tuple[str, dict[str, Any]]] = []
    current: dict[str, str] = {}  # path -> id prefix with slice
    for e in elements:
        eid = e.get("id")
        path = e.get("path")
        if not isinstance(path, str):
            continue
        if not isinstance(eid, str):
            parts = path.split(".")
            built = parts[0]
            pth = parts[0]
            for seg in parts[1:]:
                pth = f"{pth}.{seg}"
                built = f"{built}.{seg}"
                if pth in current and pth != path:
                    built = current[pth]
            if isinstance(e.get("sliceName"), str):
                built = f"{built}:{e['sliceName']}"
                current[path] = built
            elif path in current:
                del current[path]
            eid = built
        out.append((eid, e))
    return out


_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


def type_code(t: dict[str, Any]) -> str:
    code = str(t.get("code"))
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", ()) or ():
            if isinstance(ext, dict) and ext.get("url") == _FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri"))
        return code.rsplit(".", 1)[1].lower()
    return code


def fixed_pattern(e: dict[str, Any], prefix: str) -> Any:
    for k, v in e.items():
        if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper():
            return v
    return None


_ADDITIONAL = "StructureDefinition/extension-ElementDefinition.binding.additional"


def additional_bindings(b: dict[str, Any]) -> list[tuple[str, str]]:
    """R5 additional bindings (via the cross-version extension) with a checkable purpose."""
    out: list[tuple[str, str]] = []
    for ext in b.get("extension", ()) or ():
        if not isinstance(ext, dict) or not str(ext.get("url", "")).endswith(_ADDITIONAL):
            continue
        parts = {x.get("url"): x for x in ext.get("extension", ()) if isinstance(x, dict)}
        purpose = parts.get("purpose", {}).get("valueCode")
        vs = parts.get("valueSet", {}).get("valueCanonical")
        if purpose in ("required", "extensible") and isinstance(vs, str):
            out.append((str(purpose), strip_version(vs)))
    return out
