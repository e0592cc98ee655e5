"""Writing review and diff workbooks (``.xlsx``) through polars' ``write_excel`` on an xlsxwriter Workbook.

Safety and form, in one place for every workbook of the toolkit:

- The Workbook is opened with ``strings_to_formulas=False`` (and ``strings_to_urls``/``strings_to_numbers`` off), so
  every text cell is stored as text: a name such as ``=HYPERLINK(...)`` or ``@SUM(A1)``, or one that begins with
  ``+``, ``-``, a tab or a carriage return, is never a formula (Excel and CSV injection).
- Each data sheet is an Excel table with its header frozen, an autofilter, and column widths from its contents;
  times are real Excel date-times (UTC, as the snapshot holds them), under headers that end in ``_utc``.
- The target folder must exist (it is never created, as for exports); the file is created new under a temporary
  name in it (never through a planted link) and renamed into place when complete; an existing file is replaced
  only with ``overwrite=True``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import ConfigError, ExportError
from ..export.durable import sync, sync_folder
from ..export.safefiles import create_new, same_file

if TYPE_CHECKING:
    from .bundle import Review
    from .diff import SnapshotDiff

__all__ = ["Block", "Sheet", "write_workbook", "check_xlsx_target", "diff_workbook", "review_workbook",
           "WORKBOOK_OPTIONS", "DECISIONS"]

#: xlsxwriter options of every workbook: text stays text.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
#: What a reviewer may put in a finding's ``decision`` cell.
DECISIONS = ("keep", "revoke", "fix")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
EXCEL_MAX_ROWS = 1_048_575  # rows below the header
_MIN_CHARS, _MAX_CHARS = 8, 70
_SUMMARY_MAX_CHARS = 30  # blocks share the Summary's columns: long text goes last in a block and overflows
_TABLE_STYLE = "Table Style Light 9"


@dataclass(frozen=True)
class Block:
    """A titled table on the Summary sheet."""

    title: str
    frame: pl.DataFrame


@dataclass(frozen=True)
class Sheet:
    """A data sheet: one table, header frozen; ``decisions`` adds empty ``decision`` and ``comment`` columns."""

    name: str
    frame: pl.DataFrame
    decisions: bool = False


def check_xlsx_target(path: str | os.PathLike[str], *, overwrite: bool = False, flag: str = "overwrite=True") -> Path:
    """The workbook's path, checked before any work: an ``.xlsx`` name in a folder that exists (it is not created,
    as exports do not create theirs), not a folder, not existing unless allowed."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"The workbook path must be text or a Path, not {type(path).__name__}.")
    target = Path(path).expanduser()
    if target.suffix.lower() != ".xlsx":
        raise ConfigError(f"The workbook must be an .xlsx file, not {target.name!r}.")
    folder = target.absolute().parent
    if not folder.exists():
        raise ExportError(f"The folder {str(folder)!r} does not exist. Create it first (mkdir -p {folder}) or "
                          f"choose another path.")
    if not folder.is_dir():
        raise ExportError(f"{str(folder)!r} is not a folder, so {target.name!r} cannot be written there.")
    if target.is_dir():
        raise ExportError(f"{target} is a folder; give the path of the .xlsx file to write.")
    if target.exists() and not overwrite:
        raise ExportError(f"{target} exists; pass {flag} to replace it.")
    return target


def write_workbook(path: str | os.PathLike[str], title: str, blocks: Sequence[Block], sheets: Sequence[Sheet], *,
                   overwrite: bool = False) -> Path:
    """Write a workbook: a Summary sheet (``title`` and ``blocks``), then ``sheets``; atomically, at ``path``."""
    import xlsxwriter

    target = check_xlsx_target(path, overwrite=overwrite)
    for sheet in sheets:
        if sheet.frame.height > EXCEL_MAX_ROWS:
            raise ExportError(f"The sheet {sheet.name} would have {sheet.frame.height:,} rows; an Excel sheet holds "
                              f"{EXCEL_MAX_ROWS:,}. Review the frame in polars, or write it with write_parquet.")
    # a new file under a name no one can guess, never through a link planted beside the target
    partial = target.with_name(f".{target.stem}.{os.getpid()}.{secrets.token_hex(4)}.partial.xlsx")
    try:
        fh = create_new(partial)
    except FileExistsError:
        raise ExportError(f"{str(partial)!r} is there already (another program made it: a file or a symbolic link, "
                          f"which genesys-nb neither follows nor deletes); write the workbook again.") from None
    try:
        with fh:
            workbook = xlsxwriter.Workbook(fh, WORKBOOK_OPTIONS)
            try:
                _summary(workbook, title, blocks)
                for sheet in sheets:
                    _data_sheet(workbook, sheet)
            finally:
                workbook.close()
            sync(fh)
            if not same_file(fh, partial):
                raise ExportError(f"{partial.name} was replaced while it was being written; another program is "
                                  f"writing in {str(target.parent)!r}.")
        os.replace(partial, target)
        sync_folder(target.parent)
    except BaseException:
        if partial.is_file() and not partial.is_symlink():  # only the file this run made
            partial.unlink()
        raise
    return target


# -- sheets ----------------------------------------------------------------------------------------------------------
def _summary(workbook: Any, title: str, blocks: Sequence[Block]) -> None:
    ws = workbook.add_worksheet("Summary")
    bold = workbook.add_format({"bold": True})
    ws.write_string(0, 0, title, workbook.add_format({"bold": True, "font_size": 14}))
    row = 2
    widths: dict[int, int] = {}  # column -> widest block's characters
    for i, block in enumerate(blocks):
        ws.write_string(row, 0, block.title, bold)
        frame = excel_ready(block.frame)
        frame.write_excel(workbook, ws, position=(row + 1, 0), table_name=f"Summary_{i + 1}",
                          table_style=_TABLE_STYLE, autofit=False,
                          dtype_formats=_FORMATS)  # type: ignore[arg-type]  # see _FORMATS
        for col, chars in enumerate(list(_char_widths(frame).values())[:-1]):  # the last column's text overflows
            widths[col] = max(widths.get(col, 0), min(chars, _SUMMARY_MAX_CHARS))
        row += max(frame.height, 1) + 4
    for col, chars in widths.items():
        ws.set_column(col, col, chars + 2)
    _print_setup(ws)


def _print_setup(ws: Any) -> None:
    """Printed (or exported to PDF) landscape, one page wide."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)


def _data_sheet(workbook: Any, sheet: Sheet) -> None:
    frame = excel_ready(sheet.frame)
    if sheet.decisions:
        frame = frame.with_columns(decision=pl.lit(None, pl.String), comment=pl.lit(None, pl.String))
    widths = {c: _pixels(n) for c, n in _char_widths(frame).items()}
    if sheet.decisions:
        widths |= {"decision": _pixels(10), "comment": _pixels(40)}
    frame.write_excel(workbook, sheet.name, table_name=_table_name(sheet.name), table_style=_TABLE_STYLE,
                      freeze_panes=(1, 0), autofilter=True,
                      # polars types it as a Mapping keyed by str | Selector: its invariant key refuses dict[str, int]
                      column_widths=widths,  # type: ignore[arg-type]
                      dtype_formats=_FORMATS)  # type: ignore[arg-type]  # see _FORMATS
    ws = workbook.get_worksheet_by_name(sheet.name)
    _print_setup(ws)
    if sheet.decisions and frame.height:
        col = frame.columns.index("decision")
        ws.data_validation(
            1, col, frame.height, col, {"validate": "list", "source": list(DECISIONS),
                                        "input_title": "Decision", "input_message": " / ".join(DECISIONS)})


# polars' stubs type write_excel's dtype_formats as an invariant dict keyed by every dtype form, so this plain
# {dtype class: format} dict needs a `type: ignore[arg-type]` where it is passed (the stub is too strict).
_FORMATS = {pl.Datetime: DATETIME_FORMAT, pl.Date: DATE_FORMAT}


def excel_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Timezone-aware times as UTC wall-clock times (Excel has no time zones), their headers ending in ``_utc`` (as
    every sheet's time columns do: ``date_last_login_utc``); lists as comma-separated text."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            utc = pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            exprs.append(utc if name.endswith("_utc") else utc.alias(f"{name}_utc"))
        elif isinstance(dtype, pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join(", "))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def _char_widths(frame: pl.DataFrame) -> dict[str, int]:
    """Each column's width in characters: its header or its longest value, within readable bounds."""
    out = {}
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            longest = 16
        elif frame.height:
            longest = frame.get_column(name).cast(pl.String).str.len_chars().max() or 0
        else:
            longest = 0
        out[name] = min(max(len(name) + 3, int(longest), _MIN_CHARS), _MAX_CHARS)  # +3: the filter button
    return out


def _pixels(chars: int) -> int:
    return chars * 7 + 12


def _table_name(sheet: str) -> str:
    """An Excel table name from a sheet name (letters, digits and underscores, not like a cell reference)."""
    return "T_" + re.sub(r"\W", "_", sheet)


# -- the two workbooks -----------------------------------------------------------------------------------------------
def review_workbook(review: Review, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """The sign-off workbook of a review: Summary, Findings (with decision and comment), per rule, per change."""
    sheets = [Sheet("Findings", review.findings, decisions=True)]
    sheets += [Sheet(rule_id, frame) for rule_id, frame in review.findings_by_rule().items()]
    if review.diff is not None:
        sheets += [Sheet(kind, frame) for kind, frame in review.diff.frames.items() if frame.height]
    return write_workbook(path, review.title(), review.summary_blocks(), sheets, overwrite=overwrite)


def diff_workbook(diff: SnapshotDiff, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """The changes between two snapshots: Summary (snapshots, counts per kind), then one sheet per kind with rows."""
    from .bundle import diff_blocks, snapshots_block

    org = diff.new.manifest.org
    blocks = [snapshots_block(diff.new, diff.old), *diff_blocks(diff)]
    sheets = [Sheet(kind, frame) for kind, frame in diff.frames.items() if frame.height]
    return write_workbook(path, f"Changes in {org.name or org.id}", blocks, sheets, overwrite=overwrite)
