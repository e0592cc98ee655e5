"""Measuring machinery: a sandbox process per row, child processes timed with their peak RSS, tables and targets.

* :class:`SandboxProcess` starts the project's sandbox in its own process over loopback HTTP (``python -m
  benchmarks.harness serve ...``) and asks it for its counters on stdin, so requests and 429s are counted by the
  server whatever each tool reports about itself (the official SDK's urllib3 retries 429s silently).
* :func:`run_child` runs one row's runner and reads its peak RSS from ``wait4``'s rusage: the same figure
  ``/usr/bin/time -f %M`` prints, taken by the kernel, so no polling can miss a short peak.
* :func:`table` and :class:`Target` turn rows measured in one run into the printed tables, ratios and PASS/MISS.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PYTHON = Path(sys.executable)


# -- child processes ------------------------------------------------------------------------------------------------
@dataclass
class Child:
    """What one finished child process did: exit code, wall time, peak RSS, and the result it wrote."""

    returncode: int
    wall_s: float
    peak_rss_mib: float
    result: dict[str, Any] | None
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.result is not None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(cmd: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 900.0,
              log_path: Path, result_path: Path) -> Child:
    """Run ``cmd`` in its own process group; stdout and stderr go to ``log_path``, its JSON result to
    ``result_path`` (passed as ``BENCH_RESULT``). Peak RSS comes from the kernel's rusage of that child."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    full_env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1", **(env or {}),
                "BENCH_RESULT": str(result_path)}
    with open(log_path, "wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=full_env, cwd=ROOT, start_new_session=True)
        status, rusage = 0, None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                _kill_group(proc)
                pid, status, rusage = os.wait4(proc.pid, 0)
                status = -signal.SIGKILL
                break
            time.sleep(0.02)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status) if status >= 0 else status
    _kill_group(proc)  # anything the child left behind in its group
    result = None
    if result_path.exists():
        try:
            result = json.loads(result_path.read_text())
        except ValueError:
            result = None
    tail = log_path.read_text(errors="replace").strip().splitlines()[-12:] if log_path.exists() else []
    return Child(proc.returncode, wall, rusage.ru_maxrss / 1024 if rusage else math.nan, result, "\n".join(tail))


# -- the sandbox in its own process ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SandboxSpec:
    """Settings of one sandbox process."""

    users: int
    latency_ms: float = 0.0
    rate_limit: int | None = None
    rate_window: float = 60.0
    prerender: bool = False
    seed: int | None = None  # None: the sandbox's default org; each seed is another org

    def argv(self) -> list[str]:
        args = ["--users", str(self.users), "--latency-ms", str(self.latency_ms), "--rate-window",
                str(self.rate_window), "--rate-limit", str(self.rate_limit or 0)]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        return args + (["--prerender"] if self.prerender else [])


class SandboxProcess:
    """The sandbox serving over loopback HTTP in a separate process; ``stats()`` reads the server's counters."""

    def __init__(self, spec: SandboxSpec, *, log: IO[bytes] | None = None, timeout: float = 300.0) -> None:
        self.spec = spec
        self.proc = subprocess.Popen([str(PROJECT_PYTHON), "-m", "benchmarks.harness", "serve", *spec.argv()],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log or subprocess.DEVNULL,
                                     cwd=ROOT, start_new_session=True, text=True, bufsize=1)
        hello = self._read(timeout)
        self.url: str = hello["url"]
        self.startup_s: float = hello["startup_s"]

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.close()
                raise RuntimeError(f"the sandbox process said nothing within {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise RuntimeError(f"the sandbox process exited ({code}) before answering")
        return json.loads(line)

    def stats(self) -> dict[str, Any]:
        """The sandbox's counters now: api_requests, token_requests, rate_limited, peak_concurrent, ..."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return self._read(30)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                _kill_group(self.proc)
                self.proc.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_main(argv: list[str]) -> None:
    """Child side of :class:`SandboxProcess`: serve, print the URL as JSON, answer ``stats`` lines on stdin."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.harness serve")
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--rate-limit", type=int, default=0, help="requests per window; 0 turns the limit off")
    p.add_argument("--rate-window", type=float, default=60.0)
    p.add_argument("--prerender", action="store_true")
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    from genesys_nb.sandbox import Sandbox

    # nextUri carries state=any on: dlt and airbyte follow it, and every row must list the same users.
    seeded = {} if a.seed is None else {"seed": a.seed}
    sb = Sandbox(users=a.users, latency_ms=a.latency_ms, rate_limit=a.rate_limit or None,
                 rate_window=a.rate_window, prerender=a.prerender, echo_params_in_uris=True, **seeded)
    url = sb.serve()
    print(json.dumps({"url": url, "startup_s": time.perf_counter() - t0}), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps(sb.stats.as_dict()), flush=True)
    sb.close()


# -- rows, tables, targets ------------------------------------------------------------------------------------------
@dataclass
class Row:
    """One table row: a tool's run, or a bound (``bound=True``), or a skipped tool (``skipped`` says why)."""

    tool: str
    wall_s: float = math.nan
    requests: int | None = None
    rate_limited: int | None = None
    peak_rss_mib: float = math.nan
    records: int | None = None
    process_s: float = math.nan
    note: str = ""
    skipped: str = ""
    bound: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return not self.skipped and not self.bound and not math.isnan(self.wall_s)


def fmt(value: Any, digits: int = 2) -> str:
    """A cell: numbers rounded, thousands separated; missing values as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def ratio(value: float, base: float) -> float:
    """``value / base``, NaN when either is missing or the base is not positive."""
    if value is None or base is None or math.isnan(value) or math.isnan(base) or base <= 0:
        return math.nan
    return value / base


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown pipe table, padded so it also reads well in a terminal; numbers right-aligned."""
    cells = [[fmt(c) if not isinstance(c, str) else c for c in r] for r in rows]
    numeric = [all(not isinstance(r[i], str) or r[i] in ("–", "") or r[i][-1:] == "×" for r in rows)
               for i in range(len(headers))]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.rjust(w) if num else v.ljust(w)
                                 for v, w, num in zip(values, widths, numeric)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def mib(x: float) -> int | None:
    """Peak RSS as whole MiB (None when missing)."""
    return None if x is None or math.isnan(x) else round(x)


def times(x: float) -> str:
    """A ratio as ``1.23×`` (or an en dash)."""
    return "–" if x is None or math.isnan(x) else f"{x:.2f}×"


TOOL_HEADERS = ("tool", "wall s", "requests", "429s received", "peak RSS MiB", "ratio to genesys-nb default",
                "users", "process s", "note")


def tool_table(rows: Sequence[Row], base: Row | None) -> str:
    """The per-tool table of a scenario; the ratio column divides each wall time by ``base``'s (same run). The note
    column is left out when no row has a note."""
    out: list[list[Any]] = []
    for r in rows:
        if r.skipped:
            out.append([r.tool, "–", "–", "–", "–", "–", "–", "–", f"skipped: {r.skipped}"])
            continue
        rel = times(ratio(r.wall_s, base.wall_s)) if base is not None and base.measured else "–"
        out.append([r.tool, r.wall_s, r.requests, r.rate_limited, mib(r.peak_rss_mib), rel, r.records, r.process_s,
                    r.note])
    if any(r[-1] for r in out):
        return table(TOOL_HEADERS, out)
    return table(TOOL_HEADERS[:-1], [r[:-1] for r in out])


@dataclass
class Target:
    """One target of the issue, judged on figures of this run: ``ok`` None means it could not be judged."""

    scenario: str
    text: str
    measured: str
    ok: bool | None
    cause: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.ok else ("MISS" if self.ok is False else "N/A")

    def line(self) -> str:
        why = f" ({self.cause})" if self.cause and not self.ok else ""
        return f"{self.verdict}  {self.scenario}: {self.text}: {self.measured}{why}"


def check(scenario: str, text: str, measured: float, limit: float, *, at_most: bool = True, unit: str = "×",
          detail: str = "", cause: Callable[[], str] | str = "") -> Target:
    """A target ``measured <= limit`` (or ``>=``); NaN gives N/A. ``cause`` is only evaluated on a miss."""
    if measured is None or math.isnan(measured):
        return Target(scenario, text, "not measured" + (f" ({detail})" if detail else ""), None)
    ok = measured <= limit if at_most else measured >= limit
    shown = f"{measured:.2f}{unit} (limit {'≤' if at_most else '≥'} {limit:g}{unit})" + (f"; {detail}" if detail else "")
    why = "" if ok else (cause() if callable(cause) else cause)
    return Target(scenario, text, shown, ok, why)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve_main(sys.argv[2:])
    else:
        sys.exit("usage: python -m benchmarks.harness serve --users N [--latency-ms MS] [--rate-limit N] ...")
