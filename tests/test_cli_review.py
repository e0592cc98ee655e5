"""``genesys-nb review`` and ``genesys-nb diff`` on snapshot folders written by helpers_snapshots."""

from __future__ import annotations

import openpyxl
import pytest

import genesys_nb as gnb

from genesys_nb.cli.app import main
from genesys_nb._review.diff import KINDS

from helpers_snapshots import EXPECTED, EXPECTED_CHANGES, acme, acme_next, write_snapshot, acme_next_rows


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return str(acme(root / "q2")), str(acme_next(root / "q3"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_review_prints_the_counts_per_rule(capsys, pair):
    code, out, err = run(capsys, "review", pair[0])
    assert code == 0, err
    assert "Access review of Acme Test Org (org-acme)" in out
    for rule_id, rows in EXPECTED.items():
        assert any(line.split()[:3] == [rule_id, line.split()[1], str(len(rows))] for line in out.splitlines()), \
            rule_id
    assert "changes since" not in out


def test_review_with_previous_and_xlsx_writes_the_workbook(capsys, pair, tmp_path):
    target = tmp_path / "review.xlsx"
    code, out, err = run(capsys, "review", pair[1], "--previous", pair[0], "--xlsx", str(target))
    assert code == 0, err
    assert f"wrote {target}" in out
    for kind in KINDS:
        assert any(line.split() == [kind, str(len(EXPECTED_CHANGES[kind]))] for line in out.splitlines()), kind
    assert openpyxl.load_workbook(target).sheetnames[:2] == ["Summary", "Findings"]
    code, out, err = run(capsys, "review", pair[1], "--xlsx", str(target))
    assert code == 2 and "exists; pass --overwrite to replace it" in err
    assert run(capsys, "review", pair[1], "--xlsx", str(target), "--overwrite")[0] == 0


@pytest.mark.parametrize("command", ["review", "diff"])
def test_xlsx_in_a_missing_folder_is_refused_before_any_work(capsys, pair, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    argv = [pair[1]] if command == "review" else list(pair)
    code, out, err = run(capsys, command, *argv, "--xlsx", "nowhere/r.xlsx")
    assert code == 2, err
    assert f"The folder '{tmp_path / 'nowhere'}' does not exist" in err and "mkdir -p" in err
    assert out == "" and list(tmp_path.iterdir()) == []


def test_review_options_change_the_answer(capsys, pair):
    code, out, _ = run(capsys, "review", pair[0], "--stale-days", "150", "--admin-roles", "Agent")
    assert code == 0
    counts = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line.startswith("  ")}
    assert counts["stale_login"] == "1" and counts["admin_role_inactive"] == "1"
    code, out, _ = run(capsys, "review", pair[0], "--today", "2026-07-30")
    assert "findings as of 2026-07-30 00:00 UTC" in out


@pytest.mark.parametrize("argv, words", [
    (["--stale-days", "-3"], "--stale-days: must be 0 or more"),
    (["--stale-days", "soon"], "is not a whole number of days"),
    (["--today", "tomorrow"], "--today must be a date"),
    (["--admin-roles", "Root"], "--admin-roles names roles the snapshot does not have: Root"),
    (["--xlsx", "out.csv"], "--xlsx: The workbook must be an .xlsx file"),
])
def test_review_errors_speak_of_flags(capsys, pair, argv, words):
    code, _, err = run(capsys, "review", pair[0], *argv)
    assert code == 2
    assert words in err


def test_review_of_a_folder_that_is_not_a_snapshot(capsys, tmp_path):
    code, _, err = run(capsys, "review", str(tmp_path))
    assert code == 2 and "is not a snapshot: it has no manifest.json" in err


def test_diff_prints_the_change_counts_and_writes_xlsx(capsys, pair, tmp_path):
    code, out, err = run(capsys, "diff", pair[0], pair[1], "--xlsx", str(tmp_path / "d.xlsx"))
    assert code == 0, err
    assert "changes in Acme Test Org" in out
    for kind in KINDS:
        assert any(line.split() == [kind, str(len(EXPECTED_CHANGES[kind]))] for line in out.splitlines()), kind
    assert openpyxl.load_workbook(tmp_path / "d.xlsx").sheetnames[0] == "Summary"


def test_diff_refuses_two_orgs_and_the_wrong_order(capsys, pair, tmp_path):
    other = write_snapshot(tmp_path / "other", acme_next_rows(), org=("org-2", "Other"))
    code, _, err = run(capsys, "diff", pair[0], str(other))
    assert code == 2 and "two different orgs" in err
    code, _, err = run(capsys, "diff", pair[1], pair[0])
    assert code == 2 and "pass the older snapshot first" in err
    code, _, err = run(capsys, "review", pair[0], "--previous", pair[1])
    assert code == 2 and "finished 2026-09-28 12:00:00 UTC) is newer than the reviewed one" in err
    assert "--previous must be the older of the two" in err


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    examples = capsys.readouterr().out.split("examples:")[-1]
    assert "genesys-nb snapshot " in examples and "genesys-nb sql " in examples and "genesys-nb review " in examples
    assert main(["review", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--previous OLD" in out
    assert "as_of" in " ".join(out.split()) and "finish time" not in out  # what the review date defaults to


@pytest.mark.parametrize("command", ["review", "diff"])
def test_a_workbook_that_cannot_be_written_exits_1_in_one_line(capsys, pair, tmp_path, monkeypatch, command):
    import errno

    from genesys_nb._review import workbook

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workbook, "_summary", full)
    argv = [pair[1]] if command == "review" else list(pair)
    code, _, err = run(capsys, command, *argv, "--xlsx", str(tmp_path / "r.xlsx"))
    assert code == 1 and "No space left on device" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and list(tmp_path.iterdir()) == []
    assert main([command, "--help"]) == 0
    assert "exit codes: 0 ok, 1 the workbook could not be written" in capsys.readouterr().out


EVIL = "\x1b[2JEvil\x1b]0;pwned\x07 Org\u202e"


def test_org_names_from_manifests_never_drive_the_terminal(capsys, tmp_path):
    from helpers_snapshots import NEXT_FINISHED, acme_rows

    old = write_snapshot(tmp_path / "old", acme_rows(), org=("org-\x07", EVIL),
                         skipped={"user_licenses": ("403 \x1b[31mForbidden", None)})
    new = write_snapshot(tmp_path / "new", acme_next_rows(), org=("org-\x07", EVIL), finished=NEXT_FINISHED)
    other = write_snapshot(tmp_path / "other", acme_next_rows(), org=("org-2", "\x1b[31mRed"),
                           finished=NEXT_FINISHED)
    for argv in (["review", str(new), "--previous", str(old)], ["review", str(old)], ["diff", str(old), str(new)],
                 ["diff", str(old), str(other)]):
        code, out, err = run(capsys, *argv)
        text = out + err
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, (argv, text)
        assert "\\x1b[2JEvil\\x1b]0;pwned\\x07 Org\\u202e" in text, (argv, text)
    assert "\\x1b[31mForbidden" in run(capsys, "review", str(old))[1]  # a skip reason, from the manifest too
    assert "\x1b" not in str(gnb.review(new))


def test_sql_and_snapshot_summaries_escape_control_characters(capsys, tmp_path, monkeypatch):
    import genesys_nb.cli.snapshot as snapshot_cli

    rows = acme_next_rows()
    rows["users"][0]["name"] = "\x1b[2Jwiped"
    snap = write_snapshot(tmp_path / "s", rows, org=("org-1", EVIL))
    code, out, _ = run(capsys, "sql", str(snap), "select name from users")
    assert code == 0 and "\x1b" not in out and "\\x1b[2Jwiped" in out
    real = snapshot_cli.summary_table
    monkeypatch.setattr(snapshot_cli, "summary_table",  # as if the API had named its org so
                        lambda m: real({**m, "org": {"id": "o", "name": EVIL}}))
    code, out, _ = run(capsys, "snapshot", str(tmp_path / "t"), "--sandbox", "--sandbox-users", "5", "--tables",
                       "roles", "--no-progress")
    assert code == 0 and "\x1b" not in out and "snapshot of \\x1b[2JEvil" in out
