"""Hatchling build hook: the wheel's hot path compiled with mypyc, or the pure wheel.

``pip install .`` (and ``python -m build``, tox's ``package = wheel``) builds the wheel
through hatchling, which calls :class:`MypycBuildHook` before it packs the files. The hook
compiles the modules :data:`COMPILE` selects (minus :data:`EXCLUDE`) into C extension
modules with mypyc, and adds them to the wheel next to the ``.py`` sources, which stay as
the readable reference: Python imports an extension module before a ``.py`` file of the
same name. The wheel is then tagged for this interpreter and platform.

The pure wheel (``py3-none-any``, the same source, the same results, slower) is built
instead, with a one-line notice on stderr, when:

- ``CONFORMANCE_PURE_PYTHON=1`` is set;
- there is no C compiler or no Python headers (``Python.h``);
- mypyc or the C compilation fails for any reason (unless ``CONFORMANCE_REQUIRE_COMPILED=1``,
  which tox sets: then the build fails, with the reason).

The compilation runs in a child process (``python hatch_build.py compile OUT``), so a
crash or an exhausted memory there falls back to the pure wheel instead of failing the
install. Editable installs are never compiled: a developer edits the sources they run.

The modules are chosen by globs, not by name, so that moving modules within the hot-path
folders does not break the build; a module mypyc cannot compile goes in :data:`EXCLUDE`
(or is recognised by :func:`cannot_compile`). ``python hatch_build.py list`` prints them.

What compiled code asks of the sources (mypy --strict is not enough; the compiled build's
test suite and ``tests/packaging/`` find what breaks):

- Annotations are checked at run time: a parameter annotated ``str`` that receives an int
  from feed JSON raises TypeError in compiled code only. Annotate what really arrives
  (``object`` or ``Any`` for feed content, ``str | Path`` where both are passed).
- A compiled class cannot be subclassed by interpreted code unless marked
  ``@mypyc_attr(allow_interpreted_subclasses=True)`` (``Check``, ``RecordCheck``). A data
  class plugins subclass (``Tally``, a check state) is ``native_class=False`` instead, and
  so are its subclasses in compiled modules: a compiled class pickles only its own
  attributes, and a subclass's ``dataclass(slots=True)`` fields shadow the compiled ones.
- A compiled class must unpickle (parallel and Spark workers exchange tasks and shares):
  a frozen dataclass cannot (unpickling sets its fields through the frozen ``__setattr__``),
  so those are ``@mypyc_attr(native_class=False)``; a class whose ``__init__`` needs
  arguments is ``@mypyc_attr(serializable=True)`` (else unpickling calls ``__init__()``).
- Dataclass field types are looked up when the class is created, so they are imported at
  run time, not under ``TYPE_CHECKING``; only ``Exception`` and ``ValueError`` (among a
  few) can be native bases (``RuntimeError`` and others need ``native_class=False``).
- Compiled code calls module functions and methods directly: patching them (tests'
  ``monkeypatch``) has no effect there. Tests that must patch are marked ``pure_python``.
- A class attribute used as a per-class cache is declared ``ClassVar``; a subclass that
  overrides an attribute declares the base's type (``applies_to: frozenset[str] | None =
  frozenset()``), since mypyc infers ``frozenset[str]`` from the value and rejects it.
- A variable has one type per function: ``except CompiledError as exc`` followed by
  ``except OSError as exc`` makes the second a TypeError; give each handler its own name.
- A compiled class cannot be weakly referenced (no ``WeakKeyDictionary`` keyed by one):
  keep the per-object cache on the object, as an attribute it declares.
- No lone surrogates in string literals (write ``r"[\\udc80-\\udcff]"`` for ``re``).
- No recursive type alias (``Node = tuple["Node | None", ...]``): mypyc recurses until it
  crashes (a segmentation fault, so the build falls back to pure with no message but the
  signal). Type the recursive part ``Any`` and say what it holds in the docstring.

Checking new code: ``python hatch_build.py compile /tmp/out --work /tmp/work`` compiles
in place (mypyc's errors name file:line; for a crash with no message, install mypy's
pure-Python wheel, ``pip download --no-deps --only-binary=:all: --implementation py
--abi none --platform any mypy``, and rerun for a traceback naming the line), then
``pip wheel --no-deps -w DIR .``, install it in a venv outside the checkout and run the
suite with ``CONFORMANCE_EXPECT_COMPILED=1`` (what tox does).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent

COMPILE = (
    "conformance/fhir/**.py",
    "conformance/engine/**.py",
    "conformance/checks/**.py",
    "conformance/readers/**.py",
    "conformance/nhs/**.py",
    "conformance/findings.py",
    "conformance/privacy.py",
)
"""The hot path: the FHIR engine and FHIRPath, the run, the checks, the readers."""

EXCLUDE = (
    "conformance/cli/**",
    "conformance/spark/**",
    "conformance/samples/**",
    "conformance/reporters/**",
    "conformance/fhir/fhirpath/_build_types.py",  # a build-time tool
    "conformance/readers/archive.py",  # unpacks an archive once per run, not per record
)
"""Never compiled: not on the hot path (the command line, Spark, the sample generator,
the reporters), or using what mypyc cannot compile."""

PURE_ENV = "CONFORMANCE_PURE_PYTHON"
REQUIRE_ENV = "CONFORMANCE_REQUIRE_COMPILED"
"""Set to 1 (tox does), a failed compilation fails the build instead of falling back."""
OPT_LEVEL = "2"
"""C optimisation level (-O2: about as fast as -O3 here, and quicker to build)."""


def _matches(path: str, pattern: str) -> bool:
    # fnmatch's "*" crosses "/", so "dir/**.py" is every .py file below dir.
    return fnmatch.fnmatchcase(path, pattern)


def cannot_compile(source: str) -> str | None:
    """Why mypyc cannot compile this module's source, for what the globs cannot see."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            # mypyc 2.x crashes importing a module with a PEP 562 __getattr__
            # (mypyc/mypyc#1198); such modules only re-export lazily anyway.
            return "module-level __getattr__"
        if isinstance(node, ast.FunctionDef) and any(
            ast.unparse(d).split(".")[-1].startswith("hookimpl") for d in node.decorator_list
        ):
            # pluggy marks a hook implementation with an attribute on the function, and a
            # compiled function has no attribute dictionary.
            return "pluggy hook implementations"
    return None


def selected_modules(root: Path = ROOT) -> tuple[list[str], dict[str, str]]:
    """The source files to compile (relative to ``root``, in a stable order), and the
    files the globs select that are left pure, with why."""
    found = sorted(p.relative_to(root).as_posix() for p in (root / "conformance").rglob("*.py"))
    chosen: list[str] = []
    skipped: dict[str, str] = {}
    for path in found:
        if not any(_matches(path, p) for p in COMPILE):
            continue
        if any(_matches(path, p) for p in EXCLUDE):
            continue
        reason = cannot_compile((root / path).read_text(encoding="utf-8"))
        if reason is not None:
            skipped[path] = reason
            continue
        chosen.append(path)
    return chosen, skipped


def why_pure() -> str | None:
    """Why the compiled build cannot be attempted here, or None when it can."""
    if os.environ.get(PURE_ENV, "").strip() not in ("", "0"):
        return f"{PURE_ENV} is set"
    if sys.implementation.name != "cpython":
        return f"mypyc needs CPython, not {sys.implementation.name}"
    include = sysconfig.get_paths().get("include")
    if not include or not (Path(include) / "Python.h").is_file():
        return "the Python headers (Python.h) are not installed"
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    if not cc or shutil.which(cc[0]) is None:
        return f"no C compiler ({cc[0] if cc else 'CC'} not found)"
    return None


def compile_modules(
    out: Path,
    work: Path,
    root: Path = ROOT,
    jobs: int | None = None,
    multi_file: bool = True,
    opt_level: str = OPT_LEVEL,
) -> None:
    """Compile the selected modules; extension modules are written below ``out``."""
    from mypyc.build import mypycify
    from setuptools import Distribution
    from setuptools.command.build_ext import build_ext

    jobs = jobs or os.cpu_count() or 1

    class ParallelBuildExt(build_ext):  # type: ignore[misc]
        def build_extensions(self) -> None:
            _compile_in_parallel(self.compiler, jobs)
            super().build_extensions()

    # Not the project's mypy configuration (strict, for the type check): the build env
    # has none of the run-time dependencies installed, so their modules are Any here.
    work.mkdir(parents=True, exist_ok=True)
    config = work / "mypy.ini"
    config.write_text(
        f"[mypy]\nignore_missing_imports = True\ncache_dir = {work / 'mypy-cache'}\n",
        encoding="utf-8",
    )
    os.chdir(root)  # mypy derives module names from paths relative to here
    extensions = mypycify(
        ["--config-file", str(config), *selected_modules(root)[0]],
        opt_level=opt_level,
        multi_file=multi_file,
        group_name="conformance",
        target_dir=str(work / "c"),
    )
    dist = Distribution(
        {
            "name": "conformance",
            "ext_modules": extensions,
            "cmdclass": {"build_ext": ParallelBuildExt},
        }
    )
    command: Any = dist.get_command_obj("build_ext")
    command.build_lib = str(out)
    command.build_temp = str(work / "obj")
    command.parallel = jobs  # extensions in parallel (the per-module shims)
    dist.run_command("build_ext")


def _compile_in_parallel(compiler: Any, jobs: int) -> None:
    """Make ``compiler.compile`` build the C files of one extension in ``jobs`` threads.

    distutils compiles one extension's sources one after the other; mypyc's
    ``multi_file`` output is one C file per module in one extension, so this is what
    spreads the build over the cores. Uses the compiler's documented-by-use hooks
    (``_setup_compile``, ``_get_cc_args``, ``_compile``); left sequential without them.
    """
    needed = ("_setup_compile", "_get_cc_args", "_compile")
    if jobs < 2 or not all(hasattr(compiler, name) for name in needed):
        return

    def compile_all(
        sources: list[str],
        output_dir: str | None = None,
        macros: Any = None,
        include_dirs: Any = None,
        debug: bool = False,
        extra_preargs: Any = None,
        extra_postargs: Any = None,
        depends: Any = None,
    ) -> list[str]:
        macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs
        )
        cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)

        def one(obj: str) -> None:
            src, ext = build[obj]
            compiler._compile(obj, src, ext, cc_args, extra_postargs, pp_opts)

        # biggest first, so the longest compilation does not start last
        todo = sorted((o for o in objects if o in build), key=lambda o: -_size(build[o][0]))
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(one, todo))  # re-raises the first compiler error
        return list(objects)

    compiler.compile = compile_all


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _notice(message: str) -> None:
    sys.stderr.write(f"conformance build: {message}\n")
    sys.stderr.flush()


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, outside a build
    BuildHookInterface = object  # type: ignore[assignment,misc]


class MypycBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Compiles the hot path into the wheel, or leaves the wheel pure (see the module doc)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        reason = why_pure()
        if reason is None:
            built = self._compile()
            if isinstance(built, str):
                reason = built
            else:
                build_data["pure_python"] = False
                build_data["infer_tag"] = True
                build_data["force_include"].update(built)
                return
        if os.environ.get(REQUIRE_ENV) == "1":
            raise RuntimeError(f"{REQUIRE_ENV}=1 but the compiled build failed: {reason}")
        _notice(f"building the pure-Python wheel ({reason})")

    def _compile(self) -> dict[str, str] | str:
        """Extension modules (built file -> path in the wheel), or why there are none."""
        self._work = Path(tempfile.mkdtemp(prefix="conformance-mypyc-"))
        out = self._work / "out"
        started = time.monotonic()
        log = self._work / "compile.log"
        with log.open("wb") as sink:
            proc = subprocess.run(
                [sys.executable, str(Path(self.root) / "hatch_build.py"), "compile", str(out)],
                cwd=self.root,
                stdout=sink,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if proc.returncode != 0:
            lines = log.read_text(errors="replace").strip().splitlines() or ["no output"]
            if proc.returncode < 0:  # e.g. mypyc overflowing its stack on a recursive alias
                lines.append(f"the compiler was killed by signal {-proc.returncode}")
            errors = [line for line in lines if "error:" in line or "Error:" in line]
            self._keep = True  # the log stays for whoever wants the whole story
            detail = errors[0] if errors else lines[-1]
            return f"mypyc compilation failed: {detail[:200]}; log: {log}"
        built = {
            str(path): path.relative_to(out).as_posix()
            for path in sorted(out.rglob("*"))
            if path.is_file() and path.name.endswith(tuple(_extension_suffixes()))
        }
        if not built:
            return "mypyc compilation produced no extension modules"
        _notice(
            f"compiled {len(built)} extension modules with mypyc "
            f"in {time.monotonic() - started:.0f} s"
        )
        return built

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None and not getattr(self, "_keep", False):
            shutil.rmtree(work, ignore_errors=True)


def _extension_suffixes() -> list[str]:
    from importlib.machinery import EXTENSION_SUFFIXES

    return list(EXTENSION_SUFFIXES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print the modules that would be compiled")
    comp = sub.add_parser("compile", help="compile them; extension modules go below OUT")
    comp.add_argument("out", type=Path)
    comp.add_argument("--work", type=Path, help="keep the C sources and objects here")
    comp.add_argument("--jobs", type=int)
    comp.add_argument("--opt-level", default=OPT_LEVEL, help=f"C -O level (default {OPT_LEVEL})")
    comp.add_argument(
        "--single-file", action="store_true", help="one C file for all modules (slower build)"
    )
    args = parser.parse_args(argv)
    if args.command == "list":
        chosen, skipped = selected_modules()
        for path in chosen:
            print(path)
        for path, reason in skipped.items():
            print(f"{path}: not compiled ({reason})", file=sys.stderr)
        return 0
    out = args.out.resolve()
    options: dict[str, Any] = {
        "jobs": args.jobs,
        "multi_file": not args.single_file,
        "opt_level": args.opt_level,
    }
    if args.work is not None:
        compile_modules(out, args.work.resolve(), **options)
    else:
        with tempfile.TemporaryDirectory(prefix="conformance-mypyc-") as work:
            compile_modules(out, Path(work), **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
