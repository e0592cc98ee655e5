"""Bad input gets a clear, actionable error, raised before any request wherever that is possible."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import genesys_nb as gnb


@pytest.fixture
def client(make_client):
    c = make_client(users=500)
    c.sandbox.reset_stats()
    return c


def no_request_sent(client) -> bool:
    stats = client.sandbox.stats
    return stats.api_requests == 0 and stats.token_requests == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"client_id": "", "client_secret": "x"}, "client_id"),
    ({"client_id": "abc", "client_secret": ""}, "client_secret"),
    ({"client_id": None, "client_secret": None}, "client_id"),
])
def test_empty_credentials(kwargs, match, monkeypatch):
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_ID", raising=False)
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", raising=False)
    with pytest.raises(gnb.ConfigError, match=match) as info:
        gnb.connect("us-east-1", **kwargs)
    assert "GENESYSCLOUD_OAUTHCLIENT" in str(info.value)


def test_wrong_credentials_fail_at_the_first_request_with_what_to_check(make_client):
    client = make_client(users=10, client_secret="not-the-secret")
    with pytest.raises(gnb.AuthenticationError) as info:
        client.organization()
    text = str(info.value)
    assert "secret" in text and "not-the-secret" not in text
    assert client.sandbox.stats.api_requests == 0, "nothing but the token request went out"


def test_unknown_region():
    with pytest.raises(gnb.ConfigError, match="Did you mean 'eu-west-1'"):
        gnb.connect("eu-wset-1", client_id="a", client_secret="b")


def test_http_to_a_remote_host():
    with pytest.raises(gnb.ConfigError, match="plain http"):
        gnb.connect(api_url="http://api.mypurecloud.com", client_id="a", client_secret="b")


@pytest.mark.parametrize("page_size", [0, 501, "100", 10.5, True, None])
def test_page_size(client, page_size):
    with pytest.raises(gnb.ConfigError, match="page_size must be a whole number from 1 to 500"):
        client.users(page_size=page_size)
    assert no_request_sent(client)


def test_unknown_state(client):
    with pytest.raises(gnb.ConfigError, match="state must be one of active, inactive, deleted, any"):
        client.users(state="enabled")
    assert no_request_sent(client)


def test_unknown_expand(client):
    with pytest.raises(gnb.ConfigError, match="Did you mean 'groups'"):
        client.users(expand=("group",))
    assert no_request_sent(client)


@pytest.mark.parametrize("value", [-1, 2.5, "10"])
def test_bad_max_items_and_concurrency(client, value):
    with pytest.raises(gnb.ConfigError):
        client.users(max_items=value)
    with pytest.raises(gnb.ConfigError):
        client.users(concurrency=value)
    assert no_request_sent(client)


def test_missing_output_folder(client, tmp_path):
    with pytest.raises(gnb.ExportError, match="folder") as info:
        client.users().to_parquet(tmp_path / "nope" / "users.parquet")
    assert no_request_sent(client)
    assert str(tmp_path / "nope") in str(info.value)


def test_unwritable_output_folder(client, tmp_path, monkeypatch):
    """Tests run as root, who ignores permission bits, so the refusal is simulated where the export opens files."""
    import builtins

    import genesys_nb.export.orchestrate as export_module

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(export_module, "open", refuse, raising=False)
    with pytest.raises(gnb.ExportError, match="writ"):
        client.users().to_ndjson(tmp_path / "users.ndjson")
    assert no_request_sent(client)


def test_existing_file_without_overwrite(client, tmp_path):
    target = tmp_path / "users.csv"
    target.write_text("keep me")
    with pytest.raises(gnb.ExportError, match="overwrite=True"):
        client.users().to_csv(target)
    assert target.read_text() == "keep me" and no_request_sent(client)


def test_unknown_format(client, tmp_path):
    with pytest.raises(gnb.ExportError, match="parquet"):
        client.users()._export(tmp_path / "users.xlsx", None)
    assert no_request_sent(client)


def test_full_disk_keeps_what_was_fetched(client, tmp_path, monkeypatch):
    """ENOSPC on the third write: an ExportError that says the disk is full; the checkpoint is kept, and a resume
    (after 'freeing space') completes the file with every user once."""
    import genesys_nb.export.durable as durable_mod

    real = durable_mod.write_bytes
    calls = {"n": 0}

    def full(fh, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fh, data)

    monkeypatch.setattr(durable_mod, "write_bytes", full)
    target = tmp_path / "users.ndjson"
    with pytest.raises(gnb.ExportError, match="(?i)disk is full|no space") as info:
        client.users(page_size=50).to_ndjson(target, chunk_rows=50)
    assert "resume" in str(info.value)
    assert not target.exists() and Path(f"{target}.checkpoint.json").exists()
    monkeypatch.setattr(durable_mod, "write_bytes", real)
    summary = client.users(page_size=50).to_ndjson(target, resume=True, chunk_rows=50)
    assert summary.rows >= 1 and summary.resumed
    import polars as pl
    ids = pl.read_ndjson(target)["id"].to_list()
    assert ids == client.sandbox.org.ids("any")
