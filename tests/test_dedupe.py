"""The exact seen-id set behind page-number dedupe: exact, compact, fast enough."""

import random
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from genesys_nb._paging.dedupe import SeenIds, id_key


def test_first_time_is_exact_across_buffer_and_runs():
    rng = random.Random(1)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(30_000)] + ["plain-id", 42]
    seen = SeenIds()
    for start in range(0, len(ids), 500):
        assert all(seen.first_time(ids[start:start + 500]))
    assert len(seen) == len(ids) and len(seen._runs) >= 2
    again = rng.sample(ids, 2000)
    assert not any(seen.first_time(again))
    page = ids[:3] + [str(uuid.uuid4())] + ids[:1]
    assert seen.first_time(page) == [False, False, False, True, False]


def test_repeats_within_one_page_are_caught():
    assert SeenIds().first_time(["a", "b", "a"]) == [True, True, False]


def test_sixteen_bytes_per_id():
    seen = SeenIds()
    for start in range(0, 100_000, 500):
        seen.first_time(str(uuid.uuid4()) for _ in range(500))
    assert seen.nbytes <= 16 * 100_000
    assert id_key("7b7b7720-9b42-412e-a446-a978ded64b33") == bytes.fromhex("7b7b77209b42412ea446a978ded64b33")


def test_the_vectorised_keys_are_the_keys_of_one_id_at_a_time():
    u = "7b7b7720-9b42-412e-a446-a978ded64b33"
    odd = [u, u.upper(), u[:-1] + "g", u.replace("-", "_"), u[:35], u + "0", "ü" * 36, "é" + u[1:], "", "x", 42,
           None, (1, 2), "-" * 36, str(uuid.uuid4())]
    from genesys_nb._paging.dedupe import id_keys

    for ids in (odd, [u, str(uuid.uuid4())], [str(uuid.uuid4()) for _ in range(50)] + ["short"], [42, 43]):
        assert [bytes(k).ljust(16, b"\0") for k in id_keys(ids)] == [id_key(i) for i in ids]


@given(st.lists(st.one_of(st.uuids().map(str), st.text(max_size=40), st.integers()), max_size=60))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_first_time_matches_a_plain_set(ids):
    seen, plain = SeenIds(), set()
    for start in range(0, len(ids), 7):
        page = ids[start:start + 7]
        want = []
        for i in page:
            want.append(id_key(i) not in plain)
            plain.add(id_key(i))
        assert seen.first_time(page) == want
