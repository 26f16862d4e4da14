"""Load ``standard.yaml`` files: safe YAML, schema-checked, with exact error positions."""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from conformance import cache
from conformance.errors import StandardError
from conformance.standards.model import CheckSpec, DataItem, Domain, Level, Requirement, Standard

STANDARD_FILE = "standard.yaml"

PathKey = tuple[str | int, ...]


@functools.cache
def _schema_text() -> str:
    return resources.files("conformance.standards").joinpath("standard.schema.json").read_text()


@functools.cache
def standard_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def _positions(node: yaml.Node, path: PathKey, out: dict[PathKey, int], where: str) -> None:
    """Record the 1-based line of every key and item; reject duplicate keys."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise StandardError(
                    f"{where}:{key_node.start_mark.line + 1}: duplicate key '{key}'"
                )
            seen.add(key)
            out[(*path, key)] = key_node.start_mark.line + 1
            _positions(value_node, (*path, key), out, where)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _positions(item, (*path, index), out, where)


def _dates_as_text(value: Any) -> Any:
    """YAML turns ``2026-04-01`` into a date; the schema and the scorecard want text."""
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (ten times faster), else the pure-Python one."""

MAX_STANDARD_BYTES = 16 * 1024 * 1024
"""Largest standard.yaml read."""


class _StandardLoader(_Loader):  # type: ignore[misc]
    """The safe loader, with values that cannot crash: timestamps stay text (the schema
    checks them as dates, naming the line: ``2026-02-30`` is an error, not a crash), and
    an integer too long for Python is a YAML error at its line."""


def _text_scalar(loader: Any, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _bounded_int(loader: Any, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, "the number is too long", node.start_mark
        ) from None


_StandardLoader.add_constructor("tag:yaml.org,2002:timestamp", _text_scalar)
_StandardLoader.add_constructor("tag:yaml.org,2002:int", _bounded_int)


def _refuse_aliases(root: yaml.Node, where: str) -> None:
    """Standards need no anchors or aliases; refusing them stops 'billion laughs' input."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise StandardError(
                f"{where}:{node.start_mark.line + 1}: YAML anchors and aliases are not allowed "
                "in a standard"
            )
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.append(key_node)
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def read_yaml(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse a YAML file safely; return the data and a map of element path -> line."""
    from conformance.errors import InputError
    from conformance.files import read_regular

    try:
        text = read_regular(path, limit=MAX_STANDARD_BYTES, what="file").decode("utf-8")
    except InputError as exc:
        raise StandardError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise StandardError(f"{path}: cannot be read: not UTF-8 ({exc.reason})") from None
    loader = _StandardLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _refuse_aliases(node, str(path))
        data = loader.construct_document(node) if node is not None else None
        positions: dict[PathKey, int] = {}
        if node is not None:
            _positions(node, (), positions, str(path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        raise StandardError(f"{path}:{line}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise StandardError(f"{path}: invalid YAML: {exc}") from None
    except RecursionError:
        raise StandardError(f"{path}: invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return _dates_as_text(data), positions


def _line_for(positions: dict[PathKey, int], path: PathKey) -> int | None:
    for cut in range(len(path), -1, -1):
        line = positions.get(tuple(path[:cut]))
        if line is not None:
            return line
    return None


def _describe(path: PathKey, data: Any) -> str:
    """``requirements[3] (MDSS-ID-04).level``: a readable key path."""
    text = ""
    cursor = data
    for part in path:
        if isinstance(part, int) and not isinstance(cursor, dict):
            text += f"[{part}]"
            try:
                cursor = cursor[part]
            except (IndexError, KeyError, TypeError):
                cursor = None
            if isinstance(cursor, dict) and isinstance(cursor.get("id"), str):
                text += f" ({cursor['id']})"
        else:
            # YAML keys need not be text (``~:``, ``1:``, ``true:``): name them as written
            name = part if isinstance(part, str) else repr(part)
            text += f".{name}" if text else name
            cursor = cursor.get(part) if isinstance(cursor, dict) else None
    return text or "(top level)"


def schema_errors(data: Any, positions: dict[PathKey, int], where: Path) -> list[str]:
    """Every schema violation, as ``file:line: key: message`` lines, in file order."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(
        standard_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    found: list[tuple[int, str]] = []
    for error in validator.iter_errors(data):
        path: PathKey = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            extra = [k for k in error.instance if k not in allowed]
            for key in extra:
                line = _line_for(positions, (*path, key)) or 0
                found.append(
                    (line, f"{where}:{line}: {_describe((*path, key), data)}: unknown key")
                )
            continue
        line = _line_for(positions, path) or 0
        found.append((line, f"{where}:{line}: {_describe(path, data)}: {error.message}"))
    found.sort(key=lambda item: item[0])
    return [text for _, text in found]


def load_standard_file(
    path: Path, resolve_base: Callable[[str, Path], Standard] | None = None
) -> Standard:
    """Load one standard folder's ``standard.yaml``.

    ``resolve_base`` turns an ``extends`` reference into the base standard; the registry
    passes its own resolver.
    """
    file = path / STANDARD_FILE if path.is_dir() else path
    folder = file.parent
    data, positions = read_yaml(file)
    if not isinstance(data, dict):
        raise StandardError(f"{file}:1: a standard must be a mapping of keys to values")
    key = cache.digest(_schema_text().encode(), file.read_bytes())
    if not cache.is_validated(key):
        errors = schema_errors(data, positions, file)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise StandardError(errors[0] + more)
        cache.mark_validated(key)

    base: Standard | None = None
    if "extends" in data:
        if resolve_base is None:
            raise StandardError(f"{file}: 'extends' needs a standards registry to resolve it")
        try:
            base = resolve_base(data["extends"], folder)
        except StandardError as exc:
            line = positions.get(("extends",), 0)
            raise StandardError(f"{file}:{line}: extends: {exc}") from None
    origin = f"{data['id']}@{data['version']}"

    own: list[Requirement] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data["requirements"]):
        line = positions.get(("requirements", index), 0)
        if raw["id"] in seen:
            raise StandardError(
                f"{file}:{line}: requirements[{index}].id: '{raw['id']}' is already used "
                f"at line {seen[raw['id']]}"
            )
        seen[raw["id"]] = line
        check = dict(raw["check"])
        check_type = check.pop("type")
        own.append(
            Requirement(
                id=raw["id"],
                title=raw["title"],
                level=Level(raw["level"]),
                domain=raw["domain"],
                rationale=raw["rationale"].strip(),
                source=raw["source"],
                check=CheckSpec(check_type, check, positions.get(("requirements", index, "check"))),
                applies_to=tuple(raw.get("applies_to", ())),
                threshold=raw.get("threshold"),
                measure=raw.get("measure"),
                status=raw.get("status", "active"),
                replaced_by=raw.get("replaced_by"),
                origin=origin,
            )
        )

    requirements: list[Requirement] = []
    domains: list[Domain] = [Domain(**d) for d in data.get("domains", ())]
    profiles: dict[str, tuple[str, ...]] = {
        k: tuple(v) for k, v in data.get("profiles", {}).items()
    }
    data_items = [
        DataItem(
            id=d["id"],
            resource=d["resource"],
            path=d["path"],
            defaults=tuple(d.get("defaults", ())),
            default_threshold=d.get("default_threshold", 0.0),
        )
        for d in data.get("data_items", ())
    ]
    folders: tuple[Path, ...] = (folder,)
    if base is not None:
        # A local extension keeps every national requirement; a requirement with the same
        # id replaces the national one (e.g. to raise a SHOULD to MUST locally).
        own_ids = {r.id for r in own}
        requirements = [r for r in base.requirements if r.id not in own_ids]
        known = {d.id for d in domains}
        domains = [d for d in base.domains if d.id not in known] + domains
        profiles = {**base.profiles, **profiles}
        item_ids = {d.id for d in data_items}
        data_items = [d for d in base.data_items if d.id not in item_ids] + data_items
        folders = (folder, *base.folders)
    requirements.extend(own)

    return Standard(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        status=data["status"],
        fhir_version=data["fhir_version"],
        publisher=data["publisher"],
        requirements=tuple(requirements),
        path=folder,
        description=data.get("description", "").strip(),
        effective_from=data.get("effective_from"),
        effective_to=data.get("effective_to"),
        extends=data.get("extends"),
        domains=tuple(domains),
        changelog=tuple(data.get("changelog", ())),
        profiles=profiles,
        data_items=tuple(data_items),
        folders=folders,
    )
