"""The three notebooks, executed headless with nbclient in a real kernel, their outputs checked.

Each notebook runs twice: on the in-process sandbox with no credentials, and with credentials in the environment
against a sandbox served over loopback HTTP (``GENESYS_NB_API_URL``). The second run scans the whole saved notebook
file (outputs, metadata, widget state) for the secret. Notebook 02's panels are clicked by cells appended for the
test. The expected numbers are counted here from the raw records, independently of the notebooks' polars code.
"""

from __future__ import annotations

import collections
import re
import shutil
from pathlib import Path

import nbformat
import polars as pl
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

import genesys_nb as gnb
from genesys_nb.sandbox import OAuthClient, Sandbox
from genesys_nb.widgets import UserQuery

pytestmark = pytest.mark.notebooks

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = ["01_quickstart.ipynb", "02_interactive_export.ipynb", "03_audit_recipes.ipynb"]
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
                parts.append(out.text)
            elif "data" in out:
                parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def mimetypes(nb: nbformat.NotebookNode) -> set[str]:
    return {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}


@pytest.fixture(scope="module")
def expected() -> dict[str, int]:
    """What the notebooks should find in the default sandbox org, counted from the raw records."""
    with gnb.connect(sandbox={"rate_limit": None}) as client:
        users = list(client.users(expand=("authorization", "dateLastLogin")))
        divisions = list(client.divisions())
    state = {u["id"]: u["state"] for u in users}
    emails = collections.Counter(u["email"].lower() for u in users if u.get("email"))
    # "Inactive managers" are inactive ones: deleted managers are counted apart (issue 13).
    bad_managers = collections.Counter(u["manager"]["id"] for u in users if u["state"] == "active" and u.get("manager")
                                       and state.get(u["manager"]["id"]) == "inactive")
    gone_managers = collections.Counter(u["manager"]["id"] for u in users if u["state"] == "active" and u.get("manager")
                                        and state.get(u["manager"]["id"]) == "deleted")
    sales = UserQuery(state="active", text="sales")
    active = [u for u in users if u["state"] == "active"]
    return {
        "users": len(users), "active": len(active), "divisions": len(divisions),
        "sales_department": sum(u.get("department") == "Sales" for u in active),
        "inactive_with_roles": sum(u["state"] == "inactive" and bool(u["authorization"]["roles"]) for u in users),
        "never_logged_in": sum("dateLastLogin" not in u for u in active),
        "no_email": sum(u["state"] != "deleted" and not u.get("email") for u in users),
        "duplicate_emails": sum(n > 1 for n in emails.values()),
        "bad_managers": len(bad_managers), "orphaned_reports": sum(bad_managers.values()),
        "gone_managers": len(gone_managers), "reports_of_gone": sum(gone_managers.values()),
        "sales_text": sum(sales.matches(u) for u in active),
        "sales_text_first_500": sum(sales.matches(u) for u in active[:500]),
    }


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
    extra = CLICK_THROUGH if name.startswith("02") else []
    text = printed(execute(name, extra, folder=newcomer))  # printed() fails on any error output
    assert "Sandbox Org 42" in text or name == "dashboard.ipynb"
    if name.startswith("01"):
        assert (newcomer / "exports" / "active_users.parquet").exists()
        assert f"exported {pl.read_parquet(newcomer / 'exports' / 'active_users.parquet').height} rows" in text
    if name.startswith("02"):
        assert (newcomer / "exports" / "users.parquet").exists()
        assert (newcomer / "exports" / "wizard_users.parquet").exists()


def test_notebooks_are_committed_clean():
    found = sorted(p.name for p in NB_DIR.glob("*.ipynb"))
    assert set(NOTEBOOKS) <= set(found)
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


def test_audit_recipes_on_the_sandbox(sandbox_env, expected):
    nb = execute("03_audit_recipes.ipynb")
    text = printed(nb)
    assert "Auditing Sandbox Org 42" in text and f"{expected['users']} users loaded" in text
    assert f"{expected['inactive_with_roles']} inactive users still hold roles" in text
    assert f"{expected['never_logged_in']} active users never logged in" in text
    assert f"{expected['no_email']} users have no email" in text
    assert f"{expected['duplicate_emails']} email addresses are used by more than one user" in text
    assert (f"{expected['bad_managers']} inactive managers have {expected['orphaned_reports']} active reports"
            in text)
    assert f"{expected['divisions']} divisions" in text
    assert f"{expected['gone_managers']} deleted managers have {expected['reports_of_gone']} active reports" in text
    assert "Master Admin" in text, "the roles are cut off in the tables"
    assert re.search(r"\w+\.\w+\d*@sandbox-42\.example\.com\s", text), "the tables cut the emails"
    assert "image/png" in mimetypes(nb), "the users-per-division chart is missing"
    assert min(expected[k] for k in ("inactive_with_roles", "never_logged_in", "no_email", "duplicate_emails",
                                     "bad_managers")) > 0, "the sandbox should give every recipe something to find"


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
