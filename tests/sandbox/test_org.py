"""The synthetic org: determinism, id codec, state mix, listing order, sizes, managers."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pytest

from genesys_nb.sandbox import Sandbox, SandboxConfig
from genesys_nb.sandbox.ids import IdCodec
from genesys_nb.sandbox.org import KEY_SHIFT, Org
from genesys_nb.sandbox.records import Renderer

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_same_seed_same_org_and_records():
    a, b = Org(SandboxConfig(users=3000, seed=7)), Org(SandboxConfig(users=3000, seed=7))
    assert a.ids("any") == b.ids("any")
    idx = np.arange(0, 3000, 37)
    assert Renderer(a).render(idx, frozenset({"authorization", "dateLastLogin"})) == \
        Renderer(b).render(idx, frozenset({"authorization", "dateLastLogin"}))


def test_other_seed_other_org():
    a, b = Org(SandboxConfig(users=500, seed=1)), Org(SandboxConfig(users=500, seed=2))
    assert not set(a.ids("any")) & set(b.ids("any"))
    assert a.ids("active") != b.ids("active")


@pytest.mark.parametrize("seed", [0, 42, -5, 2**40])
def test_id_index_round_trip(seed):
    codec = IdCodec(seed)
    idx = np.array([0, 1, 2, 999, 123_456, 1_999_999, 2_000_000, 2**40], dtype=np.int64)
    ids = codec.encode_many(idx)
    assert ids == [codec.encode(int(i)) for i in idx]
    assert all(UUID_RE.match(i) and uuid.UUID(i).version == 4 for i in ids)
    assert [codec.decode(i) for i in ids] == idx.tolist()
    assert codec.decode(ids[3].upper()) == 999


def test_forged_or_malformed_ids_are_rejected():
    codec = IdCodec(3)
    good = codec.encode(10)
    flipped_head = ("0" if good[0] != "0" else "1") + good[1:]
    assert codec.decode(flipped_head) is None
    assert codec.decode(good[:-1] + ("0" if good[-1] != "0" else "1")) is None
    for bad in ("", "not-an-id", good + "0", good.replace("-", ""), "zzzzzzzz-zzzz-4zzz-8zzz-zzzzzzzzzzzz"):
        assert codec.decode(bad) is None
    assert IdCodec(4).decode(good) is None


def test_state_mix_and_ids_partition():
    org = Org(SandboxConfig(users=20_000))
    active, inactive, deleted = (org.ids(s) for s in ("active", "inactive", "deleted"))
    assert abs(len(active) / 20_000 - 0.85) < 0.02
    assert abs(len(inactive) / 20_000 - 0.10) < 0.02
    assert abs(len(deleted) / 20_000 - 0.05) < 0.01
    every = org.ids("any")
    assert len(every) == org.size == 20_000 == len(set(every))
    assert set(active) | set(inactive) | set(deleted) == set(every)
    position = {u: k for k, u in enumerate(every)}
    for part in (active, inactive, deleted):  # each state listing keeps the listing order
        assert [position[u] for u in part] == sorted(position[u] for u in part)


def test_listing_order_is_index_order_with_spaced_keys():
    org = Org(SandboxConfig(users=100))
    listing = org.listing("any")
    assert listing.indices(0, 100).tolist() == list(range(100))
    assert listing.keys(0, 3).tolist() == [0, 1 << KEY_SHIFT, 2 << KEY_SHIFT]
    assert listing.indices(0, 3, desc=True).tolist() == [99, 98, 97]


@pytest.mark.parametrize("users", [0, 1, 2, 9])
def test_tiny_orgs(make_sandbox, users):
    sb = make_sandbox(users=users)
    with sb.http_client() as c:
        body = c.get("/api/v2/users", params={"state": "any"}).json()
    assert [u["id"] for u in body["entities"]] == sb.org.ids("any")
    assert body["total"] == users and body["pageCount"] == (1 if users else 0)


def test_size_limits():
    with pytest.raises(ValueError):
        SandboxConfig(users=2_000_001)
    with pytest.raises(ValueError):
        SandboxConfig(users=-1)
    org = Org(SandboxConfig(users=2_000_000))
    assert org.size == 2_000_000
    last = org.codec.encode(1_999_999)
    assert org.user_index(last) == 1_999_999 and org.user_index(org.codec.encode(2_000_000)) is None


def test_kwargs_override_config_fields():
    sb = Sandbox(SandboxConfig(users=10, seed=3), users=20, latency_ms=5)
    assert (sb.config.users, sb.config.seed, sb.config.latency_ms) == (20, 3, 5)
    with pytest.raises(TypeError):
        Sandbox(no_such_field=1)


def test_divisions_and_home():
    org = Org(SandboxConfig(users=3000, divisions=6))
    assert org.division_names[0] == "Home" and len(set(org.division_ids)) == 6
    counts = np.bincount(org.divisions_of(np.arange(3000)), minlength=6)
    assert (counts > 0).all() and counts[0] == counts.max()


def test_managers_are_real_users_of_the_org():
    org = Org(SandboxConfig(users=5000))
    users = Renderer(org).render(np.arange(5000))
    ids = {u["id"] for u in users}
    managed = [u for u in users if "manager" in u]
    assert 0.85 < len(managed) / len(users) < 0.99
    assert all(u["manager"]["id"] in ids and u["manager"]["id"] != u["id"] for u in managed)
    assert all(u["manager"]["selfUri"] == f"/api/v2/users/{u['manager']['id']}" for u in managed)
    assert len({u["manager"]["id"] for u in managed}) > 400  # many managers, not one boss
