"""A faithful local emulator of the Genesys Cloud Platform API with a deterministic synthetic org.

Self-contained on purpose: it imports nothing from the rest of `genesys_nb` (only the stdlib,
numpy, orjson and httpx), so the client is tested against it as against an outside service.
"""

from .config import Churn, Faults, OAuthClient, SandboxConfig
from .sandbox import Sandbox

__all__ = ["Churn", "Faults", "OAuthClient", "Sandbox", "SandboxConfig"]
