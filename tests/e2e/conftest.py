"""Browser-test plumbing: Voila serving a notebook on a free loopback port, and Debian's Chromium for Playwright.

No browser is ever downloaded: Playwright drives ``/usr/bin/chromium``, which ``make test`` installs with apt when
it is missing. Without it the browser test fails (it does not skip), saying so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NB_DIR = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class VoilaApp:
    url: str
    output_dir: Path   # where the served notebook's panels write their exports
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Poll the TCP port (a GET would render the notebook and start a kernel before the browser asks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Voila exited with code {proc.returncode} before serving:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"Voila did not open port {port} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` (git-ignored): screenshots and the Voila log."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def voila(tmp_path: Path, artifacts: Path) -> Callable[[str], VoilaApp]:
    """voila(notebook) serves a copy of ``notebooks/<notebook>`` with no credentials in its environment, so the
    notebook uses the sandbox."""
    procs: list[subprocess.Popen] = []

    def start(notebook: str) -> VoilaApp:
        # A copy of the notebook in a fresh folder: its panels write to their default, relative "exports/" there.
        folder = tmp_path / "notebooks"
        folder.mkdir()
        shutil.copyfile(NB_DIR / notebook, folder / notebook)
        drop = ("GENESYS_NB_API_URL", "GENESYS_NB_OUTPUT", "TQDM_DISABLE")  # TQDM_DISABLE: let the bar show
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_") and k not in drop}
        port = _free_port()
        log = artifacts / "voila.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen([sys.executable, "-m", "voila", notebook, "--no-browser", f"--port={port}",
                                     "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
                                    cwd=folder, env=env, stdout=fh, stderr=subprocess.STDOUT)
        procs.append(proc)
        _wait_for_port(port, proc, log)
        return VoilaApp(url=f"http://127.0.0.1:{port}/", output_dir=folder / "exports", log=log)

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def launch_chromium(tmp_path: Path) -> Callable[[Any], Any]:
    """launch_chromium(playwright) -> Browser on Debian's Chromium; fails the test when Chromium is missing."""

    def launch(playwright: Any) -> Any:
        if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
            pytest.fail(f"Debian's Chromium is missing ({CHROMIUM}). `make test` installs it (its `chromium` step "
                        f"runs apt-get install chromium); a browser is never downloaded.", pytrace=False)
        home = tmp_path / "chromium-home"   # Chromium writes ~/.cache and ~/.config: keep them out of $HOME
        home.mkdir()
        return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                          env={**os.environ, "HOME": str(home)})

    return launch


@pytest.fixture
def playwright_sync() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p
