"""The wizard as a dashboard (served with Voila): the three steps, then the finished file as a download link."""

from __future__ import annotations

import base64
import html
import mimetypes
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._common import ipywidgets
from .wizard import Wizard, wizard

if TYPE_CHECKING:
    from ..client import Client
    from ..export.orchestrate import ExportSummary

__all__ = ["dashboard", "download_link"]

#: Larger files are not offered through the page (the link carries the whole file): the status says where it is.
MAX_DOWNLOAD_BYTES = 50_000_000
MEDIA_TYPES = {".parquet": "application/vnd.apache.parquet", ".ndjson": "application/x-ndjson",
               ".jsonl": "application/x-ndjson", ".csv": "text/csv"}


def download_link(path: Path, *, limit: int = MAX_DOWNLOAD_BYTES) -> str:
    """An HTML link that downloads ``path`` from the page itself (a ``data:`` URL: no file server needed)."""
    size = path.stat().st_size
    if size > limit:
        return (f"<span class='gnb-download'>{html.escape(path.name)} is {size / 1e6:,.0f} MB, too large to offer "
                f"through the page: it is on the server at <code>{html.escape(str(path))}</code>.</span>")
    media = MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<a class='gnb-download' download='{html.escape(path.name, quote=True)}' "
            f"href='data:{media};base64,{data}' style='font-weight:bold'>⬇ Download {html.escape(path.name)} "
            f"({size / 1000:,.1f} kB)</a>")


def dashboard(*, connect: Callable[..., Client] | None = None, sandbox: bool | None = None,
              api_url: str | None = None, sandbox_settings: Mapping[str, Any] | None = None,
              path: str = "exports/users.parquet", page_size: int = 500) -> Wizard:
    """The :func:`~genesys_nb.widgets.wizard` with a fourth step: download the exported file from the browser.

    Made for a dashboard (``voila notebooks/dashboard.ipynb``): people who never see the notebook connect, choose,
    export and take the file with them. The arguments are the wizard's.
    """
    W = ipywidgets()
    app = wizard(connect=connect, sandbox=sandbox, api_url=api_url, sandbox_settings=sandbox_settings, path=path,
                 page_size=page_size)
    app.export.short_paths = True
    app.download = W.HTML("The download link appears here once an export has finished.")

    def offer(summary: ExportSummary) -> None:
        app.download.value = download_link(Path(summary.path))

    def withdraw(*_: Any) -> None:
        app.download.value = "The download link appears here once an export has finished."

    app.export.on_export(offer)
    app.filters.on_no_client(withdraw)
    app.widget.children = (*app.widget.children, W.HTML("<h3 style='margin:12px 0 4px 0'>4. Download</h3>"),
                           app.download)
    app.widget.add_class("gnb-dashboard")
    return app
