"""genesys-nb's S5 row: ``client.snapshot(path)`` of the sandbox org at ``GENESYS_BASE_URL``; run by the project's
interpreter.

The result holds the plan's request count and the requests the manifest says were sent (the planning probes are
counted apart), the rows of every table, and the governor's waits; the harness counts the requests at the sandbox.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

T_START = time.monotonic()
import genesys_nb as gnb  # noqa: E402
import genesys_nb.snapshot.writer  # noqa: E402,F401  (imported before timing, as the peers import their libraries)

from bench_common import BASE, CLIENT_ID, CLIENT_SECRET, write_result  # noqa: E402

TABLE_S: dict[str, float] = {}


def _timed(write):
    """Diagnostics only: the writer's per-table step, timed (where a snapshot's time goes, table by table)."""
    def timed(client, partial, name, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return write(client, partial, name, *args, **kwargs)
        finally:
            TABLE_S[name] = round(time.perf_counter() - t0, 3)
    return timed


genesys_nb.snapshot.writer._write_listed = _timed(genesys_nb.snapshot.writer._write_listed)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, required=True, help="the snapshot folder (replaced)")
    a = p.parse_args(argv)
    shutil.rmtree(a.out, ignore_errors=True)
    shutil.rmtree(a.out.with_name(a.out.name + ".partial"), ignore_errors=True)
    import_s = time.monotonic() - T_START
    with gnb.connect(api_url=BASE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        t0 = time.perf_counter()
        snap = client.snapshot(a.out, progress=False)
        seconds = time.perf_counter() - t0
        m = snap.manifest
        write_result(m.tables["users"].rows, seconds, import_s, plan_requests=m.plan.get("requests"),
                     probe_requests=m.plan.get("probe_requests"), requests_sent=m.requests_sent,
                     tables={name: t.rows for name, t in m.tables.items()},
                     table_requests={name: t.requests for name, t in m.tables.items()}, table_s=TABLE_S,
                     client_requests=client.transport.counters.requests, governor_waits=client.governor.waits,
                     governor_waited_s=round(client.governor.waited, 3))
    shutil.rmtree(a.out, ignore_errors=True)


if __name__ == "__main__":
    main()
