"""ODS reference data for conformance: codes exist and are open on the event date."""

from conformance_ods.reference import OdsEntry, OdsReference, load_reference

__all__ = ["OdsEntry", "OdsReference", "load_reference"]
