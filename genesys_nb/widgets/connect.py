"""Step 1: connect to a Genesys Cloud org, or to the built-in sandbox."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .._http.credentials import given_by
from .._http.regions import REGIONS, resolve_hosts
from ._common import ENV_ID, ENV_REGION, ENV_SECRET, Panel, env_secrets, ipywidgets, plain_error

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["ConnectPanel"]

DEFAULT_REGION = "us-east-1"


def _env_region() -> str | None:
    """``GENESYSCLOUD_REGION`` in the dropdown's spelling (``eu-west-1``), or None when unset or unknown."""
    value = os.environ.get(ENV_REGION)
    if not value:
        return None
    try:
        name = resolve_hosts(value).region
    except ConfigError:
        return None
    return name.replace("_", "-") if name else None


class ConnectPanel(Panel):
    """Sandbox toggle, region, client id and secret, a Connect button, and a status line.

    Region and client id are prefilled from ``GENESYSCLOUD_REGION`` / ``GENESYSCLOUD_OAUTHCLIENT_ID``. A secret in
    ``GENESYSCLOUD_OAUTHCLIENT_SECRET`` is used from there and never copied into a widget (widget state is saved
    into the notebook file); a typed secret is cleared from its field once the connection works. After Connect,
    :attr:`client`, :attr:`org` and :attr:`cursor` hold the result and :attr:`error` the last error in plain words.

    ``connect`` is the function that makes the client (``genesys_nb.connect`` unless a test injects another);
    ``api_url`` replaces the region with an explicit API host; ``sandbox_settings`` go to ``connect(sandbox=...)``.
    """

    def __init__(self, *, connect: Callable[..., Client] | None = None, sandbox: bool | None = None,
                 api_url: str | None = None, sandbox_settings: Mapping[str, Any] | None = None) -> None:
        W = ipywidgets()
        if connect is None:
            from ..client import connect as connect_client
            connect = connect_client
        self._connect: Callable[..., Client] = connect
        self.api_url = api_url or None
        self.sandbox_settings = dict(sandbox_settings) if sandbox_settings else None
        self.secret_from_env = bool(os.environ.get(ENV_SECRET))
        env_id = os.environ.get(ENV_ID, "")
        if sandbox is None:
            sandbox = not (env_id and self.secret_from_env)
        self.client: Client | None = None
        self.org: dict | None = None
        self.cursor: bool | None = None
        self.error: str | None = None
        self.message = ""
        self._listeners: list[Callable[[Client], None]] = []
        self._closed_listeners: list[Callable[[], None]] = []

        wide = {"description_width": "90px"}
        self.sandbox = W.Checkbox(value=bool(sandbox), description="Use the offline sandbox org (no credentials)",
                                  indent=False, layout=W.Layout(width="auto"))
        self.region = W.Dropdown(options=[(f"{n.replace('_', '-')} ({d})", n.replace("_", "-")) for n, d in REGIONS.items()],
                                 value=_env_region() or DEFAULT_REGION, description="Region", style=wide)
        self.api_note = W.HTML(f"API host: <code>{self.api_url}</code>" if self.api_url else "")
        self.client_id = W.Text(value=env_id, description="Client id", placeholder="OAuth client id (client credentials)",
                                style=wide)
        hint = f"from {ENV_SECRET} (leave empty)" if self.secret_from_env else "OAuth client secret"
        self.secret = W.Password(value="", description="Secret", placeholder=hint, style=wide,
                                 tooltip="Kept in the connection only: the field is cleared once connected.")
        self.button = W.Button(description="Connect", button_style="primary", icon="plug")
        self.status = W.HTML()
        self.sandbox.observe(lambda _change: self._sync_enabled(), names="value")
        self.button.on_click(lambda _button: self.connect())
        self._sync_enabled()
        self._set_status("Not connected." + (" The secret comes from the environment." if self.secret_from_env else ""))
        self.widget = W.VBox([self.sandbox, self.region, self.api_note, self.client_id, self.secret,
                              self.button, self.status])
        self.widget.add_class("gnb-connect")

    def _sync_enabled(self) -> None:
        self.region.disabled = bool(self.sandbox.value or self.api_url)

    def _arguments(self) -> dict[str, Any]:
        """What the Connect button passes to ``connect``; a secret left empty is read from the environment there."""
        secret = self.secret.value or None
        client_id = self.client_id.value.strip() or None
        if self.sandbox.value:
            args: dict[str, Any] = {"sandbox": self.sandbox_settings or True}
            if secret:  # a typed secret tries that client of the sandbox; otherwise its demo client is used
                args.update(client_id=client_id, client_secret=secret)
            return args
        args = {"api_url": self.api_url} if self.api_url else {"region": self.region.value}
        args.update(client_id=client_id, client_secret=secret)
        return args

    def connect(self) -> Client | None:
        """Connect with the panel's values (what the button does). Returns the client, or None after an error."""
        typed_secret = self.secret.value
        self.close()
        self.button.disabled = True
        self._set_status("Connecting…", "busy")
        client = None
        try:
            with given_by("panel"):  # refusals then name the panel's fields as where the credentials came from
                client = self._connect(**self._arguments())
            org = client.organization()
            cursor = client.can_use_cursor()
        except Exception as exc:  # shown in the panel, never raised into the notebook as a traceback
            if client is not None:
                client.close()
            self.error = plain_error(exc, [typed_secret, *env_secrets()])
            self._set_status(f"Could not connect: {self.error}", "error")
            return None
        finally:
            self.button.disabled = False
        self.secret.value = ""  # the secret now lives in the client only, never in the saved notebook
        self.client, self.org, self.cursor, self.error = client, org, cursor, None
        where = "sandbox" if self.sandbox.value else (self.api_url or self.region.value)
        listing = ("may use the exact cursor listing (each user exactly once)" if cursor else
                   "cannot use the cursor listing (it needs directory:user:view in all divisions), so listings "
                   "page by number and may skip or repeat users changed while they run")
        self._set_status(f"Connected to {org.get('name', 'the org')} ({where}). This client {listing}.", "ok")
        for listener in list(self._listeners):
            listener(client)
        return client

    def on_connect(self, callback: Callable[[Client], None]) -> None:
        """Call ``callback(client)`` after every successful Connect, and now if already connected."""
        self._listeners.append(callback)
        if self.client is not None:
            callback(self.client)

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever the connection is closed: by :meth:`close`, or by a new Connect (which
        closes the old connection first, so panels that used it reset even when the new attempt fails)."""
        self._closed_listeners.append(callback)

    def close(self) -> None:
        """Close the current connection (and its sandbox), if any, and tell the panels that used it."""
        client, self.client, self.org, self.cursor = self.client, None, None, None
        if client is not None:
            client.close()
            for listener in list(self._closed_listeners):
                listener()
