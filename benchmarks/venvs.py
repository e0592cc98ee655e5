"""One virtual environment per peer under ``.bench/venvs/<peer>``, so no peer's pins touch the project's ``.venv``.

Each is made with ``python3 -m venv``, then ``pip install uv`` and ``uv pip install --compile-bytecode`` of exact
versions (byte-compiling at install keeps the SDK's ~40 s first import out of the timings). A marker file holds the
spec that was installed, so a second ``make bench`` reuses the environment. A failed install is returned as a
reason, never raised: the scenarios print it and skip that peer's rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
VENV_DIR = BENCH_DIR / "venvs"
LOG_DIR = BENCH_DIR / "logs"

# peer -> (exact requirements, highest Python version it installs on, exclusive)
PEERS: dict[str, tuple[tuple[str, ...], tuple[int, int] | None]] = {
    "dlt": (("dlt[parquet]==1.31.0", "pandas"), None),
    "sdk": (("PureCloudPlatformClientV2==269.0.0", "pandas"), None),
    # airbyte-source-genesys declares Requires-Python <3.12 and pins airbyte-cdk 0.80.0.
    "airbyte": (("airbyte-source-genesys==0.1.42",), (3, 12)),
}
INSTALL_TIMEOUT_S = 900


@dataclass(frozen=True)
class Venv:
    """The outcome of preparing one peer's environment: its interpreter, or why there is none."""

    peer: str
    python: Path | None
    reason: str = ""
    seconds: float = 0.0
    reused: bool = False

    @property
    def ok(self) -> bool:
        return self.python is not None


def _version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def base_python(below: tuple[int, int] | None = None) -> tuple[str | None, str]:
    """The interpreter to build a venv from: ``python3`` (or an older one when the peer needs ``< below``)."""
    names = ["python3", "python3.11", "python3.10", "python3.9"] if below else ["python3"]
    seen = []
    for name in names:
        path = shutil.which(name)
        if not path:
            continue
        version = _version(path)
        seen.append(f"{name}={'.'.join(map(str, version)) if version else '?'}")
        if version and version >= (3, 9) and (below is None or version < below):
            return path, ""
    need = f"a Python < {below[0]}.{below[1]}" if below else "python3"
    return None, f"needs {need}; found {', '.join(seen) or 'none'}"


def _run(cmd: list[str], log, timeout: float) -> None:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=True,
                   env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})


def ensure(peer: str) -> Venv:
    """Create (or reuse) ``.bench/venvs/<peer>`` with the peer's pinned packages."""
    requirements, below = PEERS[peer]
    target = VENV_DIR / peer
    python = target / "bin" / "python"
    marker = target / ".bench-installed"
    spec = "\n".join(requirements)
    if marker.exists() and python.exists() and marker.read_text() == spec:
        return Venv(peer, python, reused=True)
    base, why = base_python(below)
    if base is None:
        return Venv(peer, None, f"cannot install: {why}")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"install-{peer}.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        try:
            if target.exists():
                shutil.rmtree(target)
            _run([base, "-m", "venv", str(target)], log, 120)
            _run([str(python), "-m", "pip", "install", "--quiet", "uv"], log, INSTALL_TIMEOUT_S)
            _run([str(target / "bin" / "uv"), "pip", "install", "--quiet", "--compile-bytecode", "--python",
                  str(python), *requirements], log, INSTALL_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            return Venv(peer, None, f"install timed out after {exc.timeout:.0f} s (log: {_rel(log_path)})",
                        time.monotonic() - started)
        except (OSError, subprocess.CalledProcessError) as exc:
            return Venv(peer, None, f"install failed ({_last_line(log_path) or exc}; log: {_rel(log_path)})",
                        time.monotonic() - started)
    marker.write_text(spec)
    return Venv(peer, python, seconds=time.monotonic() - started)


def ensure_all(peers: list[str]) -> dict[str, Venv]:
    """Prepare several peers' environments at once (downloads overlap); never raises."""
    with ThreadPoolExecutor(max_workers=max(1, len(peers))) as pool:
        return dict(zip(peers, pool.map(ensure, peers)))


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _last_line(path: Path) -> str:
    lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    return (errors or lines or [""])[-1][:200]


if __name__ == "__main__":
    for name, venv in ensure_all(sys.argv[1:] or list(PEERS)).items():
        print(name, venv)
