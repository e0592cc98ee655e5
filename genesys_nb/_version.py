"""The package version: one place, read by the package, the CLI, exports and snapshot manifests."""

__version__ = "0.1.0"
