"""Access reviews over snapshots: findings, snapshot diffs and the sign-off workbook.

    import genesys_nb as gnb
    gnb.findings("snapshots/2026-q4")            # one row per finding, every rule of gnb.RULES
    gnb.diff("snapshots/2026-q3", "snapshots/2026-q4").summary()
    gnb.review("snapshots/2026-q4", previous="snapshots/2026-q3").to_excel("review.xlsx")

This package is callable: ``gnb.review(new, previous=None, ...)`` is :func:`genesys_nb.review.bundle.review`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .findings import FINDING_SCHEMA, findings
from .rules import RULES, Rule

__all__ = ["findings", "RULES", "Rule", "FINDING_SCHEMA"]
