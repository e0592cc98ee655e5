"""The ``snapshot`` and ``sql`` commands: write an org's access tables into a snapshot folder, and query one."""

from __future__ import annotations

import argparse

from typing import Any

from ..errors import AuthenticationError, ConfigError, ExportError, PermissionDenied
from .app import (EXIT_API, EXIT_AUTH, EXIT_CODES, EXIT_FAILED, EXIT_USAGE, _LocalFailure, _positive,
                  failing_locally, print_table, say, shell_message)

ABOUT_SNAPSHOT = ("Write the org's access tables (users, roles and grants, groups and members, queues and members, "
                  "skills, languages, licences) into DIR: one Parquet file per table and a manifest.json with the org, "
                  "the times, each table's rows beside the API's own total, and the requests sent. DIR appears only "
                  "when every table is complete; --resume continues a snapshot that stopped. A table the OAuth client "
                  "may not read is recorded as skipped (--strict fails instead).")
ABOUT_SQL = ("Run a DuckDB SQL query over a snapshot folder; each table is a view of its name, e.g. "
             "\"select name, email from users where state <> 'active'\".")

SNAPSHOT_EXAMPLES = """\
examples:
  # offline, against the built-in sandbox (no credentials needed); the parent folder must exist
  mkdir -p snapshots
  genesys-nb snapshot snapshots/demo --sandbox --plan        # the requests and the time they take; writes nothing
  genesys-nb snapshot snapshots/demo --sandbox               # every table, progress per table on stderr
  genesys-nb snapshot snapshots/roles --sandbox --tables users,user_roles   # some tables (and those they need)

  # a real org; a snapshot that stopped (network, rate limit, Ctrl-C): the same command with --resume
  genesys-nb snapshot snapshots/2026-q4 --region eu-west-1
  genesys-nb snapshot snapshots/2026-q4 --region eu-west-1 --resume

  # one snapshot per profile, the orgs at once: snapshots/all/north and snapshots/all/south
  genesys-nb snapshot snapshots/all --profile north --profile south
"""
SQL_EXAMPLES = """\
examples:
  # a snapshot to query, offline (see genesys-nb snapshot --help); no connection is needed to query it
  mkdir -p snapshots && genesys-nb snapshot snapshots/demo --sandbox
  genesys-nb sql snapshots/demo "select state, count(*) as n from users group by state"
  genesys-nb sql snapshots/demo "select name, email from users where date_last_login is null" --format csv
  genesys-nb sql snapshots/demo "select r.name, count(*) as n from user_roles join roles r using (role_id)
    group by all order by n desc" -n 10
"""
SQL_EXIT_CODES = """
exit codes: 0 ok, 2 bad usage: not a snapshot folder, a table it lacks, or a query that fails.
"""


def add_commands(commands: Any, connection: argparse.ArgumentParser, formatter: Any, wrap: Any) -> None:
    """Register ``snapshot`` and ``sql`` on the CLI's sub-command parser."""
    from ..snapshot.plan import TABLES

    snap = commands.add_parser("snapshot", parents=[connection], formatter_class=formatter,
                               help="write the org's access tables into a snapshot folder",
                               description=wrap(ABOUT_SNAPSHOT), epilog=SNAPSHOT_EXAMPLES + EXIT_CODES)
    snap.add_argument("dir", metavar="DIR", help="the snapshot folder to create (with several --profile flags: a "
                                                 "folder holding one snapshot per profile, DIR/PROFILE)")
    snap.add_argument("--tables", metavar="A,B", help=f"only these tables (default all: {', '.join(TABLES)})")
    snap.add_argument("--resume", action="store_true", help="continue a snapshot of DIR that stopped")
    snap.add_argument("--overwrite", action="store_true", help="replace DIR once the new snapshot is complete")
    snap.add_argument("--strict", action="store_true", help="fail when a table cannot be read (403)")
    snap.add_argument("--plan", action="store_true",
                      help="print the requests the snapshot would send, and the time the rate limit allows, then stop")
    snap.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    snap.set_defaults(handler=run_snapshot)

    sql = commands.add_parser("sql", formatter_class=formatter, help="query a snapshot folder with SQL",
                              description=wrap(ABOUT_SQL), epilog=SQL_EXAMPLES + SQL_EXIT_CODES)
    sql.add_argument("dir", metavar="DIR", help="a snapshot folder")
    sql.add_argument("query", metavar="QUERY", help="a DuckDB SQL query")
    sql.add_argument("--format", choices=("table", "csv", "ndjson"), default="table", help="output format")
    sql.add_argument("-n", "--rows", type=_positive, default=50, metavar="N",
                     help="rows shown in table format (default 50; csv and ndjson print every row)")
    sql.set_defaults(handler=run_sql)


def _tables(args: argparse.Namespace) -> Any:
    from ..snapshot.plan import check_tables

    try:
        return check_tables(args.tables) if args.tables else None
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("snapshot table(s)", "--tables value(s)")) from None


def run_snapshot(args: argparse.Namespace, out: Any, err: Any) -> int:
    from .app import _connect

    if args.resume and args.overwrite:
        raise ConfigError("--resume continues a snapshot and --overwrite replaces one: choose one.")
    tables = _tables(args)
    if len(args.profile or []) > 1:
        return _snapshot_orgs(args, tables, out, err)
    with _connect(args) as client:
        if args.plan:
            say(client.plan_snapshot(tables), out)
            return 0
        with failing_locally(lambda: client.transport.counters.requests > 0):
            snap = client.snapshot(args.dir, tables, resume=args.resume, overwrite=args.overwrite,
                                   strict=args.strict, progress=not args.no_progress)
    say(summary_table(snap.manifest.as_dict()), out)
    return 0


def _snapshot_orgs(args: argparse.Namespace, tables: Any, out: Any, err: Any) -> int:
    """One snapshot folder per profile, DIR/<profile>, the orgs at once (each with its own rate limit)."""
    from pathlib import Path

    import genesys_nb as gnb

    if args.region or args.api_url or args.login_url or args.client_id or args.sandbox:
        raise ConfigError("With several --profile flags each org comes from its profile: leave out --region, "
                          "--api-url, --login-url, --client-id and --sandbox.")
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(args.profile))

    def snapshot_of(client: Any) -> Any:
        if args.plan:
            return str(client.plan_snapshot(tables))
        with failing_locally(lambda: client.transport.counters.requests > 0):
            return client.snapshot(root / client.profile, tables, resume=args.resume, overwrite=args.overwrite,
                                   strict=args.strict, progress=False)

    codes: set[int] = set()
    result = gnb.across({name: {"profile": name} for name in names}, snapshot_of, progress=not args.no_progress)
    for name in names:
        if name in result.errors:
            codes.add(_exit_code(result.errors[name]))
            print(f"genesys-nb: error: {name}: {shell_message(result.errors[name])}", file=err)
            continue
        value = result.results[name]
        say(f"== {name}", out)
        say(value if isinstance(value, str) else summary_table(value.manifest.as_dict()), out)
    return (codes.pop() if len(codes) == 1 else EXIT_API) if codes else 0


def _exit_code(exc: BaseException) -> int:
    """The exit status one org's failure would give on its own (see ``genesys-nb --help``)."""
    if isinstance(exc, _LocalFailure):
        return EXIT_FAILED
    if isinstance(exc, (ConfigError, ExportError)):
        return EXIT_USAGE
    return EXIT_AUTH if isinstance(exc, (AuthenticationError, PermissionDenied)) else EXIT_API


def summary_table(manifest: dict[str, Any]) -> str:
    """The manifest as lines a person reads: per table its rows, the API's total, requests and status."""
    lines = [f"snapshot of {manifest['org'].get('name')} ({manifest['org'].get('id')}), "
             f"{manifest['started']} to {manifest['finished']}",
             f"{'table':<15} {'rows':>9} {'API total':>10} {'requests':>9}  status"]
    for name, entry in manifest["tables"].items():
        total = "" if entry.get("api_total") is None else f"{entry['api_total']:,}"
        status = entry["status"] if entry["status"] == "complete" else (
            f"skipped: {entry.get('reason')}" + (f" (needs {entry['missing_permission']})"
                                                 if entry.get("missing_permission") else ""))
        lines.append(f"{name:<15} {entry.get('rows', 0):>9,} {total:>10} {entry.get('requests', 0):>9,}  {status}")
    lines.append(f"requests: {manifest['requests_sent']:,} sent, {manifest['plan']['requests']:,} planned")
    return "\n".join(lines)


def run_sql(args: argparse.Namespace, out: Any, err: Any) -> int:
    from ..snapshot import open_snapshot

    frame = open_snapshot(args.dir).sql(args.query)
    if args.format == "csv":
        from ..export.writers import CSV_DATETIME, csv_ready

        out.write(csv_ready(frame).write_csv(datetime_format=CSV_DATETIME))  # as `users head --format csv` writes
    elif args.format == "ndjson":
        out.write(frame.write_ndjson())
    else:
        print_table(frame, args.rows, out)  # as `users head` shows its table
    return 0


