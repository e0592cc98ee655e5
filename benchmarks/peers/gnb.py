"""genesys-nb's benchmark row: list every user into a frame, a file, or just a count; run by the project's .venv.

Over HTTP it reads ``GENESYS_BASE_URL``. With ``--in-process N`` it builds the sandbox in this process with
pre-rendered pages instead (S3: CPU only), and also measures the ``orjson.loads``-only ceiling on the very bodies
that sandbox serves. The result (records, timed seconds, the client's own counters) goes to ``BENCH_RESULT`` as
JSON; the harness measures the process's wall time and peak RSS from outside.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

T_START = time.monotonic()
import orjson  # noqa: E402

import genesys_nb as gnb  # noqa: E402
import genesys_nb.export.orchestrate  # noqa: E402,F401  (imported up front, as the peers import pandas before timing)
import genesys_nb._tables.frames  # noqa: E402,F401
import pandas  # noqa: E402,F401  (pyarrow imports it on the first conversion: keep that out of the timing)

from bench_common import BASE, CLIENT_ID, CLIENT_SECRET, PAGE_SIZE, write_result  # noqa: E402

SANDBOX_API = "http://api.sandbox.localhost"


def consume(stream: Any, sink: str, out: Path | None) -> int:
    """Drain the stream into the sink; returns the number of users."""
    if sink == "count":
        return sum(1 for _ in stream)
    if sink == "frame":
        return stream.to_polars().height
    if out is None:
        raise SystemExit("--out is needed for file sinks")
    write = stream.to_parquet if sink == "parquet" else stream.to_ndjson
    return write(out, overwrite=True).rows


def ceiling(transport: Any, page_size: int, repeat: int) -> dict[str, float]:
    """The parse-only ceiling on the very bodies the sandbox serves: fetch the cursor pages raw (a plain httpx loop,
    also timed: the floor of serving plus parsing), then time ``orjson.loads`` alone on them. The two alternate,
    ``repeat`` times each, and the best of each counts, so a burst of other work on the machine hits neither alone."""
    import httpx

    http = httpx.Client(transport=transport, base_url=SANDBOX_API)
    token = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                            "client_secret": CLIENT_SECRET}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def fetch() -> list[bytes]:
        bodies: list[bytes] = []
        params: dict[str, Any] = {"pageSize": page_size, "state": "any"}
        while True:
            r = http.get("/api/v2/users/query", params=params, headers=headers)
            r.raise_for_status()
            bodies.append(r.content)
            cursor = orjson.loads(r.content).get("cursor")
            if not cursor:
                return bodies
            params = {**params, "cursor": cursor}

    fetch_best = parse_best = float("inf")
    users = nbytes = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        bodies = fetch()
        fetch_best = min(fetch_best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        users = sum(len(orjson.loads(b)["entities"]) for b in bodies)
        parse_best = min(parse_best, time.perf_counter() - t0)
        nbytes = sum(map(len, bodies))
        del bodies
    return {"ceiling_users": users, "ceiling_s": parse_best, "floor_s": fetch_best, "ceiling_bytes": nbytes}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--strategy", default="auto", choices=("auto", "cursor", "pages"))
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--page-size", type=int, default=PAGE_SIZE)
    p.add_argument("--sink", default="frame", choices=("frame", "count", "parquet", "ndjson"))
    p.add_argument("--out", type=Path)
    p.add_argument("--in-process", type=int, metavar="USERS", help="serve USERS from an in-process sandbox")
    p.add_argument("--no-pace", action="store_true", help="connect(pace=False): for a sandbox with no rate limit")
    p.add_argument("--repeat", type=int, default=1, help="list this many times and report the best")
    a = p.parse_args(argv)
    extra: dict[str, Any] = {}
    sb = None
    if a.in_process:
        from genesys_nb.sandbox import Sandbox

        t0 = time.perf_counter()
        sb = Sandbox(users=a.in_process, prerender=True, rate_limit=None, latency_ms=0)  # renders every page now
        extra["prerender_s"] = time.perf_counter() - t0
        # The sandbox's cache of rendered pages is no part of a client's heap: keep it out of the cyclic GC's
        # passes, which would otherwise slow every allocation-heavy step here (the ceiling's too) several fold.
        gc.collect()
        gc.freeze()
        client = gnb.connect(api_url=SANDBOX_API, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                             transport=sb.transport(), pace=False)
    else:
        client = gnb.connect(api_url=BASE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, pace=not a.no_pace)
    import_s = time.monotonic() - T_START
    times: list[float] = []
    with client:
        for _ in range(a.repeat):  # a fresh stream each time; the best run is the row's figure
            t0 = time.perf_counter()
            stream = client.users(state="any", page_size=a.page_size, strategy=a.strategy,
                                  concurrency=a.concurrency)
            records = consume(stream, a.sink, a.out)
            times.append(time.perf_counter() - t0)
        if sb is not None:
            extra.update(ceiling(sb.transport(), a.page_size, a.repeat))
        extra.update(stats=stream.stats.as_dict(), client=client.stats, governor_waits=client.governor.waits,
                     governor_waited_s=round(client.governor.waited, 3), runs_s=times)
        seconds = min(times)
    if a.out is not None and a.out.exists():
        extra["out_bytes"] = a.out.stat().st_size
    write_result(records, seconds, import_s, **extra)


if __name__ == "__main__":
    sys.exit(main())
