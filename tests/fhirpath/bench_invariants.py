"""Cost of FHIR's hand-written native invariants vs the same rules as compiled FHIRPath.

Not a test; run by hand on a quiet machine, from the repository root::

    python -m tests.fhirpath.bench_invariants [--quick] [KEY...]

For every invariant that the FHIR validator answers natively (``NATIVE_INVARIANTS``,
``HYBRID_INVARIANTS`` and ``ext-1`` in ``conformance.fhir._model``, ``vs-1..3`` in
``conformance.fhir.profiles``; samples in ``invariant_samples.py``) it times one
evaluation on a resource that passes and on one that fails: the native function, the
compiled expression called as the FHIR glue calls it (``compiled(resource, focus, ...)
!= [False]``) with an older copy of the package (``--baseline``: "before") and with this
one ("call"), and the invariant checker (``CompiledExpression.checker``). Times are
nanoseconds of CPU (``time.process_time``), the best of several rounds. Every timed call
is first checked to give the expected answer, so a figure is never a wrong answer
measured fast. Natives that have been retired are shown as ``-``. To time compiled
(mypyc) builds, put the build first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from conformance.fhir.fhirpath import compile_expression, fix_invariant
from tests.fhirpath.invariant_samples import SAMPLES, expressions, natives


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


def _load_baseline(folder: Path) -> Any:
    """An older copy of the ``conformance/fhir/fhirpath`` package, imported under another
    name (it uses relative imports only), to time the same calls before a change."""
    spec = importlib.util.spec_from_file_location(
        "fhirpath_baseline", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("keys", nargs="*", help="invariant keys (default: all)")
    parser.add_argument("--quick", action="store_true", help="shorter timing rounds")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="an older conformance/fhir/fhirpath folder (git archive REV ... | tar -x), "
        "timed as the glue calls it, in the 'before' column",
    )
    args = parser.parse_args()
    rounds, seconds = (3, 0.02) if args.quick else (5, 0.1)
    exprs = expressions()
    found = natives()
    baseline = _load_baseline(args.baseline) if args.baseline else None
    print(
        f"{'key':7} {'case':4} {'native':>7} {'before':>7} {'call':>7} {'checker':>8}"
        f" {'chk/nat':>8}"
    )
    for key in args.keys or SAMPLES:
        base, cases = SAMPLES[key]
        expression = fix_invariant(key, exprs[key])
        compiled = compile_expression(expression)
        old = baseline.compile_expression(expression) if baseline is not None else None
        checker = compiled.checker(base) if hasattr(compiled, "checker") else None
        native = found.get(key)
        for label, focus, resource, expected in cases:
            res = focus if resource is None else resource
            timed: dict[str, Callable[[], object] | None] = {
                "native": None if native is None else partial(native, focus, res, res),
                "before": None if old is None else partial(_glue, old, base, focus, res),
                "call": partial(_glue, compiled, base, focus, res),
                "checker": None if checker is None else partial(checker, focus, res, res),
            }
            ns = {name: _time(fn, expected, rounds, seconds) for name, fn in timed.items()}
            ratio = (
                f"{ns['checker'] / ns['native']:7.1f}x" if ns["native"] and ns["checker"] else "-"
            )
            print(
                f"{key:7} {label:4} {_fmt(ns['native']):>7} {_fmt(ns['before']):>7}"
                f" {_fmt(ns['call']):>7} {_fmt(ns['checker']):>8} {ratio:>8}"
            )


def _glue(compiled: Any, base: str, focus: Any, res: Any) -> bool:
    """The expression called as the FHIR validator's glue calls it."""
    return bool(compiled(res, focus, focus_type=base, root_resource=res) != [False])


def _time(fn: Callable[[], object] | None, expected: bool, rounds: int, seconds: float) -> float:
    """Nanoseconds per call of ``fn`` after checking its answer (0: nothing to time)."""
    if fn is None:
        return 0.0
    got = fn()
    assert got is expected or got is None, (got, expected)  # a hybrid native may defer
    return best_ns(fn, rounds, seconds)


def _fmt(ns: float) -> str:
    return f"{ns:.0f}" if ns else "-"


if __name__ == "__main__":
    main()
