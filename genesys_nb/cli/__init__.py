"""The ``genesys-nb`` command line."""

from .app import main

__all__ = ["main"]
