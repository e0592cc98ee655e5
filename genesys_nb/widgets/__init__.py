"""Notebook panels: connect, choose users and preview them, export, one step at a time.

    from genesys_nb.widgets import wizard
    wizard()                       # the three steps in one widget
    dashboard()                    # the wizard plus a download link, for Voila (notebooks/dashboard.ipynb)

or one panel per cell::

    from genesys_nb.widgets import ConnectPanel, FilterPanel, ExportPanel
    connect = ConnectPanel(); connect
    filters = FilterPanel(connect); filters
    export = ExportPanel(filters); export

Each panel keeps its results in plain attributes (``connect.client``, ``filters.preview_rows``,
``export.summary``...) and shows errors in plain words, never as a traceback and never with a secret. ipywidgets is
imported when a panel is first made, so ``import genesys_nb`` never needs a notebook stack.
"""

from .connect import ConnectPanel
from .dashboard import dashboard, download_link
from .exporting import ExportCancelled, ExportPanel
from .filters import FilterPanel, UserQuery
from .wizard import Wizard, wizard

__all__ = ["ConnectPanel", "FilterPanel", "ExportPanel", "UserQuery", "Wizard", "wizard", "dashboard",
           "download_link", "ExportCancelled"]
