"""Property-based tests of the paging invariants, over random org sizes, page sizes, fault schedules and churn.

Cursor streams return each id exactly once (and, under churn, every user that existed throughout). Page-number
streams never return an id twice, and warn whenever the listing's size changed under them, which is when they may
have missed users. (Churn that adds exactly as many users as it removes between two page requests leaves no trace
a page-number client can see; the README says so, and only the cursor endpoint is exact.)
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genesys_nb as gnb
from genesys_nb._http.retrying import RetryPolicy
from genesys_nb.sandbox import Churn, Faults

FAST = RetryPolicy(base_delay=0.0, max_delay=0.0, default_retry_after=0.0, max_fault_retries=30,
                   max_rate_limit_retries=30)
faults = st.builds(
    Faults,
    seed=st.integers(0, 10_000),
    server_errors=st.sampled_from([0.0, 0.05, 0.15]),
    drops=st.sampled_from([0.0, 0.05]),
    truncated=st.sampled_from([0.0, 0.05]),
    non_json=st.sampled_from([0.0, 0.05]),
    rate_limit_storm=st.sampled_from([0.0, 0.1, 0.3]),
    storm_retry_after=st.just(0),
    token_expiry_every=st.sampled_from([None, 3, 7]),
)
churns = st.one_of(st.none(), st.builds(Churn, every=st.integers(1, 4), creates=st.integers(0, 8),
                                        deletes=st.integers(0, 5), purges=st.integers(0, 5),
                                        seed=st.integers(0, 1000)))
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def connect(users, fault, churn):
    return gnb.connect(sandbox={"users": users, "rate_limit": None, "faults": fault, "churn": churn},
                       retry=FAST, pace=False)


@SETTINGS
@given(users=st.integers(0, 700), page_size=st.integers(5, 250), fault=faults, churn=churns)
def test_cursor_streams_return_each_id_exactly_once(users, page_size, fault, churn):
    with connect(users, fault, churn) as client:
        org = client.sandbox.org
        before = set(org.ids("any"))
        ids = [u["id"] for u in client.users(page_size=page_size, strategy="cursor")]
        assert len(ids) == len(set(ids))
        purged = {e[1] for e in org.events if e[0] == "purged"}
        created = {e[1] for e in org.events if e[0] == "created"}
        assert before - purged <= set(ids) <= before | created
        if churn is None:
            assert ids == org.ids("any")


@SETTINGS
@given(users=st.integers(0, 700), page_size=st.integers(5, 250), fault=faults, churn=churns,
       concurrency=st.sampled_from([1, 4]))
def test_page_number_streams_never_repeat_and_warn_when_they_may_have_missed(users, page_size, fault, churn,
                                                                              concurrency):
    with connect(users, fault, churn) as client:
        org = client.sandbox.org
        before = set(org.ids("any"))
        stream = client.users(page_size=page_size, strategy="pages", concurrency=concurrency)
        ids = [u["id"] for u in stream]
        assert len(ids) == len(set(ids)), "page-number streams drop repeated ids"
        purged = {e[1] for e in org.events if e[0] == "purged"}
        missed = (before - purged) - set(ids)
        created = sum(1 for e in org.events if e[0] == "created")
        removed = len(purged)
        if missed and created != removed:
            assert stream.stats.warnings, f"{len(missed)} users missed without a warning"
        if not org.events:
            assert ids == org.ids("any") and not stream.stats.warnings
