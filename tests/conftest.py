"""Shared fixtures: clients connected to a fresh sandbox, in-process or over real loopback HTTP."""

from __future__ import annotations

import os

import pytest

import genesys_nb as gnb
from genesys_nb._http.retrying import RetryPolicy

os.environ.setdefault("TQDM_DISABLE", "1")

#: Quick retries for tests: faults are retried after milliseconds, not seconds.
FAST_RETRY = RetryPolicy(base_delay=0.005, max_delay=0.05, default_retry_after=0.05)


@pytest.fixture(params=["in-process", "http"])
def mode(request):
    """Run a test against the sandbox both in-process (an httpx transport) and over real HTTP."""
    return request.param


@pytest.fixture
def make_client():
    """make_client(mode="in-process", client_id=None, retry=FAST_RETRY, pace=True, **sandbox_settings).

    The sandbox's rate limit is off unless asked for (its headers then announce an unreachable quota)."""
    made = []

    def factory(mode="in-process", *, client_id=None, client_secret=None, retry=FAST_RETRY, pace=None, **settings):
        settings.setdefault("rate_limit", None)
        if pace is None:
            pace = True
        if mode == "http":
            settings["http"] = True
        client = gnb.connect(sandbox=settings, client_id=client_id, client_secret=client_secret, retry=retry,
                             pace=pace)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def sandbox_process():
    """sandbox_process(users=..., **flags) -> base URL of a sandbox served by a separate process (so that a test
    measures the client alone). Flags are the shell command's, e.g. latency_ms=5 -> --latency-ms 5."""
    import subprocess
    import sys

    procs = []

    def start(users: int, **flags) -> str:
        args = [sys.executable, "-u", "-m", "genesys_nb.sandbox", "--users", str(users), "--port", "0"]
        flags.setdefault("rate_limit", 0)
        for key, value in flags.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(proc)
        for line in proc.stdout:
            if line.startswith("Sandbox URL:"):
                return line.split()[-1]
        raise RuntimeError(f"the sandbox process did not start (exit {proc.wait()})")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                   "no_proxy")


@pytest.fixture(autouse=True)
def no_proxy_from_the_runner(monkeypatch):
    """A machine's proxy settings would turn "this host does not exist" into a proxy's answer: tests that are about
    proxies set their own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def python_handles_ctrl_c():
    """Tests of Ctrl-C need Python's own SIGINT handler, which a shell that starts the run in the background
    replaces by "ignore" (Python then installs none): put it back for each test."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
