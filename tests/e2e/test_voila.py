"""A real browser clicks through the wizard of ``02_interactive_export.ipynb`` served by Voila.

Connect to the sandbox, choose active users whose name, email or department contains "sales", preview them,
export them to Parquet, then check the file on disk and the summary on the page. Screenshots go to
``test-artifacts/``; the wizard's is copied to ``docs/img/wizard.png`` for the README when
``GENESYS_NB_UPDATE_SCREENSHOT=1`` (or when it is missing).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.widgets import UserQuery


pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

TEXT = "sales"


def expected_rows() -> tuple[int, int, int]:
    """(matches among the first 500 active users, matches among all, active users) in the default sandbox org."""
    query = UserQuery(state="active", text=TEXT)
    with gnb.connect(sandbox={"rate_limit": None}) as client:
        active = list(client.users(state="active"))
    return sum(map(query.matches, active[:500])), sum(map(query.matches, active)), len(active)


def test_wizard_connect_preview_export_in_chromium(voila, launch_chromium, playwright_sync, artifacts):
    from playwright.sync_api import expect

    in_preview, total, active = expected_rows()
    browser = launch_chromium(playwright_sync)   # first: without Chromium the test fails at once
    app = voila("02_interactive_export.ipynb")
    page = browser.new_page(viewport={"width": 1000, "height": 1800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(app.url, wait_until="domcontentloaded")
        wizard = page.locator(".gnb-wizard")
        connect = wizard.get_by_role("button", name="Connect")
        expect(connect).to_be_visible(timeout=90_000)   # Voila runs the whole notebook first
        expect(wizard.get_by_label("Use the offline sandbox org (no credentials)")).to_be_checked()

        connect.click()
        expect(wizard.get_by_text("Connected to Sandbox Org 42 (sandbox).")).to_be_visible(timeout=30_000)

        wizard.get_by_label("State").select_option("active")
        wizard.get_by_label("Contains").fill(TEXT)
        wizard.get_by_role("button", name="Preview").click()
        expect(wizard.get_by_text(f"{in_preview} of the first 500 users match so far")).to_be_visible(timeout=30_000)
        expect(wizard.locator("table.gnb-preview tbody tr")).to_have_count(min(in_preview, 10))
        wizard.screenshot(path=artifacts / "wizard-preview.png")

        wizard.get_by_role("button", name="Export").click()
        target = app.output_dir / "wizard_users.parquet"
        summary = wizard.get_by_text(re.compile(rf"^✔ Exported {total:,} rows to {re.escape(str(target.resolve()))} "))
        expect(summary).to_be_visible(timeout=60_000)
        expect(wizard.locator("caption", has_text="Export summary")).to_be_visible()
        expect(wizard.get_by_text(f"{active}/{active}")).to_be_visible()   # the tqdm.auto bar, inside the panel
        wizard.screenshot(path=artifacts / "wizard.png")
        page.screenshot(path=artifacts / "voila-page.png", full_page=True)
    except Exception:
        page.screenshot(path=artifacts / "voila-failure.png", full_page=True)
        raise
    finally:
        browser.close()

    assert target.exists(), f"no export at {target}"
    frame = pl.read_parquet(target)
    assert frame.height == total and frame["state"].unique().to_list() == ["active"]
    assert all(TEXT in " ".join(str(v).lower() for v in row) for row in frame.select("name", "email", "department").rows())
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_dashboard_connect_preview_export_download_in_chromium(voila, launch_chromium, playwright_sync, artifacts,
                                                                 tmp_path):
    """The Voila dashboard: the wizard alone (no notebook text, one of each button), down to the file's download."""
    from playwright.sync_api import expect

    in_preview, total, active = expected_rows()
    browser = launch_chromium(playwright_sync)
    app = voila("dashboard.ipynb")
    page = browser.new_page(viewport={"width": 1000, "height": 1900}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(app.url, wait_until="domcontentloaded")
        connect = page.get_by_role("button", name="Connect")
        expect(connect).to_be_visible(timeout=90_000)
        for name in ("Connect", "Preview", "Export"):  # the wizard alone: no second set of panels
            expect(page.get_by_role("button", name=name)).to_have_count(1)
        expect(page.get_by_text("Run the cells")).to_have_count(0)
        expect(page.get_by_text("The download link appears here")).to_be_visible()

        connect.click()
        expect(page.get_by_text("Connected to Sandbox Org 42 (sandbox).")).to_be_visible(timeout=30_000)
        page.get_by_label("State").select_option("active")
        page.get_by_label("Contains").fill(TEXT)
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_text(f"{in_preview} of the first 500 users match so far")).to_be_visible(timeout=30_000)

        page.get_by_role("button", name="Export").click()
        summary = page.get_by_text(re.compile(rf"^✔ Exported {total:,} rows to exports/users\.parquet "
                                              rf"\(the {total:,} of {active:,} users read that match, "))
        expect(summary).to_be_visible(timeout=60_000)
        link = page.locator("a.gnb-download")
        expect(link).to_have_text(re.compile(r"Download users\.parquet"), timeout=30_000)
        expect(page.locator(".gnb-dashboard")).not_to_contain_text(str(tmp_path))  # no server folder shown
        page.locator(".gnb-dashboard").screenshot(path=artifacts / "dashboard.png")
        with page.expect_download(timeout=30_000) as info:
            link.click()
        download = info.value
        saved = tmp_path / "downloaded" / download.suggested_filename
        saved.parent.mkdir()
        download.save_as(saved)
    except Exception:
        page.screenshot(path=artifacts / "dashboard-failure.png", full_page=True)
        raise
    finally:
        browser.close()

    assert download.suggested_filename == "users.parquet"
    frame = pl.read_parquet(saved)
    assert frame.equals(pl.read_parquet(app.output_dir / "users.parquet"))
    assert frame.height == total and frame["state"].unique().to_list() == ["active"]
    assert all(TEXT in " ".join(str(v).lower() for v in row) for row in frame.select("name", "email", "department").rows())
    assert not errors, f"JavaScript errors on the page: {errors}"
    # The README's screenshot is refreshed on request (its timings change every run), or when it is missing.
    readme_shot = ROOT / "docs" / "img" / "wizard.png"
    if os.environ.get("GENESYS_NB_UPDATE_SCREENSHOT") == "1" or not readme_shot.exists():
        readme_shot.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifacts / "dashboard.png", readme_shot)
