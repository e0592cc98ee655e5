"""``review(new, previous=None)``: the findings of a snapshot and, with a previous one, what changed, in one object
that prints a summary and writes the sign-off workbook (``review.to_excel(path)``)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import Arg
from ..export.textsafe import escape_controls
from ..snapshot.reader import Snapshot, as_snapshot
from .diff import KINDS, SnapshotDiff, check_pair, diff
from .findings import FindingsResult, run_findings
from .rules import RULES, SEVERITIES
from .workbook import Block

__all__ = ["Review", "review", "snapshots_block", "diff_blocks"]


@dataclass
class Review:
    """One access review: ``snapshot``, ``findings`` (the frame of :func:`findings`), ``diff`` against
    ``previous`` (or None), the review date ``today``, and the rules that could not run (``not_run``)."""

    snapshot: Snapshot
    findings: pl.DataFrame
    today: dt.datetime
    stale_days: int
    admin_role_ids: tuple[str, ...]
    admin_role_names: tuple[str, ...] = ()
    previous: Snapshot | None = None
    diff: SnapshotDiff | None = None
    not_run: dict[str, str] = field(default_factory=dict)

    def findings_by_rule(self) -> dict[str, pl.DataFrame]:
        """The findings of each rule that found anything, in the order of RULES."""
        return {r.id: part for r in RULES if (part := self.findings.filter(pl.col("rule") == r.id)).height}

    def counts(self) -> dict[str, int]:
        """Findings per rule: every rule of RULES, 0 included (a rule in ``not_run`` counts 0 as well)."""
        found = dict(self.findings.group_by("rule").len().iter_rows())
        return {r.id: found.get(r.id, 0) for r in RULES}

    def summary(self) -> dict[str, object]:
        """The review's figures as a dict: ``org``, ``finished``, ``today``, ``previous_finished``, ``tables``
        (rows, API total, status), ``findings``, ``by_severity``, ``by_rule``, ``not_run``, ``changes`` (the
        diff's counts per kind, or None)."""
        m = self.snapshot.manifest
        return {"org": {"id": m.org.id, "name": m.org.name}, "finished": m.finished, "today": self.today,
                "previous_finished": self.previous.manifest.finished if self.previous else None,
                "tables": {n: {"rows": e.rows, "api_total": e.api_total, "status": e.status}
                           for n, e in m.tables.items()},
                "findings": self.findings.height,
                "by_severity": {s: self.findings.filter(pl.col("severity") == s).height for s in SEVERITIES},
                "by_rule": self.counts(), "not_run": dict(self.not_run),
                "changes": self.diff.summary() if self.diff else None}

    def title(self) -> str:
        org = self.snapshot.manifest.org
        return f"Access review of {org.name or org.id}"

    def __str__(self) -> str:
        return summary_text(self)

    def __repr__(self) -> str:
        return (f"Review({str(self.snapshot.path)!r}, {self.findings.height} findings"
                f"{', with changes since ' + str(self.previous.path) if self.previous else ''})")

    def summary_blocks(self) -> list[Block]:
        """The Summary sheet's tables, top to bottom."""
        blocks = [snapshots_block(self.snapshot, self.previous), settings_block(self), tables_block(self.snapshot),
                  findings_block(self)]
        if self.diff is not None:
            blocks += diff_blocks(self.diff)
        return [*blocks, signoff_block()]

    def to_excel(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the sign-off workbook (see the README's "The sign-off workbook"); returns its path."""
        from .workbook import review_workbook

        return review_workbook(self, path, overwrite=overwrite)


def review(new: Snapshot | str | os.PathLike[str], previous: Snapshot | str | os.PathLike[str] | None = None, *,
           today: dt.datetime | dt.date | str | None = None, stale_days: int = 90,
           admin_roles: Iterable[str] | None = None, argument_names: dict[str, str] | None = None) -> Review:
    """Review snapshot ``new``: its findings (as :func:`findings`) and, with ``previous``, the diff from it."""
    snap = as_snapshot(new, "new")
    before = as_snapshot(previous, "previous") if previous is not None else None
    if before is not None:  # in the words of this call: previous=, not diff's old
        check_pair(before, snap, previous=Arg("previous"))
    changes = diff(before, snap) if before is not None else None  # refuses another org before the rules run
    result: FindingsResult = run_findings(snap, today=today, stale_days=stale_days, admin_roles=admin_roles,
                                          argument_names=argument_names)
    return Review(snapshot=snap, findings=result.frame, today=result.today, stale_days=result.stale_days,
                  admin_role_ids=result.admin_role_ids, admin_role_names=result.admin_role_names, previous=before, diff=changes, not_run=result.not_run)


# -- the Summary sheet's blocks --------------------------------------------------------------------------------------
_TS = pl.Datetime("us", "UTC")


def snapshots_block(snap: Snapshot, previous: Snapshot | None) -> Block:
    rows = [("current", snap)] + ([("previous", previous)] if previous is not None else [])
    frame = pl.DataFrame({
        "snapshot": [label for label, _ in rows],
        "org": [s.manifest.org.name for _, s in rows],
        "org_id": [s.manifest.org.id for _, s in rows],
        "started_utc": [s.manifest.started for _, s in rows],
        "finished_utc": [s.manifest.finished for _, s in rows],
        "as_of_utc": [s.manifest.as_of for _, s in rows],
        "tool_version": [s.manifest.tool_version for _, s in rows],
        "api_host": [s.manifest.api_host for _, s in rows],
        "folder": [str(s.path) for _, s in rows],
    }, schema_overrides={"started_utc": _TS, "finished_utc": _TS, "as_of_utc": _TS})
    return Block("Snapshots (times in UTC: started and finished by this machine's clock, as_of by the API's)", frame)


def settings_block(r: Review) -> Block:
    admin = ", ".join(r.admin_role_names) or "none"
    frame = pl.DataFrame({"review_date_utc": [r.today], "stale_days": [r.stale_days],
                          "written_utc": [dt.datetime.now(dt.timezone.utc).replace(microsecond=0)],
                          "admin_roles": [admin]},
                         schema_overrides={"review_date_utc": _TS, "written_utc": _TS})
    return Block("Review settings", frame)


def tables_block(snap: Snapshot) -> Block:
    """Each table's rows beside the API's own total: the evidence that the review covered everyone."""
    entries = snap.manifest.tables
    covered = ["skipped" if not e.is_complete else "n/a" if e.api_total is None
               else "yes" if e.rows == e.api_total else "no" for e in entries.values()]
    frame = pl.DataFrame({"table": list(entries), "status": [e.status for e in entries.values()],
                          "rows": [e.rows for e in entries.values()],
                          "api_total": [e.api_total for e in entries.values()],
                          "rows_match_api_total": covered,
                          "note": [None if e.is_complete else e.why_skipped() for e in entries.values()]},
                         schema_overrides={"rows": pl.Int64, "api_total": pl.Int64, "note": pl.String})
    return Block("Tables: rows written beside the API's own total", frame)


def findings_block(r: Review) -> Block:
    counts = r.counts()
    users = dict(r.findings.group_by("rule").agg(pl.col("user_id").n_unique()).iter_rows())
    frame = pl.DataFrame({"rule": [x.id for x in RULES], "severity": [x.severity for x in RULES],
                          "findings": [counts[x.id] for x in RULES], "users": [users.get(x.id, 0) for x in RULES],
                          "what_it_finds": [("NOT RUN: " + r.not_run[x.id]) if x.id in r.not_run else x.about
                                            for x in RULES]},
                         schema_overrides={"findings": pl.Int64, "users": pl.Int64})
    return Block(f"Findings per rule ({r.findings.height} in all)", frame)


def diff_blocks(d: SnapshotDiff) -> list[Block]:
    counts = d.summary()
    frame = pl.DataFrame({"change": list(KINDS), "count": [counts[k] for k in KINDS],
                          "note": [("not compared: " + d.not_compared[k]) if k in d.not_compared else None
                                   for k in KINDS]}, schema_overrides={"count": pl.Int64, "note": pl.String})
    return [Block("Changes since the previous snapshot", frame)]


def signoff_block() -> Block:
    empty = [None] * 3
    frame = pl.DataFrame({"reviewer": empty, "role": empty, "date": empty, "decision": empty, "comment": empty},
                         schema={"reviewer": pl.String, "role": pl.String, "date": pl.Date, "decision": pl.String,
                                 "comment": pl.String})
    return Block("Sign-off (decision: approved / approved with actions / rejected)", frame)


# -- the printed summary ---------------------------------------------------------------------------------------------
def summary_text(r: Review) -> str:
    m = r.snapshot.manifest
    lines = [f"{r.title()} ({m.org.id})",
             f"snapshot {r.snapshot.path} finished {_when(m.finished)}; findings as of {_when(r.today)}, "
             f"stale after {r.stale_days} days"]
    tables = [f"{n} {e.rows:,}" + (f"/{e.api_total:,}" if e.api_total is not None else "")
              if e.is_complete else f"{n} skipped ({e.why_skipped()})" for n, e in m.tables.items()]
    lines.append("tables (rows/API total): " + ", ".join(tables))
    sev = ", ".join(f"{s} {r.findings.filter(pl.col('severity') == s).height}" for s in SEVERITIES)
    lines.append(f"findings: {r.findings.height} ({sev})")
    width = max(len(x.id) for x in RULES)
    counts = r.counts()
    for x in RULES:
        count = "not run" if x.id in r.not_run else f"{counts[x.id]:>6,}"
        lines.append(f"  {x.id:<{width}}  {x.severity:<6}  {count}")
    if r.diff is not None:
        lines.append(f"changes since {r.previous.path if r.previous else '?'} "
                     f"(finished {_when(r.diff.old.manifest.finished)}):")
        lines += diff_lines(r.diff)
    return escape_controls("\n".join(lines))  # org names and skip reasons come from manifests: never terminal codes


def diff_lines(d: SnapshotDiff) -> list[str]:
    width = max(len(k) for k in KINDS)
    return [f"  {k:<{width}}  {n:>6,}" + ("  (not compared)" if k in d.not_compared else "")
            for k, n in d.summary().items()]


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "?"
