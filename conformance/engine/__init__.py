"""The engine: from a feed's inputs to its scorecard, in one process or many.

- :mod:`~conformance.engine.spec`: :class:`RunSpec`, what a run needs (small, picklable);
- :mod:`~conformance.engine.session`: :class:`Session`, the live objects each process
  builds from the spec (plugins, readers, the compiled standard, the checks' context);
- :mod:`~conformance.engine.accumulate`: reading inputs into a :class:`Share` (plain data);
- :mod:`~conformance.engine.parallel` and :mod:`~conformance.engine.distributed`: shares
  made by worker processes or cluster nodes;
- :mod:`~conformance.engine.finish`: shares merged in input order into the scorecard;
- :mod:`~conformance.engine.run`: :func:`validate` and :class:`Engine`, local runs.
"""
