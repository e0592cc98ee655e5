"""Findings and diffs of real sandbox snapshots against the sandbox's ground truth: each rule finds exactly the users
it should, and each kind of change is exactly what the sandbox changed between two snapshots a quarter apart."""

from __future__ import annotations

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.sandbox import truth


@pytest.fixture(scope="module")
def quarter(tmp_path_factory):
    """Two snapshots of one sandbox org 90 days apart, the ground truth of the first, and what changed."""
    root = tmp_path_factory.mktemp("review")
    with gnb.connect(sandbox={"users": 1500, "rate_limit": None}) as client:
        before = client.snapshot(root / "q3", progress=False)
        dirt, admins, users = truth.dirt(client.sandbox), truth.admin_role_ids(client.sandbox), truth.users(client.sandbox)
        changes = client.sandbox.advance(days=90)
        after = client.snapshot(root / "q4", progress=False)
    return before, after, dirt, admins, users, changes


def _found(findings: pl.DataFrame, rule: str) -> set[str]:
    return set(findings.filter(pl.col("rule") == rule)["user_id"])


@pytest.mark.parametrize("rule", ["inactive_with_roles", "admin_role_inactive", "role_via_group_only",
                                  "never_logged_in", "inactive_in_queue", "licence_on_inactive"])
def test_each_rule_finds_exactly_the_users_the_sandbox_made_dirty(quarter, rule):
    before, _, dirt, admins, _, _ = quarter
    findings = gnb.findings(before, admin_roles=sorted(admins))
    assert _found(findings, rule) == dirt[rule] and dirt[rule]


def test_stale_logins_include_those_who_never_logged_in(quarter):
    before, _, dirt, admins, _, _ = quarter
    findings = gnb.findings(before, admin_roles=sorted(admins))
    assert _found(findings, "stale_login") == dirt["stale_login"] | dirt["never_logged_in"]


def test_managers_not_active_are_inactive_or_missing(quarter):
    before, _, dirt, _, _, _ = quarter
    findings = gnb.findings(before)
    assert _found(findings, "inactive_manager") | _found(findings, "missing_manager") == dirt["inactive_manager"]
    assert not _found(findings, "inactive_manager") & _found(findings, "missing_manager")


def test_email_rules_over_users_that_are_not_deleted(quarter):
    before, _, _, _, users, _ = quarter
    findings = gnb.findings(before)
    live = users.filter(pl.col("state") != "deleted")
    shared = live.filter(pl.col("email").is_not_null()).group_by("email").agg(pl.col("id")).filter(
        pl.col("id").list.len() > 1)
    assert _found(findings, "duplicate_email") == set(shared.explode("id")["id"]) != set()
    assert _found(findings, "no_email") == set(live.filter(pl.col("email").is_null())["id"]) != set()


def test_the_default_admin_roles_include_the_admins(quarter):
    before, _, _, admins, _, _ = quarter
    roles = pl.read_parquet(before.path / "roles.parquet")
    found = set(gnb.findings(before).filter(pl.col("rule") == "admin_role_inactive")["role_id"].drop_nulls())
    named = set(roles.filter(pl.col("name").is_in(["Master Admin", "Admin"]))["role_id"])
    assert named <= found <= admins


@pytest.mark.parametrize("kind", ["joiners", "leavers", "changes", "roles_granted", "roles_revoked",
                                  "group_members_added", "group_members_removed", "queue_members_added",
                                  "queue_members_removed", "user_licenses_added", "user_licenses_removed"])
def test_each_diff_kind_equals_what_the_sandbox_changed(quarter, kind):
    before, after, _, _, _, changes = quarter
    got = getattr(gnb.diff(before, after), kind)
    want = getattr(changes, kind)
    columns = [c for c in want.columns if c in got.columns]
    assert want.height > 0 and columns
    assert sorted(got.select(columns).rows(), key=repr) == sorted(want.select(columns).rows(), key=repr)


def test_a_review_of_the_sandbox_is_reviewed_as_of_the_apis_clock(quarter):
    before, after, _, _, _, _ = quarter
    assert after.manifest.as_of > before.manifest.as_of  # the sandbox's clock moved 90 days
    assert (after.manifest.as_of - before.manifest.as_of).days == 90
