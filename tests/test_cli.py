"""The genesys-nb command line, in-process against the sandbox (plus one run of the installed console script)."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import genesys_nb as gnb
import genesys_nb.cli.app as cli
import genesys_nb.export.durable as durable_mod
import genesys_nb.export.orchestrate as export_mod
import genesys_nb.export.writers as writers_mod
from genesys_nb.cli.app import main
from genesys_nb.errors import ServerError
from genesys_nb.resources.users import USER_COLUMNS

SB = ["--sandbox", "--sandbox-users", "600"]


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch):
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)


def sandbox_ids(state="any", users=600):
    with gnb.connect(sandbox={"users": users}) as client:
        return client.sandbox.org.ids(state)


# -- users export ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["parquet", "ndjson", "csv"])
def test_export_writes_the_file_and_prints_a_summary(tmp_path, capsys, fmt):
    out = tmp_path / f"users.{fmt}"
    assert main(["users", "export", str(out), *SB, "--no-progress", "--expand", "dateLastLogin"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("wrote 600 users to ") and str(out) in captured.out
    reader = {"parquet": pl.read_parquet, "ndjson": pl.read_ndjson, "csv": pl.read_csv}[fmt]
    assert reader(out)["id"].to_list() == sandbox_ids()


def test_export_with_where_state_json_summary_and_progress_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    out = tmp_path / "active.parquet"
    code = main(["users", "export", str(out), *SB, "--state", "active", "--where", 'email != null and version > 2',
                 "--json", "--page-size", "100"])
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    df = pl.read_parquet(out)
    assert summary["rows"] == df.height > 0 and summary["pages"] == -(-len(sandbox_ids("active")) // 100)
    assert set(df["state"]) == {"active"} and df["email"].null_count() == 0 and df["version"].min() > 2
    assert "active.parquet" in captured.err and "rec/s" in captured.err  # the bar is on stderr, not stdout
    assert "sandbox-secret" not in captured.err + captured.out


def test_export_refuses_to_overwrite_then_overwrites(tmp_path, capsys):
    out = tmp_path / "u.csv"
    out.write_text("keep me")
    assert main(["users", "export", str(out), *SB, "--no-progress"]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["users", "export", str(out), *SB, "--no-progress", "--overwrite"]) == 0
    assert pl.read_csv(out).height == 600


@pytest.mark.parametrize("args,match", [
    (["users", "export", "{tmp}/missing/u.parquet"], "does not exist"),
    (["users", "export", "{tmp}/u.xlsx"], "Cannot tell the format"),
    (["users", "export", "{tmp}/u.parquet", "--where", "state = = 1"], "Cannot read the where expression"),
    (["users", "export", "{tmp}/u.parquet", "--where", "stat == 1"], "Did you mean 'state'"),
    (["users", "export", "{tmp}/u.parquet", "--expand", "grups"], "Did you mean 'groups'"),
    (["users", "export", "{tmp}/u.parquet", "--page-size", "0"], "must be 1 or more"),
    (["users", "export", "{tmp}/u.parquet", "--region", "eu-west-1"], "cannot|do not combine"),
    (["users", "head", "--columns", "nope"], "Unknown column"),
])
def test_bad_usage_exits_2(tmp_path, capsys, args, match):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args] + SB + ["--no-progress"] * (args[1] == "export")
    assert main(argv) == 2
    assert re.search(match, capsys.readouterr().err)


def test_missing_credentials_exit_2_and_say_how(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    assert main(["users", "count", "--region", "eu-west-1"]) == 2
    assert "GENESYSCLOUD_OAUTHCLIENT_ID" in capsys.readouterr().err
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "abc")
    assert main(["users", "count", "--region", "eu-west-1"]) == 2
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in capsys.readouterr().err


def test_secret_is_prompted_on_a_terminal_never_a_flag(capsys, monkeypatch):
    prompts = []

    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: prompts.append(prompt) or "s3cret")
    seen = {}

    def fake_connect(region=None, **kw):
        seen.update(kw, region=region)
        raise gnb.AuthenticationError("refused")

    monkeypatch.setattr(gnb, "connect", fake_connect)
    assert main(["users", "count", "--region", "eu-west-1", "--client-id", "abc"]) == 3
    assert prompts and seen["client_secret"] == "s3cret" and seen["client_id"] == "abc"
    assert "s3cret" not in capsys.readouterr().err
    assert main(["users", "count", "--client-secret", "x", "--sandbox"]) == 2  # no such option


def test_authentication_failure_exits_3(capsys):
    assert main(["users", "count", "--sandbox", "--client-id", "nobody"]) == 3
    assert "error" in capsys.readouterr().err


def _client_with(make_client, monkeypatch, **settings):
    client = make_client(users=600, **settings)
    monkeypatch.setattr(cli, "_connect", lambda args: client)
    return client


def test_api_failure_exits_4_with_resume_hint_then_resume_finishes(tmp_path, capsys, monkeypatch, make_client):
    from genesys_nb.sandbox import Faults

    _client_with(make_client, monkeypatch, faults=Faults(forbidden_at=(3,)))
    out = tmp_path / "u.ndjson"
    argv = ["users", "export", str(out), "--no-progress", "--page-size", "100", "--strategy", "cursor"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 3 and "--resume" in err  # a 403 mid-listing is a permission error; the checkpoint is kept
    assert not out.exists() and (tmp_path / "u.ndjson.checkpoint.json").exists()
    monkeypatch.undo()
    _client_with(make_client, monkeypatch)
    assert main(argv + ["--resume"]) == 0
    assert "(resumed)" in capsys.readouterr().out
    assert pl.read_ndjson(out)["id"].to_list() == sandbox_ids()


def test_server_failure_exits_4(tmp_path, capsys, monkeypatch, make_client):
    _client_with(make_client, monkeypatch)

    def failing(*a, **k):
        raise ServerError("The API kept failing at /api/v2/users/query after 6 attempts (HTTP 503).", status=503)

    monkeypatch.setattr(export_mod, "export", failing)
    assert main(["users", "export", str(tmp_path / "u.parquet"), "--no-progress"]) == 4
    err = capsys.readouterr().err
    assert "kept failing" in err and "--resume" in err


def test_full_disk_exits_1_keeping_the_checkpoint(tmp_path, capsys, monkeypatch, make_client):
    _client_with(make_client, monkeypatch)
    real = durable_mod.write_bytes
    calls = {"n": 0}

    def filling(fh, data):
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fh, data)

    monkeypatch.setattr(durable_mod, "write_bytes", filling)
    monkeypatch.setattr(writers_mod, "TEXT_FLUSH_SECONDS", 0.0)
    out = tmp_path / "u.ndjson"
    assert main(["users", "export", str(out), "--no-progress", "--page-size", "100"]) == 1
    assert "disk is full" in capsys.readouterr().err
    assert not out.exists() and (tmp_path / "u.ndjson.checkpoint.json").exists()


def test_ctrl_c_exits_130(tmp_path, capsys, monkeypatch, make_client):
    _client_with(make_client, monkeypatch)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(export_mod, "export", interrupted)
    assert main(["users", "export", str(tmp_path / "u.parquet"), "--no-progress"]) == 130
    assert "--resume" in capsys.readouterr().err


# -- users count / head / columns -----------------------------------------------------------------------------------
def test_count(capsys):
    assert main(["users", "count", *SB]) == 0
    assert capsys.readouterr().out.strip() == "600"
    assert main(["users", "count", *SB, "--state", "inactive", "--exact"]) == 0
    assert int(capsys.readouterr().out) == len(sandbox_ids("inactive"))
    assert main(["users", "count", *SB, "--where", 'state == "deleted"']) == 0
    assert int(capsys.readouterr().out) == len(sandbox_ids("deleted"))


def test_head_table_csv_ndjson(capsys):
    assert main(["users", "head", *SB, "-n", "3", "--expand", "dateLastLogin", "--columns", "id,date_last_login"]) == 0
    out = capsys.readouterr().out
    ids = sandbox_ids()[:3]
    assert all(i in out for i in ids) and "date_last_login" in out and sandbox_ids()[3] not in out
    assert main(["users", "head", *SB, "-n", "2", "--format", "csv", "--columns", "id,state,groups",
                 "--expand", "groups"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,state,groups" and len(lines) == 3
    assert main(["users", "head", *SB, "-n", "4", "--format", "ndjson", "--where", 'state == "inactive"']) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["id"] for r in rows] == sandbox_ids("inactive")[:4]


def test_columns(capsys):
    assert main(["users", "columns", "--expand", "groups,employerInfo"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.strip().splitlines()]
    assert names == USER_COLUMNS + ["groups", "employer_info"]


def test_help_and_missing_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "exit codes" in out
    assert main(["users", "export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--resume" in out and "--where" in out and "GENESYSCLOUD_OAUTHCLIENT_SECRET" in out
    assert main([]) == 2
    assert main(["users"]) == 2
    assert main(["users", "frobnicate"]) == 2


def test_sandbox_subcommand_delegates(monkeypatch):
    seen = []
    import genesys_nb.sandbox.cli as sandbox_cli

    monkeypatch.setattr(sandbox_cli, "main", lambda argv: seen.append(argv) or 0)
    assert main(["sandbox", "--users", "10", "--port", "0"]) == 0
    assert seen == [["--users", "10", "--port", "0"]]


def test_console_script_help():
    exe = Path(sys.executable).with_name("genesys-nb")
    assert exe.exists(), "the genesys-nb console script is missing: make test installs the package with it"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "users" in result.stdout and "sandbox" in result.stdout and "exit codes" in result.stdout


def test_head_table_shows_the_columns_people_read_first(capsys):
    from genesys_nb.cli.app import main as cli_main

    assert cli_main(["users", "head", "-n", "2", "--sandbox", "--expand", "dateLastLogin"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    for column in ("name", "email", "state", "division_name", "date_last_login"):
        assert column in header
    assert "self_uri" not in header and "chat_jabber_id" not in header


def test_a_bad_region_is_reported_before_the_secret_is_asked_for(capsys, monkeypatch):
    from genesys_nb.cli.app import main as cli_main

    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", raising=False)
    assert cli_main(["users", "count", "--region", "eu-wset-1", "--client-id", "x"]) == 2
    assert "Did you mean 'eu-west-1'" in capsys.readouterr().err
