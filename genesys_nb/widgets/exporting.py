"""Step 3: export the chosen users to a file, with a progress bar, Cancel, and Resume of an interrupted export."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import GenesysError
from ..export.checkpoint import checkpoint_path
from ..export.sinks import sink_for_suffix, sink_named, sinks
from ._common import Panel, env_secrets, ipywidgets, plain_error, status_html

if TYPE_CHECKING:
    from ..client import Client
    from ..export.orchestrate import ExportProgress, ExportSummary
    from .filters import FilterPanel, UserQuery

__all__ = ["ExportPanel", "ExportCancelled"]

THREAD_NAME = "genesys-nb-export"


class _PanelThreadsSayItThemselves(logging.Filter):
    """The export logs how to resume with ``resume=True``; in the panel, its status line says it in its own words."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != THREAD_NAME


logging.getLogger("genesys_nb.export").addFilter(_PanelThreadsSayItThemselves())



class ExportCancelled(GenesysError):
    """The export was cancelled from the panel; its checkpoint is kept so that Resume continues it."""


def _format_of_suffix(suffix: str) -> str | None:
    sink = sink_for_suffix(suffix)
    return sink.name if sink is not None else None


def _where(query: UserQuery) -> Any:
    """The query's record filter with a key, so a checkpoint written with another filter is refused on resume."""
    if query.where is None:
        return None
    from .._tables.filters import Where

    digest = hashlib.sha256(repr((sorted(query.divisions), query.text.strip().casefold())).encode()).hexdigest()
    return Where(record=query.matches, text=query.describe(), key=f"panel:{digest[:16]}")


def _tqdm_bar(total: int | None, initial: int, desc: str) -> Any:
    """A ``tqdm.auto`` bar: in Jupyter its widget is returned undisplayed (the panel shows it), else a text bar."""
    from tqdm.auto import tqdm

    kwargs: dict[str, Any] = dict(total=total, initial=initial, desc=desc, unit=" users", unit_scale=True,
                                  dynamic_ncols=True, file=sys.stderr)
    try:
        from tqdm.notebook import tqdm_notebook
        if issubclass(tqdm, tqdm_notebook):
            kwargs["display"] = False
    except ImportError:  # pragma: no cover - tqdm.notebook needs ipywidgets, which the panels have
        pass
    return tqdm(**kwargs)


def _checkpointed_records(checkpoint: Path) -> int:
    try:
        return int(json.loads(checkpoint.read_text()).get("records", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


class ExportPanel(Panel):
    """Format, path, Export and Cancel buttons, a ``tqdm.auto`` progress bar, a summary, and Resume.

    The export runs in a background thread (``background=False`` runs it in the caller, for scripts) and Cancel
    stops it between two pages; what was written stays with a checkpoint, and Resume continues from there. A missing
    output folder is created. :attr:`summary` holds the :class:`~genesys_nb.export.orchestrate.ExportSummary` when done;
    :attr:`records_read`, :attr:`pages_read`, :attr:`cancelled` and :attr:`error` follow a running export.
    """

    def __init__(self, source: FilterPanel, *, path: str = "exports/users.parquet", page_size: int = 500,
                 background: bool = True) -> None:
        W = ipywidgets()
        self.filters = source
        self.page_size = page_size
        self.background = background
        self.summary: ExportSummary | None = None
        self.error: str | None = None
        self.cancelled = False
        self.records_read = self.pages_read = 0
        self.message = ""
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._last: tuple[str, Any] | None = None  # (path, query) of the run that was interrupted
        self._bar: Any = None
        self._done_listeners: list[Callable[[ExportSummary], None]] = []
        #: Show a finished file's path relative to the working folder when it is inside it (a dashboard's people
        #: download the file and need not see the server's folders); the full path otherwise.
        self.short_paths = False

        wide = {"description_width": "90px"}
        fmt = _format_of_suffix(Path(path).suffix) or "parquet"
        self.format = W.Dropdown(options=[(s.label, s.name) for s in sinks()], value=fmt, description="Format", style=wide)
        self.path = W.Text(value=path, description="File", style=wide, placeholder="exports/users.parquet",
                           layout=W.Layout(width="min(100%, 640px)"))
        self.overwrite = W.Checkbox(value=False, description="Replace an existing file", indent=False,
                                    layout=W.Layout(width="auto"))
        self.export_button = W.Button(description="Export", button_style="success", icon="download", disabled=True)
        self.cancel_button = W.Button(description="Cancel", button_style="warning", icon="stop", disabled=True)
        self.resume_button = W.Button(description="Resume", icon="play", disabled=True,
                                      tooltip="Continue an interrupted export of this file from its checkpoint")
        self.progress = W.Box()
        self.status = W.HTML()
        self.summary_html = W.HTML()
        self.format.observe(self._format_changed, names="value")
        self.path.observe(self._path_changed, names="value")
        self.export_button.on_click(lambda _button: self.start())
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.resume_button.on_click(lambda _button: self.start(resume=True))
        self._set_status("Connect first.")
        self.widget = W.VBox([self.format, self.path, self.overwrite,
                              W.HBox([self.export_button, self.cancel_button, self.resume_button]),
                              self.progress, self.status, self.summary_html])
        self.widget.add_class("gnb-export")
        source.on_client(self._got_client)
        if hasattr(source, "on_no_client"):
            source.on_no_client(self._lost_client)

    # -- state --------------------------------------------------------------------------------------------------
    @property
    def client(self) -> Client | None:
        return self.filters.client

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def checkpoint_path(self) -> Path:
        """Where an interrupted export of the current file keeps its checkpoint."""
        return checkpoint_path(self.path.value.strip() or "users")

    def _got_client(self, _client: Client) -> None:
        self._set_status("Ready: choose a file and Export.")
        self._sync_buttons()

    def _lost_client(self) -> None:
        """The connection was closed: stop a running export (its checkpoint stays for Resume) and wait for one."""
        self.cancel()
        self.summary_html.value = ""
        self.progress.children = ()
        self._set_status("Connect first.")
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        busy = self.running
        ready = self.client is not None and bool(self.path.value.strip())
        self.export_button.disabled = busy or not ready
        self.cancel_button.disabled = not busy
        self.resume_button.disabled = busy or not ready or not self.checkpoint_path().exists()

    def _format_changed(self, change: dict) -> None:
        """A new format renames the file's known suffix (or adds one)."""
        path = Path(self.path.value.strip())
        suffix = path.suffix.lower()
        known = _format_of_suffix(suffix)
        if path.name and known != change["new"] and (known or not suffix):
            self.path.value = str(path.with_suffix(sink_named(change["new"]).suffix))

    def _path_changed(self, change: dict) -> None:
        """A file name with a known suffix picks its format."""
        fmt = _format_of_suffix(Path(change["new"].strip()).suffix)
        if fmt and fmt != self.format.value:
            self.format.value = fmt
        self._sync_buttons()

    # -- running ------------------------------------------------------------------------------------------------
    def start(self, resume: bool = False) -> None:
        """Start the export (what Export does), or continue the interrupted one with ``resume=True``."""
        if self.running:
            return
        if self.client is None:
            self._set_status("Connect first.", "error")
            return
        path = Path(self.path.value.strip()).expanduser()
        if not resume and not self.overwrite.value:  # the export would refuse: say it in the panel's own words
            if self.checkpoint_path().exists():
                self._set_status(f"An interrupted export of {path.name} is waiting: Resume continues it, or tick "
                                 f"'Replace an existing file' to start over.", "error")
                return
            if path.exists():
                self._set_status(f"{path} already exists: tick 'Replace an existing file', or choose another "
                                 f"name.", "error")
                return
        query = self._last[1] if resume and self._last and self._last[0] == str(path) else self.filters.query()
        self.summary, self.error, self.cancelled = None, None, False
        self.records_read = self.pages_read = 0
        self.summary_html.value = ""
        self._cancel.clear()
        self._last = (str(path), query)
        try:
            stream = query.stream(self.client, page_size=self.page_size)
        except Exception as exc:
            self._failed(exc)
            return
        if resume:  # the bar and counts go on from what the interrupted run read
            self.records_read = _checkpointed_records(self.checkpoint_path())
        self._bar = _tqdm_bar(None, self.records_read, "users read")  # its total comes from the background run
        container = getattr(self._bar, "container", None)
        self.progress.children = (container,) if container is not None else ()
        verb = "Resuming" if resume else "Exporting"
        self._set_status(f"{verb} {query.describe()} to {path}…", "busy")
        args = (stream, path, query, resume, self.overwrite.value)
        if self.background:
            self._thread = threading.Thread(target=self._run, args=args, name=THREAD_NAME, daemon=True)
            self._thread.start()
            self._sync_buttons()
        else:
            self._run(*args)

    def _page_done(self, done: ExportProgress) -> None:
        """The export's hook after every page (every format and filter): the counts, the bar, and Cancel."""
        self.pages_read += 1
        self.records_read += done.page_records
        if self._bar is not None:
            self._bar.update(done.page_records)
        if self._cancel.is_set():
            raise ExportCancelled("The export was cancelled.")
        self.status.value = status_html(f"Exporting: {self.records_read:,} users read ({self.pages_read} pages)…",
                                        "busy")

    def _run(self, stream: Any, path: Path, query: UserQuery, resume: bool, overwrite: bool) -> None:
        from ..export.orchestrate import export

        try:
            self._set_total(stream)
            path.parent.mkdir(parents=True, exist_ok=True)
            summary = export(stream, path, format=self.format.value, overwrite=overwrite and not resume,
                             resume=resume, progress=False, where=_where(query), on_page=self._page_done)
        except ExportCancelled:
            self.cancelled = True
            self._set_status(f"Cancelled after {self.records_read:,} users read. What was written is kept with a "
                             f"checkpoint: Resume continues from there.", "info")
        except Exception as exc:
            self._failed(exc)
        else:
            self.summary = summary
            self._last = None
            again = " (resumed)" if summary.resumed else ""
            read = summary.records or self.records_read
            matched = (f"the {summary.rows:,} of {read:,} users read that match, " if query.where is not None
                       and read != summary.rows else "")
            self._set_status(f"Exported {summary.rows:,} rows to {self._shown(summary.path)} ({matched}{summary.size}, "
                             f"{summary.seconds:.1f} s){again}.", "ok")
            table = summary._repr_html_()
            if self._shown(summary.path) != summary.path:
                import html

                table = table.replace(html.escape(str(summary.path)), html.escape(str(self._shown(summary.path))))
            self.summary_html.value = table
            for listener in list(self._done_listeners):
                listener(summary)
        finally:
            if self._bar is not None:
                self._bar.close()
            self._thread = None
            self._sync_buttons()

    def _set_total(self, stream: Any) -> None:
        """Ask for the listing's size (one request, which can be slow) in the background run, so that the kernel
        and Cancel stay free; then give the bar its total."""
        total = stream.total_hint()
        if self._cancel.is_set():
            raise ExportCancelled("The export was cancelled.")
        bar = self._bar
        if bar is not None and total is not None:
            done = bar.n
            bar.reset(total=total)
            bar.update(done)

    def _shown(self, path: Path) -> Path:
        if self.short_paths:
            try:
                return Path(path).resolve().relative_to(Path.cwd().resolve())
            except ValueError:
                pass
        return path

    def on_export(self, callback: Callable[[ExportSummary], None]) -> None:
        """Call ``callback(summary)`` after every export that finished (e.g. to offer the file for download)."""
        self._done_listeners.append(callback)

    def _failed(self, exc: BaseException) -> None:
        self.error = plain_error(exc, env_secrets())
        more = " Resume continues from the checkpoint." if self.checkpoint_path().exists() else ""
        self._set_status(f"Export failed: {self.error}{more}", "error")
        self._sync_buttons()

    def cancel(self) -> None:
        """Stop the running export after the page being fetched; its checkpoint is kept for Resume."""
        if self.running:
            self._cancel.set()
            self._set_status("Cancelling after the current page…", "busy")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running export to end; True when it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running
