"""Streamed, atomic, resumable files: the orchestration, a typed checkpoint, durable files, and the sinks."""

from .orchestrate import ExportSummary, export

__all__ = ["export", "ExportSummary"]
