"""Profiles: the Genesys Cloud CLI's ~/.gc/config.toml and genesys-nb's own [profiles.NAME] tables, precedence
(arguments, then the profile, then the environment), the permissions warning, errors, and secrets never shown."""

from __future__ import annotations

import logging
import os
import textwrap

import httpx
import pytest

import genesys_nb as gnb
from genesys_nb.cli.app import main as cli_main

SECRET = "pr0file-Secret-Walrus-4411"
OTHER = "0ther-Secret-Heron-9902"

GC_FILE = f"""\
[DEFAULT]
environment = "mypurecloud.ie"
client_credentials = "gc-default-id"
client_secret = "{SECRET}"

[test_pro_1]
environment = "eu-central-1"
client_credentials = "gc-test-id"
client_secret = "{OTHER}"
grant_type = "1"

[implicit]
environment = "mypurecloud.com"
client_credentials = "browser-id"
grant_type = "2"
"""

OWN_FILE = f"""\
[profiles.prod]
region = "ap-southeast-2"
client_id = "own-prod-id"
client_secret = "{SECRET}"

[profiles.nosecret]
api_url = "https://api.mypurecloud.jp"
client_id = "own-nosecret-id"

[profiles.demo]
sandbox = true
sandbox_seed = 7
sandbox_users = 300
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """A newcomer's machine: no GENESYSCLOUD_* variables and no profile file anywhere we would read."""
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION",
                 "GENESYS_NB_PROFILES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))


def write(path, text, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    path.chmod(mode)
    return path


@pytest.fixture
def gc_file(tmp_path):
    return write(tmp_path / "home" / ".gc" / "config.toml", GC_FILE)


@pytest.fixture
def own_file(tmp_path):
    return write(tmp_path / "home" / ".config" / "genesys-nb" / "profiles.toml", OWN_FILE)


def refused(status=400):
    """A login host that refuses every token request as a wrong secret."""
    return httpx.MockTransport(lambda r: httpx.Response(status, json={"error": "invalid_client",
                                                                      "error_description": "authentication failed"}))


# -- reading both layouts --------------------------------------------------------------------------------------------
def test_the_gc_cli_file_is_read_from_its_default_place(gc_file):
    client = gnb.connect(profile="test_pro_1")
    assert client.hosts.api_url == "https://api.mypurecloud.de"
    assert client.auth.client_id == "gc-test-id"
    assert client.auth._credentials._secret == OTHER
    default = gnb.connect(profile="default")  # names are matched without regard to case, as the gc CLI does
    assert default.hosts.api_url == "https://api.mypurecloud.ie" and default.auth.client_id == "gc-default-id"


def test_genesys_nb_own_file_and_its_sandbox_profiles(own_file):
    client = gnb.connect(profile="prod")
    assert client.hosts.api_url == "https://api.mypurecloud.com.au" and client.auth.client_id == "own-prod-id"
    with gnb.connect(profile="demo") as demo:
        assert demo.organization()["name"] == "Sandbox Org 7"
        assert demo.users().to_polars().height == 300


def test_profiles_lists_both_files_without_secrets(gc_file, own_file):
    found = gnb.profiles()
    names = [p.name for p in found]
    assert names == ["prod", "nosecret", "demo", "DEFAULT", "test_pro_1", "implicit"]  # genesys-nb's file first
    by_name = {p.name: p for p in found}
    assert by_name["DEFAULT"].region == "mypurecloud.ie" and by_name["DEFAULT"].client_id == "gc-default-id"
    assert by_name["DEFAULT"].file == str(gc_file) and by_name["DEFAULT"].layout == "genesys-cli"
    assert by_name["prod"].has_secret and not by_name["nosecret"].has_secret
    assert by_name["demo"].sandbox == {"seed": 7, "users": 300}
    assert by_name["test_pro_1"].line == 6
    for text in (repr(found), str(found), *(repr(vars(p)) for p in found)):
        assert SECRET not in text and OTHER not in text


def test_genesys_nb_profiles_env_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path / "elsewhere.toml", OWN_FILE)
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(path))
    assert [p.name for p in gnb.profiles()] == ["prod", "nosecret", "demo"]
    assert gnb.connect(profile="prod").auth.client_id == "own-prod-id"


# -- precedence -------------------------------------------------------------------------------------------------------
def test_arguments_win_over_the_profile_which_wins_over_the_environment(own_file, monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_REGION", "us-west-2")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "env-id")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "env-secret")
    from_profile = gnb.connect(profile="prod")
    assert from_profile.hosts.api_url == "https://api.mypurecloud.com.au"  # not the environment's us-west-2
    assert from_profile.auth.client_id == "own-prod-id" and from_profile.auth._credentials._secret == SECRET
    argued = gnb.connect("eu-west-1", profile="prod", client_id="arg-id")
    assert argued.hosts.api_url == "https://api.mypurecloud.ie" and argued.auth.client_id == "arg-id"
    assert argued.auth._credentials._secret == SECRET  # what the arguments leave out still comes from the profile
    gaps = gnb.connect(profile="nosecret")  # the profile has no secret: the environment's fills the gap
    assert gaps.hosts.api_url == "https://api.mypurecloud.jp" and gaps.auth._credentials._secret == "env-secret"
    plain = gnb.connect()
    assert plain.hosts.api_url == "https://api.usw2.pure.cloud" and plain.auth.client_id == "env-id"


def test_a_profile_without_a_secret_and_no_environment_says_what_to_do(own_file):
    with pytest.raises(gnb.ConfigError, match="client_secret") as info:
        gnb.connect(profile="nosecret")
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in str(info.value)


# -- permissions, missing and malformed -------------------------------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_a_file_others_may_read_logs_a_warning(tmp_path, monkeypatch, caplog):
    path = write(tmp_path / "open.toml", OWN_FILE, mode=0o644)
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(path))
    with caplog.at_level(logging.WARNING, logger="genesys_nb"):
        gnb.connect(profile="prod")
    assert "readable by others" in caplog.text and "chmod 600" in caplog.text and str(path) in caplog.text
    assert SECRET not in caplog.text
    caplog.clear()
    private = write(tmp_path / "private.toml", OWN_FILE, mode=0o600)
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(private))
    with caplog.at_level(logging.WARNING, logger="genesys_nb"):
        gnb.connect(profile="prod")
    assert "readable" not in caplog.text


def test_a_missing_profile_names_the_file_and_the_profiles_there(gc_file):
    with pytest.raises(gnb.ConfigError) as info:
        gnb.connect(profile="staging")
    text = str(info.value)
    assert "'staging'" in text and str(gc_file) in text
    assert "DEFAULT" in text and "test_pro_1" in text and SECRET not in text and OTHER not in text


def test_no_profile_file_at_all_says_how_to_make_one():
    with pytest.raises(gnb.ConfigError, match="gc profiles new"):
        gnb.connect(profile="prod")


def test_a_malformed_file_names_the_file_and_the_line(tmp_path, monkeypatch):
    path = write(tmp_path / "broken.toml", f'[profiles.prod]\nclient_id = "x"\nclient_secret = "{SECRET}\n')
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(path))
    for call in (lambda: gnb.connect(profile="prod"), gnb.profiles):
        with pytest.raises(gnb.ConfigError) as info:
            call()
        text = str(info.value)
        assert str(path) in text and "line 3" in text and SECRET not in text


def test_a_bad_value_names_the_profile_and_its_line(tmp_path, monkeypatch):
    path = write(tmp_path / "p.toml", '[profiles.a]\nregion = "eu-west-1"\n\n[profiles.typo]\nregion = "eu-wset-1"\n'
                                      'client_id = "x"\nclient_secret = "y"\n')
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(path))
    with pytest.raises(gnb.ConfigError) as info:
        gnb.connect(profile="typo")
    assert "Did you mean 'eu-west-1'" in str(info.value) and "profile 'typo'" in str(info.value)
    assert "line 4" in str(info.value)


def test_other_grant_types_are_refused_in_words(gc_file):
    with pytest.raises(gnb.ConfigError, match="Client Credentials"):
        gnb.connect(profile="implicit")


# -- where the credentials came from, in refusals ---------------------------------------------------------------------
def test_a_refusal_names_the_profile_the_credentials_came_from(own_file):
    client = gnb.connect(profile="prod", transport=refused())
    with pytest.raises(gnb.AuthenticationError) as info:
        client.organization()
    text = str(info.value)
    assert "profile 'prod'" in text and str(own_file) in text and SECRET not in text


def test_a_refusal_names_the_environment_and_the_argument(monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", SECRET)
    client = gnb.connect("eu-west-1", client_id="arg-id", transport=refused())
    with pytest.raises(gnb.AuthenticationError) as info:
        client.organization()
    text = str(info.value)
    assert "client_id= argument" in text and "$GENESYSCLOUD_OAUTHCLIENT_SECRET" in text and SECRET not in text


def test_sandbox_refusals_mention_no_region_or_host():
    client = gnb.connect(sandbox={"users": 10}, client_secret="wrong")
    with pytest.raises(gnb.AuthenticationError) as info:
        client.organization()
    text = str(info.value)
    assert "sandbox" in text and "client_secret= argument" in text
    assert "region" not in text and "localhost" not in text and "client id or secret is wrong" in text


def test_cli_refusal_names_the_flag_and_the_prompt(monkeypatch, capsys):
    import sys

    import genesys_nb.cli.app as cli

    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: SECRET)
    real = gnb.connect
    monkeypatch.setattr(gnb, "connect", lambda *a, **kw: real(*a, transport=refused(), **kw))
    assert cli_main(["users", "count", "--region", "eu-west-1", "--client-id", "cli-id"]) == 3
    err = capsys.readouterr().err
    assert "--client-id" in err and "prompt" in err and SECRET not in err


# -- the sandbox and the environment: the same in Python and at the shell ---------------------------------------------
def test_the_sandbox_ignores_the_environment_in_python_and_the_cli(monkeypatch, capsys):
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "real-org-id")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "wrong")
    with gnb.connect(sandbox={"users": 50}) as client:
        assert client.users().to_polars().height == 50
    assert cli_main(["users", "count", "--sandbox", "--sandbox-users", "50"]) == 0
    assert capsys.readouterr().out.strip() == "50"


def test_explicit_wrong_credentials_fail_on_the_sandbox_in_python_and_the_cli(tmp_path, monkeypatch, capsys):
    path = write(tmp_path / "p.toml", '[profiles.badsandbox]\nsandbox = true\nsandbox_users = 20\n'
                                      f'client_id = "sandbox-client"\nclient_secret = "{SECRET}"\n')
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(path))
    with pytest.raises(gnb.AuthenticationError, match="profile 'badsandbox'"):
        gnb.connect(profile="badsandbox").organization()
    with pytest.raises(gnb.AuthenticationError, match="client id or secret is wrong"):
        gnb.connect(sandbox=True, client_secret="wrong").organization()
    assert cli_main(["users", "count", "--profile", "badsandbox"]) == 3
    err = capsys.readouterr().err
    assert "profile 'badsandbox'" in err and SECRET not in err and "region" not in err


# -- the CLI's --profile ----------------------------------------------------------------------------------------------
def test_cli_profile_flag_connects_to_a_sandbox_profile(own_file, capsys):
    assert cli_main(["users", "count", "--profile", "demo"]) == 0
    assert capsys.readouterr().out.strip() == "300"
    assert cli_main(["users", "count", "--profile", "demo", "--sandbox", "--sandbox-users", "40"]) == 0
    assert capsys.readouterr().out.strip() == "40"  # the flag wins over the profile's sandbox_users


def test_cli_sandbox_users_sizes_a_sandbox_profile_without_the_sandbox_flag(own_file, capsys):
    """--sandbox-users is a flag, so it wins over a sandbox profile's sandbox_users even without --sandbox."""
    assert cli_main(["users", "count", "--profile", "demo", "--sandbox-users", "40"]) == 0
    assert capsys.readouterr().out.strip() == "40"


def test_cli_sandbox_users_on_a_real_org_profile_is_a_usage_error(own_file, capsys):
    assert cli_main(["users", "count", "--profile", "prod", "--sandbox-users", "40"]) == 2
    err = capsys.readouterr().err
    assert "--sandbox-users" in err and "--sandbox" in err and "Traceback" not in err


def test_cli_unknown_profile_and_several_profiles_exit_2(own_file, capsys):
    assert cli_main(["users", "count", "--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert "No profile 'nope'" in err and "prod" in err and "demo" in err
    assert cli_main(["users", "count", "--profile", "demo", "--profile", "prod"]) == 2
    assert "one --profile" in capsys.readouterr().err


# -- the sandbox: one org per seed ------------------------------------------------------------------------------------
def test_each_seed_is_a_different_org():
    with gnb.connect(sandbox={"seed": 7, "users": 300}) as a, gnb.connect(sandbox={"seed": 8, "users": 300}) as b:
        org_a, org_b = a.organization(), b.organization()
        ids_a = set(a.users().to_polars()["id"])
        ids_b = set(b.users().to_polars()["id"])
    assert org_a["id"] != org_b["id"] and org_a["name"] != org_b["name"]
    assert len(ids_a) == len(ids_b) == 300 and not ids_a & ids_b
    with gnb.connect(sandbox={"seed": 7, "users": 300}) as again:
        assert set(again.users().to_polars()["id"]) == ids_a  # the same seed is the same org


@pytest.mark.parametrize("body", [
    f'[profiles.prod]\nclient_id = "x"\nclient_secret = "{SECRET}\n',  # malformed TOML
    f'[profiles.prod]\nclient_id = "x"\nclient_secret = "{SECRET}\xe9"\n',  # not UTF-8 (written as Latin-1)
])
def test_an_unreadable_file_keeps_no_copy_of_its_secret_in_the_error(tmp_path, monkeypatch, body):
    path = tmp_path / "p.toml"
    path.write_bytes(body.encode("latin-1"))
    path.chmod(0o600)
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(path))
    with pytest.raises(gnb.ConfigError, match="line 3") as info:
        gnb.connect(profile="prod")
    error = info.value
    # a UnicodeDecodeError holds the whole file in its args (and its repr): no such error may ride along as context
    chained = [e for e in (error.__context__, error.__cause__) if e is not None]
    assert chained == [] and SECRET not in repr(error) and SECRET not in str(error)
