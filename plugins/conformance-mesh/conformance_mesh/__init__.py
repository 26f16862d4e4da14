"""Feeds from an NHS MESH mailbox: download, verify, validate, store, then acknowledge."""

from conformance_mesh.inbox import MeshSettings, Pulled, process, pull

__all__ = ["MeshSettings", "Pulled", "process", "pull"]
