"""Genesys Cloud regions and how API and login hosts are derived from them.

The 18 regions are those of the official SDK's ``PureCloudRegionHosts``. A region may be named by its domain
(``mypurecloud.ie``), its AWS-style name (``eu-west-1``) or the SDK's enum name (``eu_west_1``).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ConfigError
from .urls import shown

__all__ = ["REGIONS", "Hosts", "resolve_hosts", "region_names"]

#: SDK enum name -> domain. The API host is ``api.<domain>``, the login host ``login.<domain>``.
REGIONS: dict[str, str] = {
    "us_east_1": "mypurecloud.com",
    "eu_west_1": "mypurecloud.ie",
    "ap_southeast_2": "mypurecloud.com.au",
    "ap_northeast_1": "mypurecloud.jp",
    "eu_central_1": "mypurecloud.de",
    "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud",
    "ap_northeast_2": "apne2.pure.cloud",
    "eu_west_2": "euw2.pure.cloud",
    "ap_south_1": "aps1.pure.cloud",
    "us_east_2": "use2.us-gov-pure.cloud",
    "sa_east_1": "sae1.pure.cloud",
    "me_central_1": "mec1.pure.cloud",
    "ap_northeast_3": "apne3.pure.cloud",
    "eu_central_2": "euc2.pure.cloud",
    "mx_central_1": "mxc1.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud",
    "eusc_de_east_1": "edee1.eusc-pure.cloud",
}
_DOMAINS = {domain: name for name, domain in REGIONS.items()}


@dataclass(frozen=True)
class Hosts:
    """Where the API and the token endpoint live (scheme + host [+ port], no trailing slash)."""

    api_url: str
    login_url: str
    region: str | None = None

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/oauth/token"


def region_names() -> list[str]:
    """Every accepted spelling's canonical form, for dropdowns: ``"eu-west-1 (mypurecloud.ie)"`` style pairs."""
    return [name.replace("_", "-") for name in REGIONS]


def _region_domain(region: object) -> tuple[str, str]:
    """Map any accepted spelling of a region to ``(enum_name, domain)``, or raise a ConfigError with a suggestion."""
    if not isinstance(region, str):
        raise ConfigError(f"region must be a region name such as 'us-east-1' or 'eu-west-1', not "
                          f"{type(region).__name__} {region!r}.")
    raw = region.strip().lower()
    key = raw.removeprefix("https://").removeprefix("http://").strip("/")
    key = re.sub(r"^(api|login|apps)\.", "", key)
    if key in _DOMAINS:
        return _DOMAINS[key], key
    name = key.replace("-", "_")
    if name in REGIONS:
        return name, REGIONS[name]
    choices = list(REGIONS) + list(_DOMAINS) + region_names()
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"Unknown Genesys Cloud region {region!r}.{hint} Use a region name such as 'us-east-1' or 'eu-west-1', "
        f"or its domain such as 'mypurecloud.com' or 'mypurecloud.ie' (see genesys_nb._http.regions.REGIONS for all 18), "
        f"or pass api_url= for a custom host."
    )


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1, ``localhost`` and ``*.localhost`` (RFC 6761): the only hosts allowed over http."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: object, what: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased; a ConfigError (never showing a password) when it is not a
    bare https host (or http to this machine), carries credentials, or names its host ambiguously."""
    if not isinstance(url, str):
        raise ConfigError(f"{what} must be a URL such as 'https://api.mypurecloud.com', not {type(url).__name__}.")
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{what} {shown(url)!r} is not a URL: give it as 'https://api.mypurecloud.com'.") from None
    if "@" in parts.netloc:
        raise ConfigError(f"{what} {shown(url)!r} carries a user name or password before '@': the host would be the "
                          f"part after it. Give the bare host (e.g. 'https://api.mypurecloud.com') and pass the "
                          f"credentials as client_id=/client_secret=.")
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or re.search(r"[\x00-\x20\x7f\\]", url):
        raise ConfigError(f"{what} {shown(url)!r} is not a URL: give it as 'https://api.mypurecloud.com'.")
    if scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"{what} {url!r} uses plain http to a host that is not this machine; credentials and tokens would "
            f"travel unencrypted. Use https:// (plain http is allowed only for loopback hosts such as 127.0.0.1)."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{what} {url!r} should be a bare host, without a path or query (e.g. 'https://api.mypurecloud.com').")
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}" + (f":{port}" if port is not None else "")


def derive_login_url(api_url: str) -> str:
    """The login host the official SDK derives: ``//api.`` becomes ``//login.``; any other host is used as it is."""
    return re.sub(r"//api\.", "//login.", api_url, count=1)


def resolve_hosts(region: str | None = None, *, api_url: str | None = None, login_url: str | None = None) -> Hosts:
    """Resolve a region or explicit URLs into :class:`Hosts`, validating before any request is made."""
    if api_url is not None and not isinstance(api_url, str):
        api_url = _check_url(api_url, "api_url")  # raises: not a string
    if api_url:
        if region:
            raise ConfigError("Give either a region or api_url=, not both.")
        api = _check_url(api_url, "api_url")
        login = _check_url(login_url, "login_url") if login_url else derive_login_url(api)
        return Hosts(api, login, None)
    if login_url:
        raise ConfigError("login_url= needs api_url= as well (or give a region).")
    if not region:
        raise ConfigError(
            "No Genesys Cloud region given. Pass a region (e.g. connect('eu-west-1')), set GENESYSCLOUD_REGION, "
            "pass api_url= for a custom host, or use connect(sandbox=True) to try the toolkit offline."
        )
    name, domain = _region_domain(region)
    return Hosts(f"https://api.{domain}", f"https://login.{domain}", name)
