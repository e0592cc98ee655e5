"""Fixtures for the sandbox tests: small orgs, in-process clients, a controllable clock."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

from genesys_nb.sandbox import Sandbox


class FakeClock:
    """A monotonic clock the test moves by hand (token expiry, rate windows)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sandbox() -> Callable[..., Sandbox]:
    """make_sandbox(**config) -> Sandbox; rate limit off unless given; closed after the test."""
    made: list[Sandbox] = []

    def factory(**settings: Any) -> Sandbox:
        settings.setdefault("rate_limit", None)
        sb = Sandbox(**settings)
        made.append(sb)
        return sb

    yield factory
    for sb in made:
        sb.close()


@pytest.fixture
def sb(make_sandbox) -> Sandbox:
    """A 600-user org, rate limit off."""
    return make_sandbox(users=600)


@pytest.fixture
def api(sb) -> httpx.Client:
    """An in-process client of `sb` holding a token of the demo client."""
    with sb.http_client() as client:
        yield client
