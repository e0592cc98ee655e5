"""Hosts and regions: every spelling of the 18 regions, explicit URLs, and refusals before any request."""

import pytest

import genesys_nb as gnb
from genesys_nb._http.regions import REGIONS, derive_login_url, resolve_hosts


def test_all_18_regions_resolve_by_every_spelling():
    assert len(REGIONS) == 18
    for name, domain in REGIONS.items():
        for spelling in (name, name.replace("_", "-"), domain, domain.upper(), f"https://api.{domain}"):
            hosts = resolve_hosts(spelling)
            assert hosts.api_url == f"https://api.{domain}"
            assert hosts.token_url == f"https://login.{domain}/oauth/token"


def test_unknown_region_names_the_fix():
    with pytest.raises(gnb.ConfigError) as info:
        resolve_hosts("eu-west-9")
    text = str(info.value)
    assert "Unknown Genesys Cloud region" in text and "eu-west-1" in text


@pytest.mark.parametrize("api, login", [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("https://api.mypurecloud.com", "https://login.mypurecloud.com"),
    ("http://api.localhost:9000", "http://login.localhost:9000"),
    ("https://api.usw2.pure.cloud", "https://login.usw2.pure.cloud"),
    ("https://gateway.example.org", "https://gateway.example.org"),
])
def test_login_host_derived_as_the_sdk_does(api, login):
    assert derive_login_url(api) == login
    assert resolve_hosts(api_url=api).login_url == login


@pytest.mark.parametrize("url", ["http://api.mypurecloud.com", "http://10.0.0.5:8080", "http://example.org"])
def test_plain_http_refused_unless_loopback(url):
    with pytest.raises(gnb.ConfigError, match="plain http"):
        gnb.connect(api_url=url, client_id="a", client_secret="b")


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "http://[::1]:8080", "http://localhost:5", "http://127.8.9.1"])
def test_plain_http_allowed_for_loopback(url):
    assert gnb.connect(api_url=url, client_id="a", client_secret="b").hosts.api_url.startswith("http://")


def test_explicit_login_url_wins():
    hosts = resolve_hosts(api_url="https://api.mypurecloud.ie", login_url="https://login.example.net")
    assert hosts.token_url == "https://login.example.net/oauth/token"


def test_environment_variables(monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_REGION", "ap_southeast_2")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "env-id")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "env-secret")
    client = gnb.connect()
    assert client.hosts.api_url == "https://api.mypurecloud.com.au"
    assert "env-id" in repr(client) and "env-secret" not in repr(client)


def test_missing_credentials_and_region_are_config_errors(monkeypatch):
    for var in ("GENESYSCLOUD_REGION", "GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(gnb.ConfigError, match="No Genesys Cloud region"):
        gnb.connect()
    with pytest.raises(gnb.ConfigError, match="client_id"):
        gnb.connect("us-east-1")
    with pytest.raises(gnb.ConfigError, match="client_secret"):
        gnb.connect("us-east-1", client_id="x")
    with pytest.raises(gnb.ConfigError, match="client_secret"):
        gnb.connect("us-east-1", client_id="x", client_secret="   ")


@pytest.mark.parametrize("url", ["https://user:pw-Otter-4471@api.mypurecloud.com", "https://api.mypurecloud.com@evil.example",
                                 "https://:pw-Otter-4471@api.mypurecloud.com"])
def test_credentials_in_api_url_are_refused_and_never_shown(url):
    with pytest.raises(gnb.ConfigError, match="user name or password") as info:
        gnb.connect(api_url=url, client_id="a", client_secret="b")
    assert "pw-Otter-4471" not in str(info.value) and "evil.example" in str(info.value) or "api.mypurecloud" in str(info.value)
    assert "pw-Otter-4471" not in str(info.value)


def test_upper_case_hosts_are_normalised():
    client = gnb.connect(api_url="HTTPS://API.MYPURECLOUD.COM", client_id="a", client_secret="b")
    assert client.hosts.api_url == "https://api.mypurecloud.com"
    assert client.hosts.token_url == "https://login.mypurecloud.com/oauth/token"
    assert resolve_hosts(api_url="https://API.mypurecloud.ie:443/").api_url == "https://api.mypurecloud.ie:443"


@pytest.mark.parametrize("url", ["https://api.mypurecloud.com:99999", "https://api.mypurecloud.com#x",
                                 "https://api.mypure cloud.com", 42])
def test_malformed_api_urls_are_config_errors(url):
    with pytest.raises(gnb.ConfigError):
        resolve_hosts(api_url=url)


@pytest.mark.parametrize("region", [123, 1.5, ["us-east-1"]])
def test_a_region_that_is_not_a_string_is_a_config_error(region):
    with pytest.raises(gnb.ConfigError, match="region must be"):
        gnb.connect(region, client_id="a", client_secret="b")


@pytest.mark.parametrize("field", ["client_id", "client_secret"])
def test_a_credential_that_cannot_be_sent_is_a_config_error_that_shows_nothing_of_it(field):
    secret = "Emu-\u20ac\u4e2d-9931"  # euro sign and a CJK character: not Latin-1
    kw = {"client_id": "a", "client_secret": "b", field: secret}
    with pytest.raises(gnb.ConfigError, match=f"OAuth {field}") as info:
        gnb.connect("us-east-1", **kw)
    text = str(info.value) + repr(info.value)
    assert "Emu" not in text and "\u20ac" not in text and "\u4e2d" not in text and "position" not in text
