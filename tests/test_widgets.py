"""The notebook panels without a kernel: set values, click buttons, assert on the panels' state.

Outside a kernel ipywidgets uses a dummy comm: setting ``.value`` fires observers and ``Button.click()`` runs the
handlers synchronously, so every test here reads plain widget values and panel attributes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.widgets import ConnectPanel, ExportPanel, FilterPanel, UserQuery, Wizard, wizard

ipywidgets = pytest.importorskip("ipywidgets")

SECRET = "Wdgt-Secret-7f3e9a1c"
FAST = {"rate_limit": None}


def saved_state(panel) -> str:
    """Everything a notebook would save for this panel: the widget state of its whole tree, as JSON text."""
    from ipywidgets.embed import embed_data

    return json.dumps(embed_data(views=[panel.widget])["manager_state"])


@pytest.fixture
def no_env(monkeypatch):
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def org_env(monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "env-client-id")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", SECRET)
    monkeypatch.setenv("GENESYSCLOUD_REGION", "mypurecloud.ie")


@pytest.fixture
def panels(no_env):
    """A connect + filter + export chain on a fresh sandbox, connected; closed afterwards."""
    made = []

    def factory(**settings):
        w = wizard(sandbox=True, sandbox_settings={**FAST, **settings})
        made.append(w)
        w.connect.connect()
        assert w.connect.client is not None, w.connect.message
        return w

    yield factory
    for w in made:
        w.export.cancel()
        w.export.wait(10)
        w.connect.close()


class FakeClient:
    def __init__(self, name="Acme Corp", cursor=False):
        self.name, self.cursor, self.closed = name, cursor, False

    def organization(self):
        return {"name": self.name}

    def can_use_cursor(self):
        return self.cursor

    def divisions(self):
        return iter([{"id": "d2", "name": "West"}, {"id": "d1", "name": "east"}])

    def close(self):
        self.closed = True


# -- import -----------------------------------------------------------------------------------------------------------
def test_core_and_widgets_import_without_ipywidgets():
    code = ("import sys, genesys_nb, genesys_nb.widgets; "
            "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported at import time'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- ConnectPanel -----------------------------------------------------------------------------------------------------
def test_connect_prefills_from_env_and_never_copies_the_secret(org_env):
    panel = ConnectPanel()
    assert panel.region.value == "eu-west-1"
    assert panel.client_id.value == "env-client-id"
    assert panel.secret.value == ""
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in panel.secret.placeholder
    assert panel.sandbox.value is False and panel.secret_from_env
    assert "secret comes from the environment" in panel.message
    assert len(panel.region.options) == len(gnb.REGIONS) == 18
    assert SECRET not in saved_state(panel)
    assert SECRET not in repr(panel._repr_mimebundle_())


def test_connect_passes_the_panel_values_and_leaves_the_secret_to_connect(org_env):
    calls, fake = [], FakeClient(cursor=False)
    panel = ConnectPanel(connect=lambda **kw: calls.append(kw) or fake)
    seen = []
    panel.on_connect(seen.append)
    panel.region.value = "ap-southeast-2"
    panel.button.click()
    assert calls == [{"region": "ap-southeast-2", "client_id": "env-client-id", "client_secret": None}]
    assert panel.client is fake and seen == [fake]
    assert panel.org == {"name": "Acme Corp"} and panel.cursor is False
    assert "Connected to Acme Corp (ap-southeast-2)" in panel.message
    assert "cannot use the cursor listing" in panel.message
    later = []
    panel.on_connect(later.append)  # a panel made after connecting gets the client at once
    assert later == [fake]


def test_connect_with_api_url_disables_the_region(no_env):
    calls = []
    panel = ConnectPanel(connect=lambda **kw: calls.append(kw) or FakeClient(), api_url="http://127.0.0.1:9",
                         sandbox=False)
    assert panel.region.disabled and "127.0.0.1:9" in panel.api_note.value
    panel.client_id.value = "cid"
    panel.secret.value = "typed"
    panel.connect()
    assert calls == [{"api_url": "http://127.0.0.1:9", "client_id": "cid", "client_secret": "typed"}]


def test_sandbox_is_the_default_without_credentials(no_env):
    panel = ConnectPanel()
    assert panel.sandbox.value is True and panel.region.disabled
    assert panel.client_id.value == "" and panel.region.value == "us-east-1"
    panel.sandbox.value = False
    assert not panel.region.disabled


def test_unknown_region_in_env_falls_back_to_the_default(no_env, monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_REGION", "atlantis-1")
    assert ConnectPanel().region.value == "us-east-1"


def test_connect_to_the_sandbox_shows_org_and_cursor(no_env):
    panel = ConnectPanel(sandbox_settings=FAST)
    try:
        panel.button.click()
        assert panel.client is not None and panel.error is None
        assert panel.org["name"] == "Sandbox Org 42" and panel.cursor is True
        assert "Connected to Sandbox Org 42 (sandbox)" in panel.message
        assert "may use the exact cursor listing" in panel.message
        assert "gnb-ok" in panel.status.value
    finally:
        panel.close()


def test_a_typed_secret_is_cleared_once_connected(no_env):
    panel = ConnectPanel(sandbox_settings=FAST)
    panel.client_id.value, panel.secret.value = "sandbox-client", "sandbox-secret"
    try:
        assert panel.connect() is not None, panel.message
        assert panel.secret.value == ""
        assert "sandbox-secret" not in saved_state(panel)
    finally:
        panel.close()


def test_a_bad_secret_shows_plain_words_without_the_secret(no_env):
    panel = ConnectPanel(sandbox_settings=FAST)
    panel.client_id.value, panel.secret.value = "sandbox-client", SECRET
    assert panel.connect() is None
    assert panel.client is None
    assert panel.message.startswith("Could not connect: Authentication failed")
    assert "client id or secret is wrong" in panel.error
    assert SECRET not in panel.message and SECRET not in panel.status.value
    assert "Traceback" not in panel.status.value and "gnb-error" in panel.status.value
    assert not panel.button.disabled


def test_unexpected_errors_show_their_type_and_mask_secrets(org_env):
    def broken(**kw):
        raise RuntimeError(f"socket closed while sending {SECRET}")

    panel = ConnectPanel(connect=broken)
    panel.connect()
    assert panel.error == "RuntimeError: socket closed while sending ***"
    assert SECRET not in panel.status.value


def test_the_plain_text_repr_never_lists_a_typed_secret(no_env):
    panel = ConnectPanel()
    panel.secret.value = SECRET
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert SECRET not in bundle["text/plain"]


# -- FilterPanel ------------------------------------------------------------------------------------------------------
def test_user_query_matches_division_and_text():
    user = {"name": "Ana Lopez", "email": "ana@x.example", "department": "Field Sales", "division": {"id": "d1"}}
    assert UserQuery().where is None and UserQuery().matches(user)
    assert UserQuery(text="SALES").matches(user) and UserQuery(text="lopez").matches(user)
    assert UserQuery(text="ana@x").matches(user) and not UserQuery(text="support").matches(user)
    assert UserQuery(divisions=("d1",)).matches(user) and not UserQuery(divisions=("d2",)).matches(user)
    assert not UserQuery(divisions=("d1",), text="support").matches(user)
    assert not UserQuery(text="x").matches({"name": "Bob"})
    assert UserQuery(text="sales").where is not None
    assert "contains 'sales'" in UserQuery(state="active", text="sales").describe()


def test_filter_panel_waits_for_a_client_and_loads_divisions(no_env):
    connect = ConnectPanel(connect=lambda **kw: FakeClient())
    panel = FilterPanel(connect)
    assert panel.button.disabled and panel.client is None
    connect.connect()
    assert not panel.button.disabled and panel.client is connect.client
    assert panel.divisions.options == (("east", "d1"), ("West", "d2"))
    assert panel.division_names == {"d1": "east", "d2": "West"}


def test_preview_is_bounded_and_counts_matches(panels):
    w = panels()
    client, filters = w.connect.client, w.filters
    assert len(filters.divisions.options) == 6
    filters.state.value = "active"
    filters.text.value = "sales"
    before = client.stats["requests"]
    filters.button.click()
    pages = client.stats["requests"] - before
    assert pages <= 6, f"the preview made {pages} requests"   # 500 users in pages of 100, not the whole org
    expected = [u for u in client.users(state="active", max_items=500) if UserQuery(text="sales").matches(u)]
    assert filters.preview_scanned == 500 and not filters.preview_complete
    assert filters.preview_matched == len(expected) > 10
    assert [r["id"] for r in filters.preview_rows] == [u["id"] for u in expected[:10]]
    assert f"{len(expected)} of the first 500 users match so far" in filters.message
    assert filters.table.value.count("<tr>") == 11 and expected[0]["name"] in filters.table.value


def test_preview_of_a_whole_small_org_with_a_division(panels):
    w = panels(users=300)
    filters = w.filters
    name, division_id = filters.divisions.options[0]
    filters.divisions.value = (division_id,)
    filters.preview()
    expected = [u for u in w.connect.client.users() if u["division"]["id"] == division_id]
    assert filters.preview_complete and filters.preview_scanned == 300
    assert filters.preview_matched == len(expected) > 0
    assert "(the whole listing was read)" in filters.message
    assert all(r["division"]["name"] == name for r in filters.preview_rows)


def test_preview_errors_are_plain_words(panels):
    w = panels()
    w.connect.client.close()  # a closed connection cannot send
    w.filters.preview()
    assert w.filters.message.startswith("Preview failed: ")
    assert "Traceback" not in w.filters.status.value and not w.filters.button.disabled


# -- ExportPanel ------------------------------------------------------------------------------------------------------
def test_export_is_enabled_by_a_connection_and_follows_the_format(no_env, tmp_path):
    connect = ConnectPanel(connect=lambda **kw: FakeClient())
    export = ExportPanel(FilterPanel(connect), path=str(tmp_path / "users.parquet"))
    assert export.export_button.disabled and export.cancel_button.disabled and export.resume_button.disabled
    connect.connect()
    assert not export.export_button.disabled and export.cancel_button.disabled
    export.format.value = "csv"
    assert export.path.value == str(tmp_path / "users.csv")
    export.format.value = "ndjson"
    assert export.path.value.endswith("users.ndjson")
    export.path.value = str(tmp_path / "users.jsonl")
    export.format.value = "ndjson"
    assert export.path.value.endswith("users.jsonl")


def test_export_writes_the_filtered_users_and_a_summary(panels, tmp_path):
    w = panels()
    w.filters.state.value = "active"
    w.filters.text.value = "an"
    w.export.path.value = str(tmp_path / "out" / "active.parquet")  # a missing folder is created
    w.export.export_button.click()
    assert w.export.wait(60)
    expected = {u["id"] for u in w.connect.client.users(state="active") if UserQuery(text="an").matches(u)}
    summary = w.export.summary
    assert summary is not None, w.export.message
    assert summary.rows == len(expected) and summary.format == "parquet"
    assert set(pl.read_parquet(summary.path)["id"]) == expected
    assert w.export.records_read == 862 and w.export.message.startswith(f"Exported {len(expected):,} rows to ")
    assert "Export summary" in w.export.summary_html.value
    assert not list((tmp_path / "out").glob("*.checkpoint.json"))
    assert not w.export.export_button.disabled and w.export.cancel_button.disabled


def test_export_refuses_to_replace_a_file_unless_asked(panels, tmp_path):
    w = panels(users=120)
    target = tmp_path / "users.csv"
    target.write_text("keep me")
    w.export.path.value = str(target)
    w.export.start()
    assert w.export.wait(30)
    assert "already exists: tick 'Replace an existing file'" in w.export.message
    assert target.read_text() == "keep me"
    w.export.overwrite.value = True
    w.export.start()
    assert w.export.wait(30)
    assert w.export.summary.rows == 120 and target.read_text().startswith("id,name,")


def test_export_errors_are_plain_words(panels, tmp_path):
    w = panels(users=50)
    (tmp_path / "folder.parquet").mkdir()
    w.export.path.value = str(tmp_path / "folder.parquet")
    w.export.overwrite.value = True
    w.export.start()
    assert w.export.wait(30)
    assert w.export.message.startswith("Export failed: ") and "is a folder" in w.export.error
    assert "Traceback" not in w.export.status.value


def test_cancel_stops_between_pages_and_resume_finishes(panels, tmp_path):
    w = panels(latency_ms=20)
    w.export.page_size = 50
    w.filters.state.value = "active"
    target = tmp_path / "users.ndjson"
    w.export.path.value = str(target)
    w.export.export_button.click()
    assert w.export.running and not w.export.cancel_button.disabled and w.export.export_button.disabled
    deadline = time.monotonic() + 30
    while w.export.pages_read < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    w.export.cancel_button.click()
    assert w.export.wait(30)
    assert w.export.cancelled and w.export.summary is None
    assert w.export.records_read < 862, "Cancel did not stop the export"
    assert "Cancelled after" in w.export.message and "Resume continues" in w.export.message
    assert not target.exists() and w.export.checkpoint_path().exists()
    assert not w.export.resume_button.disabled
    w.export.export_button.click()  # a fresh Export would lose the checkpoint: the panel says what to do instead
    assert "An interrupted export of users.ndjson is waiting" in w.export.message
    w.export.resume_button.click()
    assert w.export.wait(60)
    summary = w.export.summary
    assert summary is not None and summary.resumed, w.export.message
    ids = pl.read_ndjson(target)["id"]
    assert summary.rows == len(ids) == ids.n_unique() == 862
    assert w.export.message.endswith("(resumed).") and w.export.records_read == 862
    assert not w.export.checkpoint_path().exists() and w.export.resume_button.disabled


def test_a_slow_total_does_not_block_start_and_cancel_works_at_once(panels, tmp_path, monkeypatch):
    """The listing's size is asked for in the background: start() returns while it is pending, Cancel is enabled
    and stops the export before any page is read."""
    from genesys_nb._paging.stream import Stream

    gate, released = threading.Event(), []

    def slow_total(self):
        released.append(gate.wait(10))  # True only when the test released it (start() had returned)
        return 862

    monkeypatch.setattr(Stream, "total_hint", slow_total)
    w = panels(users=200)
    w.export.path.value = str(tmp_path / "users.ndjson")
    w.export.start()
    assert w.export.running and not w.export.cancel_button.disabled
    w.export.cancel_button.click()
    gate.set()
    assert w.export.wait(30)
    assert released == [True], "start() waited for the total"
    assert w.export.cancelled and w.export.records_read == 0 and not (tmp_path / "users.ndjson").exists()


# -- wizard -----------------------------------------------------------------------------------------------------------
def test_wizard_composes_the_three_panels(no_env):
    w = wizard(connect=lambda **kw: FakeClient(name="Wizard Org"))
    assert isinstance(w, Wizard)
    assert w.filters.client is None and w.export.export_button.disabled
    assert [type(c).__name__ for c in w.widget.children] == ["HTML", "VBox"] * 3
    assert "gnb-wizard" in w.widget._dom_classes
    w.connect.button.click()
    assert w.filters.client is w.connect.client and not w.export.export_button.disabled
    assert "Wizard Org" in w.connect.message and repr(w) == "<Wizard>"


def test_the_file_name_picks_the_format(no_env):
    export = ExportPanel(FilterPanel(), path="a/users.jsonl")
    assert export.format.value == "ndjson"
    export.path.value = "b/users.csv"
    assert export.format.value == "csv" and export.path.value == "b/users.csv"
    export.path.value = "b/users.txt"
    assert export.format.value == "csv"
    export.format.value = "parquet"
    assert export.path.value == "b/users.txt"   # an unknown suffix is the user's choice: left alone


# -- a failed reconnect (issue 13, item 6) --------------------------------------------------------------------------
def test_a_failed_reconnect_resets_the_panels_that_used_the_connection(panels, tmp_path):
    w = panels()
    w.filters.state.value = "active"
    w.filters.preview()
    w.export.path.value = str(tmp_path / "first.parquet")
    w.export.background = False
    w.export.start()
    assert w.export.summary is not None and "gnb-ok" in w.filters.status.value
    # The second attempt uses a client of the sandbox with a wrong secret: it fails after the old client was closed.
    w.connect.client_id.value, w.connect.secret.value = "sandbox-client", "not-the-secret"
    assert w.connect.connect() is None and w.connect.client is None
    for panel in (w.filters, w.export):
        assert panel.client is None
        assert panel.message == "Connect first." and "gnb-ok" not in panel.status.value
    assert w.filters.button.disabled and w.export.export_button.disabled and w.export.resume_button.disabled
    assert w.filters.table.value == "" and w.filters.divisions.options == () and w.export.summary_html.value == ""
    w.filters.button.click()  # clicking anyway: a plain message, never "the client has been closed"
    w.export.start()
    assert w.filters.message == "Connect first." and w.export.message == "Connect first."
    assert w.filters.error is None and w.export.error is None
    w.connect.secret.value = ""
    w.connect.client_id.value = ""
    assert w.connect.connect() is not None  # and a good connect brings them back
    assert not w.filters.button.disabled and not w.export.export_button.disabled


# -- secret masking (issue 13, item 9) ------------------------------------------------------------------------------
@pytest.mark.parametrize("secret", ["y", "m", "purecloud", "com", "login"])
def test_a_short_secret_never_garbles_the_message(secret):
    from genesys_nb.widgets._common import plain_error

    exc = gnb.AuthenticationError("Could not reach login.mypurecloud.com: the host refused the connection.")
    assert plain_error(exc, [secret]) == str(exc)


def test_a_secret_is_masked_wherever_it_stands_whole():
    from genesys_nb.widgets._common import plain_error

    exc = RuntimeError(f"sent {SECRET}, then '{SECRET}' and secret={SECRET}; not x{SECRET}y")
    assert plain_error(exc, [SECRET, None, ""]) == f"RuntimeError: sent ***, then '***' and secret=***; not x{SECRET}y"
