"""Secret hygiene: with a distinctive secret and DEBUG logging on, neither the secret nor any bearer token appears
in reprs, log records, exception texts, progress text or CLI output. (Executed notebooks are scanned in
tests/test_notebooks.py.)"""

from __future__ import annotations

import logging

import pytest

import genesys_nb as gnb
from genesys_nb.cli.app import main as cli_main
from genesys_nb.sandbox import Faults, OAuthClient, Sandbox

SECRET = "Zebra-Quokka-7781-do-not-leak"
WRONG = "Wrong-Walrus-4410-do-not-leak"


def issued_tokens(sandbox) -> set[str]:
    return set(sandbox.app.tokens._tokens)


def assert_clean(text: str, tokens: set[str]) -> None:
    assert SECRET not in text and WRONG not in text
    leaked = [t for t in tokens if t in text]
    assert not leaked, f"{len(leaked)} bearer token(s) leaked"


def test_nothing_leaks_through_the_library(tmp_path, caplog, capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)  # let the progress bar print
    caplog.set_level(logging.DEBUG)
    clients = (OAuthClient("hygiene-client", SECRET, expires_in=86399),)
    texts = []
    with gnb.connect(sandbox={"users": 800, "clients": clients, "rate_limit": None,
                              "faults": Faults(token_expiry_every=3, server_errors=0.1, seed=3)},
                     client_id="hygiene-client", client_secret=SECRET,
                     retry=gnb.RetryPolicy(base_delay=0.001)) as client:
        stream = client.users(page_size=100)
        pages = list(stream.pages())
        summary = client.users(page_size=100).to_csv(tmp_path / "u.csv", progress=True)
        texts += [repr(client), str(client), repr(client.auth), repr(client.transport), repr(stream),
                  repr(stream.stats), repr(pages[0])[:2000], repr(summary), repr(client.stats)]
        texts.append(repr(client.auth._credentials))
        try:
            client.auth._credentials.__reduce__()
        except TypeError as exc:
            texts.append(str(exc))
        tokens = issued_tokens(client.sandbox)
        assert len(tokens) >= 3, "token renewals happened"
        # A failure with the wrong secret, and an API error mid-stream.
        with gnb.connect(api_url=client.sandbox.serve(), client_id="hygiene-client", client_secret=WRONG) as bad:
            with pytest.raises(gnb.AuthenticationError) as info:
                bad.organization()
            texts += [str(info.value), repr(info.value), repr(bad)]
    out = capsys.readouterr()
    assert "u.csv" in out.err, "the progress bar printed"
    texts += [out.out, out.err, caplog.text]
    texts += [str(r.args) for r in caplog.records]
    for text in texts:
        assert_clean(text, tokens)


def test_nothing_leaks_through_the_cli(tmp_path, capsys, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox = Sandbox(users=300, rate_limit=None, clients=(OAuthClient("hygiene-client", SECRET),))
    url = sandbox.serve()
    try:
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", SECRET)
        base = ["--api-url", url, "--client-id", "hygiene-client"]
        assert cli_main(["users", "count", *base]) == 0
        assert cli_main(["users", "head", "-n", "3", *base]) == 0
        assert cli_main(["users", "export", str(tmp_path / "u.ndjson"), *base]) == 0
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", WRONG)
        assert cli_main(["users", "count", *base]) == 3
        out = capsys.readouterr()
        assert "authentication failed" in out.err.lower()
        for text in (out.out, out.err, caplog.text):
            assert_clean(text, issued_tokens(sandbox))
    finally:
        sandbox.close()
