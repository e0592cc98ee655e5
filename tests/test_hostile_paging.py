"""Paging against a hostile or broken server (issue 15 items 1, 6, 8, 11): positions read from resume tokens and
checkpoints are checked before any request, listings that page in circles stop with a PagingError, and bodies that
would silently lose records or blow up memory are refused.

The server is a scripted fake transport: each test gives it ``route(method, path, params) -> body``; it counts
requests and refuses to serve more than ``limit`` of them, so a loop that would never stop fails the test quickly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from genesys_nb._http.transport import Response
from genesys_nb._paging.paginators import (CursorPaginator, DetectingPaginator, NextUriPaginator, PageNumberPaginator,
                                           SearchPaginator)
from genesys_nb._paging.fanout import FanOutStream
from genesys_nb._paging.stream import Plan, Stream, encode_token
from genesys_nb.errors import ConfigError, ExportError, PagingError
from genesys_nb.export.orchestrate import export

FP = "fingerprint-1"


class ScriptedTransport:
    """Answers each request with ``route(method, path, params)``; at most ``limit`` requests."""

    def __init__(self, route: Callable[[str, str, dict], Any], limit: int = 60) -> None:
        self.route = route
        self.limit = limit
        self.requests: list[tuple[str, str, dict]] = []

    def request(self, method: str, path: str, params: dict | None = None, json: Any = None) -> Response:
        params = dict(params or {})
        self.requests.append((method, path, params))
        assert len(self.requests) <= self.limit, "the stream kept paging: it would never have stopped"
        return Response(self.route(method, path, params), 200, httpx.Headers(), 100, 1, 0, path)


def users(*numbers: int) -> list[dict]:
    return [{"id": f"user-{n}", "name": f"User {n}"} for n in numbers]


def stream(transport, paginator, *, resume=None, concurrency=1) -> Stream:
    return Stream(transport, [Plan(paginator)], fingerprint=FP, resume=resume, concurrency=concurrency)


def cursor_stream(transport, **kw) -> Stream:
    return stream(transport, CursorPaginator("/api/v2/users/query", {"pageSize": 2}, items_key="entities"), **kw)


def collect(s: Stream) -> list[str]:
    """The ids a stream yields before it fails (the failure is re-raised)."""
    got: list[str] = []
    with pytest.raises(PagingError) as info:
        for record in s:
            got.append(record["id"])
    collect.error = str(info.value)
    return got


# -- item 6: loops that never stop ---------------------------------------------------------------------------------
def test_a_cursor_cycling_a_b_a_b_stops_with_each_user_once():
    pages = {None: (users(1, 2), "A"), "A": (users(3, 4), "B"), "B": (users(1, 2), "A")}
    t = ScriptedTransport(lambda m, p, q: dict(zip(("entities", "cursor"), pages[q.get("cursor")])))
    s = cursor_stream(t)
    ids = collect(s)
    assert sorted(ids) == sorted(set(ids)) == [f"user-{n}" for n in (1, 2, 3, 4)]
    assert s.stats.duplicates_dropped == 2
    assert "before" in collect.error and len(t.requests) == 3


def test_fresh_cursors_over_the_same_users_in_another_order_stop_without_duplicates():
    def route(method, path, params):
        n = int((params.get("cursor") or "c0")[1:])
        order = [(1, 2, 3, 4), (4, 3, 2, 1), (2, 4, 1, 3)][n % 3]
        return {"entities": users(*order[:2]) if n % 2 == 0 else users(*order[2:]), "cursor": f"c{n + 1}"}

    t = ScriptedTransport(route)
    s = cursor_stream(t)
    ids = collect(s)
    assert len(ids) == len(set(ids)) and set(ids) <= {f"user-{n}" for n in (1, 2, 3, 4)}
    assert s.stats.duplicates_dropped > 0 and "already returned" in collect.error
    assert len(t.requests) < 15


def test_a_next_uri_alternating_between_two_urls_stops():
    links = {"/api/v2/things": "/api/v2/things?p=2", "/api/v2/things?p=2": "/api/v2/things?p=3",
             "/api/v2/things?p=3": "/api/v2/things?p=2"}
    counter = iter(range(1000))
    t = ScriptedTransport(lambda m, p, q: {"entities": users(next(counter)), "nextUri": links[p]})
    ids = collect(stream(t, NextUriPaginator("/api/v2/things")))
    assert len(ids) == 3 and len(t.requests) == 3


def test_fresh_cursors_far_past_the_announced_total_stop():
    counter = iter(range(10_000))
    t = ScriptedTransport(lambda m, p, q: {"entities": users(next(counter), next(counter)), "total": 4,
                                           "cursor": f"c{len(t.requests)}"})
    ids = collect(cursor_stream(t))
    assert "announced 4" in collect.error
    assert 2 * 4 + 3 * 2 < len(ids) <= 2 * 4 + 3 * 2 + 2 and len(t.requests) < 10


def test_a_cursor_stream_that_repeats_a_few_records_drops_and_warns():
    pages = {None: (users(1, 2), "A"), "A": (users(2, 3), "B"), "B": (users(4), None)}
    t = ScriptedTransport(lambda m, p, q: dict(zip(("entities", "cursor"), pages[q.get("cursor")])))
    s = cursor_stream(t)
    assert [u["id"] for u in s] == [f"user-{n}" for n in (1, 2, 3, 4)]
    assert s.stats.duplicates_dropped == 1 and any("already returned" in w for w in s.stats.warnings)


def test_page_numbers_and_search_still_page_to_their_end():
    """The guards do not stop honest listings: 7 pages of 3, and search pages announcing pageCount."""
    every = users(*range(20))
    t = ScriptedTransport(lambda m, p, q: {"entities": every[(q["pageNumber"] - 1) * 3: q["pageNumber"] * 3],
                                           "pageCount": 7, "total": 20})
    assert [u["id"] for u in stream(t, PageNumberPaginator("/api/v2/users", {"pageSize": 3}, items_key="entities"),
                                     concurrency=4)] == [u["id"] for u in every]
    search = ScriptedTransport(lambda m, p, q: {"results": every[:10] if m == "POST" else every[10:],
                                                "pageNumber": 1 if m == "POST" else 2, "pageCount": 2,
                                                "nextPage": "/api/v2/users/search?q64=x"})
    assert len(list(stream(search, SearchPaginator("/api/v2/users/search", {"pageSize": 10})))) == 20


# -- item 11: bodies that would lose records or memory ---------------------------------------------------------------
@pytest.mark.parametrize("key", [None, "entities"])
def test_a_null_record_list_on_a_page_announcing_records_is_refused(key):
    t = ScriptedTransport(lambda m, p, q: {"entities": None, "total": 100, "pageCount": 4})
    with pytest.raises(PagingError, match="announces 100 records but its 'entities' is null"):
        list(stream(t, PageNumberPaginator("/api/v2/users", {"pageSize": 25}, items_key=key)))


def test_a_null_record_list_with_no_records_announced_is_an_empty_listing():
    t = ScriptedTransport(lambda m, p, q: {"entities": None, "total": 0, "pageCount": 0})
    assert list(stream(t, PageNumberPaginator("/api/v2/users", {"pageSize": 25}, items_key="entities"))) == []


def test_a_page_far_larger_than_asked_for_is_refused():
    t = ScriptedTransport(lambda m, p, q: {"entities": users(*range(31)), "pageCount": 1})
    with pytest.raises(PagingError, match="31 records on a page of 10"):
        list(stream(t, PageNumberPaginator("/api/v2/users", {"pageSize": 10}, items_key="entities")))
    ok = ScriptedTransport(lambda m, p, q: {"entities": users(*range(30)), "pageCount": 1})  # 2 x 10 + 10: accepted
    assert len(list(stream(ok, PageNumberPaginator("/api/v2/users", {"pageSize": 10}, items_key="entities")))) == 30


# -- items 1 and 8: positions read from tokens ------------------------------------------------------------------------
def token(**fields) -> str:
    data = {"f": FP, "s": "next_uri", "p": "/api/v2/things?p=2", "n": 1, "i": 1, **fields}
    return encode_token({k: v for k, v in data.items() if v is not ...})


@pytest.mark.parametrize("position", ["http://127.0.0.2:9/api/v2/steal", "https://evil.example/api/v2/x",
                                      "//evil.example/api/v2/x", "/oauth/token", "/api/v2/../../oauth/token",
                                      "api/v2/x", 5, {"a": 1}, ["x"]])
@pytest.mark.parametrize("style", ["next_uri", "search"])
def test_a_link_position_in_a_resume_token_must_be_a_relative_api_path(position, style):
    t = ScriptedTransport(lambda m, p, q: {"entities": []})
    paginator = NextUriPaginator("/api/v2/things") if style == "next_uri" else SearchPaginator("/api/v2/x/search", {})
    with pytest.raises(ConfigError, match="relative API path|edited"):
        stream(t, paginator, resume=token(s=style, p=position))
    assert t.requests == []


def test_a_good_link_position_resumes():
    t = ScriptedTransport(lambda m, p, q: {"entities": users(7)})
    assert [u["id"] for u in stream(t, NextUriPaginator("/api/v2/things"), resume=token())] == ["user-7"]
    assert t.requests[0][1] == "/api/v2/things?p=2"


@pytest.mark.parametrize("fields", [{"n": "x"}, {"i": -3}, {"n": True}, {"p": {}}, {"s": 5}, {"f": 7},
                                    {"p": ...}, {"n": ...}, {"s": ...}, {"s": "pages", "p": "2"},
                                    {"s": "pages", "p": 0}, {"s": "cursor", "p": {"c": 1}},
                                    {"s": "auto", "p": ["evil", "/x"]}, {"s": "auto", "p": ["next_uri", "http://x/y"]}])
def test_resume_tokens_with_odd_fields_are_a_config_error_before_any_request(fields):
    t = ScriptedTransport(lambda m, p, q: {"entities": []})
    plans = [Plan(NextUriPaginator("/api/v2/things")), Plan(PageNumberPaginator("/api/v2/things", {"pageSize": 5})),
             Plan(CursorPaginator("/api/v2/things")), Plan(DetectingPaginator("/api/v2/things"))]
    with pytest.raises(ConfigError, match="resume token"):
        Stream(t, plans, fingerprint=FP, resume=token(**fields))
    assert t.requests == []


@pytest.mark.parametrize("position", [{}, "parent", [5, None], ["g1", 7]])
def test_fan_out_tokens_with_odd_positions_are_a_config_error(position):
    with pytest.raises(ConfigError, match="resume token"):
        FanOutStream(parents=lambda: ["g1"], child=lambda parent, tok: None, rows=lambda parent, rows: rows,
                     fingerprint=FP, resume=encode_token({"f": FP, "s": "fanout", "p": position, "n": 1, "i": 1}))


def test_an_edited_checkpoint_position_is_refused_before_any_request(tmp_path):
    """A checkpoint's resume_token whose next_uri names another host never reaches a request."""
    failing = {"on": True}

    def route(method, path, params):
        n = int(path.rpartition("=")[2]) if "=" in path else 1
        if n == 3 and failing["on"]:
            raise PagingError("injected failure at page 3")
        return {"entities": users(n), **({"nextUri": f"/api/v2/things?p={n + 1}"} if n < 5 else {})}

    t = ScriptedTransport(route)

    def things(resume=None):
        s = Stream(t, [Plan(NextUriPaginator("/api/v2/things"))], fingerprint=FP, resume=resume, reopen=things)
        return s

    out = tmp_path / "things.ndjson"
    with pytest.raises(PagingError):
        export(things(), out, progress=False)
    checkpoint = tmp_path / "things.ndjson.checkpoint.json"
    state = json.loads(checkpoint.read_text())
    assert state["resume_token"]
    state["resume_token"] = token(p="http://127.0.0.2:9/api/v2/things?p=3")
    checkpoint.write_text(json.dumps(state))
    failing["on"] = False
    t.requests.clear()
    with pytest.raises(ExportError, match="relative API path"):
        export(things(), out, resume=True, progress=False)
    assert t.requests == []
    state["resume_token"] = token(p="/api/v2/things?p=3", n=2, i=2)  # the honest position resumes
    checkpoint.write_text(json.dumps(state))
    export(things(), out, resume=True, progress=False)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [f"user-{n}" for n in range(1, 6)]
