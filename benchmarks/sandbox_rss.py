"""Peak RSS of a 1,000,000-user sandbox serving a full page-through over HTTP (target: < 200 MB).

Starts `python -m genesys_nb.sandbox --users N --port 0 --rate-limit off` in a subprocess, pages
through every user (`state=any`, pageSize 500) over loopback HTTP, samples the server's RSS with
psutil throughout, and prints the peak against the target. Exit status 1 when over target.

    .venv/bin/python benchmarks/sandbox_rss.py [--users 1000000] [--page-size 500] [--target-mb 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

import httpx
import psutil


def _start(users: int) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "genesys_nb.sandbox", "--users", str(users), "--port", "0", "--rate-limit", "off"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Sandbox URL:"):
            return proc, line.split(":", 1)[1].strip()
    proc.kill()
    raise RuntimeError("the sandbox did not print its URL")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the peak RSS; 0 when under target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--page-size", type=int, default=500)
    ap.add_argument("--target-mb", type=float, default=200.0)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    proc, url = _start(args.users)
    server = psutil.Process(proc.pid)
    peak = [server.memory_info().rss]
    started_rss = peak[0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], server.memory_info().rss)
            except psutil.Error:
                return
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    users = pages = 0
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            r = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("sandbox-client", "sandbox-secret"))
            r.raise_for_status()
            http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
            t1 = time.perf_counter()
            number = 1
            while True:
                r = http.get("/api/v2/users", params={"pageSize": args.page_size, "pageNumber": number,
                                                      "state": "any"})
                r.raise_for_status()
                body = r.json()
                users += len(body["entities"])
                pages += 1
                if not body.get("nextUri"):
                    break
                number += 1
            paging_s = time.perf_counter() - t1
    finally:
        done.set()
        sampler.join()
        peak[0] = max(peak[0], server.memory_info().rss) if server.is_running() else peak[0]
        proc.terminate()
        proc.wait(timeout=10)

    peak_mb = peak[0] / 2**20
    ok = peak_mb < args.target_mb and users == args.users
    print(f"users served:        {users:,} in {pages:,} pages of {args.page_size}")
    print(f"startup + paging:    {time.perf_counter() - t0:.1f} s (paging {paging_s:.1f} s, "
          f"{1000 * paging_s / max(pages, 1):.1f} ms/page incl. client parse)")
    print(f"server RSS at start: {started_rss / 2**20:.1f} MB")
    print(f"server peak RSS:     {peak_mb:.1f} MB (target < {args.target_mb:.0f} MB) -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
