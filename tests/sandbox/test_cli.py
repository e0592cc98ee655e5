"""The shell command: argument parsing, and a real foreground run in a subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import pytest

from genesys_nb.sandbox.cli import build_parser, config_from_args, main


def _config(*argv: str):
    return config_from_args(build_parser().parse_args(list(argv)))


def test_defaults():
    cfg = _config()
    assert (cfg.users, cfg.seed, cfg.rate_limit, cfg.rate_window, cfg.latency_ms) == (1000, 42, 300, 60.0, 0)
    assert cfg.churn is None and not cfg.faults.any and cfg.prerender is False


def test_flags():
    cfg = _config("--users", "50000", "--latency-ms", "100", "--rate-limit", "off", "--rate-window", "5",
                  "--seed", "9", "--prerender", "--server-errors", "0.1", "--drops", "0.05", "--truncated", "0.02",
                  "--non-json", "0.01", "--rate-limit-storm", "0.1", "--storm-retry-after", "0",
                  "--token-expiry-every", "100", "--forbidden-at", "3,7", "--churn-every", "20",
                  "--invalid-client-status", "401", "--inactive-cap", "off", "--echo-params")
    assert (cfg.users, cfg.latency_ms, cfg.rate_limit, cfg.rate_window, cfg.seed) == (50000, 100, None, 5, 9)
    f = cfg.faults
    assert (f.server_errors, f.drops, f.truncated, f.non_json, f.rate_limit_storm) == (0.1, 0.05, 0.02, 0.01, 0.1)
    assert (f.storm_retry_after, f.token_expiry_every, f.forbidden_at) == (0, 100, (3, 7))
    assert cfg.churn.every == 20 and cfg.invalid_client_status == 401 and cfg.inactive_cap is None
    assert cfg.prerender and cfg.echo_params_in_uris
    assert _config("--rate-limit", "120").rate_limit == 120


def test_bad_values_exit_with_usage(capsys):
    with pytest.raises(SystemExit):
        main(["--users", "3000000", "--port", "0"])
    assert "users must be within" in capsys.readouterr().err


def test_runs_in_the_foreground_and_prints_url_and_credentials():
    proc = subprocess.Popen([sys.executable, "-m", "genesys_nb.sandbox", "--users", "120", "--port", "0",
                             "--latency-ms", "1"], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        text = "\n".join(lines)
        url = next(x.split(": ", 1)[1] for x in lines if x.startswith("Sandbox URL: "))
        assert "Client id:     sandbox-client" in text and "Client secret: sandbox-secret" in text
        assert "120 users" in text
        with httpx.Client(base_url=url) as http:
            tok = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "sandbox-client",
                                                  "client_secret": "sandbox-secret"}).json()["access_token"]
            body = http.get("/api/v2/users", params={"state": "any", "pageSize": 500},
                            headers={"Authorization": f"Bearer {tok}"}).json()
        assert body["total"] == 120
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "sandbox stopped" in out
