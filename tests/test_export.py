"""Streamed exports: round trips per format, atomic files, checkpoints and resume, refusals, a full disk."""

from __future__ import annotations

import errno
import json

import orjson
import polars as pl
import pyarrow.parquet as pq
import pytest
from helpers_frames import FakeUsersTransport, expected_ids, make_user, users_stream

import genesys_nb.export.durable as durable_mod
import genesys_nb.export.writers as writers_mod
from genesys_nb.errors import ExportError, ServerError
from genesys_nb.export.orchestrate import ExportSummary, check_target, export
from genesys_nb._tables.filters import active_with_email
from genesys_nb.resources.users import user_schema, users_to_polars

EXPAND = ("groups", "skills", "employerInfo", "dateLastLogin")
FORMATS = ["parquet", "ndjson", "csv"]


def read_back(path, fmt, expand=EXPAND):
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "ndjson":  # the API's own records: converted here as frames convert them
        return users_to_polars([orjson.loads(line) for line in path.read_bytes().splitlines()], expand)
    return pl.read_csv(path, infer_schema=False)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


# -- round trips ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(tmp_path, fmt):
    t = FakeUsersTransport(237)
    out = tmp_path / f"users.{fmt}"
    summary = export(users_stream(t, expand=EXPAND, page_size=25), out, chunk_rows=60, progress=False)
    assert isinstance(summary, ExportSummary)
    assert summary.rows == 237 and summary.pages == 10 and summary.requests == 10 and not summary.resumed
    assert summary.path == out and summary.format == fmt and summary.bytes == out.stat().st_size > 0
    assert leftovers(tmp_path) == [out.name]  # no part, checkpoint or parts folder left behind
    df = read_back(out, fmt)
    assert df["id"].to_list() == expected_ids(t)
    assert df.columns == list(user_schema(EXPAND))
    assert repr(summary).startswith("ExportSummary(") and "<table>" in summary._repr_html_()


def test_parquet_keeps_the_exact_schema_and_merges_parts_into_row_groups(tmp_path):
    t = FakeUsersTransport(500)
    out = tmp_path / "u.parquet"
    export(users_stream(t, expand=EXPAND, page_size=50), out, chunk_rows=120, progress=False)
    df = pl.read_parquet(out)
    assert df.schema == user_schema(EXPAND)
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == 500 and meta.num_row_groups == 5  # rebatched to chunk_rows, not one per page
    assert df["date_last_login"].dtype == pl.Datetime("us", "UTC")


def test_parquet_parts_roll_and_merge(tmp_path, monkeypatch):
    monkeypatch.setattr(writers_mod, "PARQUET_ROLL_SECONDS", 0.0)  # close a part at every write
    seen = []
    real = writers_mod.ParquetWriter._close_part

    def spy(self):
        seen.append(self.parts + 1)
        real(self)

    monkeypatch.setattr(writers_mod.ParquetWriter, "_close_part", spy)
    t = FakeUsersTransport(430)
    out = tmp_path / "u.parquet"
    summary = export(users_stream(t, expand=EXPAND, page_size=50), out, chunk_rows=100, progress=False)
    assert seen == list(range(1, len(seen) + 1)) and len(seen) >= 4
    meta = pq.ParquetFile(out).metadata
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sum(groups) == 430 and max(groups) <= 100 and len(groups) >= len(seen)
    assert pl.read_parquet(out)["id"].to_list() == expected_ids(t) and summary.rows == 430
    assert leftovers(tmp_path) == ["u.parquet"]


def test_parquet_row_groups_are_capped_in_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(writers_mod, "ROW_GROUP_BYTES", 20_000)  # about 50 users
    t = FakeUsersTransport(400)
    out = tmp_path / "u.parquet"
    export(users_stream(t, page_size=100), out, chunk_rows=1000, progress=False)
    meta = pq.ParquetFile(out).metadata
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sum(groups) == 400 and max(groups) < 100
    assert pl.read_parquet(out)["id"].to_list() == expected_ids(t)


def test_ndjson_and_csv_contents(tmp_path):
    t = FakeUsersTransport(12)
    export(users_stream(t, expand=EXPAND), tmp_path / "u.ndjson", progress=False)
    lines = (tmp_path / "u.ndjson").read_bytes().splitlines(keepends=True)
    assert [orjson.loads(line) for line in lines] == [make_user(i, EXPAND) for i in range(12)]  # lossless
    first = orjson.loads(lines[1])
    assert first["groups"] == [{"id": "g0", "name": "Group 0", "selfUri": "/api/v2/groups/g0"}]
    assert first["division"]["id"] == "div-1" and first["dateLastLogin"].startswith("2025-")
    assert lines[1] == orjson.dumps(make_user(1, EXPAND), option=orjson.OPT_APPEND_NEWLINE)
    export(users_stream(t, expand=EXPAND), tmp_path / "u.csv", progress=False)
    df = pl.read_csv(tmp_path / "u.csv", infer_schema=False)
    row = df.row(2, named=True)
    assert json.loads(row["groups"]) == [{"id": "g0", "name": "Group 0"}, {"id": "g1", "name": "Group 1"}]
    assert json.loads(row["employer_info"])["employeeId"] == "E0000002"
    assert row["date_last_login"].endswith("Z") and "T" in row["date_last_login"]
    assert df.row(0, named=True)["skills"] == "[]" and df.row(0, named=True)["email"] is None


def test_csv_nested_json_survives_non_ascii_text():
    df = pl.DataFrame({"g": [[{"id": "1", "name": "Équipe José 東京"}], None, []],
                       "s": [{"a": "ü"}, None, {"a": None}]})
    out = writers_mod.csv_ready(df)
    assert [json.loads(v) if v else v for v in out["g"]] == [[{"id": "1", "name": "Équipe José 東京"}], None, []]
    assert json.loads(out["s"][0]) == {"a": "ü"} and out["s"][1] is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_listing_writes_a_file_with_the_columns(tmp_path, fmt):
    out = tmp_path / f"none.{fmt}"
    summary = export(users_stream(FakeUsersTransport(0)), out, progress=False)
    assert summary.rows == 0 and out.exists()
    if fmt == "parquet":
        assert pl.read_parquet(out).schema == user_schema()
    elif fmt == "csv":
        assert out.read_text().strip().split(",")[0] == "id"
    else:
        assert out.read_bytes() == b""


@pytest.mark.parametrize("fmt", FORMATS)
def test_where_filters_the_export(tmp_path, fmt):
    t = FakeUsersTransport(150)
    out = tmp_path / f"active.{fmt}"
    summary = export(users_stream(t, page_size=40), out, where=active_with_email, progress=False)
    want = [u["id"] for u in t.users("any") if u["state"] == "active" and u.get("email")]
    assert summary.rows == len(want) and summary.records == 150
    assert read_back(out, fmt, ())["id"].to_list() == want


def test_format_argument_and_jsonl_suffix(tmp_path):
    t = FakeUsersTransport(5)
    export(users_stream(t), tmp_path / "a.jsonl", progress=False)
    export(users_stream(t), tmp_path / "data.bin", format="parquet", progress=False)
    assert pl.read_parquet(tmp_path / "data.bin").height == 5
    assert len((tmp_path / "a.jsonl").read_bytes().splitlines()) == 5


def test_generic_listing_exports(tmp_path):
    t = FakeUsersTransport(45)
    for fmt in FORMATS:
        out = tmp_path / f"raw.{fmt}"
        summary = export(users_stream(t, kind=None, page_size=20), out, chunk_rows=20, progress=False)
        assert summary.rows == 45
    assert pl.read_parquet(tmp_path / "raw.parquet")["id"].to_list() == expected_ids(t)
    assert "primaryContactInfo" in pl.read_csv(tmp_path / "raw.csv").columns


def test_progress_bar_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    t = FakeUsersTransport(60)
    export(users_stream(t, page_size=20), tmp_path / "u.ndjson", progress=True)
    err = capsys.readouterr().err
    assert "u.ndjson" in err and "60" in err and "pages=3" in err
    assert "Bearer" not in err


# -- validation before any request ----------------------------------------------------------------------------------
def test_refuses_to_overwrite(tmp_path):
    t = FakeUsersTransport(10)
    out = tmp_path / "u.parquet"
    out.write_bytes(b"precious")
    with pytest.raises(ExportError, match="already exists.*overwrite=True"):
        export(users_stream(t), out, progress=False)
    assert t.requests == [] and out.read_bytes() == b"precious"
    export(users_stream(t), out, overwrite=True, progress=False)
    assert pl.read_parquet(out).height == 10


def test_resuming_a_complete_export_says_there_is_nothing_to_resume(tmp_path):
    t = FakeUsersTransport(10)
    out = tmp_path / "u.parquet"
    export(users_stream(t), out, progress=False)
    sent = len(t.requests)
    with pytest.raises(ExportError, match="is complete .*nothing to resume.*overwrite=True .* instead of resume=True"):
        export(users_stream(t), out, resume=True, progress=False)
    assert len(t.requests) == sent and pl.read_parquet(out).height == 10


@pytest.mark.parametrize("bad,match", [
    ("missing/u.parquet", "does not exist"),
    ("afile/u.parquet", "is not a folder"),
    ("u.xlsx", "Cannot tell the format"),
    ("adir", "is a folder"),
])
def test_bad_targets_fail_before_any_request(tmp_path, bad, match):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.parquet").mkdir()
    t = FakeUsersTransport(10)
    path = tmp_path / ("adir.parquet" if bad == "adir" else bad)
    with pytest.raises(ExportError, match=match):
        export(users_stream(t), path, progress=False)
    assert t.requests == []


def test_unknown_format_and_bad_chunk_rows(tmp_path):
    t = FakeUsersTransport(3)
    with pytest.raises(ExportError, match="Unknown export format"):
        export(users_stream(t), tmp_path / "u.parquet", format="xml", progress=False)
    with pytest.raises(ExportError, match="chunk_rows"):
        export(users_stream(t), tmp_path / "u.parquet", chunk_rows=0, progress=False)
    assert t.requests == []


def test_unwritable_folder(tmp_path, monkeypatch):
    real_open = open

    def deny(path, *a, **k):
        if ".genesys-nb-probe" in str(path):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(ExportError, match="Cannot write into the folder"):
        check_target(tmp_path / "u.csv")


# -- failures, atomicity and resume ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_failure_leaves_no_file_under_the_final_name_and_resume_finishes_exactly_once(tmp_path, fmt):
    t = FakeUsersTransport(400, fail_at=(6,), fail_times=1)  # the 6th page fails once (after retries)
    out = tmp_path / f"users.{fmt}"
    with pytest.raises(ServerError) as info:
        export(users_stream(t, expand=EXPAND, page_size=40), out, chunk_rows=100, progress=False)
    assert "resume=True" in "".join(getattr(info.value, "__notes__", []))
    assert not out.exists()
    names = leftovers(tmp_path)
    assert f"users.{fmt}.checkpoint.json" in names
    assert (f"users.{fmt}.parts" if fmt == "parquet" else f"users.{fmt}.part") in names
    state = json.loads((tmp_path / f"users.{fmt}.checkpoint.json").read_text())
    assert state["rows"] == 200 and state["pages"] == 5  # every page fetched before the failure was kept
    # a plain rerun refuses, pointing at resume
    with pytest.raises(ExportError, match="resume=True"):
        export(users_stream(t, expand=EXPAND, page_size=40), out, progress=False)
    t.requests.clear()
    summary = export(users_stream(t, expand=EXPAND, page_size=40), out, resume=True, chunk_rows=100,
                     progress=False)
    assert summary.resumed and summary.rows == 400 and summary.pages == 10
    assert [r["pageNumber"] for r in t.requests] == [6, 7, 8, 9, 10]  # continues, does not start over
    ids = read_back(out, fmt)["id"].to_list()
    assert ids == expected_ids(t) and len(set(ids)) == 400
    assert leftovers(tmp_path) == [out.name]


@pytest.mark.parametrize("fmt", FORMATS)
def test_resume_drops_a_half_written_tail(tmp_path, fmt):
    t = FakeUsersTransport(200, fail_at=(3,), fail_times=1)
    out = tmp_path / f"users.{fmt}"
    with pytest.raises(ServerError):
        export(users_stream(t, page_size=40), out, chunk_rows=40, progress=False)
    if fmt == "parquet":  # a part written after the last checkpoint (a crash between the two)
        (tmp_path / "users.parquet.parts" / "part-000099.parquet").write_bytes(b"junk")
    else:  # bytes written after the last checkpoint
        with open(tmp_path / f"users.{fmt}.part", "ab") as fh:
            fh.write(b'{"id": "half-written' if fmt == "ndjson" else b"half,writ")
    export(users_stream(t, page_size=40), out, resume=True, progress=False)
    assert read_back(out, fmt, ())["id"].to_list() == expected_ids(t)


def test_resume_refuses_another_query(tmp_path):
    t = FakeUsersTransport(100, fail_at=(2,), fail_times=1)
    out = tmp_path / "u.ndjson"
    with pytest.raises(ServerError):
        export(users_stream(t, page_size=20), out, progress=False)
    with pytest.raises(ExportError, match="different query"):
        export(users_stream(t, page_size=20, state="active"), out, resume=True, progress=False)
    with pytest.raises(ExportError, match="another where"):
        export(users_stream(t, page_size=20), out, resume=True, where="state == \"active\"", progress=False)
    # overwrite starts over
    summary = export(users_stream(t, page_size=20), out, overwrite=True, progress=False)
    assert summary.rows == 100 and not summary.resumed


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    t = FakeUsersTransport(30)
    summary = export(users_stream(t), tmp_path / "u.csv", resume=True, progress=False)
    assert summary.rows == 30 and not summary.resumed


def test_keyboard_interrupt_keeps_what_was_fetched(tmp_path):
    t = FakeUsersTransport(300)
    stream = users_stream(t, page_size=30)
    pages = stream.pages

    def interrupted():
        for page in pages():
            yield page
            if page.number == 4:
                raise KeyboardInterrupt

    stream.pages = interrupted
    out = tmp_path / "u.parquet"
    with pytest.raises(KeyboardInterrupt):
        export(stream, out, chunk_rows=1000, progress=False)
    assert not out.exists()
    assert json.loads((tmp_path / "u.parquet.checkpoint.json").read_text())["rows"] == 120
    export(users_stream(t, page_size=30), out, resume=True, progress=False)
    assert pl.read_parquet(out)["id"].to_list() == expected_ids(t)


@pytest.mark.parametrize("fmt", FORMATS)
def test_full_disk_is_an_export_error_and_resumable(tmp_path, monkeypatch, fmt):
    t = FakeUsersTransport(300)
    calls = {"n": 0}
    real = durable_mod.write_bytes

    def filling(fh, data):
        calls["n"] += 1
        if calls["n"] > 4 and not str(getattr(fh, "name", "")).endswith((".json.tmp",)):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fh, data)

    monkeypatch.setattr(durable_mod, "write_bytes", filling)
    monkeypatch.setattr(writers_mod, "TEXT_FLUSH_SECONDS", 0.0)  # checkpoint after every page
    out = tmp_path / f"u.{fmt}"
    with pytest.raises(ExportError, match="disk is full") as info:
        export(users_stream(t, page_size=30), out, chunk_rows=30, progress=False)
    assert isinstance(info.value.__cause__, OSError)
    assert not out.exists() and (tmp_path / f"u.{fmt}.checkpoint.json").exists()
    monkeypatch.setattr(durable_mod, "write_bytes", real)
    summary = export(users_stream(t, page_size=30), out, resume=True, progress=False)
    assert summary.resumed and read_back(out, fmt, ())["id"].to_list() == expected_ids(t)


def test_failure_during_the_parquet_merge_keeps_the_parts(tmp_path, monkeypatch):
    t = FakeUsersTransport(200)
    out = tmp_path / "u.parquet"

    def broken_merge(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writers_mod.ParquetWriter, "finish", broken_merge)
    with pytest.raises(ExportError, match="disk is full"):
        export(users_stream(t, page_size=50), out, chunk_rows=50, progress=False)
    assert not out.exists()
    state = json.loads((tmp_path / "u.parquet.checkpoint.json").read_text())
    assert state["complete"] and state["parts"] == 1 and state["rows"] == 200
    monkeypatch.undo()
    t.requests.clear()
    summary = export(users_stream(t, page_size=50), out, resume=True, progress=False)
    assert t.requests == []  # everything was fetched already: only the merge ran again
    assert summary.rows == 200 and pl.read_parquet(out)["id"].to_list() == expected_ids(t)


# -- the real client and sandbox -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_client_exports_round_trip(make_client, tmp_path, fmt):
    client = make_client(users=900)
    stream = client.users(page_size=200, expand=("dateLastLogin", "groups"))
    summary = getattr(stream, f"to_{fmt}")(tmp_path / f"org.{fmt}", progress=False)
    assert summary.rows == 900 and summary.requests >= 5
    df = read_back(tmp_path / f"org.{fmt}", fmt, ("dateLastLogin", "groups"))
    assert df["id"].to_list() == client.sandbox.org.ids("any")


def test_client_export_resumes_after_an_api_failure(make_client, tmp_path):
    from genesys_nb.sandbox import Faults

    client = make_client(users=1000, faults=Faults(forbidden_at=(4,)))
    out = tmp_path / "org.parquet"
    with pytest.raises(Exception) as info:
        client.users(page_size=100, strategy="cursor").to_parquet(out, progress=False, chunk_rows=150)
    assert "resume" in "".join(getattr(info.value, "__notes__", []))
    assert not out.exists()
    summary = client.users(page_size=100, strategy="cursor").to_parquet(out, resume=True, progress=False)
    assert summary.resumed and summary.rows == 1000
    assert pl.read_parquet(out)["id"].to_list() == client.sandbox.org.ids("any")


def test_ctrl_c_during_a_flush_is_held_until_the_checkpoint_is_written(tmp_path, monkeypatch):
    import os
    import signal

    t = FakeUsersTransport(200)
    real = writers_mod.TextWriter.persist
    fired = {"n": 0}

    def persist_then_interrupt(self, pieces):
        real(self, pieces)
        if fired["n"] == 0:
            fired["n"] += 1
            os.kill(os.getpid(), signal.SIGINT)  # arrives right after the data reached the disk

    monkeypatch.setattr(writers_mod.TextWriter, "persist", persist_then_interrupt)
    monkeypatch.setattr(writers_mod, "TEXT_FLUSH_SECONDS", 0.0)
    out = tmp_path / "u.ndjson"
    with pytest.raises(KeyboardInterrupt):
        export(users_stream(t, page_size=50), out, progress=False)
    state = json.loads((tmp_path / "u.ndjson.checkpoint.json").read_text())
    assert state["offset"] == (tmp_path / "u.ndjson.part").stat().st_size and state["rows"] >= 50
    monkeypatch.undo()
    export(users_stream(t, page_size=50), out, resume=True, progress=False)
    ids = pl.read_ndjson(out)["id"].to_list()
    assert ids == expected_ids(t)


# -- NDJSON is the API's own records --------------------------------------------------------------------------------
def test_ndjson_lines_are_the_api_records(tmp_path):
    import genesys_nb as gnb

    with gnb.connect(sandbox={"users": 300}) as client:
        api = list(client.users(page_size=100, expand=["groups", "dateLastLogin"]))
        out = tmp_path / "users.ndjson"
        summary = client.users(page_size=100, expand=["groups", "dateLastLogin"]).to_ndjson(out, progress=False)
    lines = out.read_bytes().splitlines(keepends=True)
    assert summary.rows == len(lines) == len(api) == 300
    assert lines == [orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE) for record in api]
    first = orjson.loads(lines[0])
    assert "primaryContactInfo" in first and isinstance(first["division"], dict) and "id" in first["division"]
    assert pl.read_ndjson(out)["id"].to_list() == [r["id"] for r in api]


@pytest.mark.parametrize("where", [active_with_email, 'state == "active" and email != null',
                                   lambda u: u["state"] == "active" and bool(u.get("email"))])
def test_ndjson_where_selects_the_api_records(tmp_path, where):
    t = FakeUsersTransport(150)
    out = tmp_path / "active.ndjson"
    summary = export(users_stream(t, page_size=40, expand=("groups",)), out, where=where, progress=False)
    want = [u for u in t.users("any", ("groups",)) if u["state"] == "active" and u.get("email")]
    assert summary.rows == len(want) and summary.records == 150
    assert [orjson.loads(line) for line in out.read_bytes().splitlines()] == want


def test_ndjson_checkpoint_of_flattened_rows_is_not_resumed(tmp_path):
    out = tmp_path / "u.ndjson"
    with pytest.raises(ServerError):
        export(users_stream(FakeUsersTransport(100, fail_at=(3,)), page_size=10), out, progress=False)
    checkpoint = tmp_path / "u.ndjson.checkpoint.json"
    state = json.loads(checkpoint.read_text())
    assert state["content"] == "api-records"
    del state["content"]  # as an earlier version wrote it
    checkpoint.write_text(json.dumps(state))
    with pytest.raises(ExportError, match="flattened columns"):
        export(users_stream(FakeUsersTransport(100), page_size=10), out, resume=True, progress=False)


# -- progress and cancel on every format and filter (the native page path included) ----------------------------------
class Cancelled(Exception):
    """What a Cancel button raises from on_page."""


WHERES = {"none": None, "expression": 'state == "active"', "callable": lambda u: u["state"] == "active",
          "filter": active_with_email}


@pytest.mark.parametrize("where", list(WHERES))
@pytest.mark.parametrize("fmt", FORMATS)
def test_on_page_reports_every_page_and_cancels_on_every_path(make_client, tmp_path, fmt, where):
    client = make_client(users=450)
    out = tmp_path / f"org.{fmt}"
    seen = []
    summary = export(client.users(page_size=50), out, where=WHERES[where], progress=False, on_page=seen.append)
    assert [p.pages for p in seen] == list(range(1, 10)) and [p.page_records for p in seen] == [50] * 9
    assert seen[-1].records == 450 and seen[-1].rows == summary.rows
    out.unlink()

    def cancel_at_third(progress):
        if progress.pages == 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        export(client.users(page_size=50), out, where=WHERES[where], progress=False, on_page=cancel_at_third,
               chunk_rows=1000)
    assert not out.exists()
    state = json.loads((tmp_path / f"org.{fmt}.checkpoint.json").read_text())
    assert state["pages"] == 3 and state["records"] == 150  # the cancelled run's pages are kept
    resumed = []
    summary = export(client.users(page_size=50), out, where=WHERES[where], progress=False, resume=True,
                     on_page=resumed.append)
    assert summary.resumed and [p.pages for p in resumed] == list(range(4, 10)) and summary.records == 450
    assert read_back(out, fmt, ())["id"].to_list() == [
        u for u in _expected(client, WHERES[where])]


def _expected(client, where):
    users = client.users(page_size=500).to_polars()
    if where is None:
        return users["id"].to_list()
    if where is active_with_email:
        return users.filter((pl.col("state") == "active") & pl.col("email").is_not_null())["id"].to_list()
    return users.filter(pl.col("state") == "active")["id"].to_list()
