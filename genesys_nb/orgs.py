"""One function run across many orgs at once: ``across(["prod", "test"], lambda c: c.users().to_polars())``.

Every org gets its own client, token and rate governor (each org has its own API rate limit), in its own thread,
so a run across ten orgs takes about as long as the slowest of them rather than the sum. A failure in one org is
kept with its name and does not stop the others.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ._checks import whole_number
from .client import Client, connect
from .errors import ConfigError, GenesysError

__all__ = ["across", "AcrossResult"]

log = logging.getLogger("genesys_nb.orgs")

#: The column that says which org a row came from.
ORG_COLUMN = "org"


@dataclass
class AcrossResult:
    """What :func:`across` returns: ``results`` and ``errors`` keyed by org (the profile name, or a label for a
    dict of ``connect()`` arguments), and each org's wall time in ``seconds``. DataFrame results carry an ``org``
    column."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every org succeeded."""
        return not self.errors

    def __repr__(self) -> str:
        failed = "; ".join(f"{org}: {_one_line(exc)}" for org, exc in self.errors.items())
        return (f"<AcrossResult {len(self.results)} ok ({', '.join(self.results) or 'none'})"
                + (f", {len(self.errors)} failed ({failed})>" if self.errors else ">"))

    def raise_errors(self) -> None:
        """Raise a :class:`~genesys_nb.GenesysError` naming every org that failed, if any did."""
        if self.errors:
            lines = "; ".join(f"{org}: {_one_line(exc)}" for org, exc in self.errors.items())
            raise GenesysError(f"{len(self.errors)} of {len(self.errors) + len(self.results)} orgs failed: {lines}")

    def concat(self, *, skip_failed: bool = False) -> Any:
        """The DataFrame results as one frame (polars or pandas, as the results are), ``org`` column first.

        An org that failed would be silently missing from the whole, so this raises unless ``skip_failed=True``."""
        if self.errors and not skip_failed:
            raise GenesysError(f"Cannot concatenate: {', '.join(self.errors)} failed, so their rows would be missing "
                               f"(pass skip_failed=True to concatenate the others, or see .errors).")
        frames = [r for r in self.results.values() if _frame_kind(r)]
        kinds = {_frame_kind(f) for f in frames}
        if not frames:
            raise ConfigError("None of the results is a polars or pandas DataFrame, so there is nothing to concatenate.")
        if len(kinds) > 1:
            raise ConfigError("The results mix polars and pandas DataFrames: return one kind from the function.")
        if kinds == {"polars"}:
            import polars as pl
            return pl.concat(frames, how="diagonal_relaxed")
        import pandas as pd
        return pd.concat(frames, ignore_index=True)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no details"
    return text if isinstance(exc, GenesysError) else f"{type(exc).__name__}: {text}"


def _frame_kind(value: Any) -> str | None:
    """``"polars"`` or ``"pandas"`` for a DataFrame, without importing either library."""
    module = type(value).__module__
    if module.startswith("polars") and type(value).__name__ == "DataFrame":
        return "polars"
    if module.startswith("pandas") and type(value).__name__ == "DataFrame":
        return "pandas"
    return None


def _with_org(value: Any, org: str) -> Any:
    """A DataFrame result with the ``org`` column in front (unless it has one); anything else as it is."""
    kind = _frame_kind(value)
    if kind is None or ORG_COLUMN in value.columns:
        return value
    if kind == "polars":
        import polars as pl
        return value.select(pl.lit(org, dtype=pl.String).alias(ORG_COLUMN), pl.all())
    framed = value.copy(deep=False)
    framed.insert(0, ORG_COLUMN, org)
    return framed


def _label(spec: Any, index: int) -> str:
    """A readable name for one org: the profile, else the sandbox seed, region or API host of a dict."""
    if isinstance(spec, str):
        return spec
    if spec.get("profile"):
        return str(spec["profile"])
    sandbox = spec.get("sandbox")
    if sandbox:
        seed = sandbox.get("seed") if isinstance(sandbox, Mapping) else None
        return f"sandbox-{seed}" if seed is not None else "sandbox"
    return str(spec.get("region") or spec.get("api_url") or f"org-{index + 1}")


def _orgs(profiles: Sequence[str | Mapping[str, Any]] | Mapping[str, str | Mapping[str, Any]]
          ) -> dict[str, dict[str, Any]]:
    """Labels and ``connect()`` arguments, checked before anything runs."""
    if isinstance(profiles, (str, bytes)):
        raise ConfigError(f"profiles must be a list of profile names (or dicts of connect() arguments), not the "
                          f"single text {profiles!r}: write [{profiles!r}].")
    pairs = (list(profiles.items()) if isinstance(profiles, Mapping)
             else [(None, spec) for spec in profiles])
    orgs: dict[str, dict[str, Any]] = {}
    for i, (label, spec) in enumerate(pairs):
        if not isinstance(spec, (str, Mapping)) or not spec:
            raise ConfigError(f"Each org is a profile name or a dict of connect() arguments, not {spec!r}.")
        name = str(label) if label is not None else _label(spec, i)
        unique, n = name, 2
        while unique in orgs:
            unique, n = f"{name}#{n}", n + 1
        orgs[unique] = {"profile": spec} if isinstance(spec, str) else dict(spec)
    if not orgs:
        raise ConfigError("profiles is empty: name at least one org.")
    return orgs


def across(profiles: Sequence[str | Mapping[str, Any]] | Mapping[str, str | Mapping[str, Any]],
           fn: Callable[[Client], Any], *, max_workers: int | None = None, progress: bool = True) -> AcrossResult:
    """Run ``fn(client)`` once per org, concurrently, each with its own client, token and rate governor.

    ``profiles`` are profile names (``["prod", "test"]``), dicts of :func:`~genesys_nb.connect` arguments
    (``[{"sandbox": {"seed": 7}}, {"profile": "prod", "timeout": 60}]``), or a dict of label to either. Results
    and errors are keyed by org (``AcrossResult.results`` / ``.errors``); a DataFrame result gets an ``org``
    column, and ``.concat()`` joins them. One org's failure is logged and kept; the others go on. ``progress``
    shows one bar per org with its requests so far (``TQDM_DISABLE=1`` turns bars off everywhere).
    """
    orgs = _orgs(profiles)
    whole_number(max_workers, "max_workers", minimum=1, allow_none=True)
    result = AcrossResult()
    clients: dict[str, Client] = {}
    lock = threading.Lock()
    stopping = threading.Event()  # set on Ctrl-C: an org that connects after it stops at once

    def run(org: str, kwargs: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            with connect(**kwargs) as client:
                with lock:
                    clients[org] = client
                    if stopping.is_set():
                        raise KeyboardInterrupt
                return _with_org(fn(client), org)
        finally:
            result.seconds[org] = time.perf_counter() - started

    bars = _Bars(list(orgs), enabled=progress)
    with ThreadPoolExecutor(max_workers=max_workers or len(orgs), thread_name_prefix="genesys-nb-org") as pool:
        futures: dict[Future, str] = {pool.submit(run, org, kwargs): org for org, kwargs in orgs.items()}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in done:
                    org = futures[future]
                    exc = future.exception()
                    if exc is None:
                        result.results[org] = future.result()
                    else:
                        result.errors[org] = exc
                        log.warning("org %s failed: %s", org, _one_line(exc))
                    bars.finish(org, _requests(clients.get(org)), exc)
                for org, client in list(clients.items()):
                    bars.update(org, _requests(client))
        except BaseException:  # Ctrl-C: close every org's client, so the requests in flight end and each thread returns
            stopping.set()
            with lock:
                running = list(clients.values())
            for client in running:
                client.close()
            raise
        finally:
            for future in pending:
                future.cancel()
            bars.close()
    result.results = {org: result.results[org] for org in orgs if org in result.results}  # the caller's order
    result.errors = {org: result.errors[org] for org in orgs if org in result.errors}
    return result


def _requests(client: Client | None) -> int:
    return client.stats["requests"] if client is not None else 0


class _Bars:
    """One tqdm.auto bar per org counting its API requests; ✔ or ✖ when it ends."""

    def __init__(self, orgs: list[str], *, enabled: bool) -> None:
        self._bars: dict[str, Any] = {}
        # tqdm reads TQDM_DISABLE once, when it is first imported; read it for every run instead.
        if not enabled or os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes"):
            return
        from tqdm.auto import tqdm

        width = max(len(o) for o in orgs)
        for position, org in enumerate(orgs):
            self._bars[org] = tqdm(desc=org.ljust(width), unit=" req", position=position, leave=True, disable=False,
                                   file=sys.stderr, dynamic_ncols=True)

    def update(self, org: str, requests: int) -> None:
        bar = self._bars.get(org)
        if bar is not None and requests > bar.n:
            bar.update(requests - bar.n)

    def finish(self, org: str, requests: int, exc: BaseException | None) -> None:
        bar = self._bars.get(org)
        if bar is None:
            return
        self.update(org, requests)
        bar.set_postfix_str("✔ done" if exc is None else f"✖ {type(exc).__name__}", refresh=True)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
