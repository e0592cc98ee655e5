"""What every peer runner shares; stdlib only, so each peer's own venv can import it (it sits beside them).

A runner reads the sandbox's URL from ``GENESYS_BASE_URL`` and writes one JSON object to the file named by
``BENCH_RESULT``: at least ``records`` and ``seconds`` (the timed listing, after imports) and ``import_s``.
"""

from __future__ import annotations

import json
import os
from typing import Any

BASE = os.environ.get("GENESYS_BASE_URL", "").rstrip("/")
PAGE_SIZE = int(os.environ.get("BENCH_PAGE_SIZE", "500"))
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"


def write_result(records: int, seconds: float, import_s: float, **extra: Any) -> None:
    """Hand the row's figures to the harness."""
    result = {"records": records, "seconds": seconds, "import_s": import_s, **extra}
    with open(os.environ.get("BENCH_RESULT", "/dev/stdout"), "w") as f:
        json.dump(result, f)
