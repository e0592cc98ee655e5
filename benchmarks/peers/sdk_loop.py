"""The official SDK (PureCloudPlatformClientV2) ``get_users`` loop into pandas: what most public scripts do.

Runs in ``.bench/venvs/sdk``; the SDK derives its login host from the API host. urllib3 under the SDK retries
429s with ``Retry-After`` silently, so the harness counts requests and 429s at the sandbox.
"""

from __future__ import annotations

import time

T_START = time.monotonic()
import pandas as pd  # noqa: E402
import PureCloudPlatformClientV2 as pc  # noqa: E402

from bench_common import BASE, CLIENT_ID, CLIENT_SECRET, PAGE_SIZE, write_result  # noqa: E402


def main() -> None:
    import_s = time.monotonic() - T_START
    t0 = time.perf_counter()
    pc.configuration.host = BASE
    api = pc.UsersApi(pc.api_client.ApiClient().get_client_credentials_token(CLIENT_ID, CLIENT_SECRET))
    rows, page = [], 1
    while True:
        resp = api.get_users(page_size=PAGE_SIZE, page_number=page, state="any")
        rows += [u.to_dict() for u in resp.entities or []]
        if not resp.next_uri:
            break
        page += 1
    df = pd.DataFrame(rows)
    write_result(len(df), time.perf_counter() - t0, import_s, pages=page)


if __name__ == "__main__":
    main()
