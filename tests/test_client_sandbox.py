"""The client core against the sandbox, in-process and over real HTTP: every user exactly once, whatever happens."""

from __future__ import annotations

import logging
import re
import tracemalloc

import pytest

import genesys_nb as gnb
from genesys_nb.sandbox import Churn, Faults


def ids_of(stream):
    return [u["id"] for u in stream]


def assert_exactly(ids, expected):
    assert len(ids) == len(set(ids)), "duplicates returned"
    assert set(ids) == set(expected)


def test_users_default_lists_every_state_through_the_cursor(make_client, mode):
    client = make_client(mode, users=1200)
    stream = client.users(page_size=100)
    ids = ids_of(stream)
    assert ids == client.sandbox.org.ids("any")
    assert stream.stats.strategy == "cursor" and stream.stats.fallbacks == []
    states = {u["state"] for u in client.users(page_size=500)}
    assert states == {"active", "inactive", "deleted"}


@pytest.mark.parametrize("state", ["active", "inactive", "deleted"])
def test_state_filter(make_client, state):
    client = make_client(users=800)
    users = list(client.users(state=state, page_size=250))
    assert {u["state"] for u in users} == {state}
    assert [u["id"] for u in users] == client.sandbox.org.ids(state)


def test_expand_brings_nested_fields(make_client):
    client = make_client(users=50)
    user = next(iter(client.users(expand=("groups", "authorization", "dateLastLogin"), page_size=50)))
    assert "groups" in user and "authorization" in user
    plain = next(iter(client.users(page_size=50)))
    assert "groups" not in plain


def test_pages_view_and_stats(make_client):
    client = make_client(users=1000)
    stream = client.users(page_size=300)
    pages = list(stream.pages())
    assert [len(p) for p in pages] == [300, 300, 300, 100]
    assert [p.number for p in pages] == [1, 2, 3, 4]
    assert all(p.resume_token for p in pages[:-1]) and pages[-1].resume_token is None
    assert stream.stats.pages == 4 and stream.stats.items == 1000 and stream.stats.requests == 4
    with pytest.raises(gnb.GenesysError, match="already been consumed"):
        list(stream)


def test_token_expiry_mid_stream_loses_no_page(make_client, mode):
    client = make_client(mode, users=2000, faults=Faults(token_expiry_every=4))
    stream = client.users(page_size=100)
    assert_exactly(ids_of(stream), client.sandbox.org.ids("any"))
    assert client.stats["token_renewals_on_401"] >= 4 and client.stats["token_fetches"] >= 5


def test_short_lived_tokens_are_renewed_before_expiry(make_client):
    client = make_client(users=750, client_id="short-lived-client", latency_ms=150)
    ids = ids_of(client.users(page_size=25))   # 30 requests x 150 ms outlive a 3 s token
    assert_exactly(ids, client.sandbox.org.ids("any"))
    assert client.stats["token_fetches"] >= 2


def test_429_storm(make_client, mode):
    client = make_client(mode, users=3000, faults=Faults(seed=4, rate_limit_storm=0.3, storm_retry_after=0))
    stream = client.users(page_size=100)
    assert_exactly(ids_of(stream), client.sandbox.org.ids("any"))
    assert stream.stats.rate_limited >= 3 and stream.stats.retries >= stream.stats.rate_limited


def test_5xx_and_dropped_connections(make_client, mode):
    client = make_client(mode, users=3000, faults=Faults(seed=9, server_errors=0.15, drops=0.1))
    stream = client.users(page_size=100)
    assert_exactly(ids_of(stream), client.sandbox.org.ids("any"))
    assert stream.stats.retries >= 3


def test_truncated_and_non_json_bodies_are_retried(make_client, mode):
    client = make_client(mode, users=3000, faults=Faults(seed=2, truncated=0.15, non_json=0.1))
    stream = client.users(page_size=100)
    assert_exactly(ids_of(stream), client.sandbox.org.ids("any"))
    assert stream.stats.retries >= 3


def test_fallback_to_page_numbers_on_403(make_client, caplog):
    client = make_client(users=1500, client_id="limited-client")
    assert client.can_use_cursor() is False
    with caplog.at_level(logging.WARNING, logger="genesys_nb.paging"):
        stream = client.users(page_size=200)
        users = list(stream)
    assert stream.stats.strategy == "pages"
    assert len(stream.stats.fallbacks) == 1 and "directory:user:view" in stream.stats.fallbacks[0]
    assert len([r for r in caplog.records if "cursor endpoint" in r.getMessage()]) == 1
    ids = [u["id"] for u in users]
    assert len(ids) == len(set(ids)) == stream.stats.total
    divisions = {u["division"]["id"] for u in users}
    assert 1 <= len(divisions) <= 2


def test_forced_cursor_on_403_raises_permission_denied(make_client):
    client = make_client(users=100, client_id="limited-client")
    with pytest.raises(gnb.PermissionDenied) as info:
        list(client.users(strategy="cursor"))
    assert "directory:user:view" in str(info.value)


def test_churn_during_a_cursor_stream_returns_exactly_the_users_that_existed_throughout(make_client):
    client = make_client(users=3000, churn=Churn(every=2, creates=7, deletes=4, purges=3, seed=5))
    org = client.sandbox.org
    before = set(org.ids("any"))
    ids = ids_of(client.users(page_size=100))
    purged = {e[1] for e in org.events if e[0] == "purged"}
    created = {e[1] for e in org.events if e[0] == "created"}
    assert purged and created
    throughout = before - purged
    assert len(ids) == len(set(ids)), "a cursor stream never repeats a user"
    assert throughout <= set(ids), "every user that existed throughout is returned"
    assert set(ids) <= before | created


def test_page_numbers_under_churn_drop_repeats_and_warn_with_a_count(make_client, caplog):
    client = make_client(users=3000, churn=Churn(every=2, creates=9, deletes=0, purges=4, seed=1))
    stream = client.users(page_size=100, strategy="pages")
    with caplog.at_level(logging.WARNING):
        ids = ids_of(stream)
    assert len(ids) == len(set(ids))
    assert stream.stats.duplicates_dropped > 0
    assert len(stream.stats.warnings) == 1
    found = re.search(r"up to ([\d,]+) users may have been missed", stream.stats.warnings[0])
    assert found and int(found.group(1).replace(",", "")) > 0


def test_resume_from_a_token_continues_with_no_duplicates(make_client, mode):
    client = make_client(mode, users=1000)
    pages = client.users(page_size=150).pages()
    first = [next(pages) for _ in range(3)]
    pages.close()
    token = first[-1].resume_token
    rest = ids_of(client.users(page_size=150, resume=token))
    seen = [u["id"] for p in first for u in p.items]
    assert seen + rest == client.sandbox.org.ids("any")


def test_resume_page_numbers(make_client):
    client = make_client(users=1000)
    pages = client.users(page_size=150, strategy="pages").pages()
    head = [next(pages) for _ in range(2)]
    rest = ids_of(client.users(page_size=150, strategy="pages", resume=head[-1].resume_token))
    assert [u["id"] for p in head for u in p.items] + rest == client.sandbox.org.ids("any")


def test_max_items_sends_one_request(make_client):
    client = make_client(users=5000)
    client.sandbox.reset_stats()
    stream = client.users(max_items=10)
    assert len(list(stream)) == 10
    assert stream.stats.requests == 1


def test_inactive_cap_raises_an_explaining_error(make_client):
    client = make_client(users=4000, inactive_cap=100)
    stream = client.users(state="inactive", page_size=50, strategy="pages")
    got = []
    with pytest.raises(gnb.DeepPagingLimit) as info:
        for user in stream:
            got.append(user)
    assert len(got) == 100
    text = str(info.value)
    assert "/api/v2/users/query" in text and "directory:user:view" in text


def test_concurrent_page_numbers_keep_order(make_client, mode):
    client = make_client(mode, users=4000, latency_ms=5)
    ids = ids_of(client.users(page_size=100, strategy="pages", concurrency=8))
    assert ids == client.sandbox.org.ids("any")


def test_auto_ignores_concurrency_for_the_cursor_and_uses_it_on_fallback(make_client):
    client = make_client(users=2000)
    stream = client.users(page_size=100, concurrency=8)
    assert ids_of(stream) == client.sandbox.org.ids("any") and stream.stats.strategy == "cursor"
    limited = make_client(users=2000, client_id="limited-client")
    stream = limited.users(page_size=100, concurrency=8)
    ids = ids_of(stream)
    assert stream.stats.strategy == "pages" and len(ids) == len(set(ids)) == stream.stats.total


def test_pacing_holds_the_rate_limit_without_429s(make_client):
    client = make_client(users=3000, rate_limit=10, rate_window=1.0)
    stream = client.users(page_size=100)
    ids = ids_of(stream)
    assert_exactly(ids, client.sandbox.org.ids("any"))
    assert stream.stats.rate_limited == 0 and stream.stats.requests == 30


def test_without_pacing_the_same_run_meets_429s(make_client):
    client = make_client(users=3000, rate_limit=10, rate_window=1.0, pace=False)
    stream = client.users(page_size=100)
    assert_exactly(ids_of(stream), client.sandbox.org.ids("any"))
    assert stream.stats.rate_limited > 0


def test_bad_credentials_fail_at_the_first_request(make_client):
    client = make_client(users=10, client_id="sandbox-client", client_secret="wrong")
    with pytest.raises(gnb.AuthenticationError, match="client id or secret is wrong"):
        list(client.users())


def test_search_users_q64_paging(make_client):
    client = make_client(users=2000)
    query = [{"type": "EXACT", "fields": ["state"], "values": ["active", "inactive"]}]
    stream = client.search_users(query, page_size=100)
    ids = ids_of(stream)
    expected = set(client.sandbox.org.ids("active")) | set(client.sandbox.org.ids("inactive"))
    assert_exactly(ids, expected)
    assert stream.stats.strategy == "search" and stream.stats.pages > 1


def test_paginate_detects_other_styles(make_client):
    client = make_client(users=10)
    teams = client.paginate("/api/v2/teams", {"pageSize": 10})
    assert len(ids_of(teams)) == 57 and teams.stats.pages == 6
    contacts = client.paginate("/api/v2/externalcontacts/scan/contacts", {"limit": 200})
    assert len(set(ids_of(contacts))) == 1234
    assert len(list(client.divisions())) == 6 and len(list(client.groups())) == 40


def _traced_peak(url, users):
    """Peak traced memory while one record at a time is consumed from a stream (the server is another process)."""
    with gnb.connect(api_url=url, client_id="sandbox-client", client_secret="sandbox-secret", pace=False) as client:
        stream = client.users(page_size=500)
        tracemalloc.start()
        count = 0
        for _ in stream:
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert count == users
    return peak


@pytest.mark.slow
def test_stream_memory_is_flat_in_org_size(sandbox_process):
    small = _traced_peak(sandbox_process(20_000), 20_000)
    large = _traced_peak(sandbox_process(200_000), 200_000)
    # About 18 MiB either way here: the page being consumed plus the one being prefetched, with orjson's transient
    # parse buffers. Holding 200,000 users would take hundreds of MiB.
    assert large < 40 * 2**20, f"peak {large / 2**20:.1f} MiB"
    assert large < 1.5 * small + 8 * 2**20, f"{small / 2**20:.1f} MiB -> {large / 2**20:.1f} MiB"


@pytest.mark.parametrize("concurrency", [1, 4, 8])
def test_a_slow_consumer_never_has_more_than_the_window_fetched_ahead(make_client, concurrency):
    """Memory of the concurrent window is bounded: however slow the consumer, at most `concurrency` pages beyond
    the one being read are requested (one for the pipelined cursor)."""
    import time

    client = make_client(users=3000, latency_ms=2)
    client.sandbox.reset_stats()
    strategy = "pages" if concurrency > 1 else "cursor"
    pages = client.users(page_size=100, strategy=strategy, concurrency=concurrency).pages()
    for consumed in range(1, 13):
        next(pages)
        time.sleep(0.05)  # a slow consumer: the fetchers had every chance to run ahead
        ahead = client.sandbox.stats.api_requests - consumed
        assert ahead <= max(1, concurrency), f"{ahead} pages fetched ahead with concurrency={concurrency}"
    pages.close()


def test_a_finished_concurrent_stream_leaves_no_request_in_flight(make_client):
    """The window's guesses past the end are waited for when the stream completes: nothing reaches the API after."""
    import time

    client = make_client(users=150, latency_ms=80)
    ids = ids_of(client.users(page_size=100, strategy="pages", concurrency=6))
    assert ids == client.sandbox.org.ids("any")
    after = client.sandbox.stats.api_requests
    time.sleep(0.3)
    assert client.sandbox.stats.api_requests == after == 6
