"""Run in a subprocess by test_sdk_fidelity.py: drive the sandbox with the official SDK.

Usage: python sdk_pager.py BASE_URL CLIENT_ID SECRET -> prints one JSON line with the ids seen by
`get_users` (page numbers) and `get_users_query` (cursors), both with state=any, plus a few
model-compatibility checks (every expand parses, search + q64 replay, 403 and token errors).
"""

from __future__ import annotations

import json
import sys
from urllib.parse import unquote

try:
    import PureCloudPlatformClientV2 as pc
except ImportError as e:  # the test turns this into a failure with an install hint
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)

ALL_EXPANDS = ["routingStatus", "presence", "authorization", "lasttokenissued", "groups", "profileSkills",
               "certifications", "locations", "skills", "languages", "languagePreference", "employerInfo",
               "biography", "dateLastLogin", "dateWelcomeSent"]


def page_users(users_api: pc.UsersApi) -> tuple[list[str], int]:
    """get_users(page_size=500, page_number=n, state="any") until nextUri is gone."""
    ids, number = [], 1
    while True:
        listing = users_api.get_users(page_size=500, page_number=number, state="any")
        ids += [u.id for u in listing.entities or []]
        if not listing.next_uri:
            return ids, number
        number += 1


def page_query(users_api: pc.UsersApi) -> list[str]:
    """get_users_query(page_size=500, cursor=..., state="any") until the cursor is gone."""
    ids, cursor = [], None
    while True:
        kwargs = {"page_size": 500, "state": "any"}
        if cursor:
            kwargs["cursor"] = cursor
        page = users_api.get_users_query(**kwargs)
        ids += [u.id for u in page.entities or []]
        cursor = page.cursor
        if not cursor:
            return ids


def extras(base: str, users_api: pc.UsersApi, client_id: str) -> dict:
    """Every expand deserializes; search and its q64 replay work; errors come back as ApiException."""
    listing = users_api.get_users(page_size=50, expand=ALL_EXPANDS, state="any")
    expanded_ok = all(u.division.name and u.authorization is not None for u in listing.entities)
    expanded_ok &= any(u.date_last_login is not None and u.date_last_login.year > 2000 for u in listing.entities)
    expanded_ok &= users_api.get_user(listing.entities[0].id).id == listing.entities[0].id
    crit = pc.UserSearchCriteria()
    crit.type, crit.fields, crit.value = "CONTAINS", ["name"], "a"
    body = pc.UserSearchRequest()
    body.query, body.page_size = [crit], 10
    found = users_api.post_users_search(body)
    replay = users_api.get_users_search(unquote(found.next_page.split("q64=", 1)[1]))
    expanded_ok &= replay.page_number == 2 and len(replay.results) == 10
    limited = pc.UsersApi(pc.ApiClient(host=base).get_client_credentials_token("limited-client", "limited-secret"))
    try:
        limited.get_users_query()
        limited_status = 200
    except pc.rest.ApiException as e:
        limited_status = e.status
    try:
        pc.ApiClient(host=base).get_client_credentials_token(client_id, "wrong-secret")
        bad_status = 200
    except pc.rest.ApiException as e:
        bad_status = e.status
    return {"expanded_ok": bool(expanded_ok), "search_total": found.total, "limited_query_status": limited_status,
            "bad_secret_status": bad_status}


def main(base: str, client_id: str, secret: str) -> dict:
    pc.configuration.live_reload_config = False
    api_client = pc.ApiClient(host=base).get_client_credentials_token(client_id, secret)
    users_api = pc.UsersApi(api_client)
    users, pages = page_users(users_api)
    return {"users": users, "pages": pages, "query": page_query(users_api), **extras(base, users_api, client_id)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
