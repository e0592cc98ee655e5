"""The fixed user schema: same columns and types for every page, empty results, expands, odd values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow as pa
import pytest
from helpers_frames import make_user

from genesys_nb.resources.users import (EXPAND_COLUMNS, USER_COLUMNS, normalize_expand, schema_table, user_arrow_schema,
                               user_columns, user_schema, users_to_arrow, users_to_polars)

HEAVY = ("routingStatus", "presence", "authorization", "locations", "groups", "skills", "languages", "employerInfo",
         "profileSkills", "dateLastLogin", "dateWelcomeSent", "someFutureThing")


def test_flat_columns_in_documented_order():
    assert USER_COLUMNS == ["id", "name", "email", "username", "state", "title", "department", "division_id",
                            "division_name", "manager_id", "primary_phone", "chat_jabber_id", "acd_auto_answer",
                            "version", "date_last_login", "date_welcome_sent", "self_uri"]
    schema = user_schema()
    assert list(schema) == USER_COLUMNS
    assert schema["version"] == pl.Int64 and schema["acd_auto_answer"] == pl.Boolean
    assert schema["date_last_login"] == pl.Datetime("us", "UTC")


def test_empty_result_keeps_the_schema():
    for expand in [(), HEAVY]:
        df = users_to_polars([], expand)
        assert df.shape == (0, len(user_schema(expand)))
        assert df.schema == user_schema(expand)
        assert users_to_arrow([], expand).schema == user_arrow_schema(expand)


def test_expand_adds_nested_columns_and_ignores_unknown_data():
    schema = user_schema(HEAVY)
    assert schema["groups"] == pl.List(pl.Struct({"id": pl.String, "name": pl.String}))
    assert schema["skills"] == pl.List(pl.Struct({"id": pl.String, "name": pl.String, "proficiency": pl.Float64,
                                                  "state": pl.String}))
    assert schema["authorization"] == pl.Struct({"roles": pl.List(pl.Struct({"id": pl.String, "name": pl.String})),
                                                 "unusedRoles": pl.List(pl.Struct({"id": pl.String,
                                                                                   "name": pl.String})),
                                                 "permissions": pl.List(pl.String)})
    assert schema["employer_info"].to_schema()["dateHire"] == pl.Date
    assert "some_future_thing" not in schema and "someFutureThing" not in schema
    # order of expand values does not matter; unknown ones add nothing
    assert user_schema(tuple(reversed(HEAVY))) == schema
    assert user_schema(("nonsense",)) == user_schema()
    assert normalize_expand("GROUPS, authorization.unusedRoles") == {"groups", "authorization"}
    assert user_columns("groups")[-1] == "groups" and EXPAND_COLUMNS["groups"] == ["groups"]


def test_every_page_has_the_identical_schema():
    expand = HEAVY
    pages = [[make_user(i, expand) for i in range(start, start + 25)] for start in range(0, 200, 25)]
    pages.append([{"id": "bare"}])  # every optional field missing
    pages.append([make_user(3)])    # expanded fields missing
    schemas = {str(users_to_polars(p, expand).schema) for p in pages}
    assert schemas == {str(user_schema(expand))}


def test_values_timestamps_and_nested():
    users = [make_user(i, HEAVY) for i in range(30)]
    df = users_to_polars(users, HEAVY)
    row = df.row(1, named=True)
    u = users[1]
    assert row["id"] == u["id"] and row["division_id"] == "div-1" and row["division_name"] == "East"
    assert row["manager_id"] == u["manager"]["id"] and row["chat_jabber_id"] == u["chat"]["jabberId"]
    assert row["primary_phone"] == "+13175550001"  # the PHONE entry's address, not the EMAIL one
    assert isinstance(row["date_last_login"], dt.datetime) and row["date_last_login"].tzinfo is not None
    assert row["date_last_login"] == dt.datetime.fromisoformat(u["dateLastLogin"].replace("Z", "+00:00"))
    assert row["routing_status"]["startTime"].tzinfo is not None
    assert row["employer_info"]["dateHire"] == dt.date.fromisoformat(u["employerInfo"]["dateHire"])
    assert [g["name"] for g in row["groups"]] == ["Group 0"]
    assert df["email"].null_count() == 1  # user 0 has no email
    # extension only (no E.164 address): display is used
    assert df.row(7, named=True)["primary_phone"] == "1007"
    assert df.row(14, named=True)["primary_phone"] is None
    assert df.filter(pl.col("date_last_login").is_null()).height == 2  # users 0 and 20 never logged in


def test_unexpanded_date_columns_are_null():
    df = users_to_polars([make_user(i) for i in range(5)])
    assert df["date_last_login"].null_count() == 5 and df["date_welcome_sent"].null_count() == 5


def test_wrong_json_types_are_coerced_not_fatal(caplog):
    odd = {"id": 5, "version": "7", "division": "x", "acdAutoAnswer": "true", "dateLastLogin": "garbage",
           "skills": [{"proficiency": "3"}], "state": "active"}
    df = users_to_polars([odd, make_user(1, ("skills", "dateLastLogin"))], ("skills", "dateLastLogin"))
    row = df.row(0, named=True)
    assert row["id"] == "5" and row["version"] == 7 and row["division_id"] is None and row["acd_auto_answer"] is True
    assert row["date_last_login"] is None and row["skills"][0]["proficiency"] == 3.0
    assert df.schema == user_schema(("skills", "dateLastLogin"))


def test_lenient_timestamps():
    users = [{"id": "a", "dateLastLogin": "2025-01-02T03:04:05Z"},
             {"id": "b", "dateLastLogin": "2025-01-02T03:04:05.123+01:00"},
             {"id": "c", "dateLastLogin": "2025-01-02T03:04:05.123456789Z"}, {"id": "d", "dateLastLogin": "soon"}]
    col = users_to_polars(users, ("dateLastLogin",))["date_last_login"]
    assert col[0] == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert col[1] == dt.datetime(2025, 1, 2, 2, 4, 5, 123000, tzinfo=dt.timezone.utc)
    assert col[2] is not None and col[3] is None


def test_arrow_schema_matches_polars_schema():
    for expand in [(), HEAVY]:
        table = users_to_arrow([make_user(i, expand) for i in range(10)], expand)
        assert isinstance(table, pa.Table) and table.schema == user_arrow_schema(expand)
        assert pl.from_arrow(table).schema == user_schema(expand)


def test_schema_table_text():
    text = schema_table("groups")
    assert text.splitlines()[0].startswith("id") and "groups" in text and "Datetime" in text


@pytest.mark.parametrize("n", [1, 500])
def test_conversion_is_vectorised(n):
    users = [make_user(i, ("dateLastLogin",)) for i in range(n)]
    assert users_to_arrow(users, ("dateLastLogin",)).num_rows == n
