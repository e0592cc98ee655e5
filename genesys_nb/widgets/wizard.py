"""The three panels as one widget: connect, filter and preview, export."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._common import Panel, ipywidgets
from .connect import ConnectPanel
from .exporting import ExportPanel
from .filters import FilterPanel

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["Wizard", "wizard"]


class Wizard(Panel):
    """The composed panels (:attr:`connect`, :attr:`filters`, :attr:`export`) in one column of numbered steps."""

    download: Any  # the dashboard's fourth step, its download link (an ipywidgets.HTML); only set by dashboard()

    def __init__(self, connect: ConnectPanel, filters: FilterPanel, export: ExportPanel) -> None:
        W = ipywidgets()
        self.connect, self.filters, self.export = connect, filters, export
        steps = []
        for title, panel in (("1. Connect", connect), ("2. Choose users and preview", filters),
                             ("3. Export", export)):
            steps.append(W.HTML(f"<h3 style='margin:12px 0 4px 0'>{title}</h3>"))
            steps.append(panel.widget)
        self.widget = W.VBox(steps)
        self.widget.add_class("gnb-wizard")


def wizard(*, connect: Callable[..., Client] | None = None, sandbox: bool | None = None, api_url: str | None = None,
           sandbox_settings: Mapping[str, Any] | None = None, path: str = "exports/users.parquet",
           page_size: int = 500) -> Wizard:
    """Connect, filter and preview, export: the three panels wired together in one widget (display it).

    The arguments go to :class:`ConnectPanel` (``connect``, ``sandbox``, ``api_url``, ``sandbox_settings``) and
    :class:`ExportPanel` (``path``, ``page_size``). The returned :class:`Wizard` keeps the panels for scripts and tests.
    """
    connect_panel = ConnectPanel(connect=connect, sandbox=sandbox, api_url=api_url, sandbox_settings=sandbox_settings)
    filter_panel = FilterPanel(connect_panel)
    export_panel = ExportPanel(filter_panel, path=path, page_size=page_size)
    return Wizard(connect_panel, filter_panel, export_panel)
