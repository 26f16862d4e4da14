"""Find standards and resolve references such as ``mdss``, ``mdss@1``, ``mdss@1.0.0``.

Standards live in folders ``<root>/<id>/<version>/standard.yaml``. The roots are, in
order: the standards embedded in the package (the repository's ``standards/`` folder,
packaged as data), the folders in ``$CONFORMANCE_STANDARDS_PATH``, and those plugins
add through the ``conformance_standard_paths`` hook. A reference that is a path to a
folder (or a ``standard.yaml``) loads that folder directly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from conformance.errors import StandardError
from conformance.standards.loader import STANDARD_FILE, load_standard_file
from conformance.standards.model import Standard

_REF = re.compile(
    r"^(?P<id>[a-z][a-z0-9-]*)(?:@(?P<version>\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?))?$"
)
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


def is_reference(text: str) -> bool:
    """True for a registry reference (``mdss``, ``mdss@1``, ``mdss@1.0.0``), never a path."""
    return _REF.match(text) is not None and "\n" not in text


def embedded_standards_root() -> Path:
    """The standards shipped with the package.

    In an installed wheel they sit in ``conformance/_standards``; in a source checkout
    (or an editable install) the repository's ``standards/`` folder is the single source.
    """
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_standards"
    if packaged.is_dir():
        return packaged
    return package.parent / "standards"


def _quick_status(folder: Path) -> str | None:
    """A standard's status, read without loading it (only the chosen one is loaded)."""
    import yaml

    from conformance.errors import InputError
    from conformance.files import read_regular

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(read_regular(folder / STANDARD_FILE), Loader=loader)
    except (InputError, ValueError, RecursionError, yaml.YAMLError):
        return None  # loading it properly reports the problem, if it is ever chosen
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


_PRE_LABELS = {
    "alpha": "a",
    "a": "a",
    "beta": "b",
    "b": "b",
    "rc": "rc",
    "c": "rc",
    "pre": "rc",
    "preview": "rc",
    "dev": ".dev",
}
_PRE = re.compile(r"^(?P<label>[A-Za-z]+)(?:[.-]?(?P<number>\d+))?$")


def _pep440_pre(pre: str) -> str | None:
    """A semver pre-release (``rc.10``, ``alpha``, ``beta.2``) as PEP 440 (``rc10``), if any."""
    match = _PRE.match(pre)
    label = _PRE_LABELS.get(match.group("label").lower()) if match else None
    if match is None or label is None:
        return None
    return f"{label}{int(match.group('number') or 0)}"


def _semver_identifiers(pre: str) -> tuple[tuple[int, int, str], ...]:
    """Semver precedence of a pre-release: numeric identifiers numerically, before text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split("."))


_NOT_A_VERSION = Version("0")


def version_key(version: str) -> tuple[Any, ...]:
    """Order versions as ``packaging.version`` does: ``1.0.0-rc.2 < 1.0.0-rc.10 < 1.0.0``.

    A semver pre-release maps to its PEP 440 form (``alpha.1`` -> ``a1``, ``rc.10`` ->
    ``rc10``, ``dev.3`` -> ``.dev3``); one with no PEP 440 form (``1.0.0-x.7``) sorts before
    the release's mapped pre-releases, by semver precedence among themselves. Build
    metadata (``+build.5``) does not change the order (semver), but breaks ties so that
    sorting is stable. Text that is not a semver version sorts first, by its text.
    """
    match = _SEMVER.match(version)
    if not match:
        return (0, _NOT_A_VERSION, (), version)
    major, minor, patch, pre, build = match.groups()
    release = f"{int(major)}.{int(minor)}.{int(patch)}"
    if pre is None:
        return (1, Version(release), (), build or "")
    mapped = _pep440_pre(pre)
    if mapped is not None:
        return (1, Version(release + mapped), (), build or "")
    return (1, Version(release + ".dev0"), _semver_identifiers(pre), build or "")


@dataclass(frozen=True, slots=True)
class StandardEntry:
    id: str
    version: str
    folder: Path


class StandardRegistry:
    """The standards one run can see. Loading is lazy and cached per registry."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = tuple(roots)
        self._cache: dict[Path, Standard] = {}
        self._loading: list[Path] = []

    @classmethod
    def default(cls, extra_roots: Iterable[Path] = ()) -> StandardRegistry:
        roots = [embedded_standards_root()]
        env = os.environ.get("CONFORMANCE_STANDARDS_PATH", "")
        roots.extend(Path(p) for p in env.split(os.pathsep) if p)
        roots.extend(extra_roots)
        return cls(roots)

    def entries(self) -> list[StandardEntry]:
        found: dict[tuple[str, str], StandardEntry] = {}
        for root in self.roots:
            if not root.is_dir():
                continue
            for std_dir in sorted(p for p in root.iterdir() if p.is_dir()):
                for ver_dir in sorted(p for p in std_dir.iterdir() if p.is_dir()):
                    if (ver_dir / STANDARD_FILE).is_file():
                        key = (std_dir.name, ver_dir.name)
                        # The first root wins: a later root cannot shadow a shipped version.
                        found.setdefault(key, StandardEntry(std_dir.name, ver_dir.name, ver_dir))
        return sorted(found.values(), key=lambda e: (e.id, version_key(e.version)))

    def load_folder(self, folder: Path) -> Standard:
        """Load a standard folder, or a standard's YAML file given by name (which then
        names itself in errors, e.g. ``local.yaml``)."""
        folder = folder.resolve()
        if folder.is_file() and folder.name == "standard.yaml":
            folder = folder.parent
        cached = self._cache.get(folder)
        if cached is not None:
            return cached
        if folder in self._loading:
            chain = " -> ".join(str(p) for p in (*self._loading, folder))
            raise StandardError(f"circular 'extends': {chain}")
        self._loading.append(folder)
        try:
            standard = load_standard_file(folder, self._resolve_base)
        finally:
            self._loading.pop()
        self._cache[folder] = standard
        return standard

    def _resolve_base(self, ref: str, relative_to: Path) -> Standard:
        candidate = relative_to / ref
        if ("/" in ref or ref.startswith(".")) and candidate.exists():
            return self.load_folder(candidate)
        return self.resolve(ref)

    def resolve(self, ref: str) -> Standard:
        """Resolve a reference to a loaded standard.

        ``mdss``: the latest active version; ``mdss@1``: the latest 1.x; ``mdss@1.0``: the
        latest 1.0.x; ``mdss@1.0.0``: exactly that; a path: that folder.
        """
        try:
            path = Path(ref)
            is_folder = path.exists() and (path.is_dir() or path.name == STANDARD_FILE)
        except (OSError, ValueError):  # a name too long for the file system, a NUL
            is_folder = False
        if is_folder:
            return self.load_folder(path)
        return self.resolve_reference(ref)

    def resolve_reference(self, ref: str) -> Standard:
        """Resolve a registry reference only: the file system is never consulted for it
        (a feed's ``conformsTo`` and the default standard go through here)."""
        match = _REF.match(ref) if "\n" not in ref else None
        if not match:
            shown = ref if len(ref) <= 80 else ref[:77] + "..."
            if "/" in ref or ref.endswith((".yaml", ".yml")):
                raise StandardError(f"standard '{shown}': no such file or folder")
            raise StandardError(
                f"'{shown}' is not a standard reference (expected e.g. mdss, mdss@1, "
                "mdss@1.0.0 or a folder)"
            )
        std_id, wanted = match.group("id"), match.group("version")
        candidates = [e for e in self.entries() if e.id == std_id]
        if not candidates:
            known = ", ".join(sorted({e.id for e in self.entries()})) or "none"
            raise StandardError(f"unknown standard '{std_id}' (known: {known})")
        if wanted:
            parts = wanted.split("-")[0].split(".")
            if len(parts) == 3:
                candidates = [e for e in candidates if e.version == wanted]
            else:
                candidates = [e for e in candidates if e.version.split(".")[: len(parts)] == parts]
            if not candidates:
                raise StandardError(f"no version of '{std_id}' matches '{wanted}'")
        ordered = sorted(candidates, key=lambda e: version_key(e.version), reverse=True)
        if wanted and len(wanted.split(".")) == 3:
            return self.load_folder(ordered[0].folder)
        # Prefer the latest active version; fall back to the latest of any status but
        # retired (e.g. only a draft exists), so that a reference never silently skips.
        statuses = [(e, _quick_status(e.folder)) for e in ordered]
        for status in ("active", "deprecated", "draft"):
            for entry, found in statuses:
                if found == status:
                    return self.load_folder(entry.folder)
        raise StandardError(f"every version of '{std_id}' matching '{ref}' is retired")
