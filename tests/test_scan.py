"""The lazy scan: projection and predicate per page, head(n) stops paging, state filters pushed into the API."""

from __future__ import annotations

import polars as pl
import pytest
from helpers_frames import FakeUsersTransport, expected_ids, users_stream

from genesys_nb.errors import ConfigError
from genesys_nb._tables.filters import active_with_email
from genesys_nb._tables.scan import scan
from genesys_nb.resources.users import USERS, pushdown, state_pushdown, user_schema, users_spec

EXPAND = ("groups", "dateLastLogin")


def users_scan(t, *, expand=(), page_size=50, state="any"):
    """The users scan over the fake transport, as client.scan_users() builds it."""
    return scan(lambda spec: users_stream(t, state=spec.param("state"), expand=spec.expand,
                                          page_size=spec.param("pageSize"), max_items=spec.max_items),
                users_spec(expand=expand, page_size=page_size, state=state), USERS, pushdown=state_pushdown)


@pytest.fixture
def fake():
    t = FakeUsersTransport(230)
    lf = users_scan(t, expand=EXPAND, page_size=50)
    return t, lf


def states_requested(t):
    return [(r["state"], r["pageNumber"]) for r in t.requests]


@pytest.mark.parametrize("engine", ["streaming", "in-memory"])
def test_head_sends_exactly_one_request(fake, engine):
    t, lf = fake
    df = lf.head(10).collect(engine=engine)
    assert df.height == 10 and df.schema == user_schema(EXPAND)
    assert len(t.requests) == 1
    assert t.requests[0]["pageSize"] == 10  # max_items=10 also shrinks the page
    assert df["id"].to_list() == expected_ids(t)[:10]


def test_collect_everything_with_fixed_schema(fake):
    t, lf = fake
    assert lf.collect_schema() == user_schema(EXPAND)
    df = lf.collect()
    assert df["id"].to_list() == expected_ids(t)
    assert df.schema == user_schema(EXPAND)
    assert len(t.requests) == 5


def test_state_equality_is_pushed_into_the_query(fake):
    t, lf = fake
    df = lf.filter(pl.col("state") == "inactive").select("id", "state").collect()
    assert set(df["state"]) == {"inactive"} and df.columns == ["id", "state"]
    assert df["id"].to_list() == expected_ids(t, "inactive")
    assert {r["state"] for r in t.requests} == {"inactive"}
    assert len(t.requests) == -(-len(expected_ids(t, "inactive")) // 50) < 5  # fewer pages than everyone


def test_state_is_in_runs_one_listing_per_state(fake):
    t, lf = fake
    df = lf.filter(pl.col("state").is_in(["active", "deleted"])).collect()
    assert [s for s, _ in states_requested(t)] == ["active"] * 4 + ["deleted"]
    assert sorted(df["id"].to_list()) == sorted(expected_ids(t, "active") + expected_ids(t, "deleted"))


def test_state_pushdown_combines_with_other_predicates(fake):
    t, lf = fake
    df = lf.filter(active_with_email).collect()
    assert {r["state"] for r in t.requests} == {"active"}
    want = [u["id"] for u in t.users("active") if u.get("email")]
    assert df["id"].to_list() == want


def test_predicate_without_state_is_applied_per_page(fake):
    t, lf = fake
    df = lf.filter(pl.col("department") == "Sales").select("id", "department").collect()
    assert {r["state"] for r in t.requests} == {"any"}
    assert set(df["department"]) == {"Sales"}
    assert df.height == sum(u.get("department") == "Sales" for u in t.users("any"))


def test_contradictory_state_filter_sends_nothing(fake):
    t, lf = fake
    df = lf.filter(pl.col("state") == "archived").collect()
    assert df.height == 0 and df.schema == user_schema(EXPAND)
    assert t.requests == []


def test_or_on_state_is_pushed_through_the_probe(fake):
    t, lf = fake
    lf.filter((pl.col("state") == "inactive") | (pl.col("state") == "deleted")).collect()
    assert {r["state"] for r in t.requests} == {"inactive", "deleted"}


def test_head_after_filter_stops_early_on_the_streaming_engine():
    # polars passes no n_rows with a predicate; the streaming engine stops pulling pages once it has enough
    t = FakeUsersTransport(2300)
    lf = users_scan(t, page_size=50)
    df = lf.filter(pl.col("email").is_not_null()).head(3).collect(engine="streaming")
    assert df.height == 3
    assert len(t.requests) < 46 // 2


def test_head_zero_sends_nothing(fake):
    t, lf = fake
    assert lf.head(0).collect().height == 0
    assert t.requests == []


def test_explain_shows_source_and_pushdown(fake):
    t, lf = fake
    plan = lf.filter(pl.col("state") == "inactive").select("id").explain()
    assert "PYTHON[genesys_users] SCAN" in plan
    assert "INFO:" in plan and "state" in plan and "max_items" in plan
    assert 'col("state") == "inactive"' in plan  # the predicate handed to the source
    assert t.requests == []  # explain sends nothing


def test_pushdown_function():
    assert pushdown(None) == ["any"]
    assert pushdown(pl.col("state") == "active") == ["active"]
    assert pushdown(pl.col("state").is_in(["inactive", "active"])) == ["active", "inactive"]
    assert pushdown(pl.col("state") != "deleted") == ["active", "inactive"]
    assert pushdown((pl.col("state") == "active") | (pl.col("email") == "x")) == ["any"]
    assert pushdown(pl.col("state") == "active", state="inactive") == []
    assert pushdown(pl.col("version") > 3, state="deleted") == ["deleted"]


def test_scan_base_state_and_aggregations():
    t = FakeUsersTransport(90)
    lf = users_scan(t, state="deleted", page_size=500)
    out = lf.group_by("state").len().collect()
    assert out.rows() == [("deleted", len(expected_ids(t, "deleted")))]
    assert {r["state"] for r in t.requests} == {"deleted"}
    with pytest.raises(ConfigError):
        users_scan(t, state="archived")


def test_collect_batches_and_sink(fake, tmp_path):
    t, lf = fake
    batches = list(lf.select("id").collect_batches(chunk_size=100))
    assert sum(b.height for b in batches) == 230
    lf.filter(pl.col("state") == "active").sink_parquet(tmp_path / "active.parquet")
    assert pl.read_parquet(tmp_path / "active.parquet")["id"].to_list() == expected_ids(t, "active")


def test_every_collect_pages_again(fake):
    t, lf = fake
    lf.select(pl.len()).collect()
    lf.select(pl.len()).collect()
    assert len(t.requests) == 10


# -- the real client and sandbox -------------------------------------------------------------------------------------
def test_scan_users_through_the_client(make_client):
    client = make_client(users=1500)
    lf = client.scan_users(expand=("dateLastLogin",), page_size=500)
    before = client.stats["requests"]
    head = lf.head(10).collect()
    assert head.height == 10 and client.stats["requests"] - before == 1
    before = client.stats["requests"]
    inactive = lf.filter(pl.col("state") == "inactive").select("id", "date_last_login").collect()
    assert inactive["id"].to_list() == client.sandbox.org.ids("inactive")
    assert client.stats["requests"] - before == 1  # ~150 inactive users fit one page of 500
    counts = lf.group_by("state").len().collect()
    assert counts["len"].sum() == 1500
