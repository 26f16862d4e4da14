"""The terminology service: cache, then server, then offline definitions."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.plugin.hookspecs import CodeVerdict

SERVER_ENV = "CONFORMANCE_TX_SERVER"
CACHE_ENV = "CONFORMANCE_TX_CACHE"
TIMEOUT_ENV = "CONFORMANCE_TX_TIMEOUT"

Expansion = dict[str, frozenset[str]]


class ServerUnreachable(Exception):
    """The server could not be reached or did not answer in FHIR."""


def default_cache_dir() -> Path:
    raw = os.environ.get(CACHE_ENV)
    if raw:
        return Path(raw)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "conformance-tx"


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class _Offline:
    """Expansions from local ValueSet/CodeSystem files and the core definitions built in."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = [f for f in folders if f.is_dir()]
        self._expander: Any = None

    def expand(self, url: str) -> Expansion | None:
        if self._expander is None:
            from conformance.fhir.data import core_codesystem, core_expansion
            from conformance.fhir.definitions import DefinitionSet
            from conformance.fhir.errors import DefinitionError
            from conformance.fhir.terminology import CodeSystemInfo, Expander

            try:
                defs = DefinitionSet.load(self.folders) if self.folders else DefinitionSet([])
            except DefinitionError:
                defs = DefinitionSet([])

            def codesystem(system: str) -> CodeSystemInfo | None:
                cs = defs.codesystems.get(system)
                return (
                    CodeSystemInfo.from_resource(cs) if cs is not None else core_codesystem(system)
                )

            self._expander = Expander(defs.valuesets.get, codesystem, core_expansion)
        result: Expansion | None = self._expander.expand(url)
        return result


class TxService:
    """A :class:`conformance.plugin.hookspecs.TerminologyService` backed by a FHIR server.

    One instance serves one run. The server is given up on for the rest of the run at the
    first connection failure, so an unreachable server costs one timeout, not one per code.
    """

    name = "conformance-tx"

    def __init__(
        self,
        server: str | None,
        cache_dir: Path | None = None,
        offline_folders: Sequence[Path] = (),
        timeout: float | None = None,
    ) -> None:
        self.server = server.rstrip("/") if server else None
        self.cache_dir = cache_dir or default_cache_dir()
        self.timeout = timeout if timeout is not None else float(os.environ.get(TIMEOUT_ENV, "10"))
        self.offline = _Offline(offline_folders)
        self.reachable = self.server is not None
        self.requests = 0
        self._warnings: list[str] = []
        self._expansions: dict[str, Expansion | None] = {}
        self._answers: dict[str, CodeVerdict] = {}
        self._answers_loaded = False

    # ------------------------------------------------------------------ protocol

    def warnings(self) -> Sequence[str]:
        return list(self._warnings)

    def expand(self, value_set: str) -> Mapping[str, frozenset[str]] | None:
        if value_set in self._expansions:
            return self._expansions[value_set]
        expansion = self._cached_expansion(value_set)
        if expansion is None and self.reachable:
            try:
                expansion = self._remote_expand(value_set)
            except ServerUnreachable as exc:
                self._give_up(exc)
            else:
                if expansion is not None:
                    self._store_expansion(value_set, expansion)
        if expansion is None and not self.reachable:
            expansion = self.offline.expand(value_set)
        self._expansions[value_set] = expansion
        return expansion

    def validate_code(self, value_set: str, system: str, code: str) -> CodeVerdict:
        expansion = self._expansions.get(value_set) or self._cached_expansion(value_set)
        if expansion is not None:
            self._expansions[value_set] = expansion
            return CodeVerdict(code in expansion.get(system, ()), "cache")
        key = _key(value_set, system, code)
        answers = self._load_answers()
        if key in answers:
            return answers[key]
        if self.reachable:
            try:
                verdict = self._remote_validate(value_set, system, code)
            except ServerUnreachable as exc:
                self._give_up(exc)
            else:
                if verdict.member is not None:
                    self._store_answer(key, verdict)
                return verdict
        offline = self.expand(value_set)
        if offline is None:
            return CodeVerdict(None, "offline")
        return CodeVerdict(code in offline.get(system, ()), "offline")

    # -------------------------------------------------------------------- remote

    def _give_up(self, exc: Exception) -> None:
        self.reachable = False
        self._warnings.append(
            f"the terminology server {self.server} is unreachable ({exc}); value sets were "
            "checked offline from local definitions, and codes they cannot judge were skipped"
        )

    def _get(self, operation: str, params: Mapping[str, str]) -> dict[str, Any]:
        assert self.server is not None
        url = f"{self.server}/ValueSet/{operation}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Accept": "application/fhir+json"})
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            if exc.code >= 500 or not body:
                raise ServerUnreachable(f"HTTP {exc.code}") from None
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnreachable(str(reason)) from None
        try:
            data = json.loads(body)
        except ValueError:
            raise ServerUnreachable("the answer is not JSON") from None
        if not isinstance(data, dict):
            raise ServerUnreachable("the answer is not a FHIR resource")
        return data

    def _remote_validate(self, value_set: str, system: str, code: str) -> CodeVerdict:
        data = self._get("$validate-code", {"url": value_set, "system": system, "code": code})
        if data.get("resourceType") == "OperationOutcome":
            return CodeVerdict(None, "server")  # e.g. the server does not know the value set
        result: bool | None = None
        message = ""
        for parameter in data.get("parameter", ()) or ():
            if not isinstance(parameter, dict):
                continue
            if parameter.get("name") == "result" and isinstance(
                parameter.get("valueBoolean"), bool
            ):
                result = parameter["valueBoolean"]
            elif parameter.get("name") == "message" and isinstance(
                parameter.get("valueString"), str
            ):
                message = parameter["valueString"][:200]
        return CodeVerdict(result, "server", "" if result else message)

    def _remote_expand(self, value_set: str) -> Expansion | None:
        data = self._get("$expand", {"url": value_set})
        expansion = data.get("expansion") if data.get("resourceType") == "ValueSet" else None
        if not isinstance(expansion, dict):
            return None
        codes: dict[str, set[str]] = {}
        stack = list(expansion.get("contains", ()) or ())
        while stack:
            item = stack.pop()
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("system"), str) and isinstance(item.get("code"), str):
                codes.setdefault(item["system"], set()).add(item["code"])
            stack.extend(item.get("contains", ()) or ())
        total = expansion.get("total")
        if isinstance(total, int) and total != sum(len(v) for v in codes.values()):
            return None  # a paged or truncated expansion cannot answer "not a member"
        return {system: frozenset(found) for system, found in codes.items()}

    # --------------------------------------------------------------------- cache

    def _expansion_file(self, value_set: str) -> Path:
        return self.cache_dir / "expansions" / f"{_key(value_set)}.json"

    def _cached_expansion(self, value_set: str) -> Expansion | None:
        try:
            data = json.loads(self._expansion_file(value_set).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("url") != value_set:
            return None
        return {s: frozenset(c) for s, c in data.get("codes", {}).items()}

    def _store_expansion(self, value_set: str, expansion: Expansion) -> None:
        file = self._expansion_file(value_set)
        payload = {"url": value_set, "codes": {s: sorted(c) for s, c in expansion.items()}}
        self._write_atomic(file, json.dumps(payload, sort_keys=True))

    def _load_answers(self) -> dict[str, CodeVerdict]:
        if not self._answers_loaded:
            self._answers_loaded = True
            try:
                lines = (self.cache_dir / "validate-code.ndjson").read_text("utf-8").splitlines()
            except OSError:
                lines = []
            for line in lines:
                try:
                    item = json.loads(line)
                    self._answers[item["key"]] = CodeVerdict(
                        bool(item["member"]), "cache", str(item.get("message", ""))
                    )
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line after a crash: ignore it
        return self._answers

    def _store_answer(self, key: str, verdict: CodeVerdict) -> None:
        self._answers[key] = CodeVerdict(verdict.member, "cache", verdict.message)
        line = json.dumps({"key": key, "member": verdict.member, "message": verdict.message})
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with (self.cache_dir / "validate-code.ndjson").open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            self._cache_failed(exc)

    def _write_atomic(self, file: Path, text: str) -> None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, file)
        except OSError as exc:
            self._cache_failed(exc)

    def _cache_failed(self, exc: OSError) -> None:
        message = f"the terminology cache {self.cache_dir} cannot be written ({exc.strerror})"
        if message not in self._warnings:
            self._warnings.append(message)
