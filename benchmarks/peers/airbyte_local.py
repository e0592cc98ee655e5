"""airbyte-source-genesys ``read`` of the ``user_users`` stream, pointed at the sandbox by a small patch.

The connector's config only takes a region label, so the two URL builders are replaced (the config keeps a
valid label). ``state=any`` is added to its request parameters so it lists the same users as every other row.
It emits Airbyte protocol messages on stdout, as it would for a destination; here they go to a counting sink.
Runs in ``.bench/venvs/airbyte``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

T_START = time.monotonic()
import source_genesys.source as src  # noqa: E402
from airbyte_cdk.entrypoint import launch  # noqa: E402
from source_genesys.authenicator import GenesysOAuthAuthenticator  # noqa: E402

from bench_common import BASE, CLIENT_ID, CLIENT_SECRET, write_result  # noqa: E402

CONFIG = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
          "tenant_endpoint": "Americas (US East)", "start_date": "2024-01-01"}
CATALOG = {"streams": [{"stream": {"name": "user_users", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}


class LocalAuth(GenesysOAuthAuthenticator):
    def __init__(self, base_url, client_id, client_secret):
        super().__init__(BASE, client_id, client_secret)  # -> BASE/oauth/token


src.GenesysOAuthAuthenticator = LocalAuth  # looked up inside SourceGenesys.streams()
src.GenesysStream.url_base = property(lambda self: BASE + "/api/v2/")
_params = src.UserUsers.request_params
src.UserUsers.request_params = lambda self, *a, **kw: {"state": "any", **_params(self, *a, **kw)}


class CountingSink:
    """Stands in for the destination: counts RECORD messages on the connector's stdout."""

    def __init__(self) -> None:
        self.records = 0
        self.messages = 0

    def write(self, text: str) -> int:
        self.messages += text.count("\n")
        self.records += text.count('"type": "RECORD"') + text.count('"type":"RECORD"')
        return len(text)

    def flush(self) -> None:
        pass


def main() -> None:
    import_s = time.monotonic() - T_START
    with tempfile.TemporaryDirectory() as tmp:
        cfg, cat = os.path.join(tmp, "config.json"), os.path.join(tmp, "catalog.json")
        with open(cfg, "w") as f:
            json.dump(CONFIG, f)
        with open(cat, "w") as f:
            json.dump(CATALOG, f)
        sink, real = CountingSink(), sys.stdout
        t0 = time.perf_counter()
        sys.stdout = sink
        try:
            launch(src.SourceGenesys(), ["read", "--config", cfg, "--catalog", cat])
        finally:
            sys.stdout = real
        seconds = time.perf_counter() - t0
    write_result(sink.records, seconds, import_s, messages=sink.messages)


if __name__ == "__main__":
    main()
