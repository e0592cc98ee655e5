"""The access listings (roles, grants, groups and members, queues and members, licences, divisions, audit events)
against the sandbox's ground truth, in-process and over HTTP: schemas, resume, faults, 403, fan-out counts."""

from __future__ import annotations

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.errors import AuditQueryError, ConfigError, PermissionDenied
from genesys_nb.sandbox import truth

#: listing method -> (truth table, the columns compared)
LISTINGS = {
    "divisions": ("divisions", ["division_id", "name", "description", "home_division"]),
    "roles": ("roles", ["role_id", "name", "default_role_id", "user_count", "default", "base"]),
    "role_grants": ("role_grants", ["role_id", "subject_id", "subject_type", "subject_name", "division_id",
                                    "division_name"]),
    "groups": ("groups", ["group_id", "name", "state", "type", "visibility", "member_count", "roles_enabled"]),
    "group_members": ("group_members", ["group_id", "user_id"]),
    "queues": ("queues", ["queue_id", "name", "division_id", "division_name", "member_count"]),
    "queue_members": ("queue_members", ["queue_id", "user_id", "joined", "member_by", "ring_number",
                                        "routing_status"]),
    "licenses": ("user_licenses", ["user_id", "license_id"]),
}


def _rows(df: pl.DataFrame, columns: list[str]) -> list[tuple]:
    return sorted(df.select(columns).rows(), key=repr)


@pytest.fixture(scope="module", params=["in-process", "http"])
def org(request):
    # No rate limit here: the module shares one org, and pacing is tested elsewhere.
    with gnb.connect(sandbox={"users": 400, "seed": 11, "rate_limit": None, "http": request.param == "http"}) as client:
        yield client


@pytest.mark.parametrize("method", sorted(LISTINGS))
def test_each_listing_equals_the_ground_truth(org, method):
    name, columns = LISTINGS[method]
    got = getattr(org, method)().to_polars()
    want = truth.tables(org.sandbox)[name]
    assert got.height == want.height > 0
    assert _rows(got, columns) == _rows(want, columns)


@pytest.mark.parametrize("method", sorted(LISTINGS))
def test_schema_is_the_same_empty_and_full(org, method):
    full = getattr(org, method)().to_polars()
    empty = getattr(org, method)(max_items=0).to_polars()
    assert empty.height == 0 and empty.schema == full.schema


def test_role_permissions_expand_policies_into_actions(org):
    roles = org.roles().to_polars()
    master = roles.filter(pl.col("name") == "Master Admin").row(0, named=True)
    assert len(master["permissions"]) > 50 and all(p.count(":") == 2 for p in master["permissions"])
    assert roles.filter(pl.col("default_role_id") == "employee").height == 1


def test_fan_out_counts_requests_per_parent(org):
    stream = org.group_members()
    df = stream.to_polars()
    groups = org.groups().to_polars()
    assert set(stream.stats.parent_requests) == set(groups["group_id"])
    assert all(n >= 1 for n in stream.stats.parent_requests.values())
    assert stream.stats.requests == sum(stream.stats.parent_requests.values())
    assert df["group_id"].n_unique() <= groups.height


def test_fan_out_for_chosen_parents_only(org):
    groups = org.groups().to_polars()["group_id"].to_list()[:2]
    df = org.group_members(group_ids=groups).to_polars()
    want = truth.group_members(org.sandbox).filter(pl.col("group_id").is_in(groups))
    assert _rows(df, ["group_id", "user_id"]) == _rows(want, ["group_id", "user_id"])
    with pytest.raises(ConfigError, match="group_ids"):
        org.group_members(group_ids=[])


def _first_pages(stream, pages: int) -> tuple[list, str | None]:
    """The items of a stream's first ``pages`` pages and the resume token after them (the stream is closed)."""
    items, token = [], None
    for i, page in enumerate(stream.pages()):
        items.extend(page.items)
        token = page.resume_token
        if i == pages - 1:
            break
    stream.close()
    return items, token


@pytest.mark.parametrize("concurrency", [1, 4])
def test_fan_out_resumes_after_any_page_without_loss_or_repeats(org, concurrency):
    whole = org.queue_members(page_size=25, concurrency=concurrency).to_polars()
    first, token = _first_pages(org.queue_members(page_size=25, concurrency=concurrency), 8)
    rest = org.queue_members(page_size=25, concurrency=concurrency, resume=token).to_polars()
    seen = pl.concat([pl.DataFrame(first, schema=whole.schema), rest])
    assert _rows(seen, ["queue_id", "user_id"]) == _rows(whole, ["queue_id", "user_id"])
    assert seen.height == whole.height


#: Page sizes that give every listing of the 400-user org several pages.
SMALL_PAGES = {"divisions": 2, "roles": 4, "role_grants": 50, "groups": 7, "group_members": 50, "queues": 5,
               "queue_members": 25, "licenses": 40}
#: The column of each listing's frame that holds the id of its API records (fan-outs and licences page their rows).
RECORD_ID = {"divisions": "division_id", "roles": "role_id", "groups": "group_id", "queues": "queue_id"}


@pytest.mark.parametrize("method", sorted(LISTINGS))
def test_every_listing_resumes_after_its_second_page_without_loss_or_repeats(org, method):
    size = SMALL_PAGES[method]
    whole = getattr(org, method)(page_size=size).to_polars()
    first, token = _first_pages(getattr(org, method)(page_size=size), 2)
    assert token is not None, "the listing has more than two pages"
    rest = getattr(org, method)(page_size=size, resume=token).to_polars()
    if method in RECORD_ID:  # pages hold the API's records, the frame one row per record
        key = RECORD_ID[method]
        before = {r["id"] for r in first}
        assert before.isdisjoint(rest[key]) and before | set(rest[key]) == set(whole[key])
    else:  # fan-out and licence pages hold the rows themselves
        columns = LISTINGS[method][1][:2]
        seen = pl.concat([pl.DataFrame(first, schema=whole.schema), rest])
        assert seen.height == whole.height and _rows(seen, columns) == _rows(whole, columns)


@pytest.fixture(scope="module")
def faulty():
    # (429 storms wait real seconds: they are in tests/test_fault_matrix.py)
    faults = {"seed": 5, "server_errors": 0.1, "drops": 0.05, "truncated": 0.05, "non_json": 0.05,
              "token_expiry_every": 13}
    with gnb.connect(sandbox={"users": 300, "faults": faults, "rate_limit": None}, sleep=lambda s: None) as client:
        yield client


@pytest.mark.parametrize("method", sorted(LISTINGS))
def test_every_listing_survives_every_fault(faulty, method):
    table, columns = LISTINGS[method]
    before = faulty.stats["retries"]
    got = getattr(faulty, method)().to_polars()
    assert _rows(got, columns) == _rows(getattr(truth, table)(faulty.sandbox), columns)
    assert faulty.stats["retries"] > before or method in ("divisions", "roles", "groups", "queues")


def test_a_resume_token_of_another_listing_is_refused(org):
    page = next(org.group_members().pages())
    with pytest.raises(ConfigError, match="different query"):
        org.queue_members(resume=page.resume_token)


def test_queue_members_page_size_is_capped_at_100(org):
    with pytest.raises(ConfigError, match="1 to 100"):
        org.queue_members(page_size=101)


@pytest.mark.parametrize("last", ["absent", "null"])
def test_queue_members_end_without_next_uri_either_way(last):
    with gnb.connect(sandbox={"users": 300, "queue_members_last_next_uri": last}) as client:
        got = client.queue_members().to_polars()
        assert _rows(got, ["queue_id", "user_id"]) == _rows(truth.queue_members(client.sandbox),
                                                            ["queue_id", "user_id"])


def test_listings_survive_faults():
    faults = {"seed": 3, "server_errors": 0.1, "drops": 0.05}
    with gnb.connect(sandbox={"users": 300, "faults": faults}, sleep=lambda s: None) as client:
        got = client.role_grants().to_polars()
        want = truth.role_grants(client.sandbox)
        assert _rows(got, LISTINGS["role_grants"][1]) == _rows(want, LISTINGS["role_grants"][1])
        assert client.stats["retries"] > 0


def test_a_forbidden_listing_raises_permission_denied_naming_the_permission():
    with gnb.connect(sandbox={"users": 100}, client_id="no-queues-client", client_secret="no-queues-secret") as c:
        with pytest.raises(PermissionDenied, match="routing:queue:view"):
            c.queues().to_polars()
        assert c.roles().to_polars().height > 0  # the rest is readable


def test_exports_of_a_fan_out_listing_in_every_format(org, tmp_path):
    want = org.role_grants().to_polars()
    org.role_grants().to_parquet(tmp_path / "g.parquet", progress=False)
    org.role_grants().to_csv(tmp_path / "g.csv", progress=False)
    org.role_grants().to_ndjson(tmp_path / "g.ndjson", progress=False)
    assert pl.read_parquet(tmp_path / "g.parquet").equals(want)
    assert pl.read_csv(tmp_path / "g.csv").height == want.height
    assert pl.read_ndjson(tmp_path / "g.ndjson").height == want.height


def test_audit_events_run_the_job_and_page_its_results(org):
    before = org.stats["requests"]
    stream = org.audit_events("PeoplePermissions", "2025-12-01", "2026-01-01")
    events = stream.to_polars()
    assert events.height > 0 and set(events["service_name"]) == {"PeoplePermissions"}
    assert events["event_date"].is_sorted()
    # the job's start and its polls count in the stream's stats, like its pages
    assert stream.stats.requests == org.stats["requests"] - before >= stream.stats.pages + 1


@pytest.mark.parametrize("outcome", ["Failed", "Cancelled"])
def test_an_audit_job_that_fails_names_its_transaction(outcome):
    with gnb.connect(sandbox={"users": 50, "audit_outcome": outcome}, sleep=lambda s: None) as client:
        with pytest.raises(AuditQueryError, match=outcome) as info:
            client.audit_events("Groups", "2025-12-01", "2026-01-01").to_polars()
        assert info.value.transaction_id and info.value.transaction_id in str(info.value)


def test_an_audit_job_that_never_finishes_times_out():
    clock = iter(range(0, 10_000, 5))
    with gnb.connect(sandbox={"users": 50, "audit_outcome": "never"}, sleep=lambda s: None) as client:
        from genesys_nb.resources import audits

        spec = audits.audit_spec(service="Groups", start="2025-12-01", end="2026-01-01", poll_timeout=30)
        with pytest.raises(AuditQueryError, match="still"):
            audits.run_job(lambda method, path, **kw: client.transport.request(method, path, **kw).body,
                           spec.option("body"), poll_timeout=30, sleep=lambda s: None, clock=lambda: next(clock))


def test_audit_arguments_are_checked_before_any_request(org):
    before = org.stats["requests"]
    with pytest.raises(ConfigError, match="before end"):
        org.audit_events("Groups", "2026-01-02", "2026-01-01")
    with pytest.raises(ConfigError, match="filter"):
        org.audit_events("Groups", "2025-01-01", "2026-01-01", filters={"Colour": "red"})
    assert org.stats["requests"] == before
