"""connect(api_client=...) with the real official SDK: host and token adopted (no new token fetched), renewed when
refused if credentials are given too, and a clear error when they are not. The SDK runs in a subprocess: its import
costs seconds and starts threads."""

import importlib.util
import json
import subprocess
import sys

import pytest

from genesys_nb.sandbox import Faults, Sandbox

SCRIPT = r"""
import json, sys
import PureCloudPlatformClientV2 as pc
pc.configuration.live_reload_config = False
import genesys_nb as gnb
api = pc.ApiClient(host=sys.argv[1]).get_client_credentials_token("sandbox-client", "sandbox-secret")
creds = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"} if sys.argv[2] == "creds" else {}
with gnb.connect(api_client=api, **creds) as client:
    try:
        ids = [u["id"] for u in client.users(page_size=100)]
        error = None
    except gnb.GenesysError as exc:
        ids, error = [], f"{type(exc).__name__}: {exc}"
    print(json.dumps({"ids": ids, "error": error, "fetches": client.stats["token_fetches"],
                      "renewals": client.stats["token_renewals_on_401"], "repr": repr(client)}))
"""


def run(url: str, creds: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, url, "creds" if creds else "-"], capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def sdk_installed():
    if importlib.util.find_spec("PureCloudPlatformClientV2") is None:
        pytest.fail("the official SDK is missing: make test installs it (the sdk extra)")


@pytest.mark.sdk
def test_adopts_the_sdk_clients_host_and_token(sdk_installed):
    with Sandbox(users=700, rate_limit=None) as sb:
        got = run(sb.serve(), creds=False)
        assert got["ids"] == sb.org.ids("any") and got["fetches"] == 0, "the SDK's own token was used"


@pytest.mark.sdk
def test_a_refused_sdk_token_is_renewed_with_credentials_or_explained(sdk_installed):
    with Sandbox(users=700, rate_limit=None, faults=Faults(token_expiry_every=4)) as sb:
        url = sb.serve()
        without = run(url, creds=False)
        assert without["error"].startswith("AuthenticationError") and "Authenticate the SDK client again" in without["error"]
        with_creds = run(url, creds=True)
        assert with_creds["ids"] == sb.org.ids("any") and with_creds["renewals"] >= 1 and with_creds["fetches"] >= 1
        assert "sandbox-secret" not in with_creds["repr"]
