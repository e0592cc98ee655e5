"""dlt, sequential: ``RESTClient`` following ``nextUri`` (the baseline a competent analyst writes), into pandas.

Runs in ``.bench/venvs/dlt``; the harness measures wall time, peak RSS, requests and 429s from outside.
"""

from __future__ import annotations

import time

T_START = time.monotonic()
import pandas as pd  # noqa: E402
from dlt.sources.helpers.rest_client import RESTClient  # noqa: E402
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials  # noqa: E402
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator  # noqa: E402

from bench_common import BASE, CLIENT_ID, CLIENT_SECRET, PAGE_SIZE, write_result  # noqa: E402


def rest_client(**kw) -> RESTClient:
    """dlt's REST client on the sandbox, with OAuth client credentials sent as form fields (dlt's way)."""
    auth = OAuth2ClientCredentials(access_token_url=f"{BASE}/oauth/token", client_id=CLIENT_ID,
                                   client_secret=CLIENT_SECRET)
    return RESTClient(base_url=BASE, auth=auth, **kw)


def main() -> None:
    import_s = time.monotonic() - T_START
    t0 = time.perf_counter()
    client = rest_client(data_selector="entities", paginator=JSONLinkPaginator(next_url_path="nextUri"))
    pages = client.paginate("/api/v2/users", params={"pageSize": PAGE_SIZE, "state": "any"})
    df = pd.DataFrame([record for page in pages for record in page])
    write_result(len(df), time.perf_counter() - t0, import_s)


if __name__ == "__main__":
    main()
