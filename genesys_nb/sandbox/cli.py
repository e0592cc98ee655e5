"""Shell command: run a sandbox over HTTP in the foreground until Ctrl-C.

    python -m genesys_nb.sandbox --users 50000 --port 8080 [--latency-ms 100] [--rate-limit 300]

The project CLI delegates `genesys-nb sandbox ...` to `main()`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .config import Churn, Faults, SandboxConfig
from .sandbox import Sandbox


def _limit(value: str) -> int | None:
    """An int, or off/none/0 for no limit."""
    if value.lower() in ("off", "none", "0"):
        return None
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return number


def _numbers(value: str) -> tuple[int, ...]:
    return tuple(int(v) for v in value.split(",") if v.strip())


EXAMPLES = """\
examples:
  # serve a 1000-user org on 127.0.0.1:8080 until Ctrl-C (it prints its URL and the demo credentials)
  {prog}
  {prog} --users 100000 --port 8080 --latency-ms 100     # a larger org, 100 ms a request
  {prog} --port 0                                        # any free port (the URL says which)

  # then, in another shell, the toolkit against it as against an org (loopback http:// is allowed)
  GENESYSCLOUD_OAUTHCLIENT_ID=sandbox-client GENESYSCLOUD_OAUTHCLIENT_SECRET=sandbox-secret \\
    genesys-nb users count --api-url http://127.0.0.1:8080

  # faults and churn, seeded: 10% 5xx, 30% extra 429s, users created and deleted every 50 listing requests
  {prog} --server-errors 0.1 --rate-limit-storm 0.3 --churn-every 50

exit codes: 0 stopped (Ctrl-C or SIGTERM), 1 cannot listen on --host and --port (e.g. the port is in use),
2 bad usage.
"""


def build_parser(prog: str = "python -m genesys_nb.sandbox") -> argparse.ArgumentParser:
    """The argument parser (shared with `genesys-nb sandbox`)."""
    d = SandboxConfig.__dataclass_fields__
    ap = argparse.ArgumentParser(prog=prog, description="Run a local Genesys Cloud Platform API emulator with a "
                                                        "deterministic synthetic org.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=EXAMPLES.format(prog=prog))
    ap.add_argument("--users", type=int, default=d["users"].default, help="org size, 0..2,000,000 (default 1000)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)")
    ap.add_argument("--seed", type=int, default=d["seed"].default, help="org seed (default 42)")
    ap.add_argument("--divisions", type=int, default=d["divisions"].default,
                    help=f"divisions in the org (default {d['divisions'].default})")
    ap.add_argument("--groups", type=int, default=d["groups"].default,
                    help=f"groups in the org (default {d['groups'].default})")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="milliseconds added to every API request (default 0)")
    ap.add_argument("--latency-jitter-ms", type=float, default=0.0, help="seeded +/- jitter on the latency, in milliseconds (default 0)")
    ap.add_argument("--rate-limit", type=_limit, default=d["rate_limit"].default,
                    help="requests per window per token; 'off' disables (default 300)")
    ap.add_argument("--rate-window", type=float, default=d["rate_window"].default, help="seconds (default 60)")
    ap.add_argument("--prerender", action="store_true", help="cache rendered records (measure the client alone)")
    ap.add_argument("--invalid-client-status", type=int, choices=(400, 401), default=400,
                    help="HTTP status of a token request with a wrong client id or secret (default 400)")
    ap.add_argument("--max-page-size", type=int, default=d["max_page_size"].default,
                    help=f"largest pageSize the API accepts (default {d['max_page_size'].default})")
    ap.add_argument("--inactive-cap", type=_limit, default=d["inactive_cap"].default,
                    help="state=inactive paging cap in records; 'off' disables (default 10000)")
    ap.add_argument("--echo-params", action="store_true", help="echo state/expand/sortOrder in listing URIs")
    ap.add_argument("--page-below-one", choices=("clamp", "error"), default="clamp",
                    help="pageNumber below 1: clamp to 1, or answer 400 (default clamp)")
    ap.add_argument("--expired-token-code", choices=("bad.credentials", "credentials.expired"),
                    default="bad.credentials", help="error code of a 401 for an expired or revoked token "
                                                     "(default bad.credentials)")
    f = ap.add_argument_group("faults (shares of API requests, 0..1; seeded)")
    f.add_argument("--faults-seed", type=int, default=0, help="seed of the fault draws (default 0)")
    f.add_argument("--server-errors", type=float, default=0.0, help="502/503/504 share")
    f.add_argument("--drops", type=float, default=0.0, help="dropped-connection share")
    f.add_argument("--truncated", type=float, default=0.0, help="truncated-200 share")
    f.add_argument("--non-json", type=float, default=0.0, help="HTML-200 share")
    f.add_argument("--rate-limit-storm", type=float, default=0.0, help="extra 429 share")
    f.add_argument("--storm-retry-after", type=int, default=1, help="Retry-After seconds of storm 429s (default 1)")
    f.add_argument("--token-expiry-every", type=_limit, default=None, help="revoke the token every N requests")
    f.add_argument("--forbidden-at", type=_numbers, default=(), help="comma-separated request numbers to 403")
    f.add_argument("--faults-on-token-endpoint", action="store_true",
                   help="inject the faults on POST /oauth/token too (default: API requests only)")
    c = ap.add_argument_group("churn (directory changes while paging)")
    c.add_argument("--churn-every", type=_limit, default=None, help="user-listing requests per churn round")
    c.add_argument("--churn-creates", type=int, default=5, help="users created per churn round (default 5)")
    c.add_argument("--churn-deletes", type=int, default=3, help="users deleted per churn round (default 3)")
    c.add_argument("--churn-purges", type=int, default=2,
                   help="deleted users purged (gone from every listing) per churn round (default 2)")
    c.add_argument("--churn-seed", type=int, default=0, help="seed of the churn (default 0)")
    return ap


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """Turn parsed arguments into a SandboxConfig."""
    faults = Faults(seed=args.faults_seed, server_errors=args.server_errors, drops=args.drops,
                    truncated=args.truncated, non_json=args.non_json, rate_limit_storm=args.rate_limit_storm,
                    storm_retry_after=args.storm_retry_after, token_expiry_every=args.token_expiry_every,
                    forbidden_at=args.forbidden_at, apply_to_token_endpoint=args.faults_on_token_endpoint)
    churn = None
    if args.churn_every:
        churn = Churn(every=args.churn_every, creates=args.churn_creates, deletes=args.churn_deletes,
                      purges=args.churn_purges, seed=args.churn_seed)
    fields: dict[str, Any] = dict(
        users=args.users, seed=args.seed, divisions=args.divisions, groups=args.groups, rate_limit=args.rate_limit,
        rate_window=args.rate_window, latency_ms=args.latency_ms, latency_jitter_ms=args.latency_jitter_ms,
        invalid_client_status=args.invalid_client_status, max_page_size=args.max_page_size,
        inactive_cap=args.inactive_cap, echo_params_in_uris=args.echo_params, page_below_one=args.page_below_one,
        expired_token_code=args.expired_token_code, prerender=args.prerender, faults=faults, churn=churn)
    return SandboxConfig(**fields)


def banner(sb: Sandbox) -> str:
    """What the command prints once serving: the URL and the demo credentials."""
    cfg, client = sb.config, sb.default_client
    others = ", ".join(f"{c.client_id} / {c.client_secret}" for c in sb.clients.values() if c is not client)
    limit = f"{cfg.rate_limit} requests per {cfg.rate_window:g} s per token" if cfg.rate_limit else "off"
    return "\n".join(line for line in [
        f"Genesys Cloud sandbox: {sb.org.size:,} users (seed {cfg.seed})",
        f"Sandbox URL: {sb.url}",
        "  API and login host are the same: POST /oauth/token, GET /api/v2/users, /api/v2/users/query, ...",
        f"Client id:     {client.client_id}",
        f"Client secret: {client.client_secret}",
        f"Other clients: {others}" if others else "",
        f"Rate limit: {limit}; latency {cfg.latency_ms:g} ms",
        "Press Ctrl-C to stop.",
    ] if line)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run the sandbox until interrupted; returns the exit status. `prog` names the command in usage."""
    parser = build_parser(prog) if prog else build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as e:
        parser.error(str(e))
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(config) as sb:
        try:
            sb.serve(args.host, args.port)
        except OSError as e:
            print(f"cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
            return 1
        print(banner(sb), flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    try:
        print("sandbox stopped", flush=True)
    except BrokenPipeError:  # whoever read our output has gone (a test or benchmark that started us)
        pass
    return 0
