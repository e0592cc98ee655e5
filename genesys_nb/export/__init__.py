"""Streamed, atomic, resumable files: the orchestration, a typed checkpoint, durable files, and the sinks."""

from .orchestrate import ExportProgress, ExportSummary, export
from .textsafe import neutralise_formulas

__all__ = ["export", "ExportSummary", "ExportProgress", "neutralise_formulas"]
