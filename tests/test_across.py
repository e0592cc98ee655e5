"""across(): one function over several sandbox orgs served over HTTP, each with its own client, token and
governor; one org fails and the others still answer."""

from __future__ import annotations

import logging
import textwrap

import pandas as pd
import polars as pl
import pytest

import genesys_nb as gnb

WRONG = "wr0ng-Secret-Pelican-5150"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(tmp_path / "none.toml"))


def orgs():
    return {
        "seven": {"sandbox": {"seed": 7, "users": 300, "http": True}},
        "eight": {"sandbox": {"seed": 8, "users": 450, "http": True}},
        "broken": {"sandbox": {"seed": 9, "users": 100, "http": True}, "client_secret": WRONG},
    }


def truth(seed, users):
    with gnb.connect(sandbox={"seed": seed, "users": users}) as client:
        return set(client.sandbox.org.ids("any"))


def test_three_orgs_over_http_one_fails_the_others_answer(caplog):
    seen = {}

    def listing(client):
        seen[client.hosts.api_url] = client
        return client.users().to_polars()

    with caplog.at_level(logging.WARNING, logger="genesys_nb"):
        result = gnb.across(orgs(), listing, progress=False)
    assert list(result.results) == ["seven", "eight"] and list(result.errors) == ["broken"]
    assert set(result.results["seven"]["id"]) == truth(7, 300)
    assert set(result.results["eight"]["id"]) == truth(8, 450)
    assert result.results["seven"].columns[0] == "org" and set(result.results["eight"]["org"]) == {"eight"}
    error = result.errors["broken"]
    assert isinstance(error, gnb.AuthenticationError) and "client id or secret is wrong" in str(error)
    assert "client_secret= argument" in str(error) and WRONG not in str(error)
    assert "broken" in caplog.text and WRONG not in caplog.text
    assert "broken" in repr(result) and WRONG not in repr(result) and not result.ok
    clients = list(seen.values())  # every org had its own client, token source and governor, on its own server
    assert len({c.hosts.api_url for c in clients}) == 3
    assert len({id(c.auth) for c in clients}) == 3 and len({id(c.governor) for c in clients}) == 3


def test_concat_adds_the_org_column_and_refuses_to_hide_a_failure():
    result = gnb.across(orgs(), lambda c: c.users().to_polars(), progress=False)
    with pytest.raises(gnb.GenesysError, match="broken"):
        result.concat()
    whole = result.concat(skip_failed=True)
    assert whole.columns[0] == "org" and whole.height == 750
    assert whole.group_by("org").len().sort("org").rows() == [("eight", 450), ("seven", 300)]
    with pytest.raises(gnb.GenesysError, match="1 of 3 orgs failed: broken"):
        result.raise_errors()


def test_pandas_results_and_plain_values():
    specs = [{"sandbox": {"seed": 3, "users": 20}}, {"sandbox": {"seed": 4, "users": 30}}]
    frames = gnb.across(specs, lambda c: c.users().to_pandas(), progress=False)
    assert frames.ok and list(frames.results) == ["sandbox-3", "sandbox-4"]
    whole = frames.concat()
    assert isinstance(whole, pd.DataFrame) and len(whole) == 50 and list(whole["org"].unique()) == ["sandbox-3",
                                                                                                      "sandbox-4"]
    names = gnb.across(specs, lambda c: c.organization()["name"], progress=False)
    assert names.results == {"sandbox-3": "Sandbox Org 3", "sandbox-4": "Sandbox Org 4"}
    with pytest.raises(gnb.ConfigError, match="DataFrame"):
        names.concat()


def test_profile_names_are_read_from_the_profile_file(tmp_path, monkeypatch):
    path = tmp_path / "profiles.toml"
    path.write_text(textwrap.dedent("""\
        [profiles.north]
        sandbox = true
        sandbox_seed = 11
        sandbox_users = 40

        [profiles.south]
        sandbox = true
        sandbox_seed = 12
        sandbox_users = 60
        """))
    path.chmod(0o600)
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(path))
    result = gnb.across(["north", "south", "nowhere"], lambda c: c.users().to_polars().height, progress=False)
    assert result.results == {"north": 40, "south": 60}
    assert isinstance(result.errors["nowhere"], gnb.ConfigError) and "north" in str(result.errors["nowhere"])


def test_bad_input_is_refused_before_anything_runs():
    with pytest.raises(gnb.ConfigError, match=r"\['prod'\]"):
        gnb.across("prod", lambda c: None)
    with pytest.raises(gnb.ConfigError, match="empty"):
        gnb.across([], lambda c: None)
    with pytest.raises(gnb.ConfigError, match="max_workers"):
        gnb.across(["a"], lambda c: None, max_workers=0)


def test_one_bar_per_org(capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    specs = {"left": {"sandbox": {"seed": 1, "users": 10}}, "right": {"sandbox": {"seed": 2, "users": 10}}}
    gnb.across(specs, lambda c: c.users().to_polars(), progress=True)
    err = capsys.readouterr().err
    assert "left" in err and "right" in err and "req" in err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    gnb.across(specs, lambda c: c.users().to_polars(), progress=True)
    assert "left" not in capsys.readouterr().err


def test_ctrl_c_stops_every_org_at_once_not_when_each_has_finished():
    import os
    import signal
    import threading
    import time

    orgs = [{"sandbox": {"seed": seed, "users": 20_000, "latency_ms": 300}} for seed in (1, 2)]  # ~60 s each
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            gnb.across(orgs, lambda client: client.users(page_size=100).to_polars(), progress=False)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10
    time.sleep(1)
    assert not [t for t in threading.enumerate() if t.name.startswith("genesys-nb-org")]
