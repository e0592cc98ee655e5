"""Findings and diff of two 50,000-user snapshots (target: under 5 s together).

Writes two synthetic snapshot folders of one org (a quarter apart, with random churn in every table) into a
temporary folder, then times ``gnb.findings(new)`` and ``gnb.diff(old, new)``. Exit status 1 when over target.
The R1 row of ``make bench`` runs this script; with ``BENCH_RESULT`` set it also writes its figures there as JSON.

    .venv/bin/python benchmarks/review_speed.py [--users 50000] [--target-s 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

import genesys_nb as gnb
from genesys_nb.snapshot import Manifest, OrgRef, TableEntry
from genesys_nb.snapshot.tables import MANIFEST_FILE, TABLES, table_file

UTC = dt.timezone.utc
ROLES = [("r-emp", "employee", "employee", ["directory:user:view"]), ("r-admin", "Master Admin", None, ["*:*:*"]),
         ("r-agent", "Agent", None, ["routing:queue:view"])]


def _conform(name: str, df: pl.DataFrame) -> pl.DataFrame:
    return df.select([pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c)
                      for c, t in TABLES[name].items()])


def _tables(n: int, seed: int, finished: dt.datetime) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    ids = [f"u{i:06d}" for i in range(n)]

    def pick(k: int) -> list[str]:
        return [ids[rng.randrange(n)] for _ in range(k)]

    users = pl.DataFrame({"id": ids, "name": [f"User {i}" for i in range(n)],
                          "email": [f"user{i % (n - 50)}@example.test" for i in range(n)],
                          "state": [rng.choice(["active"] * 8 + ["inactive", "deleted"]) for _ in ids],
                          "title": [rng.choice(["Agent", "Lead"]) for _ in ids], "manager_id": pick(n),
                          "division_id": [rng.choice(["d1", "d2"]) for _ in ids],
                          "date_last_login": [finished - dt.timedelta(days=rng.randrange(400)) for _ in ids]})
    roles = pl.DataFrame(ROLES, schema=["role_id", "name", "default_role_id", "permissions"], orient="row")
    user_roles = pl.DataFrame({"user_id": pick(4 * n), "role_id": [rng.choice(ROLES)[0] for _ in range(4 * n)],
                               "division_id": [rng.choice(["d1", "d2", "*"]) for _ in range(4 * n)],
                               "via": [rng.choice(["direct", "direct", "g1", "g2"]) for _ in range(4 * n)]})
    return {"users": users, "roles": roles, "user_roles": user_roles.unique(),
            "group_members": pl.DataFrame({"group_id": [f"g{rng.randrange(200)}" for _ in range(2 * n)],
                                           "user_id": pick(2 * n)}).unique(),
            "queue_members": pl.DataFrame({"queue_id": [f"q{rng.randrange(300)}" for _ in range(2 * n)],
                                           "user_id": pick(2 * n)}).unique(),
            "user_licenses": pl.DataFrame({"user_id": pick(n), "license_id": "cloudCX1"}).unique()}


def _write(folder: Path, n: int, seed: int, finished: dt.datetime) -> Path:
    folder.mkdir(parents=True)
    entries = {}
    for name, df in _tables(n, seed, finished).items():
        df = _conform(name, df)
        df.write_parquet(folder / table_file(name))
        entries[name] = TableEntry.complete(name, df.height, api_total=df.height)
    manifest = Manifest(org=OrgRef("org-bench", "Bench"), started=finished - dt.timedelta(minutes=5),
                        finished=finished, tables=entries, tool_version=gnb.__version__)
    (folder / MANIFEST_FILE).write_text(manifest.to_json())
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--target-s", type=float, default=5.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        q3 = dt.datetime(2026, 9, 30, tzinfo=UTC)
        old = _write(Path(tmp) / "old", args.users, 1, q3 - dt.timedelta(days=91))
        new = _write(Path(tmp) / "new", args.users, 2, q3)
        start = time.perf_counter()
        found = gnb.findings(new)
        middle = time.perf_counter()
        changes = gnb.diff(old, new)
        end = time.perf_counter()
    total = end - start
    verdict = "PASS" if total < args.target_s else "MISS"
    print(f"review R1: {args.users:,} users: findings {middle - start:.2f} s ({found.height:,} rows), diff "
          f"{end - middle:.2f} s ({sum(changes.summary().values()):,} rows), together {total:.2f} s "
          f"(goal < {args.target_s:g} s) {verdict}")
    if os.environ.get("BENCH_RESULT"):
        Path(os.environ["BENCH_RESULT"]).write_text(json.dumps(
            {"records": args.users, "seconds": total, "findings_s": middle - start, "diff_s": end - middle,
             "findings": found.height, "changes": sum(changes.summary().values())}))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
