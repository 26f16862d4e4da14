"""Cost of FHIR's hand-written native invariants vs the same rules as compiled FHIRPath.

Not a test; run by hand on a quiet machine, from the repository root::

    python -m tests.fhirpath.bench_invariants [--quick] [KEY...]

For every invariant that the FHIR validator answers natively (``NATIVE_INVARIANTS``,
``HYBRID_INVARIANTS`` and ``ext-1`` in ``conformance.fhir._model``, ``vs-1..3`` in
``conformance.fhir.profiles``) it times one evaluation on a resource that passes and on
one that fails: the native function, the compiled expression called as the FHIR glue
calls it today (``compiled(resource, focus, ...) != [False]``) and, when this version of
the package has it, the invariant checker (``CompiledExpression.checker``). Times are
nanoseconds of CPU (``time.process_time``), the best of several rounds. Each row first
asserts that native and compiled agree on the sample, so a figure is never a wrong answer
measured fast. Natives that have been retired are shown as ``-``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from conformance.fhir.fhirpath import compile_expression, fix_invariant
from tests.fhirpath.invariant_samples import SAMPLES, Check, expressions, natives


def best_ns(fn: Callable[[], object], rounds: int, seconds: float) -> float:
    """CPU nanoseconds per call: the best of ``rounds`` timed batches."""
    n = 1
    while True:  # calibrate a batch to take about ``seconds``
        start = time.process_time()
        for _ in range(n):
            fn()
        spent = time.process_time() - start
        if spent >= seconds / 4:
            break
        n *= 4
    n = max(1, int(n * seconds / max(spent, 1e-9)))
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - start) / n)
    return best * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("keys", nargs="*", help="invariant keys (default: all)")
    parser.add_argument("--quick", action="store_true", help="shorter timing rounds")
    args = parser.parse_args()
    rounds, seconds = (3, 0.02) if args.quick else (5, 0.1)
    exprs = expressions()
    found = natives()
    print(f"{'key':7} {'case':4} {'native':>7} {'call':>7} {'checker':>8} {'chk/nat':>8}")
    for key in args.keys or SAMPLES:
        base, cases = SAMPLES[key]
        compiled = compile_expression(fix_invariant(key, exprs[key]))
        checker = compiled.checker(base) if hasattr(compiled, "checker") else None
        native = found.get(key)
        for label, focus, resource, expected in cases:
            res = focus if resource is None else resource
            print(
                f"{key:7} {label:4} "
                + _row(base, compiled, checker, native, focus, res, expected, rounds, seconds)
            )


def _row(
    base: str,
    compiled: Any,
    checker: Check | None,
    native: Check | None,
    focus: Any,
    res: Any,
    expected: bool,
    rounds: int,
    seconds: float,
) -> str:
    def call() -> bool:
        return bool(compiled(res, focus, focus_type=base, root_resource=res) != [False])

    got = call()
    assert got is expected, ("compiled", got)
    if native is not None:
        n_got = native(focus, res, res)
        assert n_got is None or n_got is expected, ("native", n_got)
    if checker is not None:
        assert checker(focus, res, res) is expected, "checker"
    t_native = best_ns(lambda: native(focus, res, res), rounds, seconds) if native else 0.0
    t_call = best_ns(call, rounds, seconds)
    t_check = best_ns(lambda: checker(focus, res, res), rounds, seconds) if checker else 0.0
    ratio = f"{t_check / t_native:7.1f}x" if native and checker else "       -"
    return f"{_fmt(t_native):>7} {_fmt(t_call):>7} {_fmt(t_check):>8} {ratio}"


def _fmt(ns: float) -> str:
    return f"{ns:.0f}" if ns else "-"


if __name__ == "__main__":
    main()
