"""What a run needs, as one small picklable value (no live objects)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from mypy_extensions import mypyc_attr

from conformance.__about__ import __version__
from conformance.compiled import build_kind
from conformance.feed import FeedInfo
from conformance.limits import Limits
from conformance.plugin.manager import Plugins, blocked_plugins, build_plugins

DEFAULT_STANDARD = "mdss"
"""The standard used when neither the caller nor the feed's manifest names one."""
CHUNK_BYTES = 16 * 1024 * 1024
"""Plain NDJSON files larger than this are always split into byte ranges for workers."""


@mypyc_attr(native_class=False)  # pickled to and from workers: see hatch_build.py
@dataclass(frozen=True, slots=True)
class RunSpec:
    """A run's settings: what every process taking part needs to build its session.

    Small and picklable, so it can be shipped to worker processes and cluster nodes. A
    :class:`~conformance.engine.session.Session` opened from it *pins* it: the resolved
    standard's reference and folder and the feed are filled in, so every worker uses the
    same standard version as the process that started the run.
    """

    standard: str | None = None
    """A reference (``mdss@1``) or a folder; None: the manifest's ``conformsTo``, else
    :data:`DEFAULT_STANDARD`."""
    standard_folder: str | None = None
    """The resolved standard's folder: wins over ``standard`` where it can be seen (so a
    standard given as a folder works on one machine or a shared file system)."""
    feed: FeedInfo | None = None
    """The feed's manifest information (None: loose files, nothing known)."""
    limits: Limits = field(default_factory=Limits)
    environment: str | None = None
    """Overrides the manifest's ``environment`` (``test`` or ``production``)."""
    packages: tuple[str, ...] = ()
    """Extra FHIR packages (folders, ``.tgz``) whose definitions the run knows (``--package``)."""
    profiles: tuple[str, ...] = ()
    """Profiles applied to every resource of their type (``--profile``, canonical URLs)."""
    records_only: bool = False
    """Judge each record on its own: the standard's feed-level requirements are not
    applicable (files outside any feed, e.g. in a pre-commit hook)."""
    jobs: int | None = None
    """Worker processes: 1 serial; None or 0 all cores when the input is 32 MiB or more."""
    chunk_bytes: int = CHUNK_BYTES
    """Plain NDJSON files larger than this are split into byte ranges (smaller files may
    be split too, to share the work out evenly)."""
    progress_every: int = 5000
    """Records between two progress reports."""
    extension_domains: tuple[str, ...] = ()
    """URL prefixes where FHIR extensions without a definition are accepted
    (``--allow-extension-domain``)."""
    example_extensions: bool = False
    """Accept FHIR extensions without a definition on example domains
    (``--allow-example-extensions``)."""
    external_plugins: bool = True
    """Load installed plugins (the ``conformance`` entry points) besides the built-ins."""
    blocked_plugins: frozenset[str] = field(default_factory=lambda: frozenset(blocked_plugins()))
    """External plugins not to load (``all``: none): ``CONFORMANCE_DISABLE_PLUGINS`` where
    the spec was made, so that workers elsewhere block the same ones."""
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Identifies the run, so a worker process serving several runs keeps them apart."""
    version: str = __version__
    """The conformance version that made the spec: workers refuse to run another."""
    build: str = field(default_factory=build_kind)
    """The build that made the spec (compiled or pure Python): shares of one build do not
    unpickle in the other, so workers refuse to run another."""

    def build_plugins(self) -> Plugins:
        """A fresh plugin manager as this spec says (built-ins, installed, blocked)."""
        return build_plugins(load_entry_points=self.external_plugins, blocked=self.blocked_plugins)
