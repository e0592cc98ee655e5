"""Many orgs at once: the same users listing across 4 sandbox orgs, one after another and with ``gnb.across``.

Each org is its own sandbox served over loopback HTTP, with its own 300-requests-a-minute limit and a 50 ms
latency, as Genesys Cloud gives each org its own limit. A run across orgs should take about as long as the
slowest org alone (goal: within 1.2x), not the sum. Standalone: ``python benchmarks/across.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's genesys_nb, run from anywhere
os.environ.setdefault("TQDM_DISABLE", "1")

import genesys_nb as gnb  # noqa: E402

GOAL = 1.2


def org_specs(orgs: int, users: int, latency_ms: float) -> dict[str, dict]:
    """One sandbox org per seed, each with the API's default limit of 300 requests a minute per token."""
    return {f"org-{seed}": {"sandbox": {"seed": seed, "users": users, "latency_ms": latency_ms, "http": True,
                                        "rate_limit": 300, "rate_window": 60.0}}
            for seed in range(1, orgs + 1)}


def listing(client: gnb.Client) -> int:
    """The users listing every org runs: the exact cursor listing, 100 users a page, into a polars frame."""
    return client.users(page_size=100).to_polars().height


def sequential(specs: dict[str, dict]) -> tuple[float, dict[str, float], dict[str, int]]:
    times, rows = {}, {}
    started = time.perf_counter()
    for org, spec in specs.items():
        t0 = time.perf_counter()
        with gnb.connect(**spec) as client:
            rows[org] = listing(client)
        times[org] = time.perf_counter() - t0
    return time.perf_counter() - started, times, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, default=4, help="sandbox orgs (default 4)")
    parser.add_argument("--users", type=int, default=15_000, help="users per org (default 15000: 150 requests)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="sandbox latency per request (default 50)")
    args = parser.parse_args(argv)
    specs = org_specs(args.orgs, args.users, args.latency_ms)

    seq_wall, seq_times, seq_rows = sequential(specs)
    t0 = time.perf_counter()
    result = gnb.across(specs, listing, progress=False)
    across_wall = time.perf_counter() - t0
    result.raise_errors()
    if result.results != seq_rows:
        print(f"row counts differ: sequential {seq_rows}, across {result.results}", file=sys.stderr)
        return 1
    slowest_org = max(seq_times, key=seq_times.get)
    slowest = seq_times[slowest_org]
    ratio = across_wall / slowest
    requests = -(-args.users // 100)
    print(f"{args.orgs} sandbox orgs over HTTP, {args.users:,} users each ({requests} requests a listing), "
          f"300 requests/min per org, {args.latency_ms:g} ms latency")
    print(f"| run | wall s |")
    print(f"|---|---:|")
    print(f"| sequential (sum of {args.orgs} orgs) | {seq_wall:.1f} |")
    print(f"| slowest single org ({slowest_org}) | {slowest:.1f} |")
    print(f"| gnb.across, {args.orgs} orgs at once | {across_wall:.1f} |")
    verdict = "met" if ratio <= GOAL else "MISSED"
    print(f"across / slowest single org: {ratio:.2f} (goal <= {GOAL}: {verdict}); "
          f"sequential / across: {seq_wall / across_wall:.1f}x")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
