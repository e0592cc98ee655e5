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
    permissions: tuple[str, ...] = ("*:*:*",)

    def has_permission(self, permission: str) -> bool:
        """True when one of `permissions` (each `domain:entity:action`, `*` wildcards allowed) grants it."""
        want = permission.split(":")
        for held in self.permissions:
            parts = held.split(":")
            if len(parts) == 3 and all(h == "*" or h == w for h, w in zip(parts, want)):
                return True
        return False


READ_PERMISSIONS = (
    "directory:user:view", "directory:group:view", "authorization:role:view", "authorization:grant:view",
    "authorization:division:view", "authorization:license:view", "routing:queue:view", "routing:skill:view",
    "routing:language:view", "audits:audit:view",
)


def default_clients() -> tuple[OAuthClient, ...]:
    """The demo clients: full view, limited view, a 3-second token lifetime, and `no-queues-client`,
    which holds every read permission of `READ_PERMISSIONS` except `routing:queue:view` (for 403 tests:
    `/routing/queues`, `/routing/queues/{id}/members` and `/users/{id}/queues` refuse it).

    The other clients hold `*:*:*` (everything)."""
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
        OAuthClient("no-queues-client", "no-queues-secret", name="Reader without routing:queue:view",
                    permissions=tuple(p for p in READ_PERMISSIONS if p != "routing:queue:view")),
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
    # Access review (see access.py, access_api.py, audit_api.py). Unconfirmed in the real API, so settings:
    queues: int = 24
    access_max_page_size: int = 500
    """Cap of pageSize on roles, subject grants, group members, queues, /users/{id}/..., license/users
    (no source states one; 500 is what careful clients send)."""
    over_cap: str = "error"
    """An over-cap pageSize on the access routes: "error" (400 invalid.value) or "clamp" (served at the cap)."""
    queue_members_last_next_uri: str = "absent"
    """On the last queue-members page `nextUri` is "absent" (key left out) or "null" (sent as null)."""
    queue_group_ring_number: int = 1
    """ringNumber of queue members who come through a group (unconfirmed; 1 is Terraform's default)."""
    group_members_totals: bool = True
    """Whether /groups/{id}/members fills `total` and `pageCount`."""
    role_users_via_groups: bool = False
    """Whether /roles/{id}/users and `userCount` also count users holding the role only through a group."""
    all_divisions_name: str = "All Divisions"
    """The `name` rendered for the `*` (all divisions) division of a grant; its id is `*`."""
    audit_queued_polls: int = 1
    """How many GET polls an audit query answers `Queued` (the POST itself always answers `Queued`)."""
    audit_running_polls: int = 2
    """How many GET polls it then answers `Running` before its outcome."""
    audit_outcome: str = "Succeeded"
    """The final state of audit queries: "Succeeded", "Failed", "Cancelled", or "never" (stays Running)."""
    audit_last_cursor: str = "absent"
    """How the last audit results page ends: "absent" (no `cursor` key), "empty" ("") or "null"."""
    audit_events_per_day: int = 40
    """Mean number of synthetic audit events per day (eventDates up to the org's now)."""

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
        if not 0 <= self.queues <= 10_000:
            raise ValueError("queues must be within 0..10000")
        if self.over_cap not in ("error", "clamp"):
            raise ValueError("over_cap must be 'error' or 'clamp'")
        if self.queue_members_last_next_uri not in ("absent", "null"):
            raise ValueError("queue_members_last_next_uri must be 'absent' or 'null'")
        if self.audit_outcome not in ("Succeeded", "Failed", "Cancelled", "never"):
            raise ValueError("audit_outcome must be Succeeded, Failed, Cancelled or never")
        if self.audit_last_cursor not in ("absent", "empty", "null"):
            raise ValueError("audit_last_cursor must be 'absent', 'empty' or 'null'")
        if min(self.audit_queued_polls, self.audit_running_polls, self.audit_events_per_day) < 0:
            raise ValueError("audit poll counts and events per day must be >= 0")
        if not 1 <= self.queue_group_ring_number <= 6:
            raise ValueError("queue_group_ring_number must be within 1..6")
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
