"""Configuration dataclasses of the sandbox: the org, its OAuth clients, faults and churn.

Everything the real API leaves unconfirmed is a field here, so tests and benchmarks can pick
the behaviour they want to exercise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable

MAX_USERS = 2_000_000


@dataclass(frozen=True)
class OAuthClient:
    """A client-credentials OAuth client of the synthetic org.

    `all_divisions=False` models a client whose role lacks `directory:user:view` in all
    divisions: it sees only `divisions` (division indices 0.., or division names or ids;
    None means the Home division only).
    """

    client_id: str
    client_secret: str
    expires_in: int = 86399
    all_divisions: bool = True
    divisions: tuple[int | str, ...] | None = None
    name: str = ""


def default_clients() -> tuple[OAuthClient, ...]:
    """The three demo clients: full view, limited view, and a 3-second token lifetime."""
    return (
        OAuthClient("sandbox-client", "sandbox-secret", name="Sandbox demo client"),
        OAuthClient(
            "limited-client",
            "limited-secret",
            all_divisions=False,
            divisions=(0, 1),
            name="Limited client (first two divisions)",
        ),
        OAuthClient("short-lived-client", "short-lived-secret", expires_in=3, name="Short-lived tokens"),
    )


@dataclass(frozen=True)
class Faults:
    """Seeded fault injection; each share is the fraction of API requests that get that fault.

    Which request gets which fault is a pure function of `seed` and the API request number, so
    a run is reproducible request by request.
    """

    seed: int = 0
    server_errors: float = 0.0
    drops: float = 0.0
    truncated: float = 0.0
    non_json: float = 0.0
    rate_limit_storm: float = 0.0
    storm_retry_after: int = 1
    token_expiry_every: int | None = None
    forbidden_at: tuple[int, ...] = ()
    apply_to_token_endpoint: bool = False

    def __post_init__(self) -> None:
        shares = (self.server_errors, self.drops, self.truncated, self.non_json, self.rate_limit_storm)
        if any(not 0.0 <= s <= 1.0 for s in shares) or sum(shares) > 1.0 + 1e-9:
            raise ValueError("fault shares must each be within 0..1 and sum to at most 1")
        if self.storm_retry_after < 0:
            raise ValueError("storm_retry_after must be >= 0")
        if self.token_expiry_every is not None and self.token_expiry_every < 1:
            raise ValueError("token_expiry_every must be >= 1 or None")

    @property
    def any(self) -> bool:
        """True when some fault can fire."""
        return bool(
            self.server_errors or self.drops or self.truncated or self.non_json or self.rate_limit_storm
            or self.token_expiry_every or self.forbidden_at
        )


@dataclass(frozen=True)
class Churn:
    """Directory changes while listings are paged: after every `every` user-listing requests,
    `creates` users appear at random places of the listing order, `deletes` active users turn
    deleted and `purges` users vanish from every listing."""

    every: int = 50
    creates: int = 5
    deletes: int = 3
    purges: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.every < 1 or min(self.creates, self.deletes, self.purges) < 0:
            raise ValueError("churn needs every >= 1 and non-negative counts")


@dataclass(frozen=True)
class SandboxConfig:
    """All knobs of a sandbox. Defaults follow the real API where it is known."""

    users: int = 1000
    seed: int = 42
    divisions: int = 6
    groups: int = 40
    clients: tuple[OAuthClient, ...] = field(default_factory=default_clients)
    rate_limit: int | None = 300
    rate_window: float = 60.0
    latency_ms: float = 0
    latency_jitter_ms: float = 0
    invalid_client_status: int = 400
    max_page_size: int = 500
    inactive_cap: int | None = 10_000
    echo_params_in_uris: bool = False
    page_below_one: str = "clamp"
    expired_token_code: str = "bad.credentials"
    prerender: bool = False
    faults: Faults = field(default_factory=Faults)
    churn: Churn | None = None
    # Extras (unconfirmed in the real API, so configurable):
    search_max_page_size: int = 100
    search_default_states: tuple[str, ...] = ("active",)
    max_ids: int = 100
    teams: int = 57
    contacts: int = 1234
    clock: Callable[[], float] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.users <= MAX_USERS:
            raise ValueError(f"users must be within 0..{MAX_USERS:,}")
        if not 1 <= self.divisions <= 250:
            raise ValueError("divisions must be within 1..250")
        if not 0 <= self.groups <= 10_000:
            raise ValueError("groups must be within 0..10000")
        if self.invalid_client_status not in (400, 401):
            raise ValueError("invalid_client_status must be 400 or 401")
        if self.page_below_one not in ("clamp", "error"):
            raise ValueError("page_below_one must be 'clamp' or 'error'")
        if self.expired_token_code not in ("bad.credentials", "credentials.expired"):
            raise ValueError("expired_token_code must be 'bad.credentials' or 'credentials.expired'")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 or None")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be > 0")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency must be >= 0")
        if self.max_page_size < 1 or self.search_max_page_size < 1:
            raise ValueError("page size limits must be >= 1")
        ids = [c.client_id for c in self.clients]
        if len(set(ids)) != len(ids):
            raise ValueError("client ids must be unique")

    def with_overrides(self, **overrides: Any) -> SandboxConfig:
        """A copy with some fields replaced; unknown names raise TypeError."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown SandboxConfig field(s): {', '.join(sorted(unknown))}")
        return replace(self, **overrides)
