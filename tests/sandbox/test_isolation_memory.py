"""The sandbox stands alone (no client imports) and its memory does not grow with paging."""

from __future__ import annotations

import ast
import gc
import pathlib
import sys

import psutil

import genesys_nb.sandbox as sandbox_pkg
from genesys_nb.sandbox import Sandbox

ALLOWED_THIRD_PARTY = {"numpy", "orjson", "httpx"}
# Ground truth for tests (and advance(), which measures changes with it) returns polars frames; the
# sandbox itself never imports these modules at import time (checked below).
OPTIONAL = {"truth.py": {"polars"}, "advance.py": {"polars"}}
PKG = pathlib.Path(sandbox_pkg.__file__).parent


def test_imports_only_stdlib_numpy_orjson_httpx_and_itself():
    for path in PKG.glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: must stay inside genesys_nb.sandbox
                    assert node.level == 1, f"{path.name}: relative import leaves the package"
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "genesys_nb":
                    assert name.startswith("genesys_nb.sandbox"), f"{path.name} imports {name}"
                else:
                    allowed = ALLOWED_THIRD_PARTY | OPTIONAL.get(path.name, set())
                    assert top in allowed or top in sys.stdlib_module_names, f"{path.name}: {name}"


def test_serving_does_not_import_polars():
    import subprocess
    code = ("import sys; from genesys_nb.sandbox import Sandbox; sb = Sandbox(users=20, rate_limit=None); "
            "c = sb.http_client(); c.get('/api/v2/authorization/roles'); c.get('/api/v2/license/users'); "
            "assert 'polars' not in sys.modules, 'polars imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_million_user_org_is_compact():
    sb = Sandbox(users=1_000_000, rate_limit=None)
    org = sb.org
    arrays = [org._state, org._division, org._order, org._order_keys]
    assert sum(a.nbytes for a in arrays) < 20 * 2**20  # ~18 bytes per user, no per-user objects


_PAGE_300K = """
import gc, json, psutil
from genesys_nb.sandbox import Sandbox
proc = psutil.Process()
gc.collect()
before = proc.memory_info().rss
sb = Sandbox(users=300_000, rate_limit=None)
with sb.http_client() as api:
    peak = after_warmup = 0
    for number in range(1, 601):
        r = api.get("/api/v2/users", params={"pageSize": 500, "pageNumber": number, "state": "any"})
        assert r.status_code == 200
        if number in (50, 600):
            peak = max(peak, proc.memory_info().rss)
            if number == 50:
                after_warmup = peak
    last_has_next = "nextUri" in r.json()
print(json.dumps({"before": before, "warm": after_warmup, "peak": peak, "last_has_next": last_has_next,
                  "log": len(sb.request_log), "maxlen": sb.request_log.maxlen}))
"""


def test_paging_a_big_org_does_not_grow_memory():
    """A proxy for the 1M-over-HTTP RSS benchmark: page 300k users and watch RSS, in a fresh process so that what
    other tests left in this one does not count."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _PAGE_300K], capture_output=True, text=True, check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert not got["last_has_next"]
    assert got["peak"] - got["warm"] < 25 * 2**20  # flat while paging
    assert got["peak"] - got["before"] < 120 * 2**20
    assert got["log"] == 600 and got["maxlen"] == 10_000


def test_request_log_is_bounded():
    sb = Sandbox(users=1, rate_limit=None)
    with sb.http_client() as api:
        for _ in range(30):
            api.get("/api/v2/organizations/me")
    log = sb.request_log
    assert log.maxlen == 10_000 and len(log) == 30
    method, path, query, status = log[-1]
    assert (method, path, query, status) == ("GET", "/api/v2/organizations/me", {}, 200)
    sb.reset_stats()
    assert len(sb.request_log) == 0 and sb.stats.api_requests == 0


def test_stats_snapshot_is_dict_like():
    sb = Sandbox(users=5, rate_limit=None)
    with sb.http_client() as api:
        api.get("/api/v2/users", params={"id": "a,b"})
    s = sb.stats
    assert s["api_requests"] == 1 and s.requests_by_endpoint == {"GET /api/v2/users": 1}
    assert sb.request_log[0].query == {"id": "a,b"}
    assert s.as_dict()["total_429s"] == 0 and s.peak_concurrent >= 1
    assert s.statuses == {200: 1}


def test_prerender_cache_costs_about_the_json_size():
    proc = psutil.Process()
    gc.collect()
    before = proc.memory_info().rss
    sb = Sandbox(users=30_000, prerender=True, rate_limit=None)
    grown = proc.memory_info().rss - before
    json_bytes = sum(len(b) for b in sb.app.renderer._cache.values())
    assert len(sb.app.renderer._cache) == 30_000
    assert grown < 1.6 * json_bytes + 10 * 2**20, (grown, json_bytes)
