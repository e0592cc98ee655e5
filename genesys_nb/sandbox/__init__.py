"""A faithful local emulator of the Genesys Cloud Platform API with a deterministic synthetic org.

    from genesys_nb.sandbox import Sandbox, Faults, Churn

    sb = Sandbox(users=50_000, latency_ms=100)          # or Sandbox(SandboxConfig(...), **overrides)
    http = httpx.Client(transport=sb.transport())       # in-process: any host reaches the sandbox
    url = sb.serve()                                    # or a real loopback HTTP server (API = login host)
    sb.org.ids("any")                                   # ground truth, in listing order
    sb.stats, sb.request_log                            # what was served

Demo credentials: `sandbox-client` / `sandbox-secret` (see `config.default_clients` for the
others). From the shell: `python -m genesys_nb.sandbox --users 50000 --port 8080`.

Self-contained on purpose: it imports nothing from the rest of `genesys_nb` (only the stdlib,
numpy, orjson and httpx), so the client is tested against it as against an outside service.
"""

from .config import Churn, Faults, OAuthClient, SandboxConfig
from .sandbox import Sandbox

__all__ = ["Churn", "Faults", "OAuthClient", "Sandbox", "SandboxConfig"]
