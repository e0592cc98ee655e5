"""Many orgs at once (S6): the same users listing across 4 sandbox orgs, one after another and with ``gnb.across``.

Each org is its own sandbox with its own rate limit, as Genesys Cloud gives each org (each token) its own. The
limit is 300 requests a minute expressed as 30 per 6 s window, so that every org is rate-bound within a short run
(a 60 s window would let a 100-request listing burst through in one window and never wait). A run across orgs
should take about as long as the slowest org alone (goal: within 1.2x), not the sum.

In ``make bench`` (``python -m benchmarks --only S6``) the harness serves each org from its own sandbox process and
passes their URLs with ``--urls``; standalone (``python benchmarks/across.py``) serves them from this process.
With ``BENCH_RESULT`` set, the figures are also written there as JSON for the harness.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's genesys_nb, run from anywhere
os.environ.setdefault("TQDM_DISABLE", "1")

import genesys_nb as gnb  # noqa: E402

GOAL = 1.2
RATE = (30, 6.0)  # 300 requests a minute, in windows short enough to bind within the run
PAGE_SIZE = 100
CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}


def org_specs(orgs: int, users: int, latency_ms: float) -> dict[str, dict]:
    """One in-process sandbox org per seed, served over HTTP, each with its own rate limit."""
    return {f"org-{seed}": {"sandbox": {"seed": seed, "users": users, "latency_ms": latency_ms, "http": True,
                                        "rate_limit": RATE[0], "rate_window": RATE[1]}}
            for seed in range(1, orgs + 1)}


def url_specs(urls: list[str]) -> dict[str, dict]:
    """Orgs already served elsewhere (the harness's sandbox processes), one per URL."""
    return {f"org-{i}": {"api_url": url, **CLIENT} for i, url in enumerate(urls, start=1)}


def listing(client: gnb.Client) -> int:
    """The users listing every org runs: the exact cursor listing of every user, 100 a page, into a polars frame."""
    return client.users(state="any", page_size=PAGE_SIZE).to_polars().height


def sequential(specs: dict[str, dict]) -> tuple[float, dict[str, float], dict[str, int]]:
    """Each org after the other: the whole wall time, each org's time and rows."""
    times, rows = {}, {}
    started = time.perf_counter()
    for org, spec in specs.items():
        t0 = time.perf_counter()
        with gnb.connect(**spec) as client:
            rows[org] = listing(client)
        times[org] = time.perf_counter() - t0
    return time.perf_counter() - started, times, rows


def concurrent(specs: dict[str, dict]) -> tuple[float, dict[str, float], dict[str, int]]:
    """Every org at once with ``gnb.across``: the whole wall time, each org's time and rows."""
    t0 = time.perf_counter()
    result = gnb.across(specs, listing, progress=False)
    wall = time.perf_counter() - t0
    result.raise_errors()
    return wall, dict(result.seconds), dict(result.results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, default=4, help="sandbox orgs (default 4)")
    parser.add_argument("--users", type=int, default=10_000, help="users per org (default 10000: 100 requests)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="sandbox latency per request (default 50)")
    parser.add_argument("--urls", default="", help="comma-separated URLs of sandboxes already serving")
    parser.add_argument("--urls-from-env", action="store_true",
                        help="take those URLs from GENESYS_BASE_URL (how the harness passes its sandboxes)")
    parser.add_argument("--mode", choices=("both", "sequential", "across"), default="both")
    args = parser.parse_args(argv)
    given = os.environ.get("GENESYS_BASE_URL", "") if args.urls_from_env else args.urls
    urls = [u for u in given.split(",") if u]
    specs = url_specs(urls) if urls else org_specs(args.orgs, args.users, args.latency_ms)
    out: dict[str, dict] = {}
    if args.mode in ("both", "sequential"):
        wall, times, rows = sequential(specs)
        out["sequential"] = {"wall_s": wall, "org_s": times, "rows": rows}
    if args.mode in ("both", "across"):
        wall, times, rows = concurrent(specs)
        out["across"] = {"wall_s": wall, "org_s": times, "rows": rows}
    if os.environ.get("BENCH_RESULT"):
        main_run = out.get("across") or out["sequential"]
        Path(os.environ["BENCH_RESULT"]).write_text(json.dumps(
            {"records": sum(main_run["rows"].values()), "seconds": main_run["wall_s"], **out}))
    if args.mode != "both":
        return 0
    seq, acr = out["sequential"], out["across"]
    if seq["rows"] != acr["rows"]:
        print(f"row counts differ: sequential {seq['rows']}, across {acr['rows']}", file=sys.stderr)
        return 1
    slowest_org = max(seq["org_s"], key=seq["org_s"].get)
    slowest = seq["org_s"][slowest_org]
    ratio = acr["wall_s"] / slowest
    print(f"{len(specs)} sandbox orgs over HTTP, {args.users:,} users each, {RATE[0]} requests per {RATE[1]:g} s "
          f"per org (300 a minute), {args.latency_ms:g} ms latency")
    print("| run | wall s |")
    print("|---|---:|")
    print(f"| sequential (sum of {len(specs)} orgs) | {seq['wall_s']:.1f} |")
    print(f"| slowest single org ({slowest_org}) | {slowest:.1f} |")
    print(f"| gnb.across, {len(specs)} orgs at once | {acr['wall_s']:.1f} |")
    verdict = "met" if ratio <= GOAL else "MISSED"
    print(f"across / slowest single org: {ratio:.2f} (goal <= {GOAL}: {verdict}); "
          f"sequential / across: {seq['wall_s'] / acr['wall_s']:.1f}x")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
