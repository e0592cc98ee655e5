"""What the panels share: the lazy ipywidgets import, plain-words errors, and the displayable base class."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable
from typing import Any

from .._http.credentials import ENV_ID, ENV_REGION, ENV_SECRET
from ..errors import GenesysError

__all__ = ["ENV_ID", "ENV_REGION", "ENV_SECRET", "ipywidgets", "plain_error", "env_secrets", "status_html", "Panel"]


def ipywidgets() -> Any:
    """ipywidgets, imported on first use so that ``import genesys_nb`` never needs a notebook stack."""
    try:
        import ipywidgets as W
    except ImportError as exc:  # pragma: no cover - ipywidgets is a dependency; this guards odd installs
        raise ImportError("The notebook panels need ipywidgets: pip install ipywidgets") from exc
    return W


def plain_error(exc: BaseException, secrets: Iterable[str | None] = ()) -> str:
    """The exception as one line for people: its own message, never a traceback, never a secret.

    Toolkit errors (:class:`~genesys_nb.GenesysError`) are written for people already. Anything else gets its type
    name in front so the message still makes sense out of context. Every known secret is masked as a last guard.
    """
    text = str(exc).strip() or "no details were given"
    if not isinstance(exc, GenesysError):
        text = f"{type(exc).__name__}: {text}"
    return " ".join(mask_secrets(text, secrets).split())


#: The characters a secret token is made of: a secret is masked only where it stands whole, not inside a longer word.
_TOKEN = r"A-Za-z0-9_\-"
#: Shorter strings are not masked: they are no real OAuth secret (Genesys issues 43 characters), and masking them
#: would hide ordinary words of the message (a secret "com" would turn every host name into "login.mypurecloud.***").
MIN_MASKED = 8


def mask_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every whole occurrence of each secret (of :data:`MIN_MASKED` characters or more) as ``***``.

    A secret counts only where it is not part of a longer token (letters, digits, ``-`` and ``_`` around it), so a
    short secret such as ``y`` never garbles ``login.mypurecloud.com`` into ``login.m***purecloud.com``.
    """
    for secret in sorted({s for s in secrets if s and len(s.strip()) >= MIN_MASKED}, key=len, reverse=True):
        text = re.sub(rf"(?<![{_TOKEN}]){re.escape(secret)}(?![{_TOKEN}])", "***", text)
    return text


def env_secrets() -> list[str | None]:
    """The secret from the environment, to mask in anything shown."""
    return [os.environ.get(ENV_SECRET)]


def status_html(text: str, kind: str = "info") -> str:
    """A one-line status in the panel's colours: ``info``, ``ok``, ``busy`` or ``error``."""
    colour = {"ok": "#1b7f3b", "error": "#b00020", "busy": "#555", "info": "#333"}[kind]
    icon = {"ok": "✔ ", "error": "✖ ", "busy": "… ", "info": ""}[kind]
    return f"<span class='gnb-status gnb-{kind}' style='color:{colour}'>{icon}{html.escape(text)}</span>"


class Panel:
    """A panel: plain Python state plus an ipywidgets tree in :attr:`widget`; shows itself when it ends a cell."""

    widget: Any
    status: Any  # the subclass's ipywidgets.HTML status line, which _set_status writes
    message: str  # the last status text, once _set_status has run

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.message}>" if getattr(self, "message", "") else f"<{type(self).__name__}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # The widget's own text/plain lists its children's values (a typed secret too): give a summary instead.
        data = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(data, dict):
            data["text/plain"] = repr(self)
        return data

    def _set_status(self, text: str, kind: str = "info") -> None:
        self.message = text
        self.status.value = status_html(text, kind)
