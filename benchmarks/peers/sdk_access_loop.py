"""The access loop a user writes today with the official SDK: list the users, then for each user
``AuthorizationApi.get_authorization_subject`` (roles and divisions) and ``UsersApi.get_user_queues`` (queues, every
page). Runs in ``.bench/venvs/sdk``.

At 300 requests a minute the loop needs hours for a 50,000-user org, so it runs on the first ``BENCH_SAMPLE_USERS``
users (one page of the users listing) and reports its own request count; the harness extrapolates the time to the
whole org by request count. urllib3 under the SDK retries 429s with ``Retry-After`` silently, so the harness counts
requests and 429s at the sandbox.
"""

from __future__ import annotations

import os
import time

T_START = time.monotonic()
import PureCloudPlatformClientV2 as pc  # noqa: E402

from bench_common import BASE, CLIENT_ID, CLIENT_SECRET, write_result  # noqa: E402

SAMPLE = int(os.environ.get("BENCH_SAMPLE_USERS", "500"))
QUEUE_PAGE = 100


def main() -> None:
    import_s = time.monotonic() - T_START
    t0 = time.perf_counter()
    pc.configuration.host = BASE
    client = pc.api_client.ApiClient().get_client_credentials_token(CLIENT_ID, CLIENT_SECRET)
    users_api, authz = pc.UsersApi(client), pc.AuthorizationApi(client)
    listing = users_api.get_users(page_size=SAMPLE, page_number=1, state="any")
    users = listing.entities or []
    requests, grants, memberships = 1, 0, 0
    for user in users:
        subject = authz.get_authorization_subject(user.id)
        requests += 1
        grants += len(subject.grants or [])
        page = 1
        while True:
            queues = users_api.get_user_queues(user.id, page_size=QUEUE_PAGE, page_number=page)
            requests += 1
            memberships += len(queues.entities or [])
            if not queues.next_uri:
                break
            page += 1
    write_result(len(users), time.perf_counter() - t0, import_s, requests=requests, grants=grants,
                 queue_memberships=memberships, org_users=listing.total)


if __name__ == "__main__":
    main()
