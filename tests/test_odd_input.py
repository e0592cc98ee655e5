"""Odd input that used to raise raw exceptions (issue 15 item 8): each is a ConfigError a user can act on, raised
while compiling, before any request."""

from __future__ import annotations

import re

import polars as pl
import pytest
from helpers_frames import FakeUsersTransport, users_stream

import genesys_nb as gnb
from genesys_nb._tables.filters import MAX_NESTING, compile_where
from genesys_nb._tables.frames import to_polars
from genesys_nb.cli.app import main
from genesys_nb.errors import ConfigError
from genesys_nb.export.orchestrate import export
from genesys_nb.resources.users import user_schema

SCHEMA = user_schema(("profileSkills", "groups"))


@pytest.mark.parametrize("text,match", [
    ('version == "abc"', r"'version' holds number values .* compared with the text \"abc\""),
    ("name > 5", "'name' holds text values .* compared with the number 5"),
    ("acd_auto_answer == 1", "'acd_auto_answer' holds true/false values"),
    ("state == true", "'state' holds text values .* true/false"),
    ("version in [1, \"a\"]", "compared with the text"),
    ('version contains "1"', "contains works on text, but 'version'"),
    ('groups == "x"', "cannot be compared with a value"),
    ("date_last_login > 5", "'date_last_login' holds time values"),
])
def test_a_literal_of_another_type_than_its_column_is_refused(text, match):
    with pytest.raises(ConfigError, match=match):
        compile_where(text, columns=SCHEMA)


@pytest.mark.parametrize("text", ['state in [1, "a"]', 'state in ["a", true]', "x in [1.5, 'b']"])
def test_a_list_of_mixed_kinds_is_refused_with_or_without_a_schema(text):
    with pytest.raises(ConfigError, match="mixes|compared with"):
        compile_where(text, columns=SCHEMA if text.startswith("state") else None)
    with pytest.raises(ConfigError, match="mixes"):
        compile_where(text)


@pytest.mark.parametrize("text", ["(" * 300 + 'state == "a"' + ")" * 300, "not " * 2000 + "acd_auto_answer",
                                  "! " * 5000 + "x"])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(text):
    with pytest.raises(ConfigError, match=f"nested more than {MAX_NESTING} deep"):
        compile_where(text)


@pytest.mark.parametrize("text", ['version >= 3.5 and version < 10', 'date_last_login < "2025-06-01"',
                                  'profile_skills contains "SQL"', 'state in ["active", "inactive"]',
                                  "not (not (acd_auto_answer))", "(" * MAX_NESTING + "acd_auto_answer" + ")" * MAX_NESTING])
def test_well_typed_expressions_still_compile(text):
    assert compile_where(text, columns=SCHEMA)


def test_a_type_mismatch_in_a_frame_where_fails_before_any_request(tmp_path):
    t = FakeUsersTransport(30)
    with pytest.raises(ConfigError, match="'version' holds number values"):
        to_polars(users_stream(t), where='version == "abc"')
    with pytest.raises(ConfigError, match="'name' holds text values"):
        export(users_stream(t), tmp_path / "u.csv", where="name > 5", progress=False)
    assert t.requests == [] and not list(tmp_path.iterdir())


def test_cli_where_type_mismatch_exits_2_before_any_request(tmp_path, capsys, monkeypatch):
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "u.parquet"
    assert main(["users", "export", str(out), "--sandbox", "--no-progress", "--where", 'name > 5']) == 2
    err = capsys.readouterr().err
    assert re.search("'name' holds text values", err) and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_a_listing_on_a_closed_client_is_a_clear_error():
    client = gnb.connect(sandbox={"users": 5})
    client.close()
    with pytest.raises(ConfigError, match="client is closed"):
        list(client.users())
    with pytest.raises(ConfigError, match="client is closed"):
        client.get("/api/v2/organizations/me")


def test_a_well_typed_where_still_filters():
    df = pl.DataFrame({"version": [1, 5]})
    assert compile_where("version > 2", columns=dict(df.schema))(df)["version"].to_list() == [5]
