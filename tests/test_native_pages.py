"""The native path: page bytes parsed by pyarrow.json give exactly what orjson + users_to_arrow give, and streams,
frames and exports that use it behave as the dict path does."""

from __future__ import annotations

import logging

import orjson
import polars as pl
import pyarrow as pa
import pytest
from helpers_frames import make_user

import genesys_nb as gnb
from genesys_nb._tables import schema
from genesys_nb._tables.frames import ArrowBatch, table_decoder
from genesys_nb.resources.users import USERS
from genesys_nb.resources.users import users_page_to_arrow, users_to_arrow
from genesys_nb.resources.users import EXPANDS

HEAVY = ("routingStatus", "presence", "authorization", "locations", "groups", "skills", "languages", "employerInfo",
         "profileSkills", "dateLastLogin", "dateWelcomeSent", "someFutureThing")


def same(body: bytes, expand=()) -> pa.Table:
    """users_page_to_arrow(body) is identical to the dict path on the same body; returns the table."""
    envelope, table = users_page_to_arrow(body, expand)
    data = orjson.loads(body)
    key = "entities" if isinstance(data.get("entities"), list) else "results"
    want = users_to_arrow(data[key], expand)
    assert table.schema.equals(want.schema) and table.equals(want), body[:200]
    assert envelope[key] is table
    for name in ("cursor", "nextUri", "pageCount", "pageNumber", "total"):
        assert envelope.get(name) == data.get(name)
    return table


def page(users: list, **fields) -> bytes:
    return orjson.dumps({"entities": users, **fields})


def sandbox_bodies(client, expand=(), path="/api/v2/users/query", pages=4, size=250):
    params = {"pageSize": size, "state": "any", **({"expand": ",".join(expand)} if expand else {})}
    headers = {"Authorization": f"Bearer {client.auth.token()}"}
    for _ in range(pages):
        body = client.http.get(client.transport.url_for(path), params=params, headers=headers).content
        yield body
        cursor = orjson.loads(body).get("cursor")
        if not cursor:
            return
        params = {**params, "cursor": cursor}


@pytest.mark.parametrize("expand", [(), ("dateLastLogin", "groups"), EXPANDS])
def test_identical_to_the_dict_path_on_sandbox_pages(expand):
    with gnb.connect(sandbox={"users": 1000}) as client:
        bodies = list(sandbox_bodies(client, expand))
    assert len(bodies) == 4
    for body in bodies:
        assert same(body, expand).num_rows == 250
        assert schema.read_page(USERS, body, USERS.normalize_expand(expand)) is not None  # read natively, no fallback


def test_identical_on_synthetic_pages_with_missing_fields_and_phones():
    users = [make_user(i, HEAVY) for i in range(120)]
    users += [{"id": "bare"}, {}, {"id": "x", "primaryContactInfo": [], "addresses": None},
              {"id": "y", "primaryContactInfo": [{"mediaType": "PHONE", "address": "", "display": ""},
                                                 {"mediaType": "PHONE", "display": "42"}]},
              {"id": "z", "addresses": [{"mediaType": "EMAIL", "address": "a@b"}, {"mediaType": "PHONE"},
                                        {"mediaType": "PHONE", "address": "+1", "display": "one"}]}]
    body = page(users, total=125, pageCount=1, pageNumber=1)
    assert schema.read_page(USERS, body, USERS.normalize_expand(HEAVY)) is not None
    table = same(body, HEAVY)
    phones = table.column("primary_phone").to_pylist()
    assert phones[-3:] == [None, "42", "+1"]
    same(page(users[::-1], cursor="abc"), ())


@pytest.mark.parametrize("body", [page([]), page([], cursor=None, total=0), orjson.dumps({"results": [], "total": 0})])
def test_empty_pages(body):
    assert same(body, HEAVY).num_rows == 0


@pytest.mark.parametrize("odd", [
    {"id": 5, "version": "7"},                       # a number where text is expected, text for a number
    {"id": "a", "acdAutoAnswer": "true"},            # text for a boolean
    {"id": "a", "division": "x"},                    # text for an object
    {"id": "a", "version": 1.5},                     # a fraction for an integer
    {"id": "a", "skills": [{"proficiency": "3"}]},   # nested wrong type
    {"id": "a", "primaryContactInfo": [{"mediaType": 7}]},
])
def test_wrong_typed_values_fall_back_to_the_dict_path(odd, caplog):
    users = [make_user(1, ("skills",)), odd, make_user(2, ("skills",))]
    with caplog.at_level(logging.WARNING):
        same(page(users, total=3), ("skills",))


def test_bodies_the_native_parser_refuses_or_misreads():
    same(b'{"entities": [{"id": "a", "id": "b"}], "total": 1}')   # a duplicated key: orjson keeps the last
    same(b'{\n  "entities": [\n    {"id": "a"}\n  ],\n  "total": 1\n}\n')  # pretty-printed
    with pytest.raises(ValueError):
        users_page_to_arrow(b'{"entities": [')
    assert users_page_to_arrow(b"[1, 2]") == ([1, 2], None)  # the paging layer reports what is wrong
    assert users_page_to_arrow(b'{"total": 0}') == ({"total": 0}, None)


def test_decoder_wraps_the_table():
    envelope = table_decoder(USERS, ())(page([make_user(1)], cursor="c"))
    assert isinstance(envelope["entities"], ArrowBatch) and len(envelope["entities"]) == 1
    batch = envelope["entities"]
    assert batch.ids() == [make_user(1)["id"]] and len(batch.head(0)) == 0 and len(batch.take([0, 0])) == 2


# -- the native path through streams, frames and exports -------------------------------------------------------------
@pytest.mark.parametrize("strategy,concurrency", [("auto", 1), ("pages", 1), ("pages", 4)])
def test_frames_are_identical_through_the_native_path(strategy, concurrency):
    with gnb.connect(sandbox={"users": 1234}) as client:
        records = list(client.users(page_size=100, strategy=strategy, expand=["groups"]))
        want = pl.from_arrow(users_to_arrow(records, ("groups",)))
        stream = client.users(page_size=100, strategy=strategy, concurrency=concurrency, expand=["groups"])
        got = stream.to_polars()
        assert got.equals(want) and stream.stats.items == 1234 and stream.resume_token is None
        chunks = list(client.users(page_size=100, strategy=strategy, max_items=333).iter_frames(chunk_size=50))
        assert sum(c.height for c in chunks) == 333
        assert pl.concat(chunks)["id"].to_list() == [r["id"] for r in records[:333]]


def test_native_stream_pages_are_batches_and_resume():
    with gnb.connect(sandbox={"users": 600}) as client:
        ids = [r["id"] for r in client.users(page_size=100)]
        stream = client.users(page_size=100).native(table_decoder(USERS, ()))
        pages = stream.pages()
        first = next(pages)
        assert isinstance(first.items, ArrowBatch) and len(first) == 100
        token = first.resume_token
        stream.close()
        rest = client.users(page_size=100, resume=token).to_polars()
        assert first.items.ids() + rest["id"].to_list() == ids


def test_native_dedupe_drops_repeats_under_churn():
    settings = {"users": 3000, "churn": {"every": 2, "creates": 7, "deletes": 4, "purges": 3, "seed": 5}}
    with gnb.connect(sandbox=settings) as client:
        stream = client.users(page_size=100, strategy="pages")
        df = stream.to_polars()
    assert df["id"].n_unique() == df.height and stream.stats.duplicates_dropped > 0


def test_parquet_and_csv_exports_match_the_dict_path(tmp_path):
    with gnb.connect(sandbox={"users": 700}) as client:
        records = list(client.users(page_size=100, expand=["skills", "dateLastLogin"]))
        want = pl.from_arrow(users_to_arrow(records, ("skills", "dateLastLogin")))
        client.users(page_size=100, expand=["skills", "dateLastLogin"]).to_parquet(tmp_path / "u.parquet",
                                                                                   progress=False)
        client.users(page_size=100, expand=["skills", "dateLastLogin"]).to_parquet(
            tmp_path / "w.parquet", progress=False, where=lambda u: u["state"] == "active")  # the dict path
    assert pl.read_parquet(tmp_path / "u.parquet").equals(want)
    assert pl.read_parquet(tmp_path / "w.parquet").equals(want.filter(pl.col("state") == "active"))
