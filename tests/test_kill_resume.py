"""An export process killed with SIGKILL mid-run, then run again with --resume: the final file holds every record
exactly once, and at no point does a partial file sit under the final name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

import genesys_nb as gnb

USERS = 20_000


def cli(url: str, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "GENESYSCLOUD_OAUTHCLIENT_SECRET": "sandbox-secret", "TQDM_DISABLE": "1"}
    args = [sys.executable, "-m", "genesys_nb.cli.app", "users", "export", str(out), "--api-url", url,
            "--client-id", "sandbox-client", "--page-size", "100", *extra]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("fmt", ["ndjson", "parquet", "csv"])
def test_sigkill_then_resume(fmt, tmp_path, sandbox_process):
    url = sandbox_process(USERS, latency_ms=15)
    out = tmp_path / f"users.{fmt}"
    proc = cli(url, out)
    deadline = time.monotonic() + 60
    # Wait until some pages are checkpointed, watching that the final name never appears.
    checkpoint = tmp_path / f"users.{fmt}.checkpoint.json"
    while time.monotonic() < deadline and not checkpoint.exists():
        assert not out.exists(), "a partial file appeared under the final name"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.4)
    assert proc.poll() is None, "the export finished before it could be killed: make the sandbox slower"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not out.exists(), "SIGKILL left a file under the final name"
    assert checkpoint.exists()

    again = cli(url, out, "--resume")
    stdout, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    frame = {"ndjson": pl.read_ndjson, "parquet": pl.read_parquet, "csv": pl.read_csv}[fmt](out)
    ids = frame["id"].to_list()
    with gnb.connect(api_url=url, client_id="sandbox-client", client_secret="sandbox-secret", pace=False) as client:
        expected = [u["id"] for u in client.users(page_size=500)]
    assert len(ids) == len(set(ids)) == USERS
    assert ids == expected
    assert not checkpoint.exists() and not list(tmp_path.glob("*.part"))
