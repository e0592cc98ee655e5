"""dlt, concurrent: page 1 for ``pageCount``, then a parallelized transformer per ``pageNumber``, into pandas.

The best effort with the generic tool: our own fan-out over dlt's default 5 extract workers (so dlt no longer
pages by itself). Runs in ``.bench/venvs/dlt``.
"""

from __future__ import annotations

import os
import time

T_START = time.monotonic()
import dlt  # noqa: E402
import pandas as pd  # noqa: E402

from bench_common import PAGE_SIZE, write_result  # noqa: E402
from dlt_seq import rest_client  # noqa: E402


def main() -> None:
    import_s = time.monotonic() - T_START
    t0 = time.perf_counter()
    client = rest_client()
    params = {"pageSize": PAGE_SIZE, "state": "any"}

    @dlt.resource(name="page_numbers", selected=False)
    def page_numbers():
        first = client.get("/api/v2/users", params={**params, "pageNumber": 1}).json()
        yield from ({"n": n, "first": first if n == 1 else None} for n in range(1, first["pageCount"] + 1))

    @dlt.transformer(data_from=page_numbers, name="users", parallelized=True)
    def users(item):
        if item["first"] is not None:
            return item["first"]["entities"]
        r = client.get("/api/v2/users", params={**params, "pageNumber": item["n"]})
        r.raise_for_status()
        return r.json()["entities"]

    df = pd.DataFrame(list(users))
    write_result(len(df), time.perf_counter() - t0, import_s, workers=int(os.environ.get("EXTRACT__WORKERS", "5")))


if __name__ == "__main__":
    main()
