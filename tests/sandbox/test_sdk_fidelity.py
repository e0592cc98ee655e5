"""Fidelity against the official SDK (PureCloudPlatformClientV2, installed byte-compiled by `make test`).

The SDK is imported in a subprocess (its import costs seconds and starts threads): it authenticates
against a sandbox served over HTTP, pages `get_users(state="any")` by page number and
`get_users_query(state="any")` by cursor to the end, and the ids must equal the org's exactly.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from genesys_nb.sandbox import Sandbox

PAGER = pathlib.Path(__file__).with_name("sdk_pager.py")
INSTALL_HINT = ("the official SDK PureCloudPlatformClientV2 is not installed: `make test` installs it "
                "(the `sdk` extra, byte-compiled)")


def _run(script: pathlib.Path, *args: str, timeout: float = 240) -> dict:
    out = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode == 3 and "import_error" in out.stdout:
        pytest.fail(f"{INSTALL_HINT}; import failed with: {json.loads(out.stdout)['import_error']}")
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.sdk
def test_sdk_pages_users_and_users_query_exactly():
    with Sandbox(users=2345, seed=11, rate_limit=None) as sb:
        url = sb.serve()
        got = _run(PAGER, url, sb.default_client.client_id, sb.default_client.client_secret)
        expected = sb.org.ids("any")
        assert got["users"] == expected and len(set(got["users"])) == len(expected)
        assert got["query"] == expected and len(set(got["query"])) == len(expected)
        assert got["pages"] == 5  # 2345 users at 500 per page
        assert got["expanded_ok"] and got["search_total"] > 0 and got["limited_query_status"] == 403
        assert got["bad_secret_status"] == 400
        requests = sb.stats.requests_by_endpoint
        assert requests["POST /oauth/token"] >= 2 and requests["GET /api/v2/users/query"] >= 5


ACCESS = pathlib.Path(__file__).with_name("sdk_access.py")


@pytest.mark.sdk
def test_sdk_models_accept_every_access_response_strictly():
    with Sandbox(users=600, seed=5, rate_limit=None) as sb:
        url = sb.serve()
        got = _run(ACCESS, url, sb.default_client.client_id, sb.default_client.client_secret)
    assert got["problems"] == []
    assert len(set(got["checked"])) >= 17
    sdk = got["sdk"]
    assert sdk["roles"] >= 12 and sdk["subjectgrants"] > 0 and sdk["home"] is True and sdk["subject"] >= 1
    assert sdk["queue_members"] > 0 and sdk["definitions"] == 7 and sdk["licence_users"] > 0
    assert sdk["group_members"] == sdk["individuals"] > 0
    assert sdk["audit_states"] == ["Queued", "Queued", "Running", "Running", "Succeeded"]
    assert sdk["audit_results"] == 50 and sdk["audit_event_year"] == 2025
    assert sdk["services"] >= 3 and sdk["no_queues_status"] == 403
