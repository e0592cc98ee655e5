"""The main job on the sandbox, as ``make demo`` runs it: export a synthetic org's users and summarise them.

Starts the sandbox over loopback HTTP (with a realistic latency and the real 300-requests-a-minute limit), exports
every user to Parquet and NDJSON with progress bars, and prints users per state and division and where the files are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

import genesys_nb as gnb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesys_nb.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000, help="size of the synthetic org (default 50,000)")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="sandbox latency per request (default 30)")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="folder for the files")
    args = parser.parse_args(argv)

    settings = {"users": args.users, "latency_ms": args.latency_ms, "http": True}
    with gnb.connect(sandbox=settings) as client:
        org = client.organization()
        print(f"Sandbox org {org.get('name')!r}: {args.users:,} users at {client.hosts.api_url} "
              f"(cursor endpoint allowed: {client.can_use_cursor()})")
        args.out.mkdir(parents=True, exist_ok=True)
        parquet = client.users(expand=("dateLastLogin",)).to_parquet(args.out / "users.parquet", overwrite=True)
        ndjson = client.users().to_ndjson(args.out / "users.ndjson", overwrite=True)
        print(f"Parquet: {parquet}")
        print(f"NDJSON:  {ndjson}")

    frame = pl.read_parquet(parquet.path)
    table = (frame.group_by("division_name", "state").len()
             .pivot(on="state", index="division_name", values="len")
             .fill_null(0).sort("division_name"))
    states = [s for s in ("active", "inactive", "deleted") if s in table.columns]
    table = table.select("division_name", *states).with_columns(total=pl.sum_horizontal(states))
    with pl.Config(tbl_rows=50, tbl_hide_dataframe_shape=True, tbl_formatting="ASCII_MARKDOWN"):
        print("\nUsers per division and state:")
        print(table)
    never = frame.filter(pl.col("state").eq("active") & pl.col("date_last_login").is_null()).height
    print(f"\nActive users who never logged in: {never:,}; users without an email: "
          f"{frame['email'].null_count():,}")
    print(f"\nFiles: {Path(parquet.path).resolve()}\n       {Path(ndjson.path).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
