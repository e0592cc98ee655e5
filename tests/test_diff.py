"""Snapshot diffs: every kind of change against the Acme org and its next quarter (helpers_snapshots)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.errors import ConfigError
from genesys_nb._review.diff import KINDS

from helpers_snapshots import EXPECTED_CHANGES, acme, acme_next, acme_next_rows, acme_rows, write_snapshot

KEYS = {"joiners": ("user_id",), "leavers": ("user_id",), "changes": ("user_id", "field", "old", "new"),
        "roles_granted": ("user_id", "role_id", "division_id", "via"),
        "roles_revoked": ("user_id", "role_id", "division_id", "via"),
        "group_members_added": ("group_id", "user_id"), "group_members_removed": ("group_id", "user_id"),
        "queue_members_added": ("queue_id", "user_id"), "queue_members_removed": ("queue_id", "user_id"),
        "user_licenses_added": ("user_id", "license_id"), "user_licenses_removed": ("user_id", "license_id")}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("pair")
    return acme(root / "q2"), acme_next(root / "q3")


@pytest.fixture(scope="module")
def d(pair):
    return gnb.diff(*pair)


def test_every_kind_is_there_in_order():
    assert list(KINDS) == list(EXPECTED_CHANGES) == list(KEYS)


@pytest.mark.parametrize("kind", list(KEYS))
def test_each_kind_of_change_is_found_exactly(d, kind):
    assert set(d[kind].select(KEYS[kind]).iter_rows()) == EXPECTED_CHANGES[kind]
    assert getattr(d, kind).equals(d[kind])


def test_summary_counts_each_kind(d):
    assert d.summary() == {k: len(v) for k, v in EXPECTED_CHANGES.items()}


def test_joiners_and_leavers_say_why(d):
    assert dict(d.joiners.select("user_id", "reason").iter_rows()) == {"u21": "new user", "u10": "reactivated"}
    leavers = {r["user_id"]: r for r in d.leavers.iter_rows(named=True)}
    assert leavers["u01"]["reason"] == "deactivated" and leavers["u01"]["state"] == "inactive"
    assert leavers["u19"]["reason"] == "gone from the directory" and leavers["u19"]["state"] is None
    assert leavers["u19"]["name"] == "Victor Vale" and leavers["u19"]["title"] == "Agent"  # from the old snapshot


def test_changes_name_the_division_and_manager(d):
    dave = {r["field"]: r for r in d.changes.filter(pl.col("user_id") == "u04").iter_rows(named=True)}
    assert (dave["division"]["old_name"], dave["division"]["new_name"]) == ("Home", "East")
    assert (dave["manager"]["old_name"], dave["manager"]["new_name"]) == ("Alice Archer", "Frank Fox")
    assert dave["title"]["old_name"] is None


def test_removed_rows_carry_the_old_snapshots_names(d):
    victor = d.roles_revoked.filter(pl.col("user_id") == "u19")
    assert set(victor["name"]) == {"Victor Vale"} and set(victor["role_name"]) == {"employee", "Auditor"}
    peggy = d.roles_revoked.filter(pl.col("user_id") == "u15").row(0, named=True)
    assert peggy["group_name"] == "Ops" and peggy["role_name"] == "Everything Routing"
    assert d.queue_members_removed["queue_name"].to_list() == ["Sales"]


def test_role_changes_name_the_division(d):
    """An auditor reads which division a role was granted or revoked in, not only its id ('*' is all of them)."""
    granted = {(r["user_id"], r["division_id"]): r["division_name"] for r in d.roles_granted.iter_rows(named=True)}
    assert granted[("u05", "d-home")] == "Home" and granted[("u21", "*")] == "all divisions"
    revoked = {(r["user_id"], r["division_id"]): r["division_name"] for r in d.roles_revoked.iter_rows(named=True)}
    assert revoked[("u15", "d-east")] == "East"


def test_a_snapshot_against_itself_has_no_changes(pair):
    assert set(gnb.diff(pair[0], pair[0]).summary().values()) == {0}


def test_two_orgs_are_refused(tmp_path, pair):
    other = write_snapshot(tmp_path / "other", acme_next_rows(), org=("org-other", "Other Org"))
    with pytest.raises(ConfigError, match=r"two different orgs \(Acme Test Org org-acme and Other Org org-other\)"):
        gnb.diff(pair[0], other)


def test_the_older_snapshot_must_come_first(pair):
    with pytest.raises(ConfigError, match="pass the older snapshot first"):
        gnb.diff(pair[1], pair[0])


def test_the_order_error_tells_apart_two_snapshots_of_one_minute(tmp_path):
    """Times to the second: snapshots finished 35 s apart do not read as the same moment."""
    at = dt.datetime(2026, 6, 30, 12, 0, 5, tzinfo=dt.timezone.utc)
    early = write_snapshot(tmp_path / "early", acme_rows(), finished=at)
    late = write_snapshot(tmp_path / "late", acme_rows(), finished=at + dt.timedelta(seconds=35))
    with pytest.raises(ConfigError, match=r"The old snapshot \(.*late, finished 2026-06-30 12:00:40 UTC\) is newer "
                                          r"than the new one \(.*early, finished 2026-06-30 12:00:05 UTC\); pass the "
                                          r"older snapshot first"):
        gnb.diff(late, early)
    with pytest.raises(ConfigError, match=r"The previous snapshot \(.*late, finished 2026-06-30 12:00:40 UTC\) is "
                                          r"newer than the reviewed one .*12:00:05 UTC\); previous= must be the older"):
        gnb.review(early, previous=late)


def test_a_kind_whose_table_one_side_lacks_is_empty_and_said(tmp_path, pair):
    rows = acme_next_rows()
    del rows["user_licenses"]
    new = write_snapshot(tmp_path / "new", rows, finished=gnb.open_snapshot(pair[1]).manifest.finished,
                         skipped={"user_licenses": ("403 Forbidden", "authorization:grant:view")})
    d = gnb.diff(pair[0], new)
    assert d.user_licenses_added.height == 0 and d.user_licenses_removed.height == 0
    assert d.user_licenses_added.columns[:2] == ["user_id", "license_id"]
    assert "403 Forbidden" in d.not_compared["user_licenses_added"]
    assert set(d.not_compared) == {"user_licenses_added", "user_licenses_removed"}
    assert d.summary()["joiners"] == 2


def test_unknown_kinds_name_the_kinds(d):
    with pytest.raises(KeyError, match="the kinds are joiners"):
        d["promotions"]
    with pytest.raises(AttributeError, match="kinds of change are joiners"):
        d.promotions


def test_old_rows_do_not_change_the_fixture():  # the helpers build fresh rows on every call
    assert acme_rows()["users"][0]["date_last_login"] != acme_next_rows()["users"][0]["date_last_login"]
