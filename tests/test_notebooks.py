"""The notebooks, executed headless with nbclient in a real kernel, their outputs checked.

Every notebook runs from a fresh copy of ``notebooks/`` with nothing prepared. 01, 02 and 04 also run on the
in-process sandbox with no credentials, and with credentials in the environment against a sandbox served over
loopback HTTP (``GENESYS_NB_API_URL``); that run scans the whole saved notebook file (outputs, metadata, widget
state) for the secret. 05 is sandbox-only (it moves the sandbox org forward in time). Buttons and panels are clicked
by cells appended for the test. The expected results come from the raw records or from the sandbox's ground truth
(``genesys_nb.sandbox.truth``), independently of the notebooks' own code.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import nbformat
import openpyxl
import polars as pl
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

import genesys_nb as gnb
from genesys_nb._review import KINDS
from genesys_nb._review.rules import admin_role_expr
from genesys_nb.sandbox import OAuthClient, Sandbox, truth
from genesys_nb.widgets import UserQuery

pytestmark = pytest.mark.notebooks

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = ["01_quickstart.ipynb", "02_interactive_export.ipynb", "04_access_snapshot.ipynb"]
SANDBOX_ONLY = ["05_access_review.ipynb"]
SECRET = "nb-Secret-0c9d2e51b7a4"  # distinctive: it can only be in a file by leaking
ENV_NAMES = ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION",
             "GENESYS_NB_API_URL")

# Cells appended to 02 to click through the panels (the notebook itself leaves the clicking to people).
CLICK_THROUGH = [
    'connect.button.click()\nprint("CONNECT:", connect.message)',
    'filters.state.value = "active"\nfilters.text.value = "sales"\nfilters.button.click()\n'
    'print("PREVIEW:", filters.preview_matched, filters.preview_scanned)',
    'export.start()\nexport.wait(120)\nprint("EXPORT:", export.message)\nprint("ROWS:", export.summary.rows)',
    'app.connect.button.click()\napp.export.start()\napp.export.wait(120)\nprint("WIZARD:", app.export.summary.rows)',
]
# As if a person typed the secret into the wizard's password field and connected.
TYPED_SECRET = ('app.connect.secret.value = os.environ["GENESYSCLOUD_OAUTHCLIENT_SECRET"]\n'
                'app.connect.button.click()\nprint("TYPED:", repr(app.connect.secret.value), app.connect.message)')


# Cells appended to 04 and 05 to hand their results to the test (the notebooks show them as tables).
SNAPSHOT_RESULTS = ['import json\nprint("RESULTS:", json.dumps({"admin_roles": sorted(admin_roles["role_id"]), '
                    '"admin": sorted(admin_holders.select("user_id", "role_id", "division_id", "via").rows()), '
                    '"in_queues": sorted(in_queues["user_id"]), '
                    '"never_used": sorted([u, x] for u, xs in never_used.select("user_id", "licences").rows() '
                    'for x in xs.split(", "))}))']
REVIEW_CLICK = ['button.click()\nprint("LINK:", link.value)',
                'import json\nprint("RESULTS:", json.dumps({"diff": review.diff.summary(), "findings": '
                '{r: sorted(f["user_id"]) for r, f in review.findings_by_rule().items()}}))']


def execute(name: str, extra_cells: list[str] = (), folder: Path = NB_DIR) -> nbformat.NotebookNode:
    """Run ``folder/name`` with ``folder`` as the kernel's working directory."""
    nb = nbformat.read(folder / name, as_version=4)
    nb.cells += [new_code_cell(src) for src in extra_cells]
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def printed(nb: nbformat.NotebookNode) -> str:
    """Everything the code cells printed or showed as plain text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.ename}: {out.evalue}"
            if out.output_type == "stream" and out.name == "stdout":
                parts.append(out.text)  # a kernel under load may split one cell's prints into several outputs
            elif "data" in out:
                parts.append("\n" + out.data.get("text/plain", "") + "\n")
        parts.append("\n")
    return "".join(parts)


def mimetypes(nb: nbformat.NotebookNode) -> set[str]:
    return {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}


def results(text: str) -> dict:
    """The JSON that SNAPSHOT_RESULTS or REVIEW_CLICK printed."""
    [line] = [line for line in text.splitlines() if line.startswith("RESULTS: ")]
    return json.loads(line.removeprefix("RESULTS: "))


def check_workbook(folder: Path, text: str, findings: int) -> None:
    """The button wrote the workbook the link names, into ``folder``, and it opens with every finding in it."""
    match = re.search(r'LINK: <a href="([^"]+)" download target="_blank">Download (access-review-[\d-]+\.xlsx)</a>', text)
    assert match, "the button did not show a download link"
    path = folder / match.group(2)
    assert path.is_file() and match.group(1).endswith(f"access-review/{path.name}")
    book = openpyxl.load_workbook(path, read_only=True)
    assert {"Summary", "Findings"} <= set(book.sheetnames)
    assert book["Findings"].max_row == findings + 1  # a header, then one row per finding


@pytest.fixture(scope="module")
def expected() -> dict[str, int]:
    """What the notebooks should find in the default sandbox org, counted from the raw records."""
    with gnb.connect(sandbox={"rate_limit": None}) as client:
        users = list(client.users())
    sales = UserQuery(state="active", text="sales")
    active = [u for u in users if u["state"] == "active"]
    return {
        "users": len(users), "active": len(active),
        "sales_department": sum(u.get("department") == "Sales" for u in active),
        "sales_text": sum(sales.matches(u) for u in active),
        "sales_text_first_500": sum(sales.matches(u) for u in active[:500]),
    }


@pytest.fixture(scope="module")
def access_truth() -> dict:
    """What notebook 04 should find in its 3,000-user sandbox org, from the sandbox's ground truth."""
    with gnb.connect(sandbox={"users": 3_000, "rate_limit": None}) as client:
        sb = client.sandbox
        admin_roles = set(truth.roles(sb).filter(admin_role_expr())["role_id"])
        assert admin_roles and admin_roles <= truth.admin_role_ids(sb)  # the review's definition finds real ones
        admin = truth.user_roles(sb).filter(pl.col("role_id").is_in(list(admin_roles)))
        never = truth.users(sb).filter(pl.col("date_last_login").is_null())["id"]
        licences = truth.user_licenses(sb).filter(pl.col("user_id").is_in(never.to_list()))
        return {"admin_roles": admin_roles, "dirt": truth.dirt(sb),
                "admin": set(admin.select("user_id", "role_id", "division_id", "via").rows()),
                "never_used": set(licences.select("user_id", "license_id").rows())}


@pytest.fixture(scope="module")
def review_truth() -> dict:
    """Notebook 05's org a quarter on: what changed and what is wrong, from the sandbox's ground truth."""
    with gnb.connect(sandbox={"rate_limit": None}) as client:
        changes = client.sandbox.advance(days=90)
        assert dt.datetime.fromtimestamp(client.sandbox.org.now_ms / 1000, dt.timezone.utc).date() == dt.date(2026, 4, 1)
        return {"changes": {kind: getattr(changes, kind).height for kind in KINDS}, "dirt": truth.dirt(client.sandbox)}

@pytest.fixture
def sandbox_env(monkeypatch, tmp_path):
    """No credentials: the notebooks use the in-process sandbox and write their files into tmp_path."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GENESYS_NB_OUTPUT", str(tmp_path))
    return tmp_path


@pytest.fixture
def credentials_env(monkeypatch, tmp_path):
    """Credentials in the environment, for a sandbox served over loopback HTTP with a client of that secret."""
    clients = (OAuthClient("nb-test-client", SECRET, name="Notebook test client"),)
    with Sandbox(clients=clients, rate_limit=None) as sb:
        for name in ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "nb-test-client")
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", SECRET)
        monkeypatch.setenv("GENESYS_NB_API_URL", sb.serve())
        monkeypatch.setenv("GENESYS_NB_OUTPUT", str(tmp_path))
        yield tmp_path


@pytest.fixture
def newcomer(monkeypatch, tmp_path):
    """A fresh copy of ``notebooks/`` and nothing else: no credentials, no GENESYS_NB_OUTPUT, no exports/ folder."""
    for name in (*ENV_NAMES, "GENESYS_NB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "notebooks"
    shutil.copytree(NB_DIR, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "exports"))
    assert not (folder / "exports").exists()
    return folder


@pytest.mark.parametrize("name", sorted(p.name for p in NB_DIR.glob("*.ipynb")))
def test_every_notebook_runs_from_a_fresh_copy_with_nothing_prepared(name, newcomer):
    extra = {"02": CLICK_THROUGH, "05": REVIEW_CLICK}.get(name[:2], [])
    text = printed(execute(name, extra, folder=newcomer))  # printed() fails on any error output
    assert "Sandbox Org 42" in text or name == "dashboard.ipynb"
    if name.startswith("01"):
        assert (newcomer / "exports" / "active_users.parquet").exists()
        assert f"exported {pl.read_parquet(newcomer / 'exports' / 'active_users.parquet').height} rows" in text
    if name.startswith("02"):
        assert (newcomer / "exports" / "users.parquet").exists()
        assert (newcomer / "exports" / "wizard_users.parquet").exists()
    if name.startswith("04"):
        assert gnb.open_snapshot(newcomer / "exports" / "access-snapshot" / "snapshot").manifest.tables["users"].rows
    if name.startswith("05"):
        check_workbook(newcomer / "exports" / "access-review", text, int(re.search(r"findings: (\d+)", text)[1]))


def test_notebooks_are_committed_clean():
    found = sorted(p.name for p in NB_DIR.glob("*.ipynb"))
    assert set(NOTEBOOKS + SANDBOX_ONLY) <= set(found) and "03_audit_recipes.ipynb" not in found  # 05 replaced 03
    for name in found:
        nb = nbformat.read(NB_DIR / name, as_version=4)
        nbformat.validate(nb)
        assert nb.cells[0].cell_type == "markdown", f"{name} should start by saying what it does"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{name} has outputs"
        assert "widgets" not in nb.metadata, f"{name} carries saved widget state"
        assert max(len(c.source.splitlines()) for c in code) <= 20, f"{name} has a long cell"


def test_quickstart_on_the_sandbox(sandbox_env, expected):
    text = printed(execute("01_quickstart.ipynb"))
    assert "Connected to Sandbox Org 42" in text and "Exact cursor listing allowed: True" in text
    assert text.count("active") >= 5 and "page 4: 250 users" in text
    assert f"{expected['users']} users, 17 columns" in text
    assert "chunk of 400 rows\nchunk of 400 rows\nchunk of 200 rows" in text
    assert f"{expected['sales_department']} active users in Sales" in text
    assert f"exported {expected['active']} rows to {sandbox_env / 'active_users.parquet'}" in text
    assert f"rows read back: {expected['active']}" in text


def test_interactive_export_on_the_sandbox(sandbox_env, expected):
    nb = execute("02_interactive_export.ipynb", CLICK_THROUGH)
    text = printed(nb)
    assert "CONNECT: Connected to Sandbox Org 42 (sandbox)." in text
    assert f"PREVIEW: {expected['sales_text_first_500']} 500" in text
    assert f"EXPORT: Exported {expected['sales_text']:,} rows to {sandbox_env / 'users.parquet'}" in text
    assert f"ROWS: {expected['sales_text']}" in text
    assert f"WIZARD: {expected['users']}" in text
    assert (sandbox_env / "users.parquet").exists() and (sandbox_env / "wizard_users.parquet").exists()
    assert "application/vnd.jupyter.widget-view+json" in mimetypes(nb)
    assert "<ConnectPanel: Not connected.>" in text  # panels show a summary as plain text, never their fields


def test_access_snapshot_on_the_sandbox(sandbox_env, access_truth):
    nb = execute("04_access_snapshot.ipynb", SNAPSHOT_RESULTS)
    text = printed(nb)
    got = results(text)
    assert "Connected to Sandbox Org 42" in text and "3,000" in text  # the plan shows the users' API total
    snap = gnb.open_snapshot(sandbox_env / "access-snapshot" / "snapshot")
    assert snap.manifest.tables["users"].rows == 3000 and not snap.skipped
    assert f"requests: {snap.manifest.plan['requests']} planned, {snap.manifest.requests_sent} sent" in text
    assert snap.manifest.plan["requests"] == snap.manifest.requests_sent
    # 1. admin roles and how they are held: every (user, role, division, way) of the ground truth, no other
    assert set(got["admin_roles"]) == access_truth["admin_roles"]
    assert {tuple(r) for r in got["admin"]} == access_truth["admin"] and len(got["admin"]) == len(access_truth["admin"])
    assert "through group " in text and "direct" in text
    # 2. and 3.: the sandbox's own dirt, user by user
    assert set(got["in_queues"]) == access_truth["dirt"]["inactive_in_queue"]
    assert {tuple(p) for p in got["never_used"]} == access_truth["never_used"]
    assert {u for u, _ in got["never_used"]} == access_truth["dirt"]["licence_never_logged_in"]
    users = len({u for u, *_ in access_truth["admin"]})
    assert f"{users} users hold an admin role ({len(access_truth['admin'])} grants)" in text
    assert re.search(r"\w+\.\w+\d*@sandbox-42\.example\.com\s", text), "the tables cut the emails"
    assert "image/png" in mimetypes(nb), "the admin-roles chart is missing"


def test_access_review_on_the_sandbox(sandbox_env, review_truth):
    nb = execute("05_access_review.ipynb", REVIEW_CLICK)
    text = printed(nb)
    got = results(text)
    assert "Access review of Sandbox Org 42" in text and "taken as of 2026-01-01 and 2026-04-01" in text
    assert got["diff"] == review_truth["changes"]  # every kind of change, as the sandbox recorded it
    dirt, found = review_truth["dirt"], {rule: set(ids) for rule, ids in got["findings"].items()}
    for rule in ("inactive_with_roles", "inactive_in_queue", "licence_on_inactive", "never_logged_in", "no_email",
                 "duplicate_email"):
        assert found.get(rule, set()) == dirt[rule], rule
    assert found["stale_login"] == dirt["stale_login"] | dirt["never_logged_in"]  # "or never", as documented
    assert found["admin_role_inactive"] and found["admin_role_inactive"] <= dirt["admin_role_inactive"]
    assert "image/png" in mimetypes(nb) and "application/vnd.jupyter.widget-view+json" in mimetypes(nb)
    assert re.search(r"\w+\.\w+\d*@sandbox-42\.example\.com\s", text), "the tables cut the emails"
    check_workbook(sandbox_env / "access-review", text, sum(map(len, got["findings"].values())))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_secret_in_the_environment_never_reaches_the_saved_notebook(name, credentials_env, expected, tmp_path):
    extra = CLICK_THROUGH + [TYPED_SECRET] if name.startswith("02") else []
    nb = execute(name, extra)
    text = printed(nb)
    assert "Sandbox Org 42" in text and "sandbox.localhost" not in text  # it reached the org over HTTP
    if name.startswith("02"):
        assert "CONNECT: Connected to Sandbox Org 42 (http://127.0.0.1:" in text
        assert f"ROWS: {expected['sales_text']}" in text
        assert "TYPED: '' Connected to Sandbox Org 42" in text  # a typed secret is cleared once it worked
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        models = {m["model_name"] for m in state.values()}
        assert "PasswordModel" in models  # the password fields' state is in the file, and was scanned
    saved = tmp_path / f"saved-{name}"
    nbformat.write(nb, saved)
    content = saved.read_text(encoding="utf-8")
    assert SECRET not in content, f"the secret leaked into the saved {name}"
    if name.startswith("02"):  # the client id field's value is in the file: the scan did cover the widget state
        assert '"value": "nb-test-client"' in content
