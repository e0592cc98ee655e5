"""Findings: every rule against hand-built snapshots whose answers are known exactly (helpers_snapshots.EXPECTED)."""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.errors import ConfigError
from genesys_nb._review.findings import FINDING_SCHEMA
from genesys_nb._review.rules import RULE_IDS, SEVERITIES

from helpers_snapshots import (ADMIN_ROLES, EXPECTED, FINISHED, ROLES, acme, acme_rows, clean, user,
                               write_snapshot)

UTC = dt.timezone.utc
# The evidence each rule's expected tuples name, after the user id.
EVIDENCE = {"inactive_with_roles": ("role_id", "division_id", "group_id"),
            "admin_role_inactive": ("role_id", "division_id", "group_id"),
            "role_via_group_only": ("role_id", "division_id", "group_id"),
            "inactive_in_queue": ("queue_id",), "licence_on_inactive": ("license_id",)}


@pytest.fixture(scope="module")
def acme_snap(tmp_path_factory):
    return gnb.open_snapshot(acme(tmp_path_factory.mktemp("acme") / "snap"))


@pytest.fixture(scope="module")
def found(acme_snap):
    return gnb.findings(acme_snap)


def rows_of(found: pl.DataFrame, rule: str) -> set[tuple]:
    cols = ["user_id", *EVIDENCE.get(rule, ())]
    return set(found.filter(pl.col("rule") == rule).select(cols).iter_rows())


def test_rules_are_listed_with_id_severity_and_a_sentence():
    assert [r.id for r in gnb.RULES] == list(RULE_IDS)
    assert set(RULE_IDS) == set(EXPECTED)
    for r in gnb.RULES:
        assert r.severity in SEVERITIES and len(r.about) > 40 and r.about.endswith(".")
    assert {r.id: r.severity for r in gnb.RULES}["admin_role_inactive"] == "high"


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_each_rule_finds_exactly_the_users_it_should(found, rule):
    assert rows_of(found, rule) == EXPECTED[rule]


def test_the_frame_has_the_documented_columns_and_plain_words(found):
    assert found.schema == FINDING_SCHEMA
    assert found.height == sum(len(v) for v in EXPECTED.values())
    assert found["detail"].null_count() == 0 and found["name"].null_count() == 0
    carol = found.filter((pl.col("rule") == "admin_role_inactive") & (pl.col("user_id") == "u03")).row(0, named=True)
    assert carol["detail"] == "deleted user holds the admin role 'Master Admin' in all divisions directly"
    assert carol["role_name"] == "Master Admin" and carol["state"] == "deleted" and carol["email"] == "carol@acme.test"
    olivia = found.filter(pl.col("rule") == "role_via_group_only").filter(pl.col("user_id") == "u14").row(0, named=True)
    assert olivia["detail"] == "holds the admin role 'Everything Routing' in division 'East' only through group 'Ops'"
    assert olivia["group_name"] == "Ops" and olivia["division_name"] == "East"
    dave = found.filter((pl.col("rule") == "stale_login") & (pl.col("user_id") == "u04"))["detail"][0]
    assert dave == "last logged in on 2026-02-01, 149 days before 2026-06-30; holds licences: cloudCX3"
    walter = found.filter(pl.col("rule") == "inactive_in_queue").filter(pl.col("user_id") == "u20")["detail"][0]
    assert walter == "inactive user is still a member of queue 'Sales' through a group, not joined"
    assert found.filter(pl.col("rule") == "missing_manager").sort("user_id")["detail"].to_list() == [
        "manager 'Carol Cole' (u03) is deleted", "manager u-ghost is not in the users table"]


def test_findings_are_sorted_by_severity_then_rule(found):
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    order = {r: i for i, r in enumerate(RULE_IDS)}
    keys = [(rank[s], order[r]) for s, r in found.select("severity", "rule").iter_rows()]
    assert keys == sorted(keys)


def test_a_clean_org_gives_no_findings(tmp_path):
    assert gnb.findings(clean(tmp_path / "clean")).height == 0


def test_today_defaults_to_the_finish_time_and_can_be_moved(acme_snap):
    later = gnb.findings(acme_snap, today=FINISHED + dt.timedelta(days=100))
    stale = set(later.filter(pl.col("rule") == "stale_login")["user_id"])
    # 100 days later, every active user who logged in a day before the finish is stale too
    active = {u["id"] for u in acme_rows()["users"] if u["state"] == "active"}
    assert stale == active
    assert gnb.findings(acme_snap, today="2026-06-30T12:00:00Z").equals(gnb.findings(acme_snap))
    assert set(gnb.findings(acme_snap, today=dt.date(2026, 6, 30)).filter(pl.col("rule") == "stale_login")
               ["user_id"]) == {"u04", "u05"}


def test_stale_days_moves_the_cutoff(acme_snap):
    def stale(days):
        return set(gnb.findings(acme_snap, stale_days=days).filter(pl.col("rule") == "stale_login")["user_id"])
    assert stale(150) == {"u05"}          # Dave logged in 149 days before
    assert stale(149) == {"u05"}          # exactly stale_days before is not older
    assert stale(148) == {"u04", "u05"}
    assert stale(0) >= {"u01", "u04", "u05"}


def test_default_admin_roles_follow_the_documented_definition(acme_snap):
    from genesys_nb._review.findings import run_findings

    assert set(run_findings(acme_snap).admin_role_ids) == ADMIN_ROLES


def test_admin_roles_can_be_named_by_id_or_name(acme_snap):
    found = gnb.findings(acme_snap, admin_roles=["agent", "r-wild"])
    assert rows_of(found, "admin_role_inactive") == {("u02", "r-agent", "d-home", None)}
    assert rows_of(found, "role_via_group_only") == {("u14", "r-wild", "d-east", "g-ops")}
    assert gnb.findings(acme_snap, admin_roles=[]).filter(pl.col("rule") == "admin_role_inactive").height == 0
    with pytest.raises(ConfigError, match="admin_roles names roles the snapshot does not have: Root"):
        gnb.findings(acme_snap, admin_roles=["Root"])


@pytest.mark.parametrize("kw, words", [({"stale_days": -1}, "stale_days must be a whole number"),
                                       ({"stale_days": "90"}, "stale_days must be a whole number"),
                                       ({"today": "next week"}, "today must be a date"),
                                       ({"today": 5}, "today must be a date")])
def test_bad_arguments_are_refused_in_argument_words(acme_snap, kw, words):
    with pytest.raises(ConfigError, match=words):
        gnb.findings(acme_snap, **kw)


def test_a_path_works_like_a_snapshot(acme_snap):
    assert gnb.findings(str(acme_snap.path)).equals(gnb.findings(acme_snap))


def test_rules_whose_table_was_skipped_are_left_out_with_a_warning(tmp_path):
    rows = acme_rows()
    del rows["queue_members"]
    folder = write_snapshot(tmp_path / "s", rows, skipped={"queue_members": ("403 Forbidden", "routing:queue:view")})
    with pytest.warns(UserWarning, match=r"inactive_in_queue was not run.*queue_members \(403 Forbidden, missing "
                                         r"permission routing:queue:view\)"):
        found = gnb.findings(folder)
    assert "inactive_in_queue" not in set(found["rule"])
    assert rows_of(found, "licence_on_inactive") == EXPECTED["licence_on_inactive"]


def test_without_a_users_table_there_is_nothing_to_review(tmp_path):
    folder = write_snapshot(tmp_path / "s", {"roles": ROLES}, skipped={"users": ("403 Forbidden", None)})
    with pytest.raises(ConfigError, match=r"no users table \(403 Forbidden"):
        gnb.findings(folder)


def test_deleted_users_are_not_counted_as_duplicates_or_missing_emails(tmp_path):
    users = [user("a", "Amy A", email="same@x.test"), user("b", "Bea B", "deleted", email="same@x.test"),
             user("c", "Cid C", "deleted", email=None)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the rules that need the other tables
        found = gnb.findings(write_snapshot(tmp_path / "s", {"users": users}))
    assert found.filter(pl.col("rule").is_in(["duplicate_email", "no_email"])).height == 0
