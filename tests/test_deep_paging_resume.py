"""The 10,000-record cap on page-numbered inactive users: the advice is a command that works (flags at the shell,
arguments in Python), and a resume may switch to the cursor listing, finishing the file with every inactive user
exactly once."""

from __future__ import annotations

import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.cli.app import main
from genesys_nb.errors import DeepPagingLimit, ExportError
from genesys_nb.resources.users import users_spec
from genesys_nb.sandbox.truth import users as truth_users

USERS = 120_000  # more than 10,000 inactive users


@pytest.fixture(scope="module")
def inactive_ids():
    with gnb.connect(sandbox={"users": USERS}) as client:
        ids = truth_users(client.sandbox).filter(pl.col("state") == "inactive")["id"].to_list()
    assert len(ids) > 10_000
    return sorted(ids)


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch):
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)


def test_the_fingerprint_is_what_is_listed_not_how():
    pages, auto = users_spec(state="inactive", strategy="pages"), users_spec(state="inactive", strategy="auto")
    assert pages.fingerprint() == auto.fingerprint() and pages.how() != auto.how()
    assert users_spec(state="active", strategy="pages").fingerprint() != pages.fingerprint()


def test_cli_advice_is_a_command_that_works(tmp_path, capsys, inactive_ids):
    out = tmp_path / "q.csv"
    argv = ["users", "export", str(out), "--sandbox", "--sandbox-users", str(USERS), "--state", "inactive",
            "--no-progress"]
    assert main(argv + ["--strategy", "pages"]) == 4
    err = capsys.readouterr().err
    assert "--strategy auto" in err and "--resume" in err
    assert "strategy='" not in err and "resume=True" not in err
    assert not out.exists() and (tmp_path / "q.csv.checkpoint.json").exists()
    assert main(argv + ["--strategy", "pages", "--resume"]) == 4  # the same way fails the same way
    capsys.readouterr()
    assert main(argv + ["--strategy", "auto", "--resume"]) == 0  # the advice: through the cursor listing
    assert "(resumed)" in capsys.readouterr().out
    ids = pl.read_csv(out, infer_schema=False)["id"].to_list()
    assert sorted(ids) == inactive_ids  # every inactive user exactly once
    assert not (tmp_path / "q.csv.checkpoint.json").exists()


@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
def test_python_advice_and_resume_through_the_cursor(tmp_path, fmt, inactive_ids):
    out = tmp_path / f"q.{fmt}"
    with gnb.connect(sandbox={"users": USERS}) as client:
        with pytest.raises(DeepPagingLimit) as caught:
            client.users(state="inactive", strategy="pages").to_parquet(out, progress=False) if fmt == "parquet" \
                else client.users(state="inactive", strategy="pages").to_ndjson(out, progress=False)
        advice = str(caught.value) + " ".join(getattr(caught.value, "__notes__", []))
        assert "strategy='auto'" in advice and "resume=True" in advice and "--strategy" not in advice
        with pytest.raises(ExportError, match="different query"):  # the query itself may not change
            getattr(client.users(state="any", strategy="cursor"), f"to_{fmt}")(out, resume=True, progress=False)
        summary = getattr(client.users(state="inactive", strategy="cursor"), f"to_{fmt}")(out, resume=True,
                                                                                           progress=False)
    assert summary.resumed and summary.rows == len(inactive_ids)
    frame = pl.read_parquet(out) if fmt == "parquet" else pl.read_ndjson(out)
    assert sorted(frame["id"].to_list()) == inactive_ids


def test_a_switched_resume_that_stops_again_still_drops_what_is_written(tmp_path, inactive_ids):
    out = tmp_path / "q.ndjson"
    with gnb.connect(sandbox={"users": USERS}) as client:
        with pytest.raises(DeepPagingLimit):
            client.users(state="inactive", strategy="pages").to_ndjson(out, progress=False)

        def stop_after(n):
            def on_page(progress):
                if progress.pages >= n:
                    raise KeyboardInterrupt
            return on_page

        with pytest.raises(KeyboardInterrupt):  # the switched run stops too, part-way through the cursor listing
            client.users(state="inactive").to_ndjson(out, resume=True, progress=False, on_page=stop_after(30))
        summary = client.users(state="inactive").to_ndjson(out, resume=True, progress=False)
    ids = pl.read_ndjson(out)["id"].to_list()
    assert summary.resumed and len(ids) == len(set(ids)) and sorted(ids) == inactive_ids
