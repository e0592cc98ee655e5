"""Where to connect and with which OAuth client: one resolution for ``connect()``, the command line and the panels.

Each value is taken from the first place that has it: what the caller gave (arguments in Python, flags at the
shell, the fields of the connect panel), then the profile named with ``profile=`` / ``--profile``, then the
``GENESYSCLOUD_*`` environment variables that Genesys's own CLI and Terraform provider read. The sandbox never
reads those variables (they belong to a real org); credentials given to it explicitly are checked like a real
org's. Every value remembers where it came from, so that a refusal can say what to fix; the secret never appears
in a repr, a log line or an error.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import AuthenticationError, ConfigError
from .auth import AccessToken, ClientCredentialsAuth
from .profiles import Profile, find_profile
from .regions import Hosts, resolve_hosts

__all__ = ["ENV_ID", "ENV_SECRET", "ENV_REGION", "ENV_NAMES", "Source", "Resolved", "resolve", "given_by",
           "sources", "env_secret", "env_client_id", "env_region", "ExplainedAuth"]

log = logging.getLogger("genesys_nb.credentials")

ENV_ID = "GENESYSCLOUD_OAUTHCLIENT_ID"
ENV_SECRET = "GENESYSCLOUD_OAUTHCLIENT_SECRET"
ENV_REGION = "GENESYSCLOUD_REGION"
ENV_NAMES = (ENV_ID, ENV_SECRET, ENV_REGION)

FIELDS = ("region", "api_url", "login_url", "client_id", "client_secret", "sandbox", "profile")

#: How each interface names the places a value can be given, for messages in the user's own words.
SPELLING: dict[str, dict[str, str]] = {
    "argument": {f: f"{f}=" for f in FIELDS},
    "flag": {"region": "--region", "api_url": "--api-url", "login_url": "--login-url", "client_id": "--client-id",
             "client_secret": "the secret prompt", "sandbox": "--sandbox", "profile": "--profile"},
    "panel": {"region": "the panel's Region", "api_url": "the panel's API host", "login_url": "the panel's login host",
              "client_id": "the panel's Client id", "client_secret": "the panel's Secret",
              "sandbox": "the panel's sandbox toggle", "profile": "the panel's profile"},
}


@dataclass(frozen=True)
class Source:
    """Where one value came from: ``kind`` is argument, flag, prompt, panel, profile, environment or sandbox."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        if self.kind == "argument":
            return f"the {self.detail} argument"
        if self.kind == "environment":
            return f"${self.detail}"
        if self.kind == "prompt":
            return "the secret typed at the prompt"
        if self.kind == "sandbox":
            return self.detail or "the sandbox's own client list"
        return self.detail  # flag, panel, profile: the detail says it all


def given(interface: str, name: str) -> Source:
    """The source of a value the caller gave through ``interface`` (argument, flag or panel)."""
    return Source(interface, SPELLING[interface][name])


_GIVEN: contextvars.ContextVar[Mapping[str, Source] | None] = contextvars.ContextVar("genesys_nb_given", default=None)


@contextlib.contextmanager
def sources(known: Mapping[str, Source]) -> Iterator[None]:
    """Inside this block, values passed to ``connect()`` came from ``known`` (the CLI resolved them already)."""
    token = _GIVEN.set(dict(known))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def given_by(interface: str) -> contextlib.AbstractContextManager[None]:
    """Inside this block, values passed to ``connect()`` were given through ``interface`` (``"panel"``...)."""
    return sources({name: given(interface, name) for name in FIELDS})


def env_client_id(environ: Mapping[str, str] | None = None) -> str | None:
    return ((os.environ if environ is None else environ).get(ENV_ID) or "").strip() or None


def env_secret(environ: Mapping[str, str] | None = None) -> str | None:
    return ((os.environ if environ is None else environ).get(ENV_SECRET) or "").strip() or None


def env_region(environ: Mapping[str, str] | None = None) -> str | None:
    return ((os.environ if environ is None else environ).get(ENV_REGION) or "").strip() or None


@dataclass(frozen=True)
class Resolved:
    """Where to connect and with which client, and where each value came from (``sources``, by field name).

    ``hosts`` is None for the sandbox, whose ``sandbox`` settings are then a dict. The secret is kept out of the
    repr."""

    hosts: Hosts | None
    region: str | None = None
    api_url: str | None = None
    login_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    sandbox: dict[str, Any] | None = None
    profile: Profile | None = None
    sources: Mapping[str, Source] = field(default_factory=dict)

    def sandbox_hint(self) -> str:
        """How to fall back to the sandbox's demo client, in the words of the interface that gave the client."""
        kinds = {s.kind for s in self.sources.values()}
        if "flag" in kinds or "prompt" in kinds:
            return "Leave out --client-id (and a profile's credentials) to use its demo client"
        if "panel" in kinds:
            return "Leave the panel's Client id and Secret empty to use its demo client"
        return "Leave out client_id= and client_secret= (and a profile's credentials) to use its demo client"

    def origin(self) -> str:
        """``the client id and secret came from profile 'prod' in ...``: for refusals."""
        cid, secret = self.sources.get("client_id"), self.sources.get("client_secret")
        if cid is None and secret is None:
            return "No client id or secret was given"
        if cid is not None and secret is not None and str(cid) == str(secret):
            return f"The client id and secret came from {cid}"
        if cid is not None and secret is not None and cid.kind == secret.kind == "argument":
            return "The client id and secret came from the client_id= and client_secret= arguments"
        return f"The client id came from {cid or 'nowhere'} and the secret from {secret or 'nowhere'}"


def _spell(interface: str, name: str) -> str:
    return SPELLING[interface][name]


def _missing_region(interface: str) -> ConfigError:
    if interface == "flag":
        return ConfigError(f"No Genesys Cloud region given: pass --region (e.g. --region eu-west-1), --api-url for a "
                           f"custom host or --profile NAME, or set {ENV_REGION}; add --sandbox to try offline.")
    return ConfigError(f"No Genesys Cloud region given. Pass a region (e.g. connect('eu-west-1')), set {ENV_REGION}, "
                       f"pass api_url= for a custom host or profile= for a saved one, or use connect(sandbox=True) "
                       f"to try the toolkit offline.")


def _missing_credential(name: str, interface: str) -> ConfigError:
    env = ENV_ID if name == "client_id" else ENV_SECRET
    what = "client id" if name == "client_id" else "client secret"
    if interface == "flag":
        how = ("pass --client-id or " if name == "client_id" else "") + f"set {env}"
        tail = (" (the command line never takes the secret as an option; on a terminal it is asked for)"
                if name == "client_secret" else f" (and {ENV_SECRET})")
        return ConfigError(f"No OAuth {what}: {how}{tail}, or use --profile NAME. To try the toolkit without an org, "
                           f"add --sandbox.")
    return ConfigError(f"No OAuth {name} given. Pass {name}= to connect(), use profile=, or set {env}; the OAuth "
                       f"client must use the Client Credentials grant (Admin > Integrations > OAuth).")


def _pick(name: str, value: Any, interface: str, profile_value: Any, profile: Profile | None,
          env_value: Any = None, env_name: str | None = None) -> tuple[Any, Source | None]:
    """The first of the caller's value, the profile's and the environment's, with its source."""
    known = _GIVEN.get() or {}
    if value is not None and value != "":
        return value, known.get(name) or given(interface, name)
    if profile_value is not None and profile is not None:
        return profile_value, Source("profile", profile.where)
    if env_value is not None and env_name:
        return env_value, Source("environment", env_name)
    return None, None


def _sandbox_settings(sandbox: Any, profile: Profile | None, where_given: bool, interface: str) -> dict | None:
    """The sandbox settings, when the caller or the profile asks for a sandbox (the caller's settings win)."""
    if sandbox:
        if where_given:
            what = "--region, --api-url or --login-url" if interface == "flag" else "a region, api_url or login_url"
            raise ConfigError(f"{_spell(interface, 'sandbox')} starts the local emulator: do not combine it with "
                              f"{what}.")
        base = dict(profile.sandbox) if profile is not None and profile.sandbox is not None else {}
        return {**base, **(dict(sandbox) if isinstance(sandbox, Mapping) else {})}
    if not where_given and profile is not None and profile.sandbox is not None:
        return dict(profile.sandbox)
    return None


def resolve(*, region: str | None = None, api_url: str | None = None, login_url: str | None = None,
            client_id: str | None = None, client_secret: str | None = None, sandbox: Any = None,
            profile: str | None = None, interface: str = "argument",
            ask_secret: Callable[[str], str | None] | None = None,
            environ: Mapping[str, str] | None = None,
            profile_files: Sequence[str | os.PathLike] | None = None) -> Resolved:
    """Resolve hosts and credentials, checked before any request: the caller's values (through ``interface``:
    ``"argument"``, ``"flag"`` or ``"panel"``), then ``profile``, then the environment (never for the sandbox).

    ``ask_secret(client_id)`` is called when no secret is found anywhere (the CLI prompts on a terminal); where to
    connect is checked before that, so that a typo in the region does not wait for a secret.
    """
    env = os.environ if environ is None else environ
    prof, prof_secret = find_profile(profile, profile_files) if profile else (None, None)
    where_given = bool(region or api_url or login_url)
    settings = _sandbox_settings(sandbox, prof, where_given, interface)
    known: dict[str, Source] = {}
    if prof is not None:
        known["profile"] = Source("profile", prof.where)
    if settings is not None:
        if sandbox:
            known["sandbox"] = (_GIVEN.get() or {}).get("sandbox") or given(interface, "sandbox")
        elif prof is not None:
            known["sandbox"] = Source("profile", prof.where)
        return _credentials(Resolved(None, sandbox=settings, profile=prof), client_id, client_secret, prof,
                            prof_secret, interface, known, None, use_env=False)
    hosts, host_fields = _hosts(region, api_url, login_url, prof, env, interface, known)
    return _credentials(Resolved(hosts, profile=prof, **host_fields), client_id, client_secret, prof, prof_secret,
                        interface, known, ask_secret, use_env=True, environ=env)


def _hosts(region: str | None, api_url: str | None, login_url: str | None, prof: Profile | None,
           env: Mapping[str, str], interface: str, known: dict[str, Source]) -> tuple[Hosts, dict[str, Any]]:
    """Where to connect: the caller's region or URLs, else the profile's, else ``GENESYSCLOUD_REGION``."""
    if region or api_url or login_url:
        for name, value in (("region", region), ("api_url", api_url), ("login_url", login_url)):
            if value:
                known[name] = (_GIVEN.get() or {}).get(name) or given(interface, name)
    elif prof is not None and (prof.region or prof.api_url):
        region, api_url, login_url = prof.region, prof.api_url, prof.login_url
        for name, value in (("region", region), ("api_url", api_url), ("login_url", login_url)):
            if value:
                known[name] = Source("profile", prof.where)
    elif env_region(env):
        region = env_region(env)
        known["region"] = Source("environment", ENV_REGION)
    else:
        raise _missing_region(interface)
    try:
        hosts = resolve_hosts(region, api_url=api_url, login_url=login_url)
    except ConfigError as exc:
        came = known.get("region") or known.get("api_url")
        if came is not None and came.kind in ("profile", "environment"):
            raise ConfigError(f"{exc} (from {came})") from None
        raise
    return hosts, {"region": region, "api_url": api_url, "login_url": login_url}


def _credentials(base: Resolved, client_id: str | None, client_secret: str | None, prof: Profile | None,
                 prof_secret: str | None, interface: str, known: dict[str, Source],
                 ask_secret: Callable[[str], str | None] | None, *, use_env: bool,
                 environ: Mapping[str, str] | None = None) -> Resolved:
    """The client id and secret, each with its source. For the sandbox, a missing one is left to it."""
    if prof is not None and prof.grant_type not in (None, "", "1"):
        raise ConfigError(f"{prof.where} uses grant type {prof.grant_type!r}; genesys-nb signs in with the Client "
                          f"Credentials grant only (grant_type = \"1\" in the Genesys Cloud CLI).")
    cid, cid_from = _pick("client_id", client_id, interface, prof.client_id if prof else None, prof,
                          env_client_id(environ) if use_env else None, ENV_ID)
    secret, secret_from = _pick("client_secret", client_secret, interface, prof_secret, prof,
                                env_secret(environ) if use_env else None, ENV_SECRET)
    if isinstance(cid, str):
        cid = cid.strip() or None
    if use_env:
        if not cid:
            raise _missing_credential("client_id", interface)
        if not (isinstance(secret, str) and secret.strip()) and ask_secret is not None:
            secret, secret_from = ask_secret(cid), Source("prompt")
        if not (isinstance(secret, str) and secret.strip()):
            raise _missing_credential("client_secret", interface)
    elif env_client_id(environ) or env_secret(environ):
        log.info("the sandbox does not read %s / %s from the environment (they are a real org's); it uses the "
                 "credentials given explicitly, or its demo client", ENV_ID, ENV_SECRET)
    for name, came in (("client_id", cid_from), ("client_secret", secret_from)):
        if came is not None:
            known[name] = came
    return Resolved(base.hosts, region=base.region, api_url=base.api_url, login_url=base.login_url, client_id=cid,
                    client_secret=secret.strip() if isinstance(secret, str) else secret, sandbox=base.sandbox,
                    profile=prof, sources=known)


class ExplainedAuth(ClientCredentialsAuth):
    """Client credentials whose refusal names where the credentials came from, in the interface's words.

    ``origin`` is :meth:`Resolved.origin`; ``sandbox_clients`` lists the sandbox's clients when this is the
    sandbox (then the message names neither regions nor hosts)."""

    def __init__(self, *args: Any, origin: str, sandbox_clients: Sequence[str] | None = None,
                 sandbox_hint: str = "", region_label: str | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._origin = origin
        self._sandbox_hint = sandbox_hint
        self._sandbox_clients = tuple(sandbox_clients) if sandbox_clients is not None else None
        self._region_label = region_label

    def access_token(self) -> AccessToken:
        """The token, as :class:`ClientCredentialsAuth` fetches it; a refusal says where the credentials came from
        (``token()`` goes through here too)."""
        try:
            return super().access_token()
        except AuthenticationError as exc:
            if exc.code != "invalid_client":
                raise
            raise AuthenticationError(self._refusal(exc), status=exc.status, code=exc.code,
                                      api_message=exc.api_message, correlation_id=exc.correlation_id,
                                      url=None if self._sandbox_clients is not None else exc.url) from None

    def _refusal(self, exc: AuthenticationError) -> str:
        unknown = "not found" in (exc.api_message or "")
        if self._sandbox_clients is not None:
            what = (f"the sandbox has no client {self.client_id!r}" if unknown
                    else "the client id or secret is wrong")
            return (f"Authentication failed on the sandbox: {what}. {self._origin}. {self._sandbox_hint}, or use "
                    f"one of its clients: {', '.join(self._sandbox_clients)}.")
        what = "the client id is not known there" if unknown else "the client id or secret is wrong"
        where = f"region {self._region_label}" if self._region_label else "the org of the configured login host"
        note = (f" (arguments win over a profile and over {ENV_ID} / {ENV_SECRET})"
                if "arguments" in self._origin or "argument" in self._origin else "")
        return (f"Authentication failed: {what}. {self._origin}{note}: check them, and that the OAuth client was "
                f"created in {where}: a client from another region fails the same way.")
