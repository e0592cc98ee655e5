"""The floor of this machine's HTTP stack: plain httpx + ``orjson.loads``, no toolkit, records only counted.

``--threads 1`` follows the cursor endpoint one page after another; ``--threads N`` reads page 1 of the page-number
listing for ``pageCount``, then keeps N requests in flight (as genesys-nb's ``concurrency=N`` does). Its distance
to genesys-nb's counted-only rows is the toolkit's own overhead; its distance to pages × latency is what the
sandbox, loopback HTTP and parsing cost on these two shared cores. Runs in the project's ``.venv``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

T_START = time.monotonic()
import httpx  # noqa: E402
import orjson  # noqa: E402

from bench_common import BASE, CLIENT_ID, CLIENT_SECRET, PAGE_SIZE, write_result  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    import_s = time.monotonic() - T_START
    t0 = time.perf_counter()
    http = httpx.Client(base_url=BASE, limits=httpx.Limits(max_connections=64), timeout=60)
    token = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                            "client_secret": CLIENT_SECRET}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str, params: dict[str, Any]) -> dict:
        r = http.get(path, params=params, headers=headers)
        r.raise_for_status()
        return orjson.loads(r.content)

    params: dict[str, Any] = {"pageSize": PAGE_SIZE, "state": "any"}
    records = 0
    if a.threads <= 1:
        while True:
            body = get("/api/v2/users/query", params)
            records += len(body["entities"])
            if not body.get("cursor"):
                break
            params = {**params, "cursor": body["cursor"]}
    else:
        first = get("/api/v2/users", {**params, "pageNumber": 1})
        records = len(first["entities"])
        with ThreadPoolExecutor(a.threads) as pool:
            pages = pool.map(lambda n: get("/api/v2/users", {**params, "pageNumber": n}),
                             range(2, int(first["pageCount"]) + 1))
            records += sum(len(body["entities"]) for body in pages)
    write_result(records, time.perf_counter() - t0, import_s, threads=a.threads)


if __name__ == "__main__":
    main()
