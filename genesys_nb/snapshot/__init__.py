"""Snapshots: a folder of Parquet tables and a ``manifest.json`` (the contract is in :mod:`.tables`)."""

from .manifest import Manifest, OrgRef, TableEntry
from .reader import Snapshot, as_snapshot, open_snapshot
from .tables import FORMAT, FORMAT_VERSION, MANIFEST_FILE, TABLE_NAMES, TABLES

__all__ = ["Snapshot", "open_snapshot", "as_snapshot", "Manifest", "TableEntry", "OrgRef", "TABLES", "TABLE_NAMES",
           "FORMAT", "FORMAT_VERSION", "MANIFEST_FILE"]
