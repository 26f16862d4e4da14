"""A FHIR terminology server for conformance, with an on-disk cache and offline fallback."""

from conformance_tx.service import TxService

__all__ = ["TxService"]
