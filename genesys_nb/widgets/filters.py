"""Step 2: choose which users to export, and preview them without fetching the whole org."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ..errors import ConfigError
from ..resources.users import EXPANDS, STATES, USERS
from ._common import Panel, env_secrets, ipywidgets, plain_error

if TYPE_CHECKING:
    from ..client import Client, RecordStream
    from .connect import ConnectPanel

__all__ = ["FilterPanel", "UserQuery"]

PREVIEW_COLUMNS = (("Name", "name"), ("Email", "email"), ("Department", "department"), ("Division", "division"),
                   ("State", "state"))


@dataclass(frozen=True)
class UserQuery:
    """What to list: the API-side ``state`` and ``expand``, and per-record division and text filters."""

    state: str = "any"
    expand: tuple[str, ...] = ()
    divisions: tuple[str, ...] = ()
    text: str = ""
    #: Columns the caller reads from what is listed (e.g. ``date_last_login``): their expand values are requested.
    columns: tuple[str, ...] = ()

    def stream(self, client: Client, **kwargs: Any) -> RecordStream:
        """The users stream for this query (division and text are applied per record, see :meth:`matches`), with
        the expand values every column it refers to needs (logged), so none of them is silently empty."""
        return client.users(state=self.state, expand=USERS.with_implied(self.expand, self.columns), **kwargs)

    def matches(self, record: dict) -> bool:
        """True when the record is in one of the divisions (if any chosen) and contains the text (if any)."""
        if self.divisions and (record.get("division") or {}).get("id") not in self.divisions:
            return False
        needle = self.text.strip().casefold()
        if needle:
            hay = (record.get("name"), record.get("email"), record.get("department"))
            return any(needle in str(v).casefold() for v in hay if v)
        return True

    @property
    def where(self) -> Callable[[dict], bool] | None:
        """The per-record filter for exports, or None when every listed user is wanted."""
        return self.matches if (self.divisions or self.text.strip()) else None

    def describe(self) -> str:
        parts = [f"state {self.state}"]
        if self.divisions:
            parts.append(f"{len(self.divisions)} division(s)")
        if self.text.strip():
            parts.append(f"name/email/department contains {self.text.strip()!r}")
        if self.expand:
            parts.append(f"expand {', '.join(self.expand)}")
        return "; ".join(parts)


def _cell(record: dict, key: str) -> str:
    value = record.get(key)
    if isinstance(value, dict):
        value = value.get("name") or value.get("id")
    return html.escape(str(value)) if value not in (None, "") else "<i>–</i>"


def preview_table(records: list[dict]) -> str:
    """A small HTML table of the records' main fields."""
    if not records:
        return ""
    cell = "padding:2px 10px;text-align:left;border-bottom:1px solid #ddd"
    head = "".join(f"<th style='{cell}'>{title}</th>" for title, _ in PREVIEW_COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td style='{cell}'>{_cell(r, key)}</td>" for _, key in PREVIEW_COLUMNS)
                   + "</tr>" for r in records)
    return (f"<table class='gnb-preview' style='border-collapse:collapse;font-size:90%'>"
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


class FilterPanel(Panel):
    """State, divisions (loaded from the API), text match on name, email or department, expand choices, Preview.

    Preview reads at most ``preview_users`` users (``max_items``), then shows the first ``preview_rows`` matches
    and how many matched so far; :attr:`preview_rows`, :attr:`preview_matched`, :attr:`preview_scanned` and
    :attr:`preview_complete` hold the result. ``columns`` names user columns the notebook reads from what is listed
    (``("date_last_login",)``): the listing requests the expand values they need, and says so in the log. ``source`` is a :class:`ConnectPanel` (the panel follows its
    connections) or a connected client.
    """

    def __init__(self, source: ConnectPanel | Client | None = None, *, preview_rows: int = 10,
                 preview_users: int = 500, preview_page_size: int = 100, columns: tuple[str, ...] = ()) -> None:
        W = ipywidgets()
        unknown = [c for c in columns if c not in USERS.all_column_names()]
        if unknown:
            raise ConfigError(f"Unknown user column(s) {', '.join(map(repr, unknown))}; the columns are "
                             f"{', '.join(USERS.all_column_names())}.")
        self.columns = tuple(columns)
        self.preview_rows_max = preview_rows
        self.preview_users = preview_users
        self.preview_page_size = preview_page_size
        self.client: Client | None = None
        self.division_names: dict[str, str] = {}
        self.preview_rows: list[dict] = []
        self.preview_matched = self.preview_scanned = 0
        self.preview_complete = False
        self.error: str | None = None
        self.message = ""
        self._listeners: list[Callable[[Client], None]] = []
        self._lost_listeners: list[Callable[[], None]] = []

        wide = {"description_width": "90px"}
        self.state = W.Dropdown(options=[("any (active, inactive and deleted)", "any")] +
                                [(s, s) for s in STATES if s != "any"], value="any", description="State", style=wide)
        self.divisions = W.SelectMultiple(options=[], rows=4, description="Divisions", style=wide,
                                          tooltip="None selected: every division")
        self.text = W.Text(description="Contains", placeholder="part of a name, email or department", style=wide)
        self.expand = W.SelectMultiple(options=list(EXPANDS), rows=4, description="Expand", style=wide,
                                       tooltip="Extra data per user (ctrl/cmd-click for several)")
        self.button = W.Button(description="Preview", icon="eye", disabled=True)
        self.status = W.HTML()
        self.table = W.HTML()
        self.button.on_click(lambda _button: self.preview())
        self._set_status("Connect first.")
        self.widget = W.VBox([self.state, self.divisions, self.text, self.expand, self.button, self.status,
                              self.table])
        self.widget.add_class("gnb-filter")
        if source is not None and hasattr(source, "on_connect"):
            panel = cast("ConnectPanel", source)  # of the two, only a ConnectPanel has on_connect
            panel.on_connect(self.use_client)
            panel.on_close(self.drop_client)
        elif source is not None:
            self.use_client(source)

    def use_client(self, client: Client) -> None:
        """Work with this client: load its divisions and enable Preview."""
        self.client = client
        self.button.disabled = False
        self.preview_rows, self.preview_matched, self.preview_scanned = [], 0, 0
        self.table.value = ""
        try:
            divisions = list(client.divisions())
        except Exception as exc:  # the panel still works without the division list
            divisions = []
            self.error = plain_error(exc, env_secrets())
            self._set_status(f"Could not load the divisions: {self.error}", "error")
        else:
            self._set_status(f"{len(divisions)} divisions loaded. Choose filters, then Preview.")
        self.division_names = {d["id"]: d.get("name") or d["id"] for d in divisions if d.get("id")}
        self.divisions.options = sorted(((name, did) for did, name in self.division_names.items()),
                                        key=lambda pair: pair[0].casefold())
        for listener in list(self._listeners):
            listener(client)

    def drop_client(self) -> None:
        """Forget the client (its connection was closed): back to "Connect first.", nothing to click."""
        self.client = None
        self.button.disabled = True
        self.preview_rows, self.preview_matched, self.preview_scanned = [], 0, 0
        self.preview_complete, self.error = False, None
        self.table.value = ""
        self.division_names = {}
        self.divisions.options = []
        self._set_status("Connect first.")
        for listener in list(self._lost_listeners):
            listener()

    def on_no_client(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever this panel loses its client (see :meth:`drop_client`)."""
        self._lost_listeners.append(callback)

    def on_client(self, callback: Callable[[Client], None]) -> None:
        """Call ``callback(client)`` whenever this panel gets a client, and now if it has one."""
        self._listeners.append(callback)
        if self.client is not None:
            callback(self.client)

    def query(self) -> UserQuery:
        """The query the widgets describe now."""
        return UserQuery(state=self.state.value, expand=tuple(self.expand.value),
                         divisions=tuple(self.divisions.value), text=self.text.value, columns=self.columns)

    def preview(self) -> list[dict]:
        """Read up to ``preview_users`` users, keep the first matching rows and count the matches so far."""
        if self.client is None:
            self._set_status("Connect first.", "error")
            return []
        query = self.query()
        self.button.disabled = True
        self._set_status("Reading a first few pages…", "busy")
        rows: list[dict] = []
        matched = 0
        try:
            with query.stream(self.client, page_size=self.preview_page_size, max_items=self.preview_users) as stream:
                for record in stream:
                    if query.matches(record):
                        matched += 1
                        if len(rows) < self.preview_rows_max:
                            rows.append(record)
                scanned = stream.stats.items
                complete = scanned < self.preview_users
        except Exception as exc:
            self.error = plain_error(exc, env_secrets())
            self._set_status(f"Preview failed: {self.error}", "error")
            return []
        finally:
            self.button.disabled = False
        self.preview_rows, self.preview_matched, self.preview_scanned = rows, matched, scanned
        self.preview_complete, self.error = complete, None
        if complete:
            text = f"{matched:,} of {scanned:,} users match (the whole listing was read)."
        else:
            text = (f"{matched:,} of the first {scanned:,} users match so far; the preview stops there, "
                    f"the export reads every page.")
        self._set_status(text, "ok")
        self.table.value = preview_table(rows)
        return rows
