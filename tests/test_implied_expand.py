"""A column that only an expand value fills is never silently empty: the CLI requests the expand when --where,
--columns or head's shown columns refer to it (and says so), and Python refuses a filter on it, before any request,
with what to pass instead."""

from __future__ import annotations

import logging

import polars as pl
import pytest

import genesys_nb as gnb
import genesys_nb.cli.app as cli
from genesys_nb.cli.app import main
from genesys_nb.errors import ConfigError
from genesys_nb.resources.users import USERS
from genesys_nb.sandbox.truth import users as truth_users

SB = ["--sandbox"]


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch):
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)


def never_logged_in(users=1000):
    with gnb.connect(sandbox={"users": users}) as client:
        truth = truth_users(client.sandbox)
    return truth.filter(pl.col("date_last_login").is_null())["id"].to_list()


def test_schema_names_the_expand_a_column_lacks_and_adds_it_logged(caplog):
    assert USERS.unfilled(["date_last_login", "name"], ()) == {"date_last_login": "dateLastLogin"}
    assert USERS.unfilled(["date_last_login"], ("dateLastLogin",)) == {}
    assert USERS.unfilled(["groups"], ("skills",)) == {"groups": "groups"}
    with caplog.at_level(logging.INFO, logger="genesys_nb"):
        assert USERS.with_implied(("groups",), ["date_last_login", "groups"]) == ("groups", "dateLastLogin")
    assert "date_last_login needs expand=dateLastLogin: requesting it" in caplog.text


def test_count_where_on_a_login_column_counts_the_real_users(capsys):
    want = never_logged_in()
    assert 0 < len(want) < 1000
    assert main(["users", "count", *SB, "--where", "date_last_login is null"]) == 0
    assert capsys.readouterr().out.strip() == str(len(want))


def test_count_says_in_the_log_that_it_requests_the_expand(capsys):
    assert main(["users", "count", *SB, "-v", "--where", "date_last_login is null"]) == 0
    assert "date_last_login needs expand=dateLastLogin: requesting it" in capsys.readouterr().err


def test_export_where_on_a_login_column_writes_the_real_users(tmp_path, capsys):
    out = tmp_path / "never.csv"
    assert main(["users", "export", str(out), *SB, "--no-progress", "--where", "date_last_login is null"]) == 0
    assert sorted(pl.read_csv(out)["id"].to_list()) == sorted(never_logged_in())


def test_head_columns_and_nested_where_get_their_expands(monkeypatch, capsys):
    sent = []
    real = cli._users

    def spy(client, args, **extra):
        sent.append(args.expand)
        return real(client, args, **extra)

    monkeypatch.setattr(cli, "_users", spy)
    assert main(["users", "head", *SB, "-n", "3", "--format", "ndjson", "--columns", "id,date_last_login"]) == 0
    rows = pl.read_ndjson(capsys.readouterr().out.encode())
    assert rows["date_last_login"].null_count() < 3  # filled, not silently empty
    assert main(["users", "head", *SB, "-n", "2", "--format", "csv", "--where", 'routing_status.status != null']) == 0
    assert sent == ["dateLastLogin", "routingStatus"]


def test_python_refuses_a_filter_on_an_unfilled_column_before_any_request(make_client):
    client = make_client(users=300)
    for where in ("date_last_login is null", pl.col("date_last_login").is_null()):
        with pytest.raises(ConfigError) as caught:
            client.users().to_polars(where=where)
        assert 'client.users(expand=["dateLastLogin"])' in str(caught.value)
    with pytest.raises(ConfigError, match=r'client.users\(expand=\["groups", "dateLastLogin"\]\)'):
        client.users(expand=["groups"]).iter_frames(where="date_last_login is null")
    with pytest.raises(ConfigError, match="dateLastLogin"):
        client.users().to_csv("never.csv", where="date_last_login is null")
    assert client.stats["requests"] == 0
    filled = client.users(expand=["dateLastLogin"]).to_polars(where="date_last_login is null")
    truth = truth_users(client.sandbox).filter(pl.col("date_last_login").is_null())
    assert sorted(filled["id"].to_list()) == sorted(truth["id"].to_list()) and filled.height < 300


def test_filter_panel_requests_the_expand_of_the_columns_it_refers_to(make_client, caplog):
    from genesys_nb.widgets import FilterPanel

    client = make_client(users=200)
    panel = FilterPanel(client, columns=("date_last_login",))
    with caplog.at_level(logging.INFO, logger="genesys_nb"):
        stream = panel.query().stream(client)
    assert "dateLastLogin" in stream.expand
    assert "date_last_login needs expand=dateLastLogin: requesting it" in caplog.text
    df = stream.to_polars(where="date_last_login is null")
    truth = truth_users(client.sandbox).filter(pl.col("date_last_login").is_null())
    assert sorted(df["id"].to_list()) == sorted(truth["id"].to_list())
    with pytest.raises(ConfigError, match="Unknown user column"):
        FilterPanel(client, columns=("last_login",))


def test_files_and_head_output_say_which_columns_stay_empty_without_their_expand(tmp_path, capsys):
    """Every column is written, but a date_last_login left empty for want of its expand is not "never logged in":
    the CLI says so, with the flag that fills it."""
    assert main(["users", "head", *SB, "-n", "2", "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert "date_last_login, date_welcome_sent stay empty without --expand dateLastLogin,dateWelcomeSent" in err
    assert main(["users", "head", *SB, "-n", "2", "--format", "csv", "--expand", "dateLastLogin,dateWelcomeSent"]) == 0
    assert "stay" not in capsys.readouterr().err
    assert main(["users", "head", *SB, "-n", "2"]) == 0  # the table shows no such column
    assert "empty" not in capsys.readouterr().err
    assert main(["users", "export", str(tmp_path / "u.parquet"), *SB, "--no-progress"]) == 0
    assert "date_last_login, date_welcome_sent stay empty" in capsys.readouterr().err
    assert main(["users", "export", str(tmp_path / "u.ndjson"), *SB, "--no-progress"]) == 0
    assert "empty" not in capsys.readouterr().err  # the API's own records: nothing is left out of them
