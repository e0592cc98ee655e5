"""The user endpoints: argument checks, and the plans that list an org's users.

Users are listed through the cursor endpoint ``GET /api/v2/users/query`` when the OAuth client may use it (it
needs ``directory:user:view`` in all divisions), which returns each user exactly once even while the directory
changes. When that endpoint is missing (404) or forbidden (403) the listing falls back to page numbers on
``GET /api/v2/users``, which can skip or repeat users that are created or removed mid-run: repeats are dropped and
a warning says how many users may have been missed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from ..errors import BadRequest, ConfigError, DeepPagingLimit, GenesysError, NotFound, PermissionDenied
from .._paging.stream import Plan
from .._paging.paginators import CursorPaginator, PageNumberPaginator

__all__ = ["STATES", "EXPANDS", "MAX_PAGE_SIZE", "check_state", "check_expand", "check_page_size", "user_plans",
           "UsersPageNumberPaginator", "INACTIVE_CAP"]

STATES = ("active", "inactive", "deleted", "any")
EXPANDS = ("routingStatus", "presence", "integrationPresence", "conversationSummary", "outOfOffice", "geolocation",
           "station", "authorization", "lasttokenissued", "authorization.unusedRoles", "team", "workPlanBidRanks",
           "externalContactsSettings", "groups", "customAttributes", "profileSkills", "certifications", "locations",
           "skills", "languages", "languagePreference", "employerInfo", "biography", "dateLastLogin",
           "dateWelcomeSent")
MAX_PAGE_SIZE = 500
INACTIVE_CAP = 10_000
STRATEGY_CHOICES = ("auto", "cursor", "pages")
USERS_PATH = "/api/v2/users"
QUERY_PATH = "/api/v2/users/query"


def check_state(state: Any) -> str:
    if not isinstance(state, str) or state.strip().lower() not in STATES:
        raise ConfigError(f"state must be one of {', '.join(STATES)}, not {state!r}. 'any' lists every user; the "
                          f"API's own default, 'active', silently leaves out inactive and deleted users.")
    return state.strip().lower()


def check_expand(expand: Any) -> tuple[str, ...]:
    """Expand values as a tuple, from a tuple/list or a comma-joined string; unknown values raise ConfigError."""
    if expand is None:
        return ()
    if isinstance(expand, str):
        expand = [e for e in expand.split(",")]
    if not isinstance(expand, Iterable):
        raise ConfigError(f"expand must be a list of names such as ('groups', 'skills'), not {expand!r}.")
    lookup = {e.lower(): e for e in EXPANDS}
    out: list[str] = []
    for value in expand:
        name = str(value).strip()
        if not name:
            continue
        canonical = lookup.get(name.lower())
        if canonical is None:
            close = difflib.get_close_matches(name, EXPANDS, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"Unknown expand value {name!r}.{hint} Allowed: {', '.join(EXPANDS)}.")
        if canonical not in out:
            out.append(canonical)
    return tuple(out)


def check_page_size(page_size: Any, *, maximum: int = MAX_PAGE_SIZE) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= maximum:
        raise ConfigError(f"page_size must be a whole number from 1 to {maximum} (the API's maximum), not "
                          f"{page_size!r}. Larger pages mean fewer requests against the rate limit.")
    return page_size


def check_strategy(strategy: Any) -> str:
    if strategy not in STRATEGY_CHOICES:
        raise ConfigError(f"strategy must be one of {', '.join(STRATEGY_CHOICES)}, not {strategy!r}.")
    return strategy


class UsersPageNumberPaginator(PageNumberPaginator):
    """Page numbers on /api/v2/users, explaining the 10,000-record cap on ``state=inactive``."""

    def explain(self, error: GenesysError, position: Any) -> GenesysError:
        page_size = int(self.params.get("pageSize", 25))
        if isinstance(error, BadRequest) and self.params.get("state") == "inactive" and int(position) > 1:
            reached = (int(position) - 1) * page_size
            return DeepPagingLimit(
                f"Genesys refused page {position} of inactive users (records from {reached:,} on) with page numbers "
                f"(GET {USERS_PATH}): it caps state=inactive paging at {INACTIVE_CAP:,} records, although its "
                f"pageCount counts more. The records past the cap are reachable only through the cursor endpoint "
                f"{QUERY_PATH}: use strategy='auto' or 'cursor', with an OAuth client that has directory:user:view "
                f"in all divisions. The first {reached:,} records were returned.",
                status=error.status, code=error.code, api_message=error.api_message,
                correlation_id=error.correlation_id, url=error.url)
        return error


def _fallback_reason(error: GenesysError) -> str:
    if isinstance(error, PermissionDenied):
        why = "is forbidden to this OAuth client (it needs directory:user:view in all divisions)"
    else:
        why = "is not available in this org"
    return (f"The cursor endpoint {QUERY_PATH} {why}; listing with page numbers on {USERS_PATH} instead, which can "
            f"skip or repeat users created or removed during the run.")


def user_plans(strategy: str, *, state: str, expand: tuple[str, ...], page_size: int,
               sort_order: str | None = None) -> list[Plan]:
    """The plans for a users listing: cursor first, page numbers as the fallback (or just one, if forced)."""
    params: dict[str, Any] = {"pageSize": page_size, "state": state}
    if expand:
        params["expand"] = ",".join(expand)
    if sort_order:
        params["sortOrder"] = sort_order
    cursor = Plan(CursorPaginator(QUERY_PATH, params, items_key="entities"),
                  fall_back_on=(NotFound, PermissionDenied), why=_fallback_reason)
    pages = Plan(UsersPageNumberPaginator(USERS_PATH, params, items_key="entities"))
    if strategy == "cursor":
        return [Plan(cursor.paginator)]
    if strategy == "pages":
        return [pages]
    return [cursor, pages]
