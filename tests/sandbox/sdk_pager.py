"""Run in a subprocess by test_sdk_fidelity.py: page the sandbox with the official SDK.

Usage: python sdk_pager.py BASE_URL CLIENT_ID SECRET  -> prints {"users": [...], "query": [...]} as JSON.
"""

from __future__ import annotations

import json
import sys

try:
    import PureCloudPlatformClientV2 as pc
except ImportError as e:  # the test turns this into a failure with a hint
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def main(base: str, client_id: str, secret: str) -> dict:
    """Page /api/v2/users by page number and /api/v2/users/query by cursor, state=any, to the end."""
    pc.configuration.live_reload_config = False
    api_client = pc.ApiClient(host=base).get_client_credentials_token(client_id, secret)
    users_api = pc.UsersApi(api_client)
    by_number, number = [], 1
    while True:
        listing = users_api.get_users(page_size=500, page_number=number, state="any")
        by_number += [u.id for u in listing.entities or []]
        if not listing.next_uri:
            break
        number += 1
    by_cursor, cursor = [], None
    while True:
        kwargs = {"page_size": 500, "state": "any"}
        if cursor:
            kwargs["cursor"] = cursor
        page = users_api.get_users_query(**kwargs)
        by_cursor += [u.id for u in page.entities or []]
        cursor = page.cursor
        if not cursor:
            break
    return {"users": by_number, "query": by_cursor, "pages": number}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
