"""Frames from streams: the FrameReader protocol, both backends, fixed schema per chunk, filters."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from helpers_frames import FakeUsersTransport, expected_ids, make_user, users_stream

import genesys_nb as gnb
from genesys_nb.errors import ConfigError, GenesysError
from genesys_nb._tables.filters import Where, active_with_email, compile_where, parse_where
from genesys_nb._tables.frames import FrameReader, iter_frames, to_arrow, to_pandas, to_polars
from genesys_nb.resources.users import user_arrow_schema, user_schema

EXPAND = ("groups", "skills", "employerInfo", "dateLastLogin")


# -- FrameReader protocol -------------------------------------------------------------------------------------------
def test_chunks_have_the_requested_size_and_the_same_schema():
    t = FakeUsersTransport(95)
    with iter_frames(users_stream(t, expand=EXPAND, page_size=10), chunk_size=40) as reader:
        chunks = list(reader)
    assert [c.height for c in chunks] == [40, 40, 15]
    assert all(c.schema == user_schema(EXPAND) for c in chunks)
    assert pl.concat(chunks)["id"].to_list() == expected_ids(t)
    assert reader.rows == 95 and reader.chunks == 3


def test_get_chunk_read_and_stop_iteration():
    t = FakeUsersTransport(55)
    reader = iter_frames(users_stream(t, page_size=10), chunk_size=20)
    assert reader.get_chunk(5).height == 5
    assert reader.get_chunk().height == 20
    rest = reader.read()
    assert rest.height == 30 and rest["id"].to_list() == expected_ids(t)[25:]
    with pytest.raises(StopIteration):
        reader.get_chunk()
    assert reader.read().height == 0 and reader.read().schema == user_schema()


def test_reader_pages_lazily_and_context_manager_stops_paging():
    t = FakeUsersTransport(1000)
    stream = users_stream(t, page_size=10)
    with FrameReader(stream, chunk_size=15) as reader:
        assert t.requests == []  # nothing is sent before the first chunk is asked for
        first = next(reader)
        assert first.height == 15
    assert len(t.requests) <= 4  # 2 pages for the chunk, plus the prefetched next page(s)
    with pytest.raises(StopIteration):
        next(reader)  # closed: nothing more
    assert "closed" in repr(reader)


def test_bad_arguments():
    t = FakeUsersTransport(5)
    with pytest.raises(ConfigError):
        iter_frames(users_stream(t), chunk_size=0)
    with pytest.raises(ConfigError):
        iter_frames(users_stream(t), backend="spark")
    with pytest.raises(ConfigError, match="did you mean|Did you mean 'state'"):
        iter_frames(users_stream(t), where=pl.col("stat") == "x")


def test_consumed_stream_cannot_be_read_twice():
    t = FakeUsersTransport(5)
    stream = users_stream(t)
    assert to_polars(stream).height == 5
    with pytest.raises(GenesysError):
        to_polars(stream)


# -- backends ---------------------------------------------------------------------------------------------------------
def test_pandas_frames_are_pyarrow_backed_and_keep_the_schema():
    t = FakeUsersTransport(42)
    df = to_pandas(users_stream(t, expand=EXPAND), dtype_backend="pyarrow")
    assert list(df.columns) == list(user_schema(EXPAND))
    assert all(isinstance(dtype, pd.ArrowDtype) for dtype in df.dtypes)
    assert df["date_last_login"].dtype == pd.ArrowDtype(pa.timestamp("us", tz="UTC"))
    assert df["version"].dtype == pd.ArrowDtype(pa.int64())
    assert df["groups"].dtype.pyarrow_dtype == user_arrow_schema(EXPAND).field("groups").type
    assert df["id"].tolist() == expected_ids(t)
    empty = to_pandas(users_stream(FakeUsersTransport(0), expand=EXPAND), dtype_backend="pyarrow")
    assert empty.shape == (0, len(user_schema(EXPAND)))
    assert list(empty.dtypes) == list(df.dtypes)


def test_pandas_chunks_continue_the_index():
    t = FakeUsersTransport(25)
    chunks = list(iter_frames(users_stream(t), chunk_size=10, backend="pandas"))
    assert [c.index[0] for c in chunks] == [0, 10, 20]
    assert all(list(c.dtypes) == list(chunks[0].dtypes) for c in chunks)


def test_polars_and_arrow_backends_agree():
    t = FakeUsersTransport(30)
    df = to_polars(users_stream(t, expand=EXPAND))
    table = to_arrow(users_stream(t, expand=EXPAND))
    assert table.schema == user_arrow_schema(EXPAND)
    assert pl.from_arrow(table).equals(df)


def test_empty_listing_keeps_schema_in_polars():
    df = to_polars(users_stream(FakeUsersTransport(0), expand=EXPAND))
    assert df.shape == (0, len(user_schema(EXPAND))) and df.schema == user_schema(EXPAND)


def test_generic_listing_gets_inferred_frames():
    t = FakeUsersTransport(23)
    stream = users_stream(t, kind=None, page_size=10)
    chunks = list(iter_frames(stream, chunk_size=10))
    assert sum(c.height for c in chunks) == 23
    assert "primaryContactInfo" in chunks[0].columns  # the API's own fields, inferred
    df = to_pandas(users_stream(t, kind=None))
    assert df.shape[0] == 23


# -- filters ----------------------------------------------------------------------------------------------------------
def active_with_email_expected(t):
    return [u["id"] for u in t.users("any") if u["state"] == "active" and u.get("email")]


@pytest.mark.parametrize("where", [
    lambda u: u["state"] == "active" and bool(u.get("email")),
    active_with_email,
    pl.col("state").eq("active") & pl.col("email").is_not_null(),
    'state == "active" and email != null',
])
def test_where_forms_agree(where):
    t = FakeUsersTransport(120)
    df = to_polars(users_stream(t, page_size=25), where=where)
    assert df["id"].to_list() == active_with_email_expected(t)
    assert df.schema == user_schema()


def test_where_through_the_reader_keeps_chunk_sizes():
    t = FakeUsersTransport(200)
    chunks = list(iter_frames(users_stream(t, page_size=25), chunk_size=30, where=active_with_email))
    assert all(c.height == 30 for c in chunks[:-1])
    assert pl.concat(chunks)["id"].to_list() == active_with_email_expected(t)


def test_compile_where_variants():
    assert not compile_where(None)
    w = compile_where(lambda u: True)
    assert w and w.record is not None and w.key == ""
    e = compile_where(pl.col("state") == "x")
    assert e.expr is not None and e.key.startswith("expr:")
    assert compile_where(e) is e
    with pytest.raises(ConfigError):
        compile_where(42)
    with pytest.raises(ConfigError, match="true/false"):
        compile_where(pl.col("version") + 1).filter_arrow(pa.table({"version": [1, 2]}))
    # Where is callable on records, polars frames and arrow tables
    recs = [make_user(i) for i in range(10)]
    assert len(compile_where(lambda u: u["state"] == "active")(recs)) == sum(u["state"] == "active" for u in recs)
    frame = pl.DataFrame({"state": ["active", "inactive"]})
    assert compile_where('state == "active"')(frame).height == 1
    assert compile_where('state == "active"')(frame.to_arrow()).num_rows == 1
    assert isinstance(compile_where(None), Where)


@pytest.mark.parametrize("text,expected", [
    ('state == "active"', lambda u: u["state"] == "active"),
    ("state != 'deleted' and department contains \"Sales\"",
     lambda u: u["state"] != "deleted" and "Sales" in (u.get("department") or "\0")),
    ('department icontains "sales" or title is null', lambda u: "sales" in (u.get("department") or "\0").lower()
     or "title" not in u),
    ('state in ["inactive", "deleted"] and not (division_name == "Home")',
     lambda u: u["state"] in ("inactive", "deleted") and u["division"]["name"] != "Home"),
    ("version >= 6 && acd_auto_answer", lambda u: u["version"] >= 6 and u["acdAutoAnswer"]),
    ('email == null', lambda u: "email" not in u),
    ('department startswith "Field" || department endswith "ing"',
     lambda u: (u.get("department") or "").startswith("Field") or (u.get("department") or "").endswith("ing")),
    ('date_last_login < "2025-06-01"', lambda u: "dateLastLogin" in u and u["dateLastLogin"] < "2025-06-01"),
    ('state not in ("active")', lambda u: u["state"] != "active"),
])
def test_text_expressions(text, expected):
    t = FakeUsersTransport(150)
    df = to_polars(users_stream(t, expand=("dateLastLogin",), page_size=50), where=text)
    want = [u["id"] for u in t.users("any", ("dateLastLogin",)) if expected(u)]
    assert df["id"].to_list() == want and want


def test_text_expression_errors_point_at_the_problem():
    with pytest.raises(ConfigError, match=r"position 14"):
        parse_where('state == "a" ^ x')
    assert str(parse_where('state == "a" & x')) == str(parse_where('state == "a" and x'))
    with pytest.raises(ConfigError, match="Did you mean 'department'"):
        parse_where('departmnt == "x"', columns=user_schema())
    with pytest.raises(ConfigError, match="ISO date"):
        parse_where('date_last_login < "yesterday"', columns=user_schema())
    with pytest.raises(ConfigError, match="empty"):
        parse_where("  ")
    with pytest.raises(ConfigError, match="no field"):
        parse_where('employer_info.nope == "x"', columns=user_schema(("employerInfo",)))
    expr = parse_where('employer_info.employeeType == "Full-time"', columns=user_schema(("employerInfo",)))
    assert "employeeType" in str(expr)


def test_text_expressions_never_evaluate_python():
    with pytest.raises(ConfigError):
        parse_where('__import__("os").system("true")')
    with pytest.raises(ConfigError):
        parse_where("state == state.__class__")


# -- the real client and sandbox -------------------------------------------------------------------------------------
def test_frames_through_the_client_and_sandbox(make_client):
    client = make_client(users=700)
    expected = client.sandbox.org.ids("any")
    with client.users(page_size=200, expand=EXPAND).iter_frames(chunk_size=300) as reader:
        chunks = list(reader)
    assert [c.height for c in chunks] == [300, 300, 100]
    assert all(c.schema == user_schema(EXPAND) for c in chunks)
    assert pl.concat(chunks)["id"].to_list() == expected
    pdf = client.users(page_size=500).to_pandas(where=gnb_active_with_email(), dtype_backend="pyarrow")
    assert len(pdf) > 0 and set(pdf["state"]) == {"active"} and pdf["email"].notna().all()
    assert isinstance(pdf["date_last_login"].dtype, pd.ArrowDtype)


def gnb_active_with_email():
    return getattr(gnb, "active_with_email", active_with_email)
