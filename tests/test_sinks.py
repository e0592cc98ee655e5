"""The sink registry: each format one module; the export, the CLI's --format and the panel's list read it; the
typed checkpoint; the shared whole-number check."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from helpers_frames import FakeUsersTransport, expected_ids, users_stream

from genesys_nb.errors import ExportError
from genesys_nb.export import sinks as registry
from genesys_nb.export.checkpoint import CHECKPOINT_VERSION, Checkpoint, checkpoint_path, read_checkpoint
from genesys_nb.export.checks import human_bytes, plural, whole_number
from genesys_nb.export.orchestrate import ExportSummary, export
from genesys_nb.export.writers import TextWriter


def test_the_built_in_formats_are_registered_by_their_modules():
    found = {s.name: s for s in registry.sinks()}
    assert list(found) == ["parquet", "ndjson", "csv"]
    assert found["parquet"].suffixes == (".parquet", ".pq") and found["ndjson"].suffixes == (".ndjson", ".jsonl")
    assert found["csv"].cells and not found["parquet"].cells and found["ndjson"].records
    for name, sink in found.items():
        assert sink.writer.__module__ == f"genesys_nb.export.sinks.{name}"
    assert registry.sink_named("JSONL").name == "ndjson" and registry.sink_for_suffix(".PQ").name == "parquet"
    with pytest.raises(ExportError, match="Unknown export format 'xml'.*'parquet', 'ndjson' or 'csv'"):
        registry.sink_named("xml")


class TsvWriter(TextWriter):
    """A test format: tab-separated values of the frame."""

    def __init__(self, target, state, **options):
        super().__init__(target, state)

    def encode_frame(self, df: pl.DataFrame) -> bytes:
        flat = df.select([pl.col(c).cast(pl.String) for c, t in df.schema.items() if t.is_numeric() or t == pl.String])
        return flat.write_csv(separator="\t", include_header=self.offset == 0).encode()


@pytest.fixture
def tsv():
    sink = registry.register(registry.Sink(name="tsv", label="TSV (tabs)", suffixes=(".tsv",), writer=TsvWriter))
    yield sink
    registry.unregister("tsv")


def test_a_registered_format_reaches_the_export_the_cli_and_the_panel(tsv, tmp_path):
    t = FakeUsersTransport(45)
    summary = export(users_stream(t, page_size=20), tmp_path / "u.tsv", chunk_rows=20, progress=False)
    assert summary.format == "tsv" and summary.rows == 45
    assert pl.read_csv(tmp_path / "u.tsv", separator="\t")["id"].to_list() == expected_ids(t)
    export(users_stream(t), tmp_path / "data.txt", format="tsv", progress=False)
    assert (tmp_path / "data.txt").read_text().startswith("id\t")

    from genesys_nb.cli.app import build_parser

    args = build_parser().parse_args(["users", "export", "x.out", "--format", "tsv"])
    assert args.format == "tsv"

    pytest.importorskip("ipywidgets")
    from genesys_nb.widgets.exporting import ExportPanel

    class NoFilters:
        client = None

        def on_client(self, callback):
            pass

    panel = ExportPanel(NoFilters(), path="exports/u.tsv")
    assert ("TSV (tabs)", "tsv") in panel.format.options and panel.format.value == "tsv"
    panel.format.value = "csv"
    assert panel.path.value.endswith("u.csv")
    panel.format.value = "tsv"
    assert panel.path.value.endswith("u.tsv")
    assert panel.checkpoint_path() == checkpoint_path("exports/u.tsv")


def test_registering_a_clashing_format_is_refused(tsv):
    with pytest.raises(ValueError, match="clashes"):
        registry.register(registry.Sink(name="other", label="x", suffixes=(".tsv",), writer=TsvWriter))


def test_the_checkpoint_is_a_frozen_versioned_dataclass_read_in_one_place(tmp_path):
    t = FakeUsersTransport(100, fail_at=(3,), fail_times=1)
    out = tmp_path / "u.csv"
    with pytest.raises(Exception):
        export(users_stream(t, page_size=20), out, progress=False)
    cp = read_checkpoint(checkpoint_path(out))
    assert isinstance(cp, Checkpoint) and cp.version == CHECKPOINT_VERSION
    assert (cp.rows, cp.pages, cp.format, cp.path) == (40, 2, "csv", "u.csv")
    assert cp.tail is not None and cp.tail.end == cp.offset == (tmp_path / "u.csv.part").stat().st_size
    with pytest.raises(dataclasses.FrozenInstanceError):
        cp.rows = 5  # type: ignore[misc]
    assert Checkpoint.from_json(cp.to_json(), "x").replace(updated="") == cp.replace(updated="")


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3", None])
def test_whole_number_is_one_check(value):
    with pytest.raises(ExportError, match="chunk_rows must be a whole number >= 1"):
        whole_number(value, "chunk_rows", minimum=1)
    assert whole_number(7, "chunk_rows", minimum=1) == 7


def test_words_and_sizes():
    assert plural(1, "page") == "1 page" and plural(2, "page") == "2 pages" and plural(1000, "row") == "1,000 rows"
    assert human_bytes(117_147_700) == "117.1 MB" and human_bytes(999) == "999 B"
    s = ExportSummary(path=__import__("pathlib").Path("u.ndjson"), format="ndjson", rows=1, bytes=117_147_700,
                      seconds=1.0, pages=1, requests=1, resumed=False)
    assert s.size == "117.1 MB" and "1 row, 117.1 MB, 1 page, 1 request," in repr(s)
