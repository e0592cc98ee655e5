"""The access-review rules: what each finds, how severe it is, and the polars query that finds it.

Each rule is a :class:`Rule` with an id, a severity, a sentence for people (``RULES``), the snapshot tables it
needs, a query that returns one row per finding (the user and the evidence ids), and the words of its ``detail``.
:mod:`.findings` runs them, adds names, and puts every finding in one frame.

Words used throughout: a user is *active* when its ``state`` is ``active``; *not active* means ``inactive`` or
``deleted``. The *default role* is the built-in role every user gets (``default_role_id`` ``employee``). An *admin
role* is, unless ``admin_roles=`` names them, a role of which at least one permission

- holds a ``*`` wildcard anywhere (``*:*:*``, ``authorization:*:*``, ``routing:queue:*``), or
- has an action that contains ``admin`` (``directory:organization:admin``), or
- changes roles or grants: domain ``authorization``, entity ``role`` or ``grant``, any action but ``view`` (who can
  grant roles can grant themselves every role);

or whose name is ``Master Admin`` or ``Admin`` (ignoring case).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from ..snapshot.tables import ALL_DIVISIONS, DIRECT

__all__ = ["Rule", "RULES", "RULE_IDS", "SEVERITIES", "DEFAULT_ROLE_IDS", "ADMIN_ROLE_NAMES", "Tables",
           "admin_role_expr", "rule"]

SEVERITIES = ("high", "medium", "low")
ACTIVE = "active"
DELETED = "deleted"
INACTIVE = "inactive"
#: ``default_role_id`` of the role every user holds (not a finding on its own).
DEFAULT_ROLE_IDS = ("employee",)
#: Role names that make a role an admin role whatever its permissions (compared ignoring case).
ADMIN_ROLE_NAMES = ("master admin", "admin")
_WILDCARD_OR_ADMIN_ACTION = r"\*|^[^:]*:[^:]*:[^:]*(?i:admin)"
_CHANGES_GRANTS = r"^(?i:authorization):(?i:role|grant):"


def admin_role_expr() -> pl.Expr:
    """True for the roles (rows of the ``roles`` table) that are admin roles by the default definition above."""
    perm = pl.element()
    admin_permission = (perm.str.contains(_WILDCARD_OR_ADMIN_ACTION)
                        | (perm.str.contains(_CHANGES_GRANTS) & ~perm.str.to_lowercase().str.ends_with(":view")))
    by_permission = pl.col("permissions").list.eval(admin_permission).list.any().fill_null(False)
    by_name = pl.col("name").str.strip_chars().str.to_lowercase().is_in(ADMIN_ROLE_NAMES).fill_null(False)
    return by_permission | by_name


@dataclass(frozen=True)
class Tables:
    """What the rules read, loaded once: users, role facts, and the other tables present (``None`` when absent)."""

    users: pl.LazyFrame             # id, name, email, state, manager_id, date_last_login
    roles: pl.LazyFrame | None      # role_id, role_name, is_admin, is_default
    user_roles: pl.LazyFrame | None
    queue_members: pl.LazyFrame | None
    user_licenses: pl.LazyFrame | None
    today: dt.datetime
    stale_days: int

    def not_active(self) -> pl.LazyFrame:
        return self.users.filter(pl.col("state") != ACTIVE).select(user_id="id")

    def active(self) -> pl.LazyFrame:
        return self.users.filter(pl.col("state") == ACTIVE)

    def grants(self) -> pl.LazyFrame:
        """``user_roles`` with the role's facts and ``group_id`` (null for a direct grant)."""
        assert self.user_roles is not None and self.roles is not None
        return (self.user_roles.join(self.roles, on="role_id", how="left")
                .with_columns(group_id=pl.when(pl.col("via") != DIRECT).then(pl.col("via")),
                              is_admin=pl.col("is_admin").fill_null(False),
                              is_default=pl.col("is_default").fill_null(False)))


@dataclass(frozen=True)
class Rule:
    """One rule: ``id``, ``severity`` (high, medium, low), ``about`` (what it finds and why it matters), and the
    snapshot tables it needs."""

    id: str
    severity: str
    about: str
    needs: tuple[str, ...]
    select: Callable[[Tables], pl.LazyFrame]
    detail: Callable[[], pl.Expr]

    def __repr__(self) -> str:
        return f"Rule({self.id!r}, {self.severity}: {self.about})"


# -- words -----------------------------------------------------------------------------------------------------------
def _quoted(*names: str) -> pl.Expr:
    return pl.concat_str(pl.lit("'"), pl.coalesce(*names), pl.lit("'"))


def _role() -> pl.Expr:
    return _quoted("role_name", "role_id")


def _division() -> pl.Expr:
    return (pl.when(pl.col("division_id") == ALL_DIVISIONS).then(pl.lit("all divisions"))
            .otherwise(pl.concat_str(pl.lit("division "), _quoted("division_name", "division_id"))))


def _via() -> pl.Expr:
    return (pl.when(pl.col("group_id").is_null()).then(pl.lit("directly"))
            .otherwise(pl.concat_str(pl.lit("through group "), _quoted("group_name", "group_id"))))


def _state() -> pl.Expr:
    return pl.coalesce("state", pl.lit("unknown-state"))


def _words(*parts: pl.Expr | str) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


# -- the queries -----------------------------------------------------------------------------------------------------
def _admin_role_inactive(t: Tables) -> pl.LazyFrame:
    return (t.grants().filter("is_admin").join(t.not_active(), on="user_id", how="semi")
            .select("user_id", "role_id", "division_id", "group_id"))


def _inactive_with_roles(t: Tables) -> pl.LazyFrame:
    return (t.grants().filter(~pl.col("is_default")).join(t.not_active(), on="user_id", how="semi")
            .select("user_id", "role_id", "division_id", "group_id"))


def _role_via_group_only(t: Tables) -> pl.LazyFrame:
    grants = t.grants().filter("is_admin")
    direct = grants.filter(pl.col("group_id").is_null())
    everywhere = direct.filter(pl.col("division_id") == ALL_DIVISIONS)
    return (grants.filter(pl.col("group_id").is_not_null())
            .join(direct, on=["user_id", "role_id", "division_id"], how="anti")
            .join(everywhere, on=["user_id", "role_id"], how="anti")
            .select("user_id", "role_id", "division_id", "group_id"))


def _stale_login(t: Tables) -> pl.LazyFrame:
    cutoff = t.today - dt.timedelta(days=t.stale_days)
    stale = t.active().filter(pl.col("date_last_login").is_null() | (pl.col("date_last_login") < cutoff))
    out = stale.select(user_id="id")
    if t.user_licenses is not None:
        held = (t.user_licenses.group_by("user_id")
                .agg(info=pl.col("license_id").unique().sort().str.join(", ")))
        out = out.join(held, on="user_id", how="left")
    return out


def _stale_detail() -> pl.Expr:
    days = (pl.col("today") - pl.col("date_last_login")).dt.total_days()
    login = (pl.when(pl.col("date_last_login").is_null()).then(pl.lit("has never logged in"))
             .otherwise(_words("last logged in on ", pl.col("date_last_login").dt.strftime("%Y-%m-%d"), ", ",
                               days.cast(pl.String), " days before ", pl.col("today").dt.strftime("%Y-%m-%d"))))
    licences = pl.when(pl.col("info").is_not_null()).then(_words("; holds licences: ", pl.col("info"))) \
        .otherwise(pl.lit(""))
    return pl.concat_str(login, licences)


def _never_logged_in(t: Tables) -> pl.LazyFrame:
    return t.active().filter(pl.col("date_last_login").is_null()).select(user_id="id")


def _inactive_in_queue(t: Tables) -> pl.LazyFrame:
    assert t.queue_members is not None
    how = pl.concat_str(pl.when(pl.col("member_by") == "group").then(pl.lit(" through a group")).otherwise(pl.lit("")),
                        pl.when(pl.col("joined") == True).then(pl.lit(", joined"))  # noqa: E712 (null: no words)
                        .when(pl.col("joined") == False).then(pl.lit(", not joined")).otherwise(pl.lit("")))  # noqa: E712
    return (t.queue_members.join(t.not_active(), on="user_id", how="semi")
            .select("user_id", "queue_id", info=how))


def _licence_on_inactive(t: Tables) -> pl.LazyFrame:
    assert t.user_licenses is not None
    return t.user_licenses.join(t.not_active(), on="user_id", how="semi").select("user_id", "license_id")


def _email_key() -> pl.Expr:
    return pl.col("email").str.strip_chars().str.to_lowercase()


def _duplicate_email(t: Tables) -> pl.LazyFrame:
    people = (t.users.filter((pl.col("state") != DELETED) & (_email_key().str.len_chars() > 0))
              .select("id", "name", key=_email_key()))
    pairs = people.join(people, on="key", suffix="_other").filter(pl.col("id") != pl.col("id_other"))
    return (pairs.group_by("id", "key")
            .agg(n=pl.len(), others=pl.col("name_other").sort().str.join(", "))
            .select(user_id="id", info=_words("shares the address ", pl.col("key"), " with ",
                                              pl.col("n").cast(pl.String), " other user(s): ", pl.col("others"))))


def _no_email(t: Tables) -> pl.LazyFrame:
    blank = pl.col("email").is_null() | (pl.col("email").str.strip_chars() == "")
    return t.users.filter((pl.col("state") != DELETED) & blank).select(user_id="id")


def _with_manager(t: Tables) -> pl.LazyFrame:
    managers = t.users.select(manager_id="id", manager_name="name", manager_state="state")
    return (t.active().filter(pl.col("manager_id").is_not_null()).select(user_id="id", manager_id="manager_id")
            .join(managers, on="manager_id", how="left"))


def _inactive_manager(t: Tables) -> pl.LazyFrame:
    return (_with_manager(t).filter(pl.col("manager_state") == INACTIVE)
            .select("user_id", info=_words("manager ", _quoted("manager_name", "manager_id"), " (",
                                           pl.col("manager_id"), ") is inactive")))


def _missing_manager(t: Tables) -> pl.LazyFrame:
    words = (pl.when(pl.col("manager_state") == DELETED)
             .then(_words("manager ", _quoted("manager_name", "manager_id"), " (", pl.col("manager_id"),
                          ") is deleted"))
             .otherwise(_words("manager ", pl.col("manager_id"), " is not in the users table")))
    return (_with_manager(t).filter((pl.col("manager_state") == DELETED) | pl.col("manager_state").is_null())
            .select("user_id", info=words))


def _info() -> pl.Expr:
    return pl.col("info")


RULES: tuple[Rule, ...] = (
    Rule("admin_role_inactive", "high",
         "A user who is not active still holds an admin role (see 'admin roles'): reactivating the account, or "
         "anyone who takes it over, gets full control back at once.",
         ("users", "roles", "user_roles"), _admin_role_inactive,
         lambda: _words(_state(), " user holds the admin role ", _role(), " in ", _division(), " ", _via())),
    Rule("inactive_with_roles", "medium",
         "An inactive or deleted user still holds a role beyond the default one (one row per role, division and "
         "way): the roles come back with the account, so remove them or record why they stay.",
         ("users", "roles", "user_roles"), _inactive_with_roles,
         lambda: _words(_state(), " user still holds the role ", _role(), " in ", _division(), " ", _via())),
    Rule("role_via_group_only", "medium",
         "A user (of any state) holds an admin role in a division only through a group, with no direct grant of "
         "it there or in all divisions: the user's own roles page does not show it, so it is easy to miss.",
         ("users", "roles", "user_roles"), _role_via_group_only,
         lambda: _words("holds the admin role ", _role(), " in ", _division(), " only ", _via())),
    Rule("inactive_in_queue", "medium",
         "A user who is not active is still a member of a queue (one row per queue): queue reports and "
         "staffing count a person who cannot take interactions.",
         ("users", "queue_members"), _inactive_in_queue,
         lambda: _words(_state(), " user is still a member of queue ", _quoted("queue_name", "queue_id"), _info())),
    Rule("licence_on_inactive", "medium",
         "A licence is assigned to a user who is not active (one row per licence): it is paid for and unused.",
         ("users", "user_licenses"), _licence_on_inactive,
         lambda: _words(_state(), " user still holds the licence ", pl.col("license_id"))),
    Rule("stale_login", "medium",
         "An active user last logged in more than stale_days days before the review date, or never: an unused "
         "account is an open door and, when it holds a licence (named in the detail), a cost.",
         ("users",), _stale_login, _stale_detail),
    Rule("duplicate_email", "medium",
         "Users that are not deleted share an email address (compared ignoring case and surrounding spaces): "
         "single sign-on and password resets can reach the wrong account.",
         ("users",), _duplicate_email, _info),
    Rule("never_logged_in", "low",
         "An active user has never logged in: an account set up but not used, a candidate for removal.",
         ("users",), _never_logged_in, lambda: pl.lit("active user who has never logged in")),
    Rule("no_email", "low",
         "A user that is not deleted has no email address: no welcome mail, no self-service password reset, "
         "and nobody to ask about the account.",
         ("users",), _no_email, lambda: _words(_state(), " user has no email address")),
    Rule("inactive_manager", "low",
         "An active user's manager is inactive: approvals and the org chart point at someone who cannot act. "
         "Deleted or unknown managers are the rule missing_manager.",
         ("users",), _inactive_manager, _info),
    Rule("missing_manager", "low",
         "An active user's manager is deleted, or is not in the users table at all: the reference points at "
         "nobody and should be cleared or replaced.",
         ("users",), _missing_manager, _info),
)
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)


def rule(rule_id: str) -> Rule:
    """The rule with this id (KeyError names the rules)."""
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(f"No rule {rule_id!r}; the rules are {', '.join(RULE_IDS)}.")
