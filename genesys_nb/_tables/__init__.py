"""Records to tables: the Arrow/JSON engine driven by a resource's columns, frames, the polars scan, filters."""
