"""Churn while paging: page numbers skip or repeat users, cursors return each survivor exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from genesys_nb.sandbox import Churn

from .helpers import assert_error, cursor_all, page_all

CHURN = Churn(every=2, creates=5, deletes=3, purges=2, seed=1)


@pytest.fixture
def churning(make_sandbox):
    return make_sandbox(users=2000, churn=CHURN)


def _page_through(sb, pager) -> tuple[Counter, set[str], list[str]]:
    """Page state=any with `pager`; returns (times each id was seen, survivors, ids at the start)."""
    before = sb.org.ids("any")
    with sb.http_client() as api:
        counts = Counter(u["id"] for u in pager(api, state="any", pageSize=100))
    purged = {e.user_id for e in sb.org.events if e.kind == "purged"}
    return counts, set(before) - purged, before


def test_page_numbers_skip_or_repeat(churning):
    counts, survivors, _ = _page_through(churning, page_all)
    skipped = [u for u in survivors if counts[u] == 0]
    repeated = [u for u, c in counts.items() if c > 1]
    assert skipped or repeated
    assert len(churning.org.events) > 0


def test_cursor_returns_every_survivor_exactly_once(churning):
    counts, survivors, before = _page_through(churning, cursor_all)
    assert all(c == 1 for c in counts.values())  # nobody twice
    assert survivors <= set(counts)  # nobody who existed throughout is missed
    created = {e.user_id for e in churning.org.events if e.kind == "created"}
    assert set(counts) <= set(before) | created


def test_events_log(churning):
    with churning.http_client() as api:
        for n in range(6):
            api.get("/api/v2/users", params={"pageNumber": n + 1})
        api.get("/api/v2/organizations/me")  # not a user listing: does not count
    events = churning.org.events
    kinds = Counter(e.kind for e in events)
    assert kinds == {"created": 15, "deleted": 9, "purged": 6}
    assert sorted({e.at for e in events}) == [2, 4, 6]
    assert churning.org.size == 2000 + 15 - 6


def test_deleted_and_purged_users(churning):
    with churning.http_client() as api:
        api.get("/api/v2/users")
        api.get("/api/v2/users")
        deleted = [e.user_id for e in churning.org.events if e.kind == "deleted"]
        purged = [e.user_id for e in churning.org.events if e.kind == "purged"]
        created = [e.user_id for e in churning.org.events if e.kind == "created"]
        active, every = set(churning.org.ids("active")), set(churning.org.ids("any"))
        for uid in deleted:
            if uid not in purged:
                assert uid not in active and uid in every
                body = api.get(f"/api/v2/users/{uid}", params={"state": "deleted"}).json()
                assert body["state"] == "deleted" and body["version"] >= 2
        for uid in purged:
            assert uid not in every
            assert_error(api.get(f"/api/v2/users/{uid}", params={"state": "any"}), 404, "not.found")
        for uid in created:
            if uid not in purged:
                assert api.get(f"/api/v2/users/{uid}").json()["state"] == "active"


def test_created_users_land_at_random_places(make_sandbox):
    sb = make_sandbox(users=2000, churn=Churn(every=1, creates=20, deletes=0, purges=0, seed=3))
    with sb.http_client() as api:
        api.get("/api/v2/users")
    order = sb.org.ids("any")
    positions = sorted(order.index(e.user_id) for e in sb.org.events)
    assert len(positions) == 20 and positions[0] < 1000 < positions[-1]


def test_churn_is_deterministic(make_sandbox):
    def run():
        sb = make_sandbox(users=500, churn=CHURN)
        with sb.http_client() as api:
            page_all(api, state="any", pageSize=50)
        return sb.org.events, sb.org.ids("any")

    assert run() == run()


def test_many_inserts_in_one_gap_stay_ordered(make_sandbox):
    sb = make_sandbox(users=2, churn=Churn(every=1, creates=30, deletes=0, purges=0, seed=0))
    with sb.http_client() as api:
        for _ in range(3):
            api.get("/api/v2/users", params={"state": "any"})
        got = [u["id"] for u in cursor_all(api, state="any", pageSize=7)]
    assert len(set(got)) == len(got)
    keys = sb.org.listing("any").keys(0, sb.org.size)
    assert (keys[1:] > keys[:-1]).all()
