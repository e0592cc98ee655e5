"""The fault matrix: each fault alone, then all at once. A full export either equals the fault-free export (same
ids, no duplicates) or fails with a clear error and a checkpoint that a resume completes. Runs over real HTTP, so
dropped connections are real closed sockets. Prints requests, retries and records per row, and writes the table
to test-artifacts/fault-matrix.md (the README shows it)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.sandbox import Churn, Faults
from test_hostile_http import connect as connect_hostile, hostile  # noqa: F401 - the scriptable 127.0.0.1 server

USERS = 6000
PAGE = 100
ROWS: list[dict] = []

MATRIX = {
    "none": {},
    "429 storm (30% of requests)": {"faults": Faults(seed=1, rate_limit_storm=0.30, storm_retry_after=0)},
    "5xx (10%)": {"faults": Faults(seed=2, server_errors=0.10)},
    "dropped connections (5%)": {"faults": Faults(seed=3, drops=0.05)},
    "truncated bodies (5%)": {"faults": Faults(seed=4, truncated=0.05)},
    "non-JSON 200 bodies (5%)": {"faults": Faults(seed=5, non_json=0.05)},
    "token expiry every 20 requests": {"faults": Faults(seed=6, token_expiry_every=20)},
    "403 in the middle of the run": {"faults": Faults(seed=7, forbidden_at=(31,))},
    "churn (creates, deletes, purges)": {"churn": Churn(every=5, creates=6, deletes=4, purges=3, seed=8)},
    "all of them at once": {
        "faults": Faults(seed=9, rate_limit_storm=0.30, server_errors=0.10, drops=0.05, truncated=0.05,
                         non_json=0.05, storm_retry_after=0, token_expiry_every=20, forbidden_at=(31,)),
        "churn": Churn(every=5, creates=6, deletes=4, purges=3, seed=8)},
}


def export_with_resume(client, path: Path, fmt: str, attempts: int = 5):
    """Export; on a GenesysError keep the checkpoint and resume, as a user would. Returns (summary, failures)."""
    failures = []
    for attempt in range(attempts):
        stream = client.users(page_size=PAGE)
        try:
            summary = stream._export(path, fmt, resume=attempt > 0, progress=False)
            return summary, failures, stream
        except gnb.GenesysError as exc:
            assert not path.exists(), "a failed export must not leave a file under the final name"
            failures.append(type(exc).__name__)
    raise AssertionError(f"export did not complete after {attempts} resumes: {failures}")


@pytest.fixture(scope="module")
def baseline_ids():
    with gnb.connect(sandbox={"users": USERS, "rate_limit": None}, pace=False) as client:
        return client.sandbox.org.ids("any")


@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
@pytest.mark.parametrize("row", list(MATRIX))
def test_fault_matrix(row, fmt, baseline_ids, tmp_path, make_client):
    settings = MATRIX[row]
    client = make_client("http", users=USERS, **settings)
    org = client.sandbox.org
    path = tmp_path / f"users.{fmt}"
    summary, failures, _ = export_with_resume(client, path, fmt)
    frame = pl.read_parquet(path) if fmt == "parquet" else pl.read_ndjson(path)
    ids = frame["id"].to_list()
    assert len(ids) == len(set(ids)), "no user twice"
    if "churn" in settings:
        purged = {e[1] for e in org.events if e[0] == "purged"}
        created = {e[1] for e in org.events if e[0] == "created"}
        assert set(baseline_ids) - purged <= set(ids) <= set(baseline_ids) | created
    else:
        assert ids == baseline_ids, "equals the fault-free export"
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.checkpoint.json"))
    if "403" in row:
        assert failures == ["PermissionDenied"], "the 403 fails the run loudly, and the resume completes it"
    stats = client.stats
    ROWS.append({"fault": row, "format": fmt, "requests": stats["requests"], "retries": stats["retries"],
                 "429s": stats["rate_limited"], "401 renewals": stats["token_renewals_on_401"],
                 "resumes": len(failures), "records": len(ids)})


# -- a hostile server (issue 15): nothing lost, nothing leaked --------------------------------------------------------
def _paged(h, n: int, pages: int, **extra):
    """Page ``n`` of ``pages`` (one record each) as a next_uri listing."""
    nxt = {"nextUri": f"/api/v2/things?p={n + 1}"} if n < pages else {}
    h.reply(200, {"entities": [{"id": f"r{n}"}], "total": pages, **nxt, **extra.pop("body", {})}, **extra)


def _page_of(h) -> int:
    return int(h.path.rpartition("p=")[2]) if "p=" in h.path else 1


def _foreign_next_uri(api, other):
    api.route = lambda h: h.reply(200, {"entities": [{"id": "r1"}], "nextUri": f"{other.url}/api/v2/steal"})
    return "next_uri", 1, gnb.PagingError


def _cycling_cursor(api, other):
    pages = {"": ([1, 2], "A"), "A": ([3, 4], "B"), "B": ([1, 2], "A")}
    api.route = lambda h: h.reply(200, dict(zip(("entities", "cursor"), (
        [{"id": f"r{i}"} for i in pages[h.path.partition("cursor=")[2]][0]], pages[h.path.partition("cursor=")[2]][1]))))
    return "cursor", 4, gnb.PagingError


def _endless_reset(api, other):
    api.route = lambda h: _paged(h, _page_of(h), 5, headers=[("inin-ratelimit-allowed", "300"),
                                                             ("inin-ratelimit-count", "300"),
                                                             ("inin-ratelimit-reset", "1000000000")])
    return "next_uri", 5, None


def _slow_body(api, other):
    slowed = set()

    def route(h):
        n = _page_of(h)
        if n == 2 and n not in slowed:  # the first attempt at page 2 trickles; the retry is answered
            slowed.add(n)
            h.send_response(200)
            h.send_header("Content-Length", "100")
            h.end_headers()
            return h.trickle(b"{" * 100, 0.5)
        return _paged(h, n, 4)

    api.route = route
    return "next_uri", 4, None


HOSTILE_ROWS = {"hostile: nextUri to another host": _foreign_next_uri, "hostile: cycling cursor": _cycling_cursor,
                "hostile: endless rate-limit reset": _endless_reset, "hostile: slow body": _slow_body}


@pytest.mark.parametrize("row", list(HOSTILE_ROWS))
def test_hostile_server_rows(row, hostile):
    api, other = hostile(), hostile()
    strategy, expected, error = HOSTILE_ROWS[row](api, other)
    got: list[str] = []
    with connect_hostile(api, timeout=2.0, retry=gnb.RetryPolicy(base_delay=0.01, max_delay=0.05)) as client:
        stream = client.paginate("/api/v2/things", strategy=strategy)
        try:
            got.extend(r["id"] for r in stream)
        except gnb.GenesysError as exc:
            assert error is not None and isinstance(exc, error), exc
        else:
            assert error is None, "a hostile server must be refused"
        stats = client.stats
    assert len(got) == len(set(got)) == expected, "every record served once, none twice"
    assert other.seen == [], "nothing reaches another host"
    assert all(path == "/oauth/token" or path.startswith("/api/v2/") for _, path, _ in api.seen)
    ROWS.append({"fault": row, "format": "records", "requests": stats["requests"], "retries": stats["retries"],
                 "429s": stats["rate_limited"], "401 renewals": stats["token_renewals_on_401"],
                 "resumes": 0, "records": len(got)})


def test_zz_print_fault_matrix(capsys):
    """Prints the table of the rows above (runs last in this module) and saves it for the README."""
    assert ROWS, "the matrix rows ran first"
    header = list(ROWS[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in ROWS]
    table = "\n".join(lines)
    out = Path("test-artifacts")
    out.mkdir(exist_ok=True)
    (out / "fault-matrix.md").write_text(table + "\n")
    with capsys.disabled():
        print(f"\nFault matrix ({USERS:,} users, page size {PAGE}, over HTTP):\n{table}")
