"""Access reviews over snapshots: findings, snapshot diffs and the sign-off workbook.

    import genesys_nb as gnb
    gnb.findings("snapshots/2026-q4")            # one row per finding, every rule of gnb.RULES
    gnb.diff("snapshots/2026-q3", "snapshots/2026-q4").summary()
    gnb.review("snapshots/2026-q4", previous="snapshots/2026-q3").to_excel("review.xlsx")

"""

from __future__ import annotations

from .bundle import Review, review
from .diff import KINDS, SnapshotDiff, diff
from .findings import FINDING_SCHEMA, admin_roles, findings
from .rules import RULES, Rule

__all__ = ["findings", "admin_roles", "RULES", "Rule", "FINDING_SCHEMA", "diff", "SnapshotDiff", "KINDS", "review", "Review"]
