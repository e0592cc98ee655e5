"""Reading snapshot folders: the manifest round trip, tables as LazyFrames, DuckDB views, and clear errors."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.errors import ConfigError
from genesys_nb.snapshot import Manifest, OrgRef, TableEntry
from genesys_nb.snapshot.tables import TABLE_NAMES, TABLES

from helpers_snapshots import acme, acme_rows, write_snapshot

UTC = dt.timezone.utc


@pytest.fixture
def snap(tmp_path):
    return gnb.open_snapshot(acme(tmp_path / "acme", skipped={"user_skills": ("403 Forbidden",
                                                                               "routing:skill:view")}))


def test_manifest_round_trips_through_json_keeping_unknown_keys():
    m = Manifest(org=OrgRef("o1", "Org"), started=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                 finished=dt.datetime(2026, 1, 2, 3, 9, 0, 250000, tzinfo=UTC),
                 tables={"users": TableEntry.complete("users", 10, api_total=10, requests=1),
                         "queues": TableEntry.skipped("403 Forbidden", missing_permission="routing:queue:view")},
                 tool_version="0.1.0", api_host="https://api.mypurecloud.com", query={"tables": ["users"]},
                 plan={"requests": 2}, requests_sent=2, extra={"future_key": [1, 2]})
    text = m.to_json()
    data = json.loads(text)
    assert data["started"] == "2026-01-02T03:04:05Z" and data["finished"] == "2026-01-02T03:09:00.250000Z"
    assert data["tables"]["users"] == {"status": "complete", "file": "users.parquet", "rows": 10, "api_total": 10,
                                       "requests": 1}
    assert data["tables"]["queues"]["missing_permission"] == "routing:queue:view"
    assert "file" not in data["tables"]["queues"]
    back = Manifest.from_json(text)
    assert back == m


@pytest.mark.parametrize("change, words", [
    ({"format": "something-else"}, "not a genesys-nb snapshot manifest"),
    ({"format_version": 99}, "Upgrade genesys-nb"),
    ({"org": None}, "org must be an object"),
    ({"started": "yesterday"}, "not an ISO 8601 time"),
    ({"tables": {"users": {"status": "partial"}}}, "status must be one of complete, skipped"),
    ({"tables": {"users": {"status": "complete", "rows": -1, "file": "users.parquet"}}}, "whole number"),
    # hostile manifests: odd types, huge numbers, file names leading out of the folder
    ({"query": "abc"}, "query must be an object"),
    ({"plan": [1, 2]}, "plan must be an object"),
    ({"org": {"id": "o", "name": 5}}, "org.name must be text"),
    ({"api_host": [1]}, "api_host must be text"),
    ({"tool_version": {"a": 1}}, "tool_version must be text"),
    ({"started": "9999-12-31T23:59:59-23:59"}, "not an ISO 8601 time"),
    ({"tables": {"users": {"status": "complete", "file": "users.parquet", "rows": 1, "api_total": 2**63}}},
     "api_total must be a whole number from 0 to 9,223,372,036,854,775,807"),
    ({"tables": {"queues": {"status": "skipped", "reason": {"a": 1}}}}, "reason must be text"),
    ({"tables": {"users": {"status": "complete", "file": "../../etc/x.parquet"}}}, "file must be a file name inside"),
    ({"tables": {"users": {"status": "complete", "file": "/etc/x.parquet"}}}, "file must be a file name inside"),
    ({"tables": {"users": {"status": "complete", "file": ".."}}}, "file must be a file name inside"),
])
def test_a_bad_manifest_says_what_is_wrong(tmp_path, change, words):
    folder = acme(tmp_path / "s")
    data = json.loads((folder / "manifest.json").read_text()) | change
    (folder / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=words):
        gnb.open_snapshot(folder)


def test_folders_that_are_not_snapshots_are_refused_clearly(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        gnb.open_snapshot(tmp_path / "nowhere")
    (tmp_path / "file.parquet").write_bytes(b"x")
    with pytest.raises(ConfigError, match="is a file"):
        gnb.open_snapshot(tmp_path / "file.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no manifest.json"):
        gnb.open_snapshot(tmp_path / "empty")
    (tmp_path / "empty" / "manifest.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        gnb.open_snapshot(tmp_path / "empty")
    with pytest.raises(ConfigError, match="path of a snapshot folder"):
        gnb.open_snapshot(42)


def test_an_unfinished_snapshot_is_refused_with_the_way_to_finish_it(tmp_path):
    folder = acme(tmp_path / "s")
    data = json.loads((folder / "manifest.json").read_text()) | {"finished": None}
    (folder / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="resume=True"):
        gnb.open_snapshot(folder)


def test_tables_lists_what_is_present_and_table_reads_it_lazily(snap):
    assert snap.tables == tuple(n for n in TABLE_NAMES if n != "user_skills")
    users = snap.table("users")
    assert isinstance(users, pl.LazyFrame)
    df = users.collect()
    assert df.schema == TABLES["users"]
    assert sorted(df["id"]) == sorted(u["id"] for u in acme_rows()["users"])
    assert snap.rows("users") == df.height
    assert snap.manifest.org.id == "org-acme"
    assert snap.skipped == {"user_skills": "403 Forbidden, missing permission routing:skill:view"}


def test_sql_on_a_skipped_table_says_it_was_skipped_and_why(snap):
    """Not DuckDB's "did you mean" guess at another table: the snapshot could not read this one."""
    with pytest.raises(ConfigError, match=r"skipped the table 'user_skills' \(403 Forbidden, missing permission "
                                          r"routing:skill:view\)"):
        snap.sql("select count(*) from user_skills")
    with pytest.raises(ConfigError, match=r"taken without the table 'queues'"):
        gnb.open_snapshot(write_snapshot(snap.path.parent / "few", {"users": acme_rows()["users"]})).sql(
            "select q.name from queues q")


def test_asking_for_a_missing_table_names_the_tables_and_the_skip_reason(snap):
    with pytest.raises(ConfigError, match=r"skipped the table 'user_skills' \(403 Forbidden, missing permission "
                                          r"routing:skill:view\).*Tables present: users, divisions"):
        snap.table("user_skills")
    with pytest.raises(ConfigError, match=r"no table 'usres'.*has users, divisions"):
        snap.table("usres")


def test_a_table_not_taken_and_a_deleted_file_are_told_apart(tmp_path):
    snap = gnb.open_snapshot(write_snapshot(tmp_path / "s", {"users": acme_rows()["users"]}))
    with pytest.raises(ConfigError, match="taken without the table 'roles'"):
        snap.table("roles")
    (snap.path / "users.parquet").unlink()
    with pytest.raises(ConfigError, match="file users.parquet is missing"):
        snap.table("users")


def test_a_table_without_the_contract_columns_is_refused(tmp_path):
    folder = write_snapshot(tmp_path / "s", {"group_members": pl.DataFrame({"group_id": ["g"], "member": ["u"]})})
    with pytest.raises(ConfigError, match="lacks the columns user_id"):
        gnb.open_snapshot(folder).table("group_members")


def test_duckdb_has_one_view_per_table_and_sql_returns_polars(snap):
    con = snap.to_duckdb()
    views = {row[0] for row in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert views == set(snap.tables)
    out = snap.sql("select state, count(*) as n from users group by state order by state")
    assert isinstance(out, pl.DataFrame)
    expected = pl.DataFrame(acme_rows()["users"]).group_by("state").len().sort("state")
    assert out.rows() == expected.rows()
    joined = snap.sql("select u.name from user_roles r join users u on u.id = r.user_id "
                      "where r.via = 'g-ops' order by 1")
    assert joined["name"].to_list() == ["Olivia Oak", "Peggy Pan"]
    with pytest.raises(ConfigError, match="query failed.*Tables: users"):
        snap.sql("select * from usres")
    snap.close()


def test_sql_hands_times_back_in_utc_as_the_tables_hold_them(snap):
    """DuckDB's own default is this machine's time zone (Etc/UTC here, Europe/Berlin elsewhere)."""
    got = snap.sql("select id, date_last_login from users order by id")
    want = snap.table("users").select("id", "date_last_login").sort("id").collect()
    assert got.schema == want.schema and got["date_last_login"].dtype == pl.Datetime("us", "UTC")
    assert got.equals(want)
    assert snap.to_duckdb().execute("select current_setting('TimeZone')").fetchone() == ("UTC",)


def test_a_path_with_a_quote_still_gets_views(tmp_path):
    snap = gnb.open_snapshot(acme(tmp_path / "it's here"))
    assert snap.sql("select count(*) as n from users")["n"][0] == len(acme_rows()["users"])


def test_a_skip_reason_that_names_the_permission_does_not_repeat_it():
    api_words = "forbidden (HTTP 403): You are missing the following permission(s): routing:queue:view"
    entry = TableEntry.skipped(api_words, missing_permission="routing:queue:view")
    assert entry.why_skipped() == api_words
    assert TableEntry.skipped("403 Forbidden", missing_permission="routing:queue:view").why_skipped() == (
        "403 Forbidden, missing permission routing:queue:view")


def test_a_table_file_linked_out_of_the_folder_is_not_read(tmp_path):
    outside = acme(tmp_path / "other") / "users.parquet"
    folder = acme(tmp_path / "s")
    (folder / "users.parquet").unlink()
    (folder / "users.parquet").symlink_to(outside)
    snap = gnb.open_snapshot(folder)
    with pytest.raises(ConfigError, match="leads outside the folder"):
        snap.table("users")
    with pytest.raises(ConfigError, match="leads outside the folder"):
        snap.sql("select count(*) from users")
    (folder / "users.parquet").unlink()
    (folder / "users-data.parquet").write_bytes(outside.read_bytes())
    (folder / "users.parquet").symlink_to(folder / "users-data.parquet")  # a link inside the folder is its own
    assert gnb.open_snapshot(folder).table("users").collect().height == len(acme_rows()["users"])


@pytest.mark.parametrize("query, words", [
    ("", "has no statement to run"),
    ("  -- only a comment", "has no statement to run"),
    ("select error('boom')", r"query failed \(Invalid Input Error: boom\)"),  # fails while running, not binding
    ("select name::int from users", "query failed.*Conversion Error"),
    (5, "SQL text"),
])
def test_sql_that_cannot_run_is_a_config_error(snap, query, words):
    with pytest.raises(ConfigError, match=words):
        snap.sql(query)


def test_the_sql_command_reports_a_failing_query_in_one_line(tmp_path, capsys):
    from genesys_nb.cli import main

    folder = acme(tmp_path / "s")
    assert main(["sql", str(folder), "select name::int from users"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("genesys-nb: error: The query failed") and "Traceback" not in err
    assert main(["sql", str(folder), ""]) == 2
    capsys.readouterr()
    for rows in ("0", "-3"):  # as users head -n: a row count is at least 1
        assert main(["sql", str(folder), "select 1", "-n", rows]) == 2
        assert "argument -n/--rows: must be 1 or more" in capsys.readouterr().err

@pytest.mark.parametrize("table, change, words", [
    ("users", pl.lit(1).alias("state"), "state is Int32, not String"),
    ("users", pl.lit("yesterday").alias("date_last_login"), "date_last_login is String"),
    ("users", pl.col("date_last_login").dt.replace_time_zone(None), r"time_zone=None\), not Datetime"),
    ("roles", pl.lit("*:*:*").alias("permissions"), r"permissions is String, not List\(String\)"),
])
def test_a_table_with_columns_of_the_wrong_type_is_refused_before_findings_run(tmp_path, table, change, words):
    folder = acme(tmp_path / "s")
    pl.read_parquet(folder / f"{table}.parquet").with_columns(change).write_parquet(folder / f"{table}.parquet")
    with pytest.raises(ConfigError, match=f"columns of the wrong type.*{words}"):
        gnb.findings(folder)


def test_a_table_file_that_is_not_parquet_is_a_config_error(tmp_path):
    folder = acme(tmp_path / "s")
    (folder / "users.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ConfigError, match="cannot be read as Parquet.*Take the snapshot again"):
        gnb.open_snapshot(folder).table("users")
    with pytest.raises(ConfigError, match="cannot be read as Parquet"):
        gnb.review(folder)
