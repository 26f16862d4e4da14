"""Regular expressions that come from a standard, run in linear time.

A table schema's ``pattern`` (or ``patternProperties``) is written by a standard's
author and applied to every cell of a feed: with Python's backtracking ``re``, a pattern
such as ``^(a+)+$`` and a 60-character cell never finish. These run on RE2 (the
``google-re2`` package, Google's automaton-based engine): time linear in the text, no
catastrophic backtracking by construction. RE2 has no lookaround and no backreferences;
a pattern that needs them is reported (a finding per value it could not check), never
run on ``re``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # an unsupported pattern is reported by us, not on stderr
_OPTIONS.max_mem = 8 << 20


class UnsupportedPattern(ValueError):
    """The pattern is not valid, or needs backtracking (lookaround, backreferences)."""


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """``search(text) -> bool`` for ``pattern`` (JSON Schema semantics: unanchored)."""
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise UnsupportedPattern(
            f"pattern {pattern!r} cannot run in linear time: {detail}"
        ) from None
    return lambda text: compiled.search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    try:
        matches = compile_pattern(pattern)(instance)
    except UnsupportedPattern as exc:
        yield ValidationError(str(exc))
        return
    if not matches:  # the message names the rule, never the value (it may be identifying)
        yield ValidationError(f"the value does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        try:
            search = compile_pattern(pattern)
        except UnsupportedPattern as exc:
            yield ValidationError(str(exc))
            continue
        for key, value in instance.items():
            if search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


@functools.cache
def linear_time_validator() -> Any:
    """Draft 2020-12 with ``pattern`` and ``patternProperties`` run on RE2."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        {"pattern": _pattern, "patternProperties": _pattern_properties},
    )
