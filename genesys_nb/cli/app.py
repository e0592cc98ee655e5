"""``genesys-nb``: the command line. Export, count and peek at an org's users, or run the sandbox.

Results go to stdout, progress bars and messages to stderr. Exit codes: 0 success, 1 a failure on this machine
after the work started (e.g. a full disk; the checkpoint is kept), 2 bad usage or configuration (found before any
request: nothing was sent), 3 authentication or
permission refused, 4 the API or network kept failing after retries (the checkpoint is kept: rerun with
``--resume``), 130 interrupted (Ctrl-C).

The OAuth client secret is never a command-line option (it would land in shell history and process lists): it
comes from ``GENESYSCLOUD_OAUTHCLIENT_SECRET`` or, on a terminal, from a prompt that does not echo.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import (
    AuthenticationError,
    ConfigError,
    DeepPagingLimit,
    ExportError,
    GenesysError,
    PermissionDenied,
)
from ..export.textsafe import escape_controls
from .._http.credentials import ENV_ID, ENV_REGION, ENV_SECRET
from .._http.regions import region_names
from ..resources import users as users_resource

__all__ = ["main", "build_parser", "failing_locally", "say"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_API, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

_EXAMPLE_LINES = """\
examples:
  # try everything offline against the built-in sandbox (no credentials needed)
  genesys-nb users export users.parquet --sandbox --sandbox-users 50000
  genesys-nb users head -n 5 --sandbox --expand dateLastLogin

  # a real org: credentials from the environment, region by name
  export GENESYSCLOUD_OAUTHCLIENT_ID=... GENESYSCLOUD_OAUTHCLIENT_SECRET=...
  genesys-nb users count --region eu-west-1
  genesys-nb users export users.ndjson --region eu-west-1 --expand groups,skills,dateLastLogin
  genesys-nb users export active.csv --region eu-west-1 --where 'state == "active" and email != null'

  # a profile of the Genesys Cloud CLI (~/.gc/config.toml) or of genesys-nb (see the README)
  genesys-nb users count --profile prod

  # an export that stopped (network, rate limit, Ctrl-C): run the same command again with --resume
  genesys-nb users export users.parquet --region eu-west-1 --resume

  # the local emulator over HTTP (see genesys-nb sandbox --help)
  genesys-nb sandbox --users 100000 --port 8080

  # who can do what: a snapshot folder (its parent must exist), SQL over it, an access review and its workbook
  mkdir -p snapshots && genesys-nb snapshot snapshots/2026-q4 --sandbox
  genesys-nb sql snapshots/2026-q4 "select state, count(*) as n from users group by state"
  genesys-nb review snapshots/2026-q4 --previous snapshots/2026-q3 --xlsx review.xlsx
"""
EXIT_CODES = """
exit codes: 0 ok, 1 failed on this machine after the work started (e.g. a full disk; the checkpoint is kept: rerun
with --resume), 2 bad usage or configuration, found before any request, 3 authentication or permission refused,
4 API or network failure after retries (checkpoint kept; rerun with --resume), 130 interrupted.
"""
EXAMPLES = _EXAMPLE_LINES + EXIT_CODES

ABOUT = ("Export a Genesys Cloud org's user directory page by page into Parquet, NDJSON or CSV, count its users, or "
         "peek at them; snapshot who can do what (roles, grants, groups, queues, skills, licences) into a folder of "
         "tables, query it with SQL, and review it (findings, changes since the last review, a sign-off workbook). "
         "Memory stays flat at any org size, files appear only when complete, and runs resume where they stopped.")
ABOUT_USERS = ("Work with the org's users (GET /api/v2/users/query, or page numbers on /api/v2/users when the cursor "
               "endpoint is not allowed).")
ABOUT_EXPORT = ("Stream every user into a file. It is written under a temporary name and renamed when complete; if the "
                "run stops, a checkpoint is kept and the same command with --resume continues it without duplicates.")
ABOUT_COUNT = ("Print the number of users: the API's total when it gives one (one request), otherwise (or with "
               "--where / --exact) by paging through them.")
ABOUT_HEAD = "Show the first N users (one request unless --where has to look further)."

WHERE_HELP = """\
filter rows before they are written, e.g. 'state == "active" and email != null',
'department contains "Sales"', 'date_last_login < "2025-01-01" or date_last_login is null',
'state in ["inactive", "deleted"]'. Operators: == != < <= > >= contains icontains startswith endswith
in, not in, is null, is not null, and, or, not, parentheses. Columns are those of `genesys-nb users columns`."""


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=100)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=110)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: what was wrong and where the help is, not the whole usage text."""

    def error(self, message: str) -> Any:  # argparse's hook; never returns
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- one message, two spellings --------------------------------------------------------------------------------------
#: Python spellings that messages raised below the CLI still use, and how the shell says them. Messages that name
#: their arguments with :class:`~genesys_nb.errors.Arg` need none of this (``exc.spelled("shell")``); the table
#: covers those that do not yet, most specific first.
SHELL_SPELLINGS: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (
    (r"Give either a region or api_url=", "Give either --region or --api-url"),
    (r"login_url= needs api_url= as well \(or give a region\)", "--login-url needs --api-url as well (or give --region)"),
    (r"\(see genesys_nb\.(?:_http\.)?regions\.REGIONS for all (\d+)\)", "(all \\1: {regions})"),
    (r"see genesys_nb\.(?:_http\.)?regions\.REGIONS", "one of {regions}"),
    (r"Pass a region \(e\.g\. connect\('([^']*)'\)\)", "Pass --region (e.g. --region \\1)"),
    (r"use connect\(sandbox=True\)", "add --sandbox"),
    (r"format='parquet' / 'ndjson' / 'csv'", "--format parquet, ndjson or csv"),
    (r"format='(\w+)'", "--format \\1"),
    (r"(overwrite|resume)=True \(--\1\)", "--\\1"),
    (r"\b(overwrite|resume)=True", "--\\1"),
    (r"strategy='(\w+)'", "--strategy \\1"),
    (r"\b(api_url|login_url|where|page_size|chunk_rows|client_id|expand|state)=(?![\w'\"])",
     lambda m: "--" + m.group(1).replace("_", "-")),
)


def shell_message(exc: BaseException) -> str:
    """The error's message in the words of the shell: flags (``--overwrite``), not Python arguments; control
    characters (from a manifest, an API answer) escaped for the terminal."""
    text = exc.spelled("shell") if isinstance(exc, GenesysError) else str(exc)
    regions = ", ".join(region_names())
    for pattern, spelling in SHELL_SPELLINGS:
        repl = spelling if callable(spelling) else spelling.replace("{regions}", regions)
        text = re.sub(pattern, repl, text)
    return escape_controls(text)


def say(text: object, stream: Any) -> None:
    """Print ``text`` on ``stream`` with its control characters escaped: names read from a snapshot's manifest or
    the API (an org named ``"\x1b[2J..."``) never drive the terminal."""
    print(escape_controls(str(text)), file=stream)


def _connection_options() -> _Parser:
    p = _Parser(add_help=False)
    g = p.add_argument_group(f"connection (flags first, then --profile, then ${ENV_ID} / ${ENV_SECRET} / "
                             f"${ENV_REGION}; the secret is never a flag)")
    g.add_argument("--profile", action="append", metavar="NAME",
                   help="a profile of ~/.gc/config.toml (the Genesys Cloud CLI's) or of genesys-nb's profiles.toml "
                        "(or the file in $GENESYS_NB_PROFILES)")
    g.add_argument("--region", help=f"Genesys Cloud region, e.g. us-east-1, eu-west-1 or mypurecloud.ie "
                                    f"(default: ${ENV_REGION})")
    g.add_argument("--api-url", help="API base URL instead of a region, e.g. https://api.mypurecloud.de")
    g.add_argument("--login-url", help="login (token) base URL, when it cannot be derived from --api-url")
    g.add_argument("--client-id", help=f"OAuth client id (default: ${ENV_ID}); the secret comes from the profile, "
                                       f"${ENV_SECRET} or a prompt")
    g.add_argument("--sandbox", action="store_true",
                   help=f"use the built-in emulator instead of a real org (it ignores ${ENV_ID} / ${ENV_SECRET})")
    g.add_argument("--sandbox-users", type=_positive_or_zero, default=None, metavar="N",
                   help="users in the sandbox org (default 1000, or the sandbox profile's)")
    g.add_argument("-v", "--verbose", action="store_true", help="log what the client does (fallbacks, retries)")
    return p


def _listing_options(*, page_size: bool = True) -> _Parser:
    p = _Parser(add_help=False)
    g = p.add_argument_group("listing")
    g.add_argument("--state", default="any", choices=STATES, type=str.lower, metavar="{" + ",".join(STATES) + "}",
                   help="which users, in any case (default any: the API's own default, active, leaves the others "
                        "out)")
    g.add_argument("--expand", default="", metavar="A,B",
                   help="expand values, comma-separated, e.g. groups,skills,dateLastLogin,authorization")
    if page_size:
        g.add_argument("--page-size", type=_positive, default=500, metavar="N", help="users per request (1-500)")
        g.add_argument("--strategy", default="auto", choices=("auto", "cursor", "pages"),
                       help="auto: the exact cursor listing, falling back to page numbers when it is not allowed")
        g.add_argument("--concurrency", type=_positive, default=1, metavar="N",
                       help="pages fetched at once (page-number listings only; default 1)")
    return p


STATES = (users_resource.STATES[-1], *users_resource.STATES[:-1])  # "any" first: the default


def _whole(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more")
        return value
    return parse


_positive = _whole(1)
_positive_or_zero = _whole(0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``genesys-nb``."""
    from .._version import __version__

    parser = _Parser(prog="genesys-nb", formatter_class=_Formatter, epilog=EXAMPLES,
                                     description=_wrap(ABOUT))
    parser.add_argument("--version", action="version", version=f"genesys-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{users,snapshot,sql,review,diff,sandbox}")

    users = commands.add_parser("users", help="export, count or show the org's users", formatter_class=_Formatter,
                                description=_wrap(ABOUT_USERS), epilog=EXAMPLES)
    sub = users.add_subparsers(dest="action", metavar="{export,count,head,columns}")
    conn, listing = _connection_options(), _listing_options()

    ex = sub.add_parser("export", parents=[conn, listing], formatter_class=_Formatter, epilog=EXAMPLES,
                        help="stream the users into a .parquet, .ndjson/.jsonl or .csv file",
                        description=_wrap(ABOUT_EXPORT))
    ex.add_argument("out", metavar="OUT", help="output file: .parquet, .ndjson (or .jsonl) or .csv")
    from ..export.sinks import names as sink_names

    ex.add_argument("--format", choices=sink_names(),
                    help="the format, when OUT's suffix does not say it")
    ex.add_argument("--where", metavar="EXPR", help=WHERE_HELP)
    ex.add_argument("--resume", action="store_true", help="continue an interrupted export of OUT from its checkpoint")
    ex.add_argument("--overwrite", action="store_true", help="replace OUT (or an interrupted export of it)")
    ex.add_argument("--chunk-rows", type=_positive, default=50_000, metavar="N",
                    help="rows per write and per Parquet row group (default 50000; a row group is also cut at "
                         "about 8 MB, so wide rows give smaller groups)")
    ex.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    ex.add_argument("--json", action="store_true",
                    help="print the summary as JSON (with its \"warnings\" and \"fallbacks\")")

    cnt = sub.add_parser("count", parents=[conn, _listing_options()], formatter_class=_Formatter, epilog=EXAMPLES,
                         help="print how many users there are", description=_wrap(ABOUT_COUNT))
    cnt.add_argument("--where", metavar="EXPR", help=WHERE_HELP)
    cnt.add_argument("--exact", action="store_true", help="page through the users instead of trusting the total")
    cnt.add_argument("--json", action="store_true",
                     help="print {\"users\": N, \"exact\": ..., \"warnings\": [...], \"fallbacks\": [...]} as JSON")

    hd = sub.add_parser("head", parents=[conn, _listing_options()], formatter_class=_Formatter, epilog=EXAMPLES,
                        help="show the first users", description=_wrap(ABOUT_HEAD))
    hd.add_argument("-n", "--rows", type=_positive, default=10, metavar="N", help="how many (default 10)")
    hd.add_argument("--where", metavar="EXPR", help=WHERE_HELP)
    hd.add_argument("--columns", metavar="A,B", help="only these columns, comma-separated (the table's default: name, "
                                                     "email, state, title, department, division_name, and the "
                                                     "expanded columns)")
    hd.add_argument("--format", choices=("table", "csv", "ndjson"), default="table", help="output format")

    sub.add_parser("columns", parents=[_listing_options(page_size=False)], formatter_class=_Formatter,
                   help="print the columns of user frames and files (no connection needed)",
                   description=_wrap("Print the fixed user schema (column names and types) for the given --expand "
                                     "values."))

    from . import snapshot as snapshot_commands

    snapshot_commands.add_commands(commands, conn, _Formatter, _wrap)
    from .review import add_commands as add_review_commands

    add_review_commands(commands)
    commands.add_parser("sandbox", add_help=False, help="run the local Genesys Cloud API emulator over HTTP "
                                                        "(genesys-nb sandbox --help)")
    return parser


# -- connecting ----------------------------------------------------------------------------------------------------
#: What `users head` shows as a table unless --columns says otherwise (csv and ndjson output keep every column).
HEAD_COLUMNS = ("name", "email", "state", "title", "department", "division_name")


def _connect(args: argparse.Namespace) -> Any:
    """The client the connection flags ask for, resolved as connect() resolves (flags, profile, environment)."""
    import genesys_nb as gnb
    from .._http.credentials import resolve, sources

    names = args.profile or []
    if len(names) > 1:
        raise ConfigError(f"This command works on one org: give one --profile, not {len(names)} "
                          f"({', '.join(names)}).")
    sandbox: Any = None
    if args.sandbox:
        sandbox = {"users": args.sandbox_users} if args.sandbox_users is not None else True
    # Where to connect is checked first (in resolve): a typo in the region should not wait for a secret prompt.
    resolved = resolve(region=args.region, api_url=args.api_url, login_url=args.login_url, client_id=args.client_id,
                       sandbox=sandbox, profile=names[0] if names else None, interface="flag", ask_secret=_ask_secret)
    if args.sandbox_users is not None and not args.sandbox:  # a sandbox profile: the flag still wins
        if resolved.sandbox is None:
            raise ConfigError("--sandbox-users sizes the sandbox: add --sandbox, or use a sandbox profile.")
        resolved.sandbox["users"] = args.sandbox_users
    with sources(resolved.sources):
        if resolved.sandbox is not None:
            return gnb.connect(sandbox=resolved.sandbox or True, client_id=resolved.client_id,
                               client_secret=resolved.client_secret)
        return gnb.connect(resolved.region, client_id=resolved.client_id, client_secret=resolved.client_secret,
                           api_url=resolved.api_url, login_url=resolved.login_url)


def _ask_secret(client_id: str) -> str | None:
    """The secret typed at a terminal (not echoed), or None when stdin is not a terminal."""
    if not sys.stdin.isatty():
        return None
    return getpass.getpass(f"OAuth client secret for {client_id}: ")


def _users(client: Any, args: argparse.Namespace, **extra: Any) -> Any:
    return client.users(state=args.state, expand=args.expand, page_size=getattr(args, "page_size", 500),
                        strategy=getattr(args, "strategy", "auto"), concurrency=getattr(args, "concurrency", 1),
                        **extra)


def _expand(args: argparse.Namespace) -> tuple[str, ...]:
    from ..resources.users import check_expand

    return check_expand(args.expand)


def _implied_query(args: argparse.Namespace, columns: Sequence[str] = ()) -> tuple[tuple[str, ...], Any]:
    """The expand values and compiled ``--where`` of a listing: ``--expand`` plus every expand value that a column
    named in ``--where`` or ``columns`` needs to be filled (logged), so no column is silently empty. Sets
    ``args.expand`` to match."""
    from .._tables.filters import compile_where
    from ..resources.users import USERS

    named = list(columns)
    if args.where:
        named += compile_where(args.where, columns=USERS.full_polars_schema()).columns
    expand = USERS.with_implied(args.expand, named)
    args.expand = ",".join(expand)
    where = compile_where(args.where, columns=USERS.polars_schema(expand)) if args.where else None
    return expand, where


# -- commands ------------------------------------------------------------------------------------------------------
def _cmd_export(args: argparse.Namespace, out: Any, err: Any) -> int:
    from ..export.checkpoint import checkpoint_path
    from ..export.checks import plural
    from ..export.orchestrate import check_target, export
    from ..resources.users import check_page_size
    from .._tables.filters import compile_where
    from ..resources.users import user_schema

    expand, where = _implied_query(args)
    check_page_size(args.page_size)  # every argument before the files: a bad page size is said first
    target = check_target(args.out, format=args.format, overwrite=args.overwrite, resume=args.resume)  # first
    if target.format != "ndjson":  # NDJSON holds the API's own records: no column is there to stay empty
        _note_unfilled(list(user_schema(expand)), expand, err)
    with _connect(args) as client:
        stream = _users(client, args)
        try:
            with failing_locally(lambda: client.stats["requests"] > 0):
                summary = export(stream, args.out, format=args.format, overwrite=args.overwrite, resume=args.resume,
                                 progress=not args.no_progress, where=where, chunk_rows=args.chunk_rows)
        except (GenesysError, KeyboardInterrupt) as exc:
            # An ad-hoc attribute (on KeyboardInterrupt too) that main() reads back through _resume_words.
            setattr(exc, "resume_hint", checkpoint_path(args.out).exists())
            raise
    fallbacks = list(stream.stats.fallbacks)
    if args.json:
        print(json.dumps({**summary.as_dict(), "fallbacks": fallbacks}), file=out)
        return EXIT_OK
    for warning in summary.warnings:  # the fallback was logged on its own line when it happened
        print(f"genesys-nb: warning: {warning}", file=err)
    again = " (resumed)" if summary.resumed else ""
    print(f"wrote {plural(summary.rows, 'user')} to {summary.path} ({summary.format}, {_size(summary.bytes)}) in "
          f"{summary.seconds:.1f} s{again}: {plural(summary.pages, 'page')}, {plural(summary.requests, 'request')}",
          file=out)
    return EXIT_OK




def _note_unfilled(columns: Sequence[str], expand: Sequence[str], err: Any) -> None:
    """Say on stderr which written columns stay empty for want of an expand value (an empty ``date_last_login`` is
    not "never logged in"), and the flag that fills them."""
    from ..resources.users import USERS

    missing = USERS.unfilled(columns, expand)
    if missing:
        print(f"genesys-nb: note: {', '.join(missing)} stay{'s' if len(missing) == 1 else ''} empty without "
              f"--expand {','.join(dict.fromkeys(missing.values()))} (empty does not mean never).", file=err)


class _LocalFailure(Exception):
    """Work that failed on this machine (a full disk, a file another program changed) after it had started: exit 1.
    Its message is in the shell's words already."""


@contextlib.contextmanager
def failing_locally(started: Callable[[], bool] = lambda: True) -> Iterator[None]:
    """An ExportError or OSError raised once ``started()`` (e.g. once requests were sent) is a :class:`_LocalFailure`
    (exit 1, one line, its notes such as how to resume included); before that an ExportError stays a usage error
    (exit 2), refused before any work."""
    try:
        yield
    except (ExportError, OSError) as exc:
        if not started():
            raise
        notes = [shell_message(_Logged(note)) for note in getattr(exc, "__notes__", ())]
        raise _LocalFailure(" ".join([shell_message(exc), *notes])) from exc


def _size(n: int) -> str:
    from ..export.orchestrate import _human_bytes

    return _human_bytes(n)


def _cmd_count(args: argparse.Namespace, out: Any, err: Any) -> int:
    expand, where = _implied_query(args)
    with _connect(args) as client:
        stream = _users(client, args)
        total = None if (where is not None or args.exact) else stream.total_hint()
        exact = total is None
        if total is None:
            if where is None:
                total = sum(len(page.items) for page in stream.pages())
            else:
                from .._tables.frames import iter_frames

                with iter_frames(stream, chunk_size=100_000, backend="arrow", where=where) as reader:
                    total = sum(chunk.num_rows for chunk in reader)
    if args.json:
        print(json.dumps({"users": total, "exact": exact, "warnings": list(stream.stats.warnings),
                          "fallbacks": list(stream.stats.fallbacks)}), file=out)
    else:
        print(total, file=out)
    return EXIT_OK


def _cmd_head(args: argparse.Namespace, out: Any, err: Any) -> int:
    import polars as pl

    from .._tables.frames import iter_frames
    from ..resources.users import EXPAND_COLUMNS, USERS

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    for name in columns or ():
        if name not in USERS.full_polars_schema():
            raise ConfigError(f"Unknown column {name!r}; see `genesys-nb users columns`.")
    expand, where = _implied_query(args, columns or HEAD_COLUMNS)
    schema = USERS.polars_schema(expand)
    if columns is None and args.format == "table":  # a terminal-wide table: the columns people read first
        columns = [*HEAD_COLUMNS, *(c for e in expand for c in EXPAND_COLUMNS.get(e, ()) if c not in HEAD_COLUMNS)]
    with _connect(args) as client:
        stream = _users(client, args, **({} if where is not None else {"max_items": args.rows}))
        with iter_frames(stream, chunk_size=args.rows, where=where) as reader:
            df = next(reader, None)
    if df is None:
        df = pl.DataFrame(schema=schema)
    if columns:
        df = df.select(columns)
    _note_unfilled(df.columns, expand, err)
    if args.format == "csv":
        from ..export.writers import CSV_DATETIME, csv_ready

        out.write(csv_ready(df).write_csv(datetime_format=CSV_DATETIME))
    elif args.format == "ndjson":
        out.write(df.write_ndjson())
    else:
        print_table(df, args.rows, out)
    return EXIT_OK


def print_table(frame: Any, rows: int, out: Any) -> None:
    """A frame as the terminal table of `users head` and `sql`: its first ``rows`` rows, every column, the column
    types, no "shape" line."""
    import polars as pl

    with pl.Config(tbl_rows=rows, tbl_cols=-1, fmt_str_lengths=48, tbl_width_chars=10_000,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=False):
        say(frame, out)


def _cmd_columns(args: argparse.Namespace, out: Any, err: Any) -> int:
    from ..resources.users import schema_table

    print(schema_table(_expand(args)), file=out)
    return EXIT_OK


COMMANDS = {"export": _cmd_export, "count": _cmd_count, "head": _cmd_head, "columns": _cmd_columns}


# -- entry point ---------------------------------------------------------------------------------------------------
def _resume_words(exc: BaseException, *, kept: str, none_kept: str, unknown: str = "") -> str:
    """The hint for a failed run by whether `users export` kept a checkpoint (its ``resume_hint``; unset: unknown)."""
    resumable = getattr(exc, "resume_hint", None)
    if resumable is None:
        return unknown
    return kept if resumable else none_kept


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``genesys-nb`` with ``argv`` (default: the process's arguments); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":
        from ..sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:], prog="genesys-nb sandbox")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "users" and args.action is None:
        print("genesys-nb users: choose one of export, count, head, columns (see genesys-nb users --help)",
              file=sys.stderr)
        return EXIT_USAGE
    out, err = sys.stdout, sys.stderr
    _setup_logging(getattr(args, "verbose", False))
    try:
        handler = getattr(args, "handler", None) or COMMANDS[args.action]
        return handler(args, out, err)
    except BrokenPipeError:  # the reader went away (`| head`): what was asked is done; exit quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt as exc:
        hint = _resume_words(exc, kept=" Run the same command with --resume to continue.",
                             none_kept=" Nothing was written: run the same command again (without --resume) to "
                                       "start it.")
        print(f"\ngenesys-nb: interrupted.{hint}", file=err)
        return EXIT_INTERRUPTED
    except (ConfigError, ExportError) as exc:
        print(f"genesys-nb: error: {shell_message(exc)}", file=err)
        return EXIT_USAGE
    except _LocalFailure as exc:
        print(f"genesys-nb: error: {exc}", file=err)
        return EXIT_FAILED
    except DeepPagingLimit as exc:
        hint = _resume_words(exc, kept=" The rows written so far are kept with a checkpoint: run the same command "
                                       "with --strategy auto (instead of --strategy pages) and --resume; the cursor "
                                       "listing finishes the file, dropping the users it already holds.",
                             none_kept=" Nothing was written: run the same command with --strategy auto.",
                             unknown=" Run it again with --strategy auto.")
        print(f"genesys-nb: error: {shell_message(exc).rstrip('.')}.{hint}", file=err)
        return EXIT_API
    except GenesysError as exc:
        hint = _resume_words(exc, kept=" The rows written so far are kept with a checkpoint: run the same command "
                                       "with --resume to continue.",
                             none_kept=" Nothing was written: run the same command again (without --resume) when "
                                       "it works.")
        print(f"genesys-nb: error: {shell_message(exc).rstrip('.')}.{hint}", file=err)
        return EXIT_AUTH if isinstance(exc, (AuthenticationError, PermissionDenied)) else EXIT_API


class _OwnLineHandler(logging.Handler):
    """Log records on stderr, each on its own line: a progress bar on the line is cleared first and redrawn after
    (``tqdm.write``), so a warning is never glued to the bar. The message is in the shell's words."""

    _genesys_nb_cli = True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            text = f"genesys-nb: {record.levelname.lower()}: {shell_message(_Logged(record.getMessage()))}"
            tqdm.write(text, file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never fail the command
            self.handleError(record)


class _Logged(Exception):
    """A log message, so that :func:`shell_message` spells it as it spells errors."""


def _setup_logging(verbose: bool) -> None:
    logger = logging.getLogger("genesys_nb")
    if not any(getattr(h, "_genesys_nb_cli", False) for h in logger.handlers):
        logger.addHandler(_OwnLineHandler())
        logger.propagate = False
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
