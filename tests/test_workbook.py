"""The sign-off workbook, read back with openpyxl: sheets, cell types, text that stays text, frozen headers,
autofilters, and the atomic, no-overwrite write."""

from __future__ import annotations

import datetime as dt
import os

import openpyxl
import pytest

import genesys_nb as gnb
from genesys_nb.errors import ConfigError, ExportError
from genesys_nb._review.diff import KINDS

from helpers_snapshots import EXPECTED, EXPECTED_CHANGES, FINISHED, NEXT_FINISHED, acme, acme_next, acme_rows

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://x.test\",\"x\")"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = tmp_path_factory.mktemp("wb")
    old, new = acme(root / "q2"), acme_next(root / "q3")
    review = gnb.review(new, previous=old)
    path = review.to_excel(root / "review.xlsx")
    return review, openpyxl.load_workbook(path)


def header(ws) -> list[str]:
    return [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]


def column(ws, name: str) -> list:
    i = header(ws).index(name)
    return [row[i] for row in ws.iter_rows(min_row=2)]


def test_sheets_summary_findings_each_rule_and_each_change_kind(book):
    review, wb = book
    rules_found = [r.id for r in gnb.RULES if review.counts()[r.id]]
    kinds = [k for k in KINDS if EXPECTED_CHANGES[k]]
    assert wb.sheetnames == ["Summary", "Findings", *rules_found, *kinds]
    assert set(rules_found) == set(EXPECTED)  # the next quarter still has something for every rule


def test_findings_sheet_has_every_finding_and_empty_decision_columns(book):
    review, wb = book
    ws = wb["Findings"]
    columns = [c + "_utc" if c == "date_last_login" else c for c in review.findings.columns]
    assert header(ws) == [*columns, "decision", "comment"]
    assert ws.max_row == review.findings.height + 1
    assert {c.value for c in column(ws, "decision")} == {None}
    assert [c.value for c in column(ws, "user_id")] == review.findings["user_id"].to_list()
    (validation,) = ws.data_validations.dataValidation
    assert validation.formula1 == '"keep,revoke,fix"'


def test_each_rule_sheet_holds_that_rules_rows(book):
    review, wb = book
    for rule, frame in review.findings_by_rule().items():
        assert {c.value for c in column(wb[rule], "rule")} == {rule}
        assert wb[rule].max_row == frame.height + 1


def test_headers_are_frozen_and_filtered_and_columns_readable(book):
    _, wb = book
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        (table,) = ws.tables.values()
        assert table.autoFilter is not None and table.autoFilter.ref == table.ref
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert all(8 <= w <= 80 for w in widths), (name, widths)
    detail = wb["Findings"].column_dimensions[chr(ord("A") + header(wb["Findings"]).index("detail"))].width
    assert detail > 40


def test_every_time_header_of_every_sheet_says_utc(book):
    _, wb = book
    times = {name: [h for h, c in zip(header(ws), next(ws.iter_rows(min_row=2, max_row=2), ())) if
                    isinstance(c.value, dt.datetime)] for name, ws in ((n, wb[n]) for n in wb.sheetnames[1:])}
    assert times["Findings"] == ["date_last_login_utc"]
    assert all(h.endswith("_utc") for hs in times.values() for h in hs), times
    summary = [v for row in wb["Summary"].iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert {"started_utc", "finished_utc", "as_of_utc", "review_date_utc", "written_utc"} <= set(summary)


def test_dates_are_real_excel_dates(book):
    review, wb = book
    logins = [c for c in column(wb["Findings"], "date_last_login_utc") if c.value is not None]
    assert logins and all(c.is_date and isinstance(c.value, dt.datetime) for c in logins)
    expected = review.findings["date_last_login"].drop_nulls().dt.replace_time_zone(None).to_list()
    assert [c.value for c in logins] == expected
    summary = wb["Summary"]
    finished = [c for row in summary.iter_rows() for c in row if c.is_date and c.value is not None]
    assert NEXT_FINISHED.replace(tzinfo=None) in [c.value for c in finished]
    assert FINISHED.replace(tzinfo=None) in [c.value for c in finished]


def test_text_that_looks_like_a_formula_stays_text(book):
    _, wb = book
    names = column(wb["Findings"], "name")
    rupert = [c for c in names if c.value == "=1+1 Rupert"]
    assert rupert and all(c.data_type == "s" for c in rupert)
    emails = [c for c in column(wb["Findings"], "email") if c.value == "@rupert@acme.test"]
    assert emails and all(c.data_type == "s" for c in emails)
    formulas = [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_every_dangerous_beginning_is_written_as_text(tmp_path):
    rows = acme_rows()
    for u, name in zip(rows["users"], DANGEROUS):
        if u["state"] != "active":
            continue
        u["name"] = name
    rows["users"][8]["name"] = DANGEROUS[0]  # Heidi (no_email) found for sure
    from helpers_snapshots import write_snapshot

    review = gnb.review(write_snapshot(tmp_path / "s", rows))
    wb = openpyxl.load_workbook(review.to_excel(tmp_path / "r.xlsx"))
    cells = [c for c in column(wb["Findings"], "name") if c.value in DANGEROUS]
    assert {c.value for c in cells} >= {DANGEROUS[0]}
    assert all(c.data_type == "s" for c in cells)
    assert not [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_summary_shows_org_times_tables_rules_changes_and_sign_off(book):
    review, wb = book
    text = [c.value for row in wb["Summary"].iter_rows() for c in row if isinstance(c.value, str)]
    assert text[0] == "Access review of Acme Test Org"
    for needed in ("org-acme", "users", "rows_match_api_total", "admin_role_inactive", "joiners",
                   "reviewer", "decision", "date"):
        assert needed in text, needed
    rows = list(wb["Summary"].iter_rows(values_only=True))
    users_row = next(r for r in rows if r[0] == "users" and r[1] == "complete")
    assert users_row[2:5] == (review.snapshot.rows("users"), review.snapshot.manifest.tables["users"].api_total,
                              "yes")
    rule_row = next(r for r in rows if r[0] == "admin_role_inactive")
    assert rule_row[1:3] == ("high", review.counts()["admin_role_inactive"])
    joiners_row = next(r for r in rows if r[0] == "joiners")
    assert joiners_row[1] == len(EXPECTED_CHANGES["joiners"])


def test_an_existing_file_is_kept_unless_overwrite(tmp_path, book):
    review, _ = book
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"keep me")
    with pytest.raises(ExportError, match="exists; pass overwrite=True"):
        review.to_excel(target)
    assert target.read_bytes() == b"keep me"
    review.to_excel(target, overwrite=True)
    assert openpyxl.load_workbook(target).sheetnames[0] == "Summary"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]  # no partial file left


def test_a_failed_write_leaves_nothing_under_the_final_name(tmp_path, book, monkeypatch):
    review, _ = book
    from genesys_nb._review import workbook

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(workbook, "_data_sheet", boom)
    with pytest.raises(RuntimeError):
        review.to_excel(tmp_path / "r.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("write", ["review", "diff"])
def test_a_missing_folder_is_refused_not_created(tmp_path, book, write):
    """As exports: the workbook's folder must exist; the error names it, and nothing is created."""
    review, _ = book
    target = tmp_path / "nowhere" / "r.xlsx"
    frames = review if write == "review" else review.diff
    with pytest.raises(ExportError, match=f"The folder '{tmp_path / 'nowhere'}' does not exist"):
        frames.to_excel(target)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is not a folder"):
        frames.to_excel(tmp_path / "file" / "r.xlsx")


def test_only_xlsx_names_are_accepted(tmp_path, book):
    review, _ = book
    with pytest.raises(ConfigError, match="must be an .xlsx file"):
        review.to_excel(tmp_path / "r.csv")


def test_a_review_without_findings_still_has_an_empty_findings_sheet(tmp_path):
    from helpers_snapshots import clean

    wb = openpyxl.load_workbook(gnb.review(clean(tmp_path / "c")).to_excel(tmp_path / "c.xlsx"))
    assert wb.sheetnames == ["Summary", "Findings"]
    assert header(wb["Findings"])[:3] == ["rule", "severity", "user_id"]


def test_a_diff_writes_its_own_workbook(tmp_path):
    d = gnb.diff(acme(tmp_path / "a"), acme_next(tmp_path / "b"))
    wb = openpyxl.load_workbook(d.to_excel(tmp_path / "d.xlsx"))
    assert wb.sheetnames == ["Summary", *(k for k in KINDS if EXPECTED_CHANGES[k])]
    changes = wb["changes"]
    assert changes.max_row == len(EXPECTED_CHANGES["changes"]) + 1 and changes.freeze_panes == "A2"


def test_summary_shows_each_snapshots_as_of_by_the_api_clock(tmp_path, make_client):
    """The review date counts from as_of (the API's clock); the Summary shows it beside the machine's times, so two
    sandbox snapshots a quarter apart do not read as taken a second apart with the review date from nowhere."""
    client = make_client(users=40)
    old = client.snapshot(tmp_path / "q1", tables=["users"], progress=False)
    client.sandbox.advance(days=90)
    new = client.snapshot(tmp_path / "q2", tables=["users"], progress=False)
    wb = openpyxl.load_workbook(gnb.review(new, previous=old).to_excel(tmp_path / "r.xlsx"))
    rows = list(wb["Summary"].iter_rows(values_only=True))
    head = next(r for r in rows if r[0] == "snapshot")
    at = head.index("as_of_utc")
    as_of = {r[0]: r[at] for r in rows if r[0] in ("current", "previous")}
    assert as_of == {"current": new.manifest.as_of.replace(tzinfo=None),
                     "previous": old.manifest.as_of.replace(tzinfo=None)}
    assert as_of["current"] - as_of["previous"] >= dt.timedelta(days=89)


def test_a_link_planted_beside_the_workbook_is_never_followed(tmp_path, book, monkeypatch):
    review, _ = book
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / f".r.{os.getpid()}.partial.xlsx").symlink_to(victim)  # the temporary name it used to take
    review.to_excel(tmp_path / "r.xlsx")
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "r.xlsx").is_symlink() and openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames

    from genesys_nb._review import workbook

    monkeypatch.setattr(workbook.secrets, "token_hex", lambda n: "feedbeef")  # a name someone guessed right
    planted = tmp_path / f".r2.{os.getpid()}.feedbeef.partial.xlsx"
    planted.symlink_to(victim)
    with pytest.raises(ExportError, match="neither follows nor deletes"):
        review.to_excel(tmp_path / "r2.xlsx")
    assert victim.read_text() == "precious\n" and planted.is_symlink() and not (tmp_path / "r2.xlsx").exists()


def test_the_review_methods_notebooks_use_are_in_the_readme_as_they_behave(tmp_path, book):
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    section = (root / "README.md").read_text().split("## Access reviews", 1)[1].split("\n## ", 1)[0]
    used = set()
    for notebook in (root / "notebooks").glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        used |= {m for c in cells for m in re.findall(r"\breview\.(\w+)\(", "".join(c["source"]))}
    assert {"counts", "findings_by_rule"} <= used
    for method in used | {"summary"}:
        assert f"review.{method}(" in section, method
    review, _ = book
    assert list(review.counts()) == [r.id for r in gnb.RULES]
    assert list(review.findings_by_rule()) == [r.id for r in gnb.RULES if review.counts()[r.id]]
    documented = section.split("`review.summary()` holds", 1)[1].split("A rule in `not_run`", 1)[0]
    keys = re.findall(r"`(\w+)` \(|`(\w+)`[,.]? ", documented)
    top = [a or b for a, b in keys if (a or b) in review.summary()]
    assert set(top) == set(review.summary()), top
    # a rule that could not run counts 0, and says why in not_run
    skipped = gnb.review(acme(tmp_path / "a", skipped={"user_licenses": ("403 Forbidden", "license:user:view")}))
    assert "licence_on_inactive" in skipped.not_run and skipped.counts()["licence_on_inactive"] == 0
