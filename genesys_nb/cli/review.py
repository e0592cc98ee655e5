"""``genesys-nb review`` and ``genesys-nb diff``: access reviews of snapshot folders (no connection, no requests).

``add_commands(subparsers)`` adds both to the ``genesys-nb`` parser; each parser's ``handler`` default runs it with
``(args, out, err)`` and returns the exit status. Errors speak of flags (``--overwrite``, ``--stale-days``).
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from ..errors import ConfigError
from .app import failing_locally, say

__all__ = ["add_commands", "cmd_review", "cmd_diff"]

ABOUT_REVIEW = ("Review a snapshot folder: print the findings of every rule (inactive users with roles, admin roles "
                "on inactive users, admin roles held only through groups, stale logins, ...) and, with --previous, "
                "what changed since an older snapshot of the same org; --xlsx writes the sign-off workbook. Only "
                "the folders are read, never the API.")
ABOUT_DIFF = ("Print what changed between two snapshot folders of one org (joiners, leavers, field changes, roles "
              "granted and revoked, group, queue and licence membership); --xlsx writes the changes as a workbook.")
EXAMPLES = """\
examples:
  genesys-nb review snapshots/2026-q4
  genesys-nb review snapshots/2026-q4 --previous snapshots/2026-q3 --xlsx review-2026-q4.xlsx
  genesys-nb review snapshots/2026-q4 --stale-days 60 --admin-roles "Master Admin,Telephony Admin"
  genesys-nb diff snapshots/2026-q3 snapshots/2026-q4 --xlsx changes.xlsx

exit codes: 0 ok, 1 the workbook could not be written (e.g. a full disk), 2 bad usage, found before any work: a
folder that is not a snapshot, two orgs, the newer snapshot first, --xlsx in a missing folder or existing without
--overwrite.
"""
_FLAGS = {"today": "--today", "stale_days": "--stale-days", "admin_roles": "--admin-roles"}


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_commands(subparsers: Any) -> None:
    """Add ``review`` and ``diff`` to the ``genesys-nb`` sub-command parsers."""
    fmt = {"formatter_class": argparse.RawDescriptionHelpFormatter, "epilog": EXAMPLES}
    rv = subparsers.add_parser("review", help="findings of a snapshot, changes since a previous one, a workbook",
                               description=textwrap.fill(ABOUT_REVIEW, 100), **fmt)
    rv.add_argument("new", metavar="NEW", help="the snapshot folder to review")
    rv.add_argument("--previous", metavar="OLD", help="an older snapshot folder of the same org: adds the changes")
    rv.add_argument("--xlsx", metavar="OUT.xlsx", help="write the sign-off workbook here")
    rv.add_argument("--overwrite", action="store_true", help="replace OUT.xlsx if it exists")
    rv.add_argument("--stale-days", type=_days, default=90, metavar="N",
                    help="days without a login after which an active user is stale (default 90)")
    rv.add_argument("--today", metavar="DATE", help="the review date, e.g. 2026-12-31 (default: when the snapshot "
                                                    "was taken, by the API's clock: its manifest's as_of, so a rerun "
                                                    "gives the same answer)")
    rv.add_argument("--admin-roles", metavar="A,B", help="role ids or names that count as admin roles, comma-"
                                                         "separated (default: by their permissions; see the README)")
    rv.set_defaults(handler=cmd_review)
    df = subparsers.add_parser("diff", help="what changed between two snapshots of one org",
                               description=textwrap.fill(ABOUT_DIFF, 100), **fmt)
    df.add_argument("old", metavar="OLD", help="the older snapshot folder")
    df.add_argument("new", metavar="NEW", help="the newer snapshot folder")
    df.add_argument("--xlsx", metavar="OUT.xlsx", help="write the changes as a workbook here")
    df.add_argument("--overwrite", action="store_true", help="replace OUT.xlsx if it exists")
    df.set_defaults(handler=cmd_diff)


def _check_xlsx(args: argparse.Namespace) -> None:
    """The workbook's path is checked before any work, in flag words."""
    from .._review.workbook import check_xlsx_target

    if args.xlsx is None:
        return
    try:
        check_xlsx_target(args.xlsx, overwrite=args.overwrite, flag="--overwrite")
    except ConfigError as exc:
        raise ConfigError(f"--xlsx: {exc}") from None


def cmd_review(args: argparse.Namespace, out: Any, err: Any) -> int:
    from .._review.bundle import review

    _check_xlsx(args)
    admin = [a.strip() for a in args.admin_roles.split(",") if a.strip()] if args.admin_roles is not None else None
    result = review(args.new, previous=args.previous, today=args.today, stale_days=args.stale_days,
                    admin_roles=admin, argument_names=_FLAGS)
    say(result, out)
    for rule_id, why in result.not_run.items():
        say(f"genesys-nb: warning: the rule {rule_id} was not run: {why}", err)
    if args.xlsx:
        with failing_locally():  # the path was checked before any work: what fails now is this machine's (exit 1)
            say(f"wrote {result.to_excel(args.xlsx, overwrite=args.overwrite)}", out)
    return 0


def cmd_diff(args: argparse.Namespace, out: Any, err: Any) -> int:
    from .._review.bundle import diff_lines
    from .._review.diff import diff

    _check_xlsx(args)
    changes = diff(args.old, args.new)
    m_old, m_new = changes.old.manifest, changes.new.manifest
    say(f"changes in {m_new.org.name or m_new.org.id} from {args.old} (finished {m_old.finished:%Y-%m-%d %H:%M} "
        f"UTC) to {args.new} (finished {m_new.finished:%Y-%m-%d %H:%M} UTC):", out)
    say("\n".join(diff_lines(changes)), out)
    for kind, why in changes.not_compared.items():
        say(f"genesys-nb: warning: {kind} not compared: {why}", err)
    if args.xlsx:
        with failing_locally():  # the path was checked before any work: what fails now is this machine's (exit 1)
            say(f"wrote {changes.to_excel(args.xlsx, overwrite=args.overwrite)}", out)
    return 0
